"""The pendulum's deep SCM as a Pyro program: theta, phi -> shadow -> image (CausalVAE's pendulum).

Every variable is a mechanism of its parents and its own noise:

* ``theta := U_theta`` and ``phi := U_phi``: the roots (pendulum and light angles);
* ``shadow_length := max(3, f_l(U_l; theta, phi))`` and ``shadow_position := f_p(U_p; theta, phi)``:
  learned flows (:mod:`~workbench.deepscm.pendulum_parents`, pretrained
  ``deepscm_parents_pendulum``) or the true equations (``parents=None``);
* ``image := g(U_image; theta, phi, shadow_length, shadow_position)``: an image mechanism
  (:class:`~workbench.deepscm.pendulum_image.PendulumCVAE`, pretrained ``cvae_pendulum``).

A counterfactual is abduction (every noise from the factual unit), action (``do``) and
prediction. ``do(phi = phi*)`` moves the light: the sun and, through ``U_l, U_p``, the shadow
move; ``theta`` is not downstream of ``phi``, so the pendulum must stay where it is.
:meth:`PendulumDeepSCM.counterfactual_by_hand` writes the three steps out;
:meth:`PendulumDeepSCM.counterfactual_chirho` runs :meth:`PendulumDeepSCM.model` under ChiRho's
twin (or multi) world handler with ``do`` and every noise conditioned; both agree.

Examples
--------
>>> import torch
>>> from workbench.deepscm.pendulum_image import PendulumCVAE
>>> from workbench.deepscm.pendulum_parents import pendulum_parent_data
>>> from workbench.datasets.pendulum import render_pendulum
>>> values = pendulum_parent_data(3, seed=0)
>>> images = render_pendulum(values, 32)
>>> scm = PendulumDeepSCM(PendulumCVAE(channels=8, hidden=16))      # exact parents, an untrained image
>>> cf = scm.counterfactual_by_hand(images, values, {"phi": 2.0})
>>> bool(torch.equal(cf.parents["theta"], values["theta"])), cf.images.shape   # the pendulum's angle kept
(True, torch.Size([3, 3, 32, 32]))
>>> chirho = scm.counterfactual_chirho(images, values, {"phi": 2.0})
>>> bool(torch.allclose(cf.images, chirho.images, atol=1e-6))
True
"""

from __future__ import annotations

from typing import Mapping

import pyro
import torch
from chirho.interventional.handlers import do as chirho_do

from workbench.deepscm.image_sites import IMAGE_EVENT_DIM, IMAGE_NOISE_SITE, noise_sites, rebuild_noise, world
from workbench.deepscm.mechanism import ImageMechanism
from workbench.deepscm.pendulum_image import check_pendulum_values
from workbench.deepscm.pendulum_parents import PENDULUM_VARIABLES, PendulumParentFlows, exact_pendulum_parents
from workbench.deepscm.program import ImageCounterfactual
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.metrics.soundness.generators import check_images
from workbench.runtime import device as default_device
from workbench.scm import SCM
from workbench.scm import abduct as abduct_parents
from workbench.scm import counterfactual_by_hand as parents_by_hand
from workbench.scm.counterfactual import world_handler
from workbench.scm.model import parent_tensor
from workbench.scm.sites import UNITS, noise_site

__all__ = ["PendulumDeepSCM", "pendulum_parent_scm"]


def pendulum_parent_scm(parents=None) -> SCM:
    """The SCM over the four variables: ``None`` the true equations, or the learned flows.

    Examples
    --------
    >>> pendulum_parent_scm().name
    'pendulum_parents_exact'
    >>> pendulum_parent_scm("flows")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: parents must be None (the pendulum's true equations), a PendulumParentFlows (load_pretrained('deepscm_parents_pendulum')) or an SCM over theta, phi, shadow_length, shadow_position with invertible mechanisms; got str.
    """
    if parents is None:
        return exact_pendulum_parents()
    if isinstance(parents, PendulumParentFlows):
        return parents.scm()
    ok = (isinstance(parents, SCM) and sorted(parents.variables) == sorted(PENDULUM_VARIABLES)
          and not parents.interventions and all(m.invertible for m in parents.mechanisms.values()))
    if not ok:
        raise WorkbenchInputError(
            "parents must be None (the pendulum's true equations), a PendulumParentFlows "
            "(load_pretrained('deepscm_parents_pendulum')) or an SCM over "
            f"{', '.join(PENDULUM_VARIABLES)} with invertible mechanisms; got {type(parents).__name__}.")
    return parents


