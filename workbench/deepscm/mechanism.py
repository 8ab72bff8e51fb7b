"""The image mechanism of a deep SCM: ``image := g(digit, thickness, intensity; U_image)``.

A deep structural causal model (Pawlowski, Castro & Glocker, NeurIPS 2020) writes every
variable as a mechanism of its parents and its own noise; for an image the mechanism is a
neural network. A counterfactual is then the three steps of Pearl's ladder on images:

1. **abduction**: the image noise ``u = abduct(image, parents)`` that, with the factual
   parents, reproduces the image (everything the parents do not say: slant, the stroke's
   small quirks);
2. **action**: new parents (``do(thickness = t*)``; intensity follows its own mechanism);
3. **prediction**: ``predict(u, new_parents)``, the same digit, drawn with the new parents.

Every image mechanism here has that small contract: :meth:`ImageMechanism.abduct` and
:meth:`ImageMechanism.predict`, plus :meth:`ImageMechanism.condition`, the one encoding
of the parents all of them share (digit one-hot, thickness and intensity standardized).
How exact abduction is differs: amortised by an encoder (a conditional VAE), deterministic
DDIM inversion (a conditional diffusion model), exact inversion (a conditional flow).

Examples
--------
>>> import torch
>>> mech = IntensityScaling()      # a toy exact mechanism: image = intensity / 255 * u
>>> pa = {"digit": torch.tensor([3.0]), "thickness": torch.tensor([2.0]),
...       "intensity": torch.tensor([127.5])}
>>> x = torch.full((1, 1, 2, 2), 0.25)
>>> u = mech.abduct(x, pa)
>>> float(u.max())
0.5
>>> new = {**pa, "intensity": torch.tensor([255.0])}
>>> float(mech.counterfactual(x, pa, new).max())    # twice as bright, same stroke
0.5
>>> mech.condition(pa).shape                         # 10 digit classes + thickness + intensity
torch.Size([1, 12])
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.metrics.soundness.generators import check_images, check_parents

__all__ = ["IMAGE_PARENTS", "THICKNESS_SCALE", "INTENSITY_SCALE", "ImageMechanism", "IntensityScaling",
           "encode_parents"]

#: the image's parents in the Morpho-MNIST graph (thickness -> intensity -> image <- digit)
IMAGE_PARENTS = ("digit", "thickness", "intensity")
#: (centre, spread) used to standardize each continuous parent (the digits' SCM's ranges)
THICKNESS_SCALE = (2.5, 0.7)
INTENSITY_SCALE = (160.0, 55.0)
NUM_DIGITS = 10


def encode_parents(parents: Mapping[str, torch.Tensor], device=None) -> torch.Tensor:
    """The condition vector ``(n, 12)`` of an image's parents: one-hot digit, thickness and
    intensity standardized by :data:`THICKNESS_SCALE` and :data:`INTENSITY_SCALE`.

    Raises
    ------
    UnknownVariableError
        A parent of the image is missing.
    WorkbenchInputError
        A digit that is not a whole number in 0..9.

    Examples
    --------
    >>> import torch
    >>> c = encode_parents({"digit": torch.tensor([1.0]), "thickness": torch.tensor([3.2]),
    ...                     "intensity": torch.tensor([160.0])})
    >>> c[0, :10].tolist() == [0, 1] + [0] * 8, [round(v, 3) for v in c[0, 10:].tolist()]
    (True, [1.0, 0.0])
    >>> encode_parents({"digit": torch.tensor([1.0])})
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown parent 'thickness'. Known parents: digit.
    """
    for name in IMAGE_PARENTS:
        if name not in parents:
            raise UnknownVariableError(name, list(parents), what="parent")
    n = len(torch.as_tensor(parents["digit"]).reshape(-1))
    pa = check_parents({v: torch.as_tensor(parents[v]).detach().cpu() for v in IMAGE_PARENTS}, n)
    digit = pa["digit"]
    if bool(((digit != digit.round()) | (digit < 0) | (digit >= NUM_DIGITS)).any()):
        raise WorkbenchInputError(f"digit must be a whole number in 0..{NUM_DIGITS - 1} (the class "
                                  f"index), got {digit.tolist()[:5]}.")
    one_hot = torch.nn.functional.one_hot(digit.long(), NUM_DIGITS).float()
    thickness = (pa["thickness"] - THICKNESS_SCALE[0]) / THICKNESS_SCALE[1]
    intensity = (pa["intensity"] - INTENSITY_SCALE[0]) / INTENSITY_SCALE[1]
    out = torch.cat([one_hot, thickness[:, None], intensity[:, None]], 1)
    return out if device is None else out.to(device)


class ImageMechanism(nn.Module):
    """Base class of image mechanisms: ``abduct`` and ``predict``, one condition encoding.

    Subclasses implement :meth:`abduct` (images and their parents to the image noise) and
    :meth:`predict` (noise and parents to images in ``[0, 1]``). :meth:`counterfactual` is
    the two composed: abduct under the factual parents, predict under the new ones.

    Examples
    --------
    >>> import torch
    >>> mech = IntensityScaling()
    >>> pa = {"digit": torch.tensor([0.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([200.0])}
    >>> x = torch.full((1, 1, 2, 2), 0.4)
    >>> torch.allclose(mech.predict(mech.abduct(x, pa), pa), x)   # the null intervention
    True
    """

    parents = IMAGE_PARENTS
    #: True when ``predict(abduct(x, pa), pa) == x`` holds exactly (up to float error)
    exact = False

    def condition(self, parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """:func:`encode_parents` on this mechanism's device."""
        return encode_parents(parents, device=self.device)

    @property
    def device(self) -> torch.device:
        """The device of the mechanism's parameters (the CPU if it has none)."""
        first = next(iter(self.parameters()), None)
        return first.device if first is not None else torch.device("cpu")

    def abduct(self, images: torch.Tensor, parents: Mapping[str, torch.Tensor]):
        """The image noise ``u`` with ``predict(u, parents) ~= images``."""
        raise NotImplementedError(f"{type(self).__name__} must implement abduct(images, parents).")

    def predict(self, noise, parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Images in ``[0, 1]`` from the image noise and the parents."""
        raise NotImplementedError(f"{type(self).__name__} must implement predict(noise, parents).")

    @torch.no_grad()
    def counterfactual(self, images: torch.Tensor, parents: Mapping[str, torch.Tensor],
                       new_parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Abduction under ``parents``, prediction under ``new_parents`` (the action)."""
        images = check_images(images).to(self.device)
        return self.predict(self.abduct(images, parents), new_parents).clamp(0.0, 1.0)


class IntensityScaling(ImageMechanism):
    """A toy exact mechanism for tests and examples: ``image = intensity / 255 * u``.

    ``u`` is the stroke at full brightness; abduction divides it out. It ignores digit and
    thickness, so it is exact but not effective for ``do(thickness)``: what the soundness
    axioms must tell apart.

    Examples
    --------
    >>> import torch
    >>> pa = {"digit": torch.tensor([0.0]), "thickness": torch.tensor([2.0]), "intensity": torch.tensor([51.0])}
    >>> IntensityScaling().predict(torch.ones(1, 1, 1, 1), pa).item()
    0.2
    """

    exact = True

    def _scale(self, parents, like):
        # no parameters, so no device of its own: compute where the images are
        return (encode_parents(parents, device=like.device)[:, -1] * INTENSITY_SCALE[1] + INTENSITY_SCALE[0]).div(255.0).view(
            -1, *([1] * (like.dim() - 1)))

    def abduct(self, images, parents):
        """The stroke at full brightness: ``255 * image / intensity``."""
        images = check_images(images)
        check_parents(parents, len(images))
        return (images / self._scale(parents, images)).clamp(0.0, 255.0 / 64.0)

    def predict(self, noise, parents):
        """The stroke at the parents' intensity: ``intensity / 255 * u``."""
        return (noise * self._scale(parents, noise)).clamp(0.0, 1.0)
