"""Anti-causal predictors of a digit image's parents: the published way to score effectiveness.

On real images nobody knows a counterfactual's true thickness, so Monteiro et al. (ICLR
2023, ``biomedia-mira/counterfactual_axiomatic_soundness``) and Melistas et al. (NeurIPS
2024, ``gulnazaki/counterfactual-benchmark``) train a "pseudo-oracle" per parent, from
image to parent (against the causal arrows, hence *anti-causal*), and read the parents of a
generated counterfactual with it. :class:`DigitPredictors` holds three: a digit classifier
(argmax of ten logits) and regressors of thickness (pixels) and intensity (grey levels).
Their own held-out error is the floor of any effectiveness they report; our exact
morphometrics (:func:`workbench.metrics.soundness.digit_morphometrics`) have none.

Examples
--------
>>> import torch
>>> model = DigitPredictors(channels=4, device="cpu")
>>> out = model.predict(torch.zeros(2, 1, 32, 32))
>>> sorted(out), out["digit"].shape
(['digit', 'intensity', 'thickness'], torch.Size([2]))
>>> sorted(model.predictors())          # the effectiveness(...) predictor signature
['digit', 'intensity', 'thickness']
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from workbench.deepscm.mechanism import INTENSITY_SCALE, NUM_DIGITS, THICKNESS_SCALE
from workbench.errors import ShapeError
from workbench.latents.pretrained import register_builder
from workbench.latents.training import train
from workbench.metrics.soundness.generators import check_images
from workbench.metrics.soundness.ground_truth import DigitsGroundTruth
from workbench.runtime import device as runtime_device

__all__ = ["DigitPredictors", "predictor_training_data", "train_predictors", "evaluate_predictors"]

IMAGE_SHAPE = (1, 32, 32)
#: parent -> (number of outputs, centre, spread of the standardized target)
_HEADS = {"digit": (NUM_DIGITS, 0.0, 1.0), "thickness": (1, *THICKNESS_SCALE), "intensity": (1, *INTENSITY_SCALE)}


def _cnn(channels: int, outputs: int) -> nn.Sequential:
    """32x32 -> 16 -> 8 -> 4 convolutions, a hidden layer, ``outputs`` numbers."""
    c = channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, 2, 1), nn.SiLU(), nn.Conv2d(c, c, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(c, 2 * c, 3, 2, 1), nn.SiLU(), nn.Flatten(),
        nn.Linear(2 * c * 16, 128), nn.SiLU(), nn.Linear(128, outputs))


class DigitPredictors(nn.Module):
    """Three small CNNs, one per parent of the image: digit (classifier), thickness, intensity.

    Trained with :func:`workbench.latents.train` on ``(images, targets)`` where each target
    row is ``(digit, thickness, intensity)``; :meth:`loss` is the cross-entropy of the
    digit plus the squared errors of the standardized thickness and intensity.

    Examples
    --------
    >>> import torch
    >>> model = DigitPredictors(channels=4, device="cpu")
    >>> targets = torch.tensor([[3.0, 2.5, 160.0]])
    >>> loss, terms = model.loss(torch.zeros(1, 1, 32, 32), targets)
    >>> sorted(terms)
    ['digit', 'intensity', 'loss', 'thickness']
    """

    kind = "deepscm_predictors"
    parents = tuple(_HEADS)

    def __init__(self, channels: int = 32, device=None):
        super().__init__()
        self.channels, self.kl_scale = int(channels), 1.0
        self.image_shape = IMAGE_SHAPE
        self.nets = nn.ModuleDict({name: _cnn(self.channels, k) for name, (k, _, _) in _HEADS.items()})
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """The settings that rebuild these predictors (what the manifest stores)."""
        return {"kind": self.kind, "channels": self.channels}

    @property
    def device(self) -> torch.device:
        """The device of the predictors' parameters."""
        return next(self.parameters()).device

    def _check(self, images) -> torch.Tensor:
        images = check_images(images)
        if tuple(images.shape[1:]) != IMAGE_SHAPE:
            raise ShapeError(f"DigitPredictors read digits images (n, 1, 32, 32), got {tuple(images.shape)}.")
        return images.to(self.device, torch.float32) * 2 - 1

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw outputs: digit logits ``(n, 10)``, standardized thickness and intensity ``(n,)``."""
        x = self._check(images)
        return {name: net(x) if name == "digit" else net(x)[:, 0] for name, net in self.nets.items()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch: int = 500) -> dict[str, torch.Tensor]:
        """Each parent in its own units (digit as its class index), on ``images``' device."""
        parts = [self(images[i:i + batch]) for i in range(0, len(images), batch)]
        out = {name: torch.cat([p[name] for p in parts]) for name in _HEADS}
        result = {"digit": out["digit"].argmax(1).float()}
        for name in ("thickness", "intensity"):
            _, centre, spread = _HEADS[name]
            result[name] = out[name] * spread + centre
        return {k: v.to(images.device) for k, v in result.items()}

    def predictors(self) -> dict:
        """``{parent: predictor(images, parents)}`` for :func:`~workbench.metrics.soundness.effectiveness`
        (pass ``categorical=["digit"]``); the parents are not read."""
        return {name: (lambda images, parents, name=name: self.predict(images)[name]) for name in _HEADS}

    def loss(self, images, targets, generator=None):
        """Cross-entropy of the digit plus squared errors of the standardized continuous parents."""
        out = self(images)
        targets = targets.to(self.device)
        terms = {"digit": F.cross_entropy(out["digit"], targets[:, 0].long())}
        for k, name in ((1, "thickness"), (2, "intensity")):
            _, centre, spread = _HEADS[name]
            terms[name] = (out[name] - (targets[:, k] - centre) / spread).pow(2).mean()
        loss = sum(terms.values())
        return loss, {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in terms.items()}}