def _predict_in_worlds(mechanism, noise, values: Mapping) -> torch.Tensor:
    """``mechanism.predict`` on values that may carry world axes in front of the units."""
    columns = torch.broadcast_tensors(*[values[v].to(torch.float32) for v in PENDULUM_VARIABLES])
    batch = columns[0].shape
    flat = {v: c.reshape(-1) for v, c in zip(PENDULUM_VARIABLES, columns)}
    parts = [t.expand(*batch, *t.shape[1:]).reshape(-1, *t.shape[1:]).to(mechanism.device)
             for t in noise_sites(noise).values()]
    images = mechanism.predict(rebuild_noise(noise, parts), flat)
    return images.reshape(*batch, *images.shape[1:])


class PendulumDeepSCM:
    """The pendulum's deep SCM: parent mechanisms (exact or flows) and an image mechanism.

    Parameters
    ----------
    image_mechanism : ImageMechanism
        ``image := g(U_image; theta, phi, shadow_length, shadow_position)`` with ``abduct``
        and ``predict``, e.g. ``load_pretrained("cvae_pendulum")``.
    parents : None, PendulumParentFlows or SCM
        ``None``: the true equations; the learned ones: ``load_pretrained("deepscm_parents_pendulum")``.

    Examples
    --------
    >>> import torch
    >>> from workbench.deepscm.pendulum_image import PendulumCVAE
    >>> scm = PendulumDeepSCM(PendulumCVAE(channels=8, hidden=16))
    >>> unit = {"theta": torch.tensor([0.0]), "phi": torch.tensor([1.0]),
    ...         "shadow_length": torch.tensor([6.3]), "shadow_position": torch.tensor([6.0])}
    >>> after = scm.parents_after(unit, {"phi": 1.2})             # the light moves: the shadow follows
    >>> [round(float(after[v][0]), 2) for v in ("theta", "shadow_length", "shadow_position")]
    [0.0, 3.89, 7.58]
    >>> scm.parents_after(unit, {"light": 1.2})
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown variable 'light'. Known variables: phi, shadow_length, shadow_position, theta.
    """

    variables = (*PENDULUM_VARIABLES, "image")

    def __init__(self, image_mechanism: ImageMechanism, parents=None):
        if not isinstance(image_mechanism, ImageMechanism):
            raise WorkbenchInputError(f"image_mechanism must be an ImageMechanism (abduct and predict), "
                                      f"got {type(image_mechanism).__name__}.")
        self.mechanism = image_mechanism
        self.parent_scm = pendulum_parent_scm(parents)

    def __repr__(self) -> str:
        return f"PendulumDeepSCM({type(self.mechanism).__name__}, parents={self.parent_scm.name!r})"

    def _interventions(self, interventions: Mapping, values: dict) -> dict[str, torch.Tensor]:
        """``{variable: tensor (n,)}`` checked: known names, not the image, angles in range."""
        if not isinstance(interventions, Mapping):
            raise WorkbenchInputError(f"interventions must be a dict {{variable: value}}, got "
                                      f"{type(interventions).__name__}.")
        n, out = len(values["theta"]), {}
        for name, value in interventions.items():
            if name == "image":
                raise WorkbenchInputError("Cannot intervene on 'image': it is the effect, computed from "
                                          f"{', '.join(PENDULUM_VARIABLES)} (intervene on those).")
            if name not in PENDULUM_VARIABLES:
                raise UnknownVariableError(name, PENDULUM_VARIABLES)
            value = torch.as_tensor(value, dtype=torch.float32).detach().cpu()
            out[name] = value.expand(n) if value.dim() == 0 else value
        check_pendulum_values({**values, **out}, n)
        return out

    # ------------------------------------------------------------------ the three steps
    def parents_after(self, values: Mapping, interventions: Mapping) -> dict[str, torch.Tensor]:
        """The counterfactual's four variables: abduct ``U_l, U_p``, apply ``do``, solve."""
        pa = check_pendulum_values(values)
        acts = self._interventions(interventions, pa)
        dev = default_device()
        with torch.no_grad():
            solved = parents_by_hand(self.parent_scm, {v: pa[v].to(dev) for v in PENDULUM_VARIABLES},
                                     {k: v.to(dev) for k, v in acts.items()}).counterfactual
        device = torch.as_tensor(values["theta"]).device
        return {v: solved[v].float().to(device) for v in PENDULUM_VARIABLES}

    def abduct(self, images: torch.Tensor, values: Mapping) -> dict:
        """Every noise of the factual units: ``U_theta, U_phi, U_shadow_length, U_shadow_position, U_image``."""
        images = check_images(images)
        pa = check_pendulum_values(values, len(images))
        dev = default_device()
        with torch.no_grad():
            noise = abduct_parents(self.parent_scm, {v: pa[v].to(dev) for v in PENDULUM_VARIABLES})
            noise[IMAGE_NOISE_SITE] = self.mechanism.abduct(images.to(self.mechanism.device), pa)
        return noise

    def counterfactual_by_hand(self, images: torch.Tensor, values: Mapping,
                               interventions: Mapping) -> ImageCounterfactual:
        """Abduction, action, prediction in plain torch (the teaching path)."""
        images = check_images(images)
        noise = self.abduct(images, values)                                # 1. abduction
        after = self.parents_after(values, interventions)                  # 2. action (shadows solved)
        with torch.no_grad():                                              # 3. prediction
            out = self.mechanism.predict(noise[IMAGE_NOISE_SITE], after).clamp(0.0, 1.0)
        return ImageCounterfactual(out.to(images.device), after, noise)

    def counterfactual(self, images: torch.Tensor, values: Mapping, interventions: Mapping) -> torch.Tensor:
        """The counterfactual images (the soundness generator protocol), by hand."""
        return self.counterfactual_by_hand(images, values, interventions).images

    __call__ = counterfactual

    # ------------------------------------------------------------------ the Pyro program
    def _program(self, n: int, like=None) -> dict[str, torch.Tensor]:
        values: dict[str, torch.Tensor] = {}
        dev = default_device()
        with pyro.plate(UNITS, n, dim=-1):
            for v in self.parent_scm.variables:
                mech = self.parent_scm.mechanisms[v]
                u = pyro.sample(noise_site(v), mech.noise())
                values[v] = pyro.deterministic(v, mech(parent_tensor(values, mech, n, dev), u), event_dim=0)
            if like is None:
                sites = {IMAGE_NOISE_SITE: pyro.sample(IMAGE_NOISE_SITE, self.mechanism.noise_prior())}
            else:
                sites = {s: pyro.sample(s, pyro.distributions.ImproperUniform(
                    torch.distributions.constraints.real, (), t.shape[1:])) for s, t in noise_sites(like).items()}
            u = rebuild_noise(like if like is not None else sites[IMAGE_NOISE_SITE], list(sites.values()))
            values["image"] = pyro.deterministic("image", _predict_in_worlds(self.mechanism, u, values),
                                                 event_dim=IMAGE_EVENT_DIM)
        return {**values, **sites}

    def model(self, n: int) -> dict[str, torch.Tensor]:
        """The deep SCM as a Pyro program over ``n`` units; returns every site's value.

        Sites in the plate ``units``: ``U_phi, phi, U_theta, theta`` (roots, uniform on the data's
        range), ``U_shadow_length, shadow_length, U_shadow_position, shadow_position``, ``U_image``
        (the mechanism's ``noise_prior()``) and ``image``. Wrap it in any Pyro or ChiRho handler.

        Examples
        --------
        >>> from workbench.deepscm.pendulum_image import PendulumCVAE
        >>> import pyro
        >>> pyro.set_rng_seed(0)
        >>> out = PendulumDeepSCM(PendulumCVAE(channels=8, hidden=16)).model(2)
        >>> out["image"].shape, bool((out["shadow_length"] >= 3).all())
        (torch.Size([2, 3, 32, 32]), True)
        """
        with torch.no_grad():
            return self._program(n)

    def counterfactual_chirho(self, images: torch.Tensor, values: Mapping, interventions: Mapping,
                              worlds: str = "twin") -> ImageCounterfactual:
        """The same counterfactual through ChiRho: :meth:`model` under ``TwinWorldCounterfactual``
        (``"twin"``) or ``MultiWorldCounterfactual`` (``"multi"``) and ``do``, every noise site
        conditioned on the factual unit's abducted value."""
        if worlds not in ("twin", "multi"):
            raise WorkbenchInputError(f"worlds must be 'twin' or 'multi', got {worlds!r}.")
        images = check_images(images)
        pa = check_pendulum_values(values, len(images))
        acts = self._interventions(interventions, pa)
        noise = self.abduct(images, pa)
        dev, n = default_device(), len(images)
        sites = {**{k: v for k, v in noise.items() if k != IMAGE_NOISE_SITE}, **noise_sites(noise[IMAGE_NOISE_SITE])}
        with world_handler(worlds):
            with pyro.poutine.condition(data={k: v.to(dev) for k, v in sites.items()}), \
                    chirho_do(actions={k: v.to(dev) for k, v in acts.items()}):
                out = self._program(n, like=noise[IMAGE_NOISE_SITE])
            names = list(acts) if worlds == "multi" else ["__fresh_split__"]
            cf = {v: world(out[v], names, 1, IMAGE_EVENT_DIM if v == "image" else 0) for v in self.variables}
        device = torch.as_tensor(values["theta"]).device
        after = {v: cf[v].reshape(n).float().to(device) for v in PENDULUM_VARIABLES}
        return ImageCounterfactual(cf["image"].reshape(images.shape).to(images.device), after, noise)
