"""The counterfactual generator protocol and the input checks every soundness metric shares.

A **generator** is any callable ``counterfactual(images, parents, interventions) -> images``:

* ``images``: a float tensor ``(n, C, H, W)`` with pixels in ``[0, 1]`` (the workbench's
  convention; divide 8-bit images by 255 first);
* ``parents``: ``{name: tensor (n,)}``, the factual value of every parent of the image
  (a categorical parent such as ``digit`` as its class index);
* ``interventions``: ``{name: tensor (n,) or scalar}``, the parents to set, a subset of
  ``parents``' names; the others keep their factual values or follow their own mechanisms;
* returns the counterfactual images, the same shape as ``images``, pixels in ``[0, 1]``.

A deep SCM (abduct the image noise, act, predict), a diffusion model with DDIM inversion
or the exact renderer of :mod:`.ground_truth` all fit it.

Examples
--------
>>> import torch
>>> def brighten(images, parents, interventions):   # a toy generator: pixels follow "intensity"
...     if "intensity" not in interventions:
...         return images
...     scale = torch.as_tensor(interventions["intensity"]) / parents["intensity"]
...     return (images * scale.view(-1, 1, 1, 1)).clamp(0, 1)
>>> x = torch.full((2, 1, 2, 2), 0.5)
>>> parents = {"intensity": torch.tensor([100.0, 200.0])}
>>> brighten(x, parents, {"intensity": torch.tensor([150.0, 100.0])})[:, 0, 0, 0]
tensor([0.7500, 0.2500])
>>> pixel_l1(x, x + 0.1)
tensor([25.5000, 25.5000])
"""

from __future__ import annotations

from typing import Callable, Mapping, Protocol

import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError
from workbench.metrics.errors import MetricInputError

__all__ = ["CounterfactualGenerator", "PixelRangeError", "ParentsAfter", "apply_interventions",
           "pixel_l1", "check_images", "check_parents", "check_interventions", "run_generator"]


class CounterfactualGenerator(Protocol):
    """``counterfactual(images, parents, interventions) -> images`` (see the module docstring).

    Examples
    --------
    >>> import torch
    >>> identity = lambda images, parents, interventions: images
    >>> run_generator(identity, torch.zeros(1, 1, 2, 2), {"t": torch.ones(1)}, {}).shape
    torch.Size([1, 1, 2, 2])
    """

    def __call__(self, images: torch.Tensor, parents: Mapping[str, torch.Tensor],
                 interventions: Mapping[str, torch.Tensor]) -> torch.Tensor: ...


#: ``parents_after(parents, interventions) -> parents``: the parents of the counterfactual
ParentsAfter = Callable[[Mapping[str, torch.Tensor], Mapping[str, torch.Tensor]], dict]


class PixelRangeError(MetricInputError):
    """Images whose pixels lie outside ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> check_images(torch.full((1, 1, 2, 2), 255.0))
    Traceback (most recent call last):
    ...
    workbench.metrics.soundness.generators.PixelRangeError: images have pixels up to 255, outside [0, 1]: soundness metrics take images in [0, 1] (divide 8-bit images by 255) and report L1 on the 0-255 scale.
    """


def check_images(images, what: str = "images", like: torch.Tensor | None = None) -> torch.Tensor:
    """A float tensor ``(n, C, H, W)``, finite, in ``[0, 1]`` (and shaped ``like``, if given).

    Examples
    --------
    >>> import torch
    >>> check_images(torch.zeros(2, 3, 4, 4)).shape
    torch.Size([2, 3, 4, 4])
    >>> check_images(torch.zeros(2, 4, 4))
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: images have shape (2, 4, 4); give a batch (n, C, H, W), e.g. x[:, None] for greyscale (n, H, W).
    """
    images = torch.as_tensor(images)
    if not images.is_floating_point():
        images = images.float()
    if images.dim() != 4:
        raise ShapeError(f"{what} have shape {tuple(images.shape)}; give a batch (n, C, H, W), "
                         "e.g. x[:, None] for greyscale (n, H, W).")
    if like is not None and images.shape != like.shape:
        raise ShapeError(f"{what} have shape {tuple(images.shape)} but the factual images have "
                         f"{tuple(like.shape)}: a generator must return one image per input, same size.")
    if not torch.isfinite(images).all():
        raise NonFiniteValueError(f"{what} contain NaN or infinite pixels; every pixel must be finite.")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        bad = high if high > 1.0 else low
        raise PixelRangeError(
            f"{what} have pixels {'up to' if high > 1.0 else 'down to'} {bad:g}, outside [0, 1]: "
            "soundness metrics take images in [0, 1] (divide 8-bit images by 255) and report L1 "
            "on the 0-255 scale.")
    return images


