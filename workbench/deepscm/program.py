"""The deep SCM of the digits as a Pyro program: thickness -> intensity -> image <- digit.

The Morpho-MNIST graph of Pawlowski, Castro & Glocker (NeurIPS 2020), with every variable a
mechanism of its parents and its own noise:

* ``thickness := f_t(U_t)`` and ``intensity := f_i(U_i; thickness)``: flows
  (:mod:`~workbench.deepscm.parents`), or the digits' exact equations;
* ``digit``: a categorical root (its own noise);
* ``image := g(U_image; digit, thickness, intensity)``: an
  :class:`~workbench.deepscm.mechanism.ImageMechanism` (a conditional VAE, a diffusion model,
  a flow). Slant is not a parent: it lives in ``U_image``.

A counterfactual is abduction (every noise from the factual unit), action (``do``) and
prediction (the mechanisms again, same noise). :meth:`DigitsDeepSCM.counterfactual_by_hand`
writes the steps out; :meth:`DigitsDeepSCM.counterfactual_chirho` runs :meth:`DigitsDeepSCM.model`
under ChiRho's ``TwinWorldCounterfactual`` (or ``MultiWorldCounterfactual``) with ``do`` and
the noise sites conditioned on the abducted noise, the route :func:`workbench.scm.counterfactual`
takes for an SCM; both give the same images and parents.

Examples
--------
>>> import torch
>>> from workbench.deepscm import IntensityScaling
>>> from workbench.metrics.soundness import DigitsGroundTruth
>>> images, parents = DigitsGroundTruth().sample(3, generator=0)
>>> scm = DigitsDeepSCM(IntensityScaling())          # exact parents, a toy image mechanism
>>> cf = scm(images, parents, {"thickness": 3.0})    # the soundness generator protocol
>>> cf.shape
torch.Size([3, 1, 32, 32])
>>> by_hand = scm.counterfactual_by_hand(images, parents, {"thickness": 3.0})
>>> chirho = scm.counterfactual_chirho(images, parents, {"thickness": 3.0})
>>> bool(torch.allclose(by_hand.images, chirho.images, atol=1e-6))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pyro
import pyro.distributions as dist
import torch
from chirho.interventional.handlers import do as chirho_do
from torch.distributions import constraints

from workbench.deepscm.image_sites import (
    IMAGE_EVENT_DIM, IMAGE_NOISE_SITE, noise_sites, predict_in_worlds, rebuild_noise, world,
)
from workbench.deepscm.mechanism import IMAGE_PARENTS, ImageMechanism, NUM_DIGITS, encode_parents
from workbench.deepscm.parents import PARENT_VARIABLES, parent_scm
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.metrics.soundness.generators import check_images, check_parents
from workbench.runtime import device as default_device
from workbench.scm import abduct as abduct_parents
from workbench.scm import counterfactual_by_hand as parents_by_hand
from workbench.scm.counterfactual import world_handler
from workbench.scm.model import parent_tensor
from workbench.scm.sites import UNITS, noise_site

__all__ = ["DigitsDeepSCM", "ImageCounterfactual"]



@dataclass(frozen=True)
class ImageCounterfactual:
    """A counterfactual of a batch of digits: the images, their parents and the abducted noise.

    ``noise`` holds ``U_thickness``, ``U_intensity`` and ``U_image`` (what abduction found).

    Examples
    --------
    >>> import torch
    >>> r = ImageCounterfactual(torch.zeros(1, 1, 2, 2), {"thickness": torch.ones(1)}, {})
    >>> r.images.shape, sorted(r.parents)
    (torch.Size([1, 1, 2, 2]), ['thickness'])
    """

    images: torch.Tensor
    parents: dict
    noise: dict


class DigitsDeepSCM:
    """The digits' deep SCM: parent mechanisms (exact or flows) and an image mechanism.

    Parameters
    ----------
    image_mechanism : ImageMechanism
        ``image := g(U_image; digit, thickness, intensity)``, with ``abduct`` and ``predict``.
    parents : None, DigitParentFlows, DigitParentsFit or SCM
        The mechanisms of thickness and intensity. ``None``: the digits' exact equations
        (so :meth:`parents_after` is :meth:`DigitsGroundTruth.parents_after`); the learned flows:
        ``load_pretrained("deepscm_parents_digits")``.

    Examples
    --------
    >>> import torch
    >>> from workbench.deepscm import IntensityScaling
    >>> scm = DigitsDeepSCM(IntensityScaling())
    >>> pa = {"digit": torch.tensor([3.0]), "thickness": torch.tensor([2.5]), "intensity": torch.tensor([159.5])}
    >>> after = scm.parents_after(pa, {"thickness": torch.tensor([3.0])})   # intensity follows
    >>> round(float(after["intensity"][0]), 2)
    203.63
    >>> scm.parents_after(pa, {"image": torch.zeros(1)})
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Cannot intervene on 'image': it is the effect in this SCM, computed from its parents and its noise. Intervene on its parents: digit, thickness, intensity.
    """

    variables = ("digit", *PARENT_VARIABLES, "image")

    def __init__(self, image_mechanism: ImageMechanism, parents=None):
        if not isinstance(image_mechanism, ImageMechanism):
            raise WorkbenchInputError(f"image_mechanism must be an ImageMechanism (abduct and predict), "
                                      f"got {type(image_mechanism).__name__}.")
        self.mechanism = image_mechanism
        self.parent_scm = parent_scm(parents)

    def __repr__(self) -> str:
        return f"DigitsDeepSCM({type(self.mechanism).__name__}, parents={self.parent_scm.name!r})"

    # ------------------------------------------------------------------ input checks
    def _parents(self, parents: Mapping, n: int | None = None) -> dict[str, torch.Tensor]:
        """Every image parent present, one finite value per unit, digits whole in 0..9; extra
        keys (e.g. ``slant`` from :class:`DigitsGroundTruth`) are kept as they are."""
        if not isinstance(parents, Mapping):
            raise WorkbenchInputError(f"parents must be a dict {{name: tensor (n,)}}, got {type(parents).__name__}.")
        for name in IMAGE_PARENTS:
            if name not in parents:
                raise UnknownVariableError(name, list(parents), what="parent")
        if n is None:
            n = len(torch.as_tensor(parents["digit"]).reshape(-1))
        checked = check_parents(parents, n)
        encode_parents(checked)                          # digits must be class indices
        return checked

    def _interventions(self, interventions: Mapping, parents: dict) -> dict[str, torch.Tensor]:
        """``{parent: tensor (n,)}``; ``image`` and unknown names are errors, and so is changing
        a pass-through key such as ``slant`` (part of the image noise, not a parent)."""
        if not isinstance(interventions, Mapping):
            raise WorkbenchInputError(f"interventions must be a dict {{parent: value}}, got "
                                      f"{type(interventions).__name__}.")
        n, out = len(parents["digit"]), {}
        for name, value in interventions.items():
            if name == "image":
                raise WorkbenchInputError(
                    "Cannot intervene on 'image': it is the effect in this SCM, computed from its parents "
                    f"and its noise. Intervene on its parents: {', '.join(IMAGE_PARENTS)}.")
            if name not in parents:
                raise UnknownVariableError(name, IMAGE_PARENTS, what="parent")
            value = torch.as_tensor(value, dtype=torch.float32).detach().cpu()
            value = check_parents({name: value.expand(n) if value.dim() == 0 else value}, n)[name]
            if name not in IMAGE_PARENTS:
                if not torch.equal(value, parents[name].cpu()):
                    raise WorkbenchInputError(
                        f"{name!r} is not a parent of the image in this SCM (it is part of the image "
                        f"noise, kept by abduction); intervene on {', '.join(IMAGE_PARENTS)}.")
                continue
            if name == "digit":
                encode_parents({**parents, "digit": value})
            out[name] = value
        return out

    # ------------------------------------------------------------------ the three steps
    def parents_after(self, parents: Mapping, interventions: Mapping) -> dict[str, torch.Tensor]:
        """The counterfactual's parents: abduct ``U_t, U_i`` through the parent mechanisms, apply
        ``do``, solve (on the device of ``parents``; extra keys such as ``slant`` kept).

        Raises
        ------
        UnknownVariableError
            A parent missing, or an intervention on a name that is not a parent.
        WorkbenchInputError
            An intervention on ``image``, a digit not in 0..9.

        Examples
        --------
        >>> import torch
        >>> from workbench.deepscm import IntensityScaling
        >>> pa = {"digit": torch.tensor([1.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([120.0])}
        >>> after = DigitsDeepSCM(IntensityScaling()).parents_after(pa, {"digit": 7})
        >>> after["digit"].tolist(), after["intensity"].tolist()       # nothing downstream of digit
        ([7.0], [120.0])
        """
        pa = self._parents(parents)
        acts = self._interventions(interventions, pa)
        device = torch.as_tensor(next(iter(parents.values()))).device
        out = {k: v.clone() for k, v in pa.items()}
        if "digit" in acts:
            out["digit"] = acts["digit"]
        continuous = {k: v for k, v in acts.items() if k in PARENT_VARIABLES}
        if continuous:
            dev = default_device()
            units = {v: pa[v].to(dev) for v in PARENT_VARIABLES}
            solved = parents_by_hand(self.parent_scm, units, {k: v.to(dev) for k, v in continuous.items()})
            out.update({v: solved.counterfactual[v].detach().float().cpu() for v in PARENT_VARIABLES})
        return {k: v.to(device) for k, v in out.items()}

    def abduct(self, images: torch.Tensor, parents: Mapping) -> dict:
        """Every noise of the factual units: ``U_thickness``, ``U_intensity`` and ``U_image``.

        Examples
        --------
        >>> import torch
        >>> from workbench.deepscm import IntensityScaling
        >>> pa = {"digit": torch.tensor([0.0]), "thickness": torch.tensor([2.5]), "intensity": torch.tensor([159.5])}
        >>> u = DigitsDeepSCM(IntensityScaling()).abduct(torch.full((1, 1, 2, 2), 0.25), pa)
        >>> sorted(u), [round(float(u[k][0]), 3) for k in ("U_thickness", "U_intensity")]
        (['U_image', 'U_intensity', 'U_thickness'], [2.0, 0.0])
        """
        images = check_images(images)
        pa = self._parents(parents, len(images))
        dev = default_device()
        with torch.no_grad():
            noise = abduct_parents(self.parent_scm, {v: pa[v].to(dev) for v in PARENT_VARIABLES})
            noise[IMAGE_NOISE_SITE] = self.mechanism.abduct(images.to(self.mechanism.device), pa)
        return noise

    def counterfactual_by_hand(self, images: torch.Tensor, parents: Mapping,
                               interventions: Mapping) -> ImageCounterfactual:
        """Abduction, action, prediction in plain torch (the teaching path).

        Examples
        --------
        >>> import torch
        >>> from workbench.deepscm import IntensityScaling
        >>> pa = {"digit": torch.tensor([0.0]), "thickness": torch.tensor([2.5]), "intensity": torch.tensor([127.5])}
        >>> r = DigitsDeepSCM(IntensityScaling()).counterfactual_by_hand(
        ...     torch.full((1, 1, 2, 2), 0.25), pa, {"intensity": 255.0})
        >>> float(r.images.max()), r.parents["intensity"].tolist()     # twice as bright
        (0.5, [255.0])
        """
        images = check_images(images)
        noise = self.abduct(images, parents)                               # 1. abduction
        after = self.parents_after(parents, interventions)                 # 2. action (parents solved)
        with torch.no_grad():                                              # 3. prediction
            out = self.mechanism.predict(noise[IMAGE_NOISE_SITE], after).clamp(0.0, 1.0)
        return ImageCounterfactual(out.to(images.device), after, noise)

    def counterfactual(self, images: torch.Tensor, parents: Mapping, interventions: Mapping) -> torch.Tensor:
        """The counterfactual images (the soundness generator protocol), by hand.

        Examples
        --------
        >>> import torch
        >>> from workbench.deepscm import IntensityScaling
        >>> pa = {"digit": torch.tensor([0.0]), "thickness": torch.tensor([2.5]), "intensity": torch.tensor([159.5])}
        >>> x = torch.full((1, 1, 2, 2), 0.5)
        >>> bool(torch.allclose(DigitsDeepSCM(IntensityScaling())(x, pa, pa), x))   # the null intervention
        True
        """
        return self.counterfactual_by_hand(images, parents, interventions).images

    __call__ = counterfactual

    # ------------------------------------------------------------------ the Pyro program
    def _image_noise(self, like) -> dict[str, torch.Tensor]:
        """Sample the image noise's sites: from the mechanism's ``noise_prior()`` (one tensor), or,
        when the noise is to be conditioned on ``like``, improper sites of its shapes."""
        prior = getattr(self.mechanism, "noise_prior", None)
        if like is None and prior is None:
            raise WorkbenchInputError(
                f"{type(self.mechanism).__name__} has no prior over its image noise (no noise_prior()), "
                "so the program cannot draw new images; run it with the noise conditioned "
                "(counterfactual_chirho) or give the mechanism a noise_prior().")
        if prior is not None and (like is None or isinstance(like, torch.Tensor)):
            return {IMAGE_NOISE_SITE: pyro.sample(IMAGE_NOISE_SITE, prior())}
        return {site: pyro.sample(site, dist.ImproperUniform(constraints.real, (), t.shape[1:]))
                for site, t in noise_sites(like).items()}

    def _program(self, n: int, like=None) -> dict[str, torch.Tensor]:
        values: dict[str, torch.Tensor] = {}
        dev = default_device()
        with pyro.plate(UNITS, n, dim=-1):
            for v in PARENT_VARIABLES:                     # the parents' SCM, as SCM.model writes it
                mech = self.parent_scm.mechanisms[v]
                u = pyro.sample(noise_site(v), mech.noise())
                values[v] = pyro.deterministic(v, mech(parent_tensor(values, mech, n, dev), u), event_dim=0)
            values["digit"] = pyro.sample("digit", dist.Categorical(logits=torch.zeros(NUM_DIGITS, device=dev)))
            sites = self._image_noise(like)
            u = rebuild_noise(like if like is not None else sites[IMAGE_NOISE_SITE], list(sites.values()))
            image = predict_in_worlds(self.mechanism, u, {v: values[v] for v in IMAGE_PARENTS})
            values["image"] = pyro.deterministic("image", image, event_dim=IMAGE_EVENT_DIM)
        return {**values, **sites}

    def model(self, n: int) -> dict[str, torch.Tensor]:
        """The deep SCM as a Pyro program over ``n`` units; returns every site's value.

        Sites (in the plate ``units``): ``U_thickness``, ``thickness``, ``U_intensity``,
        ``intensity`` (the parent mechanisms, as :meth:`workbench.scm.SCM.model`), ``digit``
        (categorical, uniform), ``U_image`` (the mechanism's ``noise_prior()``) and ``image``
        (deterministic: ``mechanism.predict(U_image, parents)``). Wrap it in any Pyro or ChiRho
        handler.

        Examples
        --------
        >>> import pyro
        >>> from workbench.deepscm import IntensityScaling
        >>> scm = DigitsDeepSCM(IntensityScaling())
        >>> scm.model(2)
        Traceback (most recent call last):
        ...
        workbench.errors.WorkbenchInputError: IntensityScaling has no prior over its image noise (no noise_prior()), so the program cannot draw new images; run it with the noise conditioned (counterfactual_chirho) or give the mechanism a noise_prior().
        """
        return self._program(n)

    def counterfactual_chirho(self, images: torch.Tensor, parents: Mapping, interventions: Mapping,
                              worlds: str = "twin") -> ImageCounterfactual:
        """The same counterfactual through ChiRho: :meth:`model` under ``TwinWorldCounterfactual``
        (``worlds="twin"``) or ``MultiWorldCounterfactual`` (``"multi"``) and ``do``, with every
        noise site and the digit conditioned on the factual unit's abducted values.

        Examples
        --------
        >>> import torch
        >>> from workbench.deepscm import IntensityScaling
        >>> pa = {"digit": torch.tensor([0.0]), "thickness": torch.tensor([2.5]), "intensity": torch.tensor([127.5])}
        >>> r = DigitsDeepSCM(IntensityScaling()).counterfactual_chirho(
        ...     torch.full((1, 1, 2, 2), 0.25), pa, {"intensity": 255.0}, worlds="multi")
        >>> float(r.images.max()), r.parents["intensity"].tolist()
        (0.5, [255.0])
        """
        if worlds not in ("twin", "multi"):
            raise WorkbenchInputError(f"worlds must be 'twin' or 'multi', got {worlds!r}.")
        images = check_images(images)
        pa = self._parents(parents, len(images))
        acts = self._interventions(interventions, pa)
        noise = self.abduct(images, pa)
        dev, n = default_device(), len(images)
        sites = {**{k: v for k, v in noise.items() if k != IMAGE_NOISE_SITE}, **noise_sites(noise[IMAGE_NOISE_SITE])}
        data = {**{k: v.to(dev) for k, v in sites.items()}, "digit": pa["digit"].to(dev).long()}
        acts = {k: (v.to(dev).long() if k == "digit" else v.to(dev)) for k, v in acts.items()}
        with world_handler(worlds):
            with pyro.poutine.condition(data=data), chirho_do(actions=acts):
                values = self._program(n, like=noise[IMAGE_NOISE_SITE])
            names = list(acts) if worlds == "multi" else ["__fresh_split__"]
            cf = {v: world(values[v], names, 1, IMAGE_EVENT_DIM if v == "image" else 0)
                  for v in (*IMAGE_PARENTS, "image")}
        device = torch.as_tensor(next(iter(parents.values()))).device
        after = {**{k: v.to(device) for k, v in pa.items()},
                 **{v: cf[v].reshape(n).float().to(device) for v in IMAGE_PARENTS}}
        return ImageCounterfactual(cf["image"].reshape(images.shape).to(images.device), after, noise)
