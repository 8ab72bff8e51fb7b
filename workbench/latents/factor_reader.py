"""A small CNN that reads ground-truth factors off images: the ruler for generated images.

Trained by regression on rendered images whose factors are known (the data set's SCM),
it measures what a generative model's images *show*: after ``do(light)``, did the
pendulum move? A reader is only as good as its error on held-out ground truth, which
``scripts/train_pretrained.py`` records next to its weights.

Examples
--------
>>> import torch
>>> reader = FactorReader((3, 32, 32), ["a", "b"], device="cpu")
>>> reader.read(torch.zeros(5, 3, 32, 32)).shape
torch.Size([5, 2])
>>> loss, terms = reader.loss(torch.rand(4, 3, 32, 32), torch.randn(4, 2))
>>> sorted(terms)
['loss', 'mse']
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import ShapeError, WorkbenchInputError
from workbench.latents.networks import ConvEncoder, check_image_shape
from workbench.latents.vae import MODELS
from workbench.runtime import device as runtime_device

__all__ = ["FactorReader"]


class FactorReader(nn.Module):
    """Regress standardised factors ``(n, k)`` from images; :meth:`read` gives their units.

    Parameters
    ----------
    image_shape : (C, S, S)
    factor_names : list of str
    factor_mean, factor_std : list of float, optional
        How the factors are standardised for the regression.

    Raises
    ------
    WorkbenchInputError
        If there are no names, or the means and stds do not fit them.

    Examples
    --------
    The committed pendulum reader reads the pendulum's angle within a few hundredths
    of a radian:

    >>> from workbench.latents import load_pretrained
    >>> from workbench.crl.pendulum import training_set
    >>> reader = load_pretrained("factor_reader_pendulum", device="cpu")
    >>> images, factors, _ = training_set(n=64, seed=5)
    >>> error = (reader.read(images) - factors).abs().mean(0)
    >>> reader.factor_names[0], error[0].item() < 0.05
    ('theta', True)
    >>> FactorReader((3, 32, 32), ["a", "b"], factor_std=[1.0])
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: Give factor names, and as many means and positive stds.
    """

    kind = "factor_reader"

    def __init__(self, image_shape=(3, 32, 32), factor_names=("theta", "phi"), factor_mean=None,
                 factor_std=None, device=None):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.factor_names = [str(n) for n in factor_names]
        k = len(self.factor_names)
        self.factor_mean = [float(v) for v in (factor_mean if factor_mean is not None else [0.0] * k)]
        self.factor_std = [float(v) for v in (factor_std if factor_std is not None else [1.0] * k)]
        if k < 1 or len(self.factor_mean) != k or len(self.factor_std) != k or min(self.factor_std) <= 0:
            raise WorkbenchInputError("Give factor names, and as many means and positive stds.")
        self.kl_scale = 1.0                       # the training loop sets it; a reader ignores it
        self.network = ConvEncoder(self.image_shape, k)   # 2k outputs; the first k are used
        self.to(runtime_device(device))

    @property
    def config(self) -> dict:
        """The constructor arguments (and ``kind``), as saved beside the weights."""
        return {"kind": self.kind, "image_shape": list(self.image_shape), "factor_names": self.factor_names,
                "factor_mean": self.factor_mean, "factor_std": self.factor_std}

    @property
    def device(self) -> torch.device:
        """The device the weights are on."""
        return next(self.parameters()).device

    def _standardised(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float() / 255 if x.dtype == torch.uint8 else x
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ShapeError(f"Expected images (n, {', '.join(map(str, self.image_shape))}), got {tuple(x.shape)}.")
        return self.network(x.to(self.device, torch.float32))[:, :len(self.factor_names)]

    @torch.no_grad()
    def read(self, x: torch.Tensor) -> torch.Tensor:
        """Factor values ``(n, k)`` in the factors' own units, read off images ``x``."""
        mean = torch.tensor(self.factor_mean, device=self.device)
        return self._standardised(x) * torch.tensor(self.factor_std, device=self.device) + mean

    def loss(self, x: torch.Tensor, labels: torch.Tensor, generator=None):
        """Mean squared error in standardised units (``generator`` is unused)."""
        mean = torch.tensor(self.factor_mean, device=self.device)
        target = (labels.to(self.device, torch.float32) - mean) / torch.tensor(self.factor_std, device=self.device)
        mse = ((self._standardised(x) - target) ** 2).mean()
        return mse, {"loss": float(mse.detach()), "mse": float(mse.detach())}


MODELS[FactorReader.kind] = FactorReader