def predictor_training_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` digits from the data set's SCM and their targets ``(digit, thickness, intensity)``.

    Examples
    --------
    >>> images, targets = predictor_training_data(3, seed=0)
    >>> images.shape, targets.shape
    (torch.Size([3, 1, 32, 32]), torch.Size([3, 3]))
    """
    images, parents = DigitsGroundTruth().sample(n, generator=seed)
    return images, torch.stack([parents[name] for name in _HEADS], 1)


def train_predictors(steps: int, images: int = 20000, seed: int = 0, channels: int = 32,
                     checkpoint_dir=None, progress: bool = False, **settings):
    """Train :class:`DigitPredictors` with the one training loop on freshly drawn digits.

    Returns ``(model, TrainResult)``; ``settings`` go to :func:`workbench.latents.train`.

    Examples
    --------
    >>> model, result = train_predictors(steps=2, images=16, channels=4, batch_size=8)
    >>> result.step
    2
    """
    model = DigitPredictors(channels=channels, device="cpu")
    data = predictor_training_data(images, seed)
    result = train(model, data, steps=steps, seed=seed, checkpoint_dir=checkpoint_dir,
                   progress=progress, **settings)
    return model.eval(), result


def evaluate_predictors(model: DigitPredictors, n: int = 1000, seed: int = 12345) -> dict[str, float]:
    """Held-out digit accuracy and thickness / intensity mean absolute errors (the floor).

    Examples
    --------
    >>> scores = evaluate_predictors(DigitPredictors(channels=4, device="cpu"), n=20)
    >>> sorted(scores)
    ['digit_accuracy', 'intensity_mae', 'thickness_mae']
    """
    images, targets = predictor_training_data(n, seed)
    out = model.predict(images.to(model.device))
    return {"digit_accuracy": float((out["digit"].cpu() == targets[:, 0]).float().mean()),
            "thickness_mae": float((out["thickness"].cpu() - targets[:, 1]).abs().mean()),
            "intensity_mae": float((out["intensity"].cpu() - targets[:, 2]).abs().mean())}


def _build(config: dict, device) -> DigitPredictors:
    return DigitPredictors(channels=int(config.get("channels", 32)), device=device)


register_builder(DigitPredictors.kind, _build)