def check_parents(parents: Mapping, n: int) -> dict[str, torch.Tensor]:
    """``{name: tensor (n,)}``, finite, one value per image.

    Examples
    --------
    >>> check_parents({"t": [1.0, 2.0]}, 2)
    {'t': tensor([1., 2.])}
    >>> check_parents({"t": [1.0]}, 2)
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: parent 't' has shape (1,); give one value per image, shape (2,).
    """
    if not isinstance(parents, Mapping) or not parents:
        raise MetricInputError("parents must be a non-empty dict {name: tensor (n,)}.")
    out = {}
    for name, value in parents.items():
        value = torch.as_tensor(value, dtype=torch.float32)
        if value.shape != (n,):
            raise ShapeError(f"parent {name!r} has shape {tuple(value.shape)}; give one value per "
                             f"image, shape ({n},).")
        if not torch.isfinite(value).all():
            raise NonFiniteValueError(f"parent {name!r} has NaN or infinite values.")
        out[name] = value
    return out


def check_interventions(interventions: Mapping, parents: Mapping[str, torch.Tensor]) -> dict:
    """Each intervened name is a parent; each value a scalar or ``(n,)``, returned as ``(n,)``.

    Examples
    --------
    >>> import torch
    >>> check_interventions({"t": 2.0}, {"t": torch.ones(3)})
    {'t': tensor([2., 2., 2.])}
    >>> check_interventions({"thicknes": 2.0}, {"thickness": torch.ones(3)})
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownVariableError: Unknown parent 'thicknes'. Did you mean 'thickness'? Known parents: thickness.
    """
    n = len(next(iter(parents.values())))
    out = {}
    for name, value in dict(interventions).items():
        if name not in parents:
            raise UnknownVariableError(name, parents, what="parent")
        try:
            value = torch.as_tensor(value, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError):
            raise MetricInputError(f"do({name} = ...) must be a number or one number per image, "
                                   f"got {value!r}.") from None
        if value.dim() == 0:
            value = value.expand(n)
        out[name] = check_parents({name: value}, n)[name]
    return out


def apply_interventions(parents: Mapping[str, torch.Tensor],
                        interventions: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The published default for the counterfactual's parents: ``{**parents, **interventions}``.

    Monteiro et al. (2023) write ``do_parents = {**parents, parent_name: do_parent}``: the
    intervened parent changes and no other. Where one parent causes another (thickness ->
    intensity in the digits) pass a ``parents_after`` that follows the mechanisms instead,
    e.g. :meth:`.ground_truth.DigitsGroundTruth.parents_after`.

    Examples
    --------
    >>> import torch
    >>> apply_interventions({"a": torch.ones(2), "b": torch.zeros(2)}, {"a": torch.full((2,), 3.0)})
    {'a': tensor([3., 3.]), 'b': tensor([0., 0.])}
    """
    return {**parents, **interventions}


def pixel_l1(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute pixel difference on the 0-255 scale, shape ``(n,)``.

    The ``l1`` of Monteiro et al. (2023, ``identifiability_tests.py``: ``mean(|x1 - x2|)``
    over the pixels and channels of each image, in grey levels 0-255) and the image-space
    composition distance of Melistas et al. (2024, ``evaluation/metrics/composition.py``).
    Monteiro et al. clip decoded images into 0-255 first; here an image outside ``[0, 1]`` is
    an error (:class:`PixelRangeError`: clamp inside the generator), so in-range images give
    the same number.

    Examples
    --------
    >>> import torch
    >>> pixel_l1(torch.zeros(1, 1, 1, 2), torch.tensor([[[[1.0, 0.0]]]]))
    tensor([127.5000])
    """
    return (255.0 * (x1 - x2.to(x1.device))).abs().flatten(1).mean(1)


def run_generator(generator, images: torch.Tensor, parents: Mapping, interventions: Mapping) -> torch.Tensor:
    """Call ``generator`` without gradients and check what it returns.

    Examples
    --------
    >>> import torch
    >>> run_generator(lambda x, p, i: x[:1], torch.zeros(2, 1, 2, 2), {"t": torch.ones(2)}, {})
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: the generator's images have shape (1, 1, 2, 2) but the factual images have (2, 1, 2, 2): a generator must return one image per input, same size.
    """
    if not callable(generator):
        raise MetricInputError(f"generator must be a callable counterfactual(images, parents, "
                               f"interventions) -> images, got {type(generator).__name__}.")
    with torch.no_grad():
        out = generator(images, dict(parents), dict(interventions))
    return check_images(out, what="the generator's images", like=images)
