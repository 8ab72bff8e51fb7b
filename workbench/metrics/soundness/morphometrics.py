"""Exact morphometrics of the digits: their intensity and thickness measured from the image.

:class:`workbench.datasets.Digits` paints a pixel ``intensity/255 * clamp(t/2 - d + 1/2, 0, 1)``
at distance ``d`` from the stroke, so

* **thickness** is the ``t`` whose render of the same digit and slant has the image's ratio
  of total ink to brightest pixel (the intensity cancels); the ratio grows strictly with
  ``t``, so a bisection finds it. Like Morpho-MNIST's thickness (stroke area over stroke
  length), it is a measurement of the image, and for an image the renderer drew it is exact;
* **intensity** is then the brightest pixel over that render's brightest, times 255. The
  brightest pixel alone, :func:`measure_intensity`, is exact only once a pixel centre lies
  within ``t/2 - 1/2`` of the stroke, and reads low on thin strokes.

Both follow the predictor signature of :func:`.effectiveness`, ``predictor(images, parents)``;
thickness reads the intended ``digit`` and ``slant`` from ``parents`` (as Melistas et al.'s
thickness predictor reads the intensity).

Examples
--------
>>> from workbench.metrics.soundness import DigitsGroundTruth
>>> truth = DigitsGroundTruth()
>>> images, parents = truth.sample(3, generator=0)
>>> measure = digit_morphometrics(truth.dataset)
>>> bool(((measure["thickness"](images, parents) - parents["thickness"]).abs() < 1e-3).all())
True
"""

from __future__ import annotations

import torch

from workbench.datasets.digits import Digits
from workbench.metrics.soundness.generators import check_images

__all__ = ["measure_intensity", "digit_morphometrics"]

_THICKNESS_RANGE = (0.0, 12.0)   # pixels; the SCM's 99.99% quantile is about 5.5
_BISECTIONS = 32


def measure_intensity(images, parents=None) -> torch.Tensor:
    """The brightest pixel of each image, times 255: the stroke's grey level if it has full ink.

    Examples
    --------
    >>> import torch
    >>> measure_intensity(torch.tensor([[[[0.0, 0.5], [0.25, 0.0]]]]))
    tensor([127.5000])
    """
    return 255.0 * check_images(images).flatten(1).amax(1)


def digit_morphometrics(dataset: Digits | None = None) -> dict:
    """``{"intensity": ..., "thickness": ...}`` predictors measuring a digits image exactly.

    Both bisect on the thickness ``t`` whose render of the intended digit and slant has the
    image's ratio of total ink to brightest pixel (it grows strictly with ``t``); the intensity
    is then the brightest pixel over that render's brightest, times 255 (exact also for strokes
    so thin that no pixel has full ink, where :func:`measure_intensity` reads low).

    Examples
    --------
    >>> sorted(digit_morphometrics())
    ['intensity', 'thickness']
    """
    dataset = dataset if dataset is not None else Digits()

    def measure(images, parents) -> tuple[torch.Tensor, torch.Tensor]:
        device = torch.as_tensor(images).device
        images = check_images(images).flatten(1).cpu()
        n = len(images)
        brightest = images.amax(1)
        ratio = images.sum(1) / brightest.clamp_min(1e-12)
        low, high = (torch.full((n,), bound) for bound in _THICKNESS_RANGE)
        values = {"digit": torch.as_tensor(parents["digit"], dtype=torch.float32).cpu(),
                  "slant": torch.as_tensor(parents["slant"], dtype=torch.float32).cpu(),
                  "intensity": torch.full((n,), 255.0)}
        for _ in range(_BISECTIONS):
            middle = (low + high) / 2
            ink = dataset.scm.render({**values, "thickness": middle}).flatten(1)
            thicker = ink.sum(1) / ink.amax(1).clamp_min(1e-12) < ratio
            low, high = torch.where(thicker, middle, low), torch.where(thicker, high, middle)
        thickness = (low + high) / 2
        ink = dataset.scm.render({**values, "thickness": thickness}).flatten(1)
        intensity = 255.0 * brightest / ink.amax(1).clamp_min(1e-12)
        return thickness.to(device), intensity.to(device)

    def thickness(images, parents) -> torch.Tensor:
        """Stroke thickness in pixels."""
        return measure(images, parents)[0]

    def intensity(images, parents) -> torch.Tensor:
        """Stroke grey level, 0-255."""
        return measure(images, parents)[1]

    return {"intensity": intensity, "thickness": thickness}
