"""Exact morphometrics of the digits: their intensity and thickness measured from the image.

:class:`workbench.datasets.Digits` paints a pixel ``intensity/255 * clamp(t/2 - d + 1/2, 0, 1)``
at distance ``d`` from the stroke, so

* **intensity** is the brightest pixel times 255: exact once a pixel centre lies within
  ``t/2 - 1/2`` of the stroke, which held for all of 1,000 draws of the SCM (error under
  1e-5 grey levels);
* **thickness** is the ``t`` whose render of the same digit and slant holds the same ink as
  the image (after dividing by the measured intensity): ink grows strictly with ``t``, so a
  bisection finds it. Like Morpho-MNIST's thickness (stroke area over stroke length), it is a
  measurement of the image, and for an image the renderer drew it is exact.

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
    """The stroke's grey level (0-255): the brightest pixel of each image.

    Examples
    --------
    >>> import torch
    >>> measure_intensity(torch.tensor([[[[0.0, 0.5], [0.25, 0.0]]]]))
    tensor([127.5000])
    """
    return 255.0 * check_images(images).flatten(1).amax(1)


def digit_morphometrics(dataset: Digits | None = None) -> dict:
    """``{"intensity": ..., "thickness": ...}`` predictors measuring a digits image exactly.

    Examples
    --------
    >>> sorted(digit_morphometrics())
    ['intensity', 'thickness']
    """
    dataset = dataset if dataset is not None else Digits()

    def measure_thickness(images, parents) -> torch.Tensor:
        """The thickness (pixels) whose render of the intended digit and slant has the image's ink."""
        images = check_images(images)
        n = len(images)
        brightest = images.flatten(1).amax(1).clamp_min(1e-12)
        ink = images.flatten(1).sum(1) / brightest
        low, high = (torch.full((n,), bound) for bound in _THICKNESS_RANGE)
        values = {"digit": torch.as_tensor(parents["digit"], dtype=torch.float32),
                  "slant": torch.as_tensor(parents["slant"], dtype=torch.float32),
                  "intensity": torch.full((n,), 255.0)}
        for _ in range(_BISECTIONS):
            middle = (low + high) / 2
            drawn = dataset.scm.render({**values, "thickness": middle}).flatten(1).sum(1)
            thicker = drawn < ink
            low, high = torch.where(thicker, middle, low), torch.where(thicker, high, middle)
        return (low + high) / 2

    return {"intensity": measure_intensity, "thickness": measure_thickness}
