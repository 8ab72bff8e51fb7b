"""Interventional causal representation learning (Ahuja, Mahajan, Wang & Bengio, ICML 2023).

Two steps, each with its own guarantee:

1. **An autoencoder with a polynomial decoder** of the data's degree, trained to
   reconstruct. If it reconstructs perfectly, its codes are an *affine* map of the true
   latents (their Theorem 1): ``zhat = A z + b``. That is all observational data buy:
   R^2 near 1, MCC well below it, because ``A`` still mixes the latents.
2. **One do-intervention per latent** removes the mixing. Under ``do(z_i = c)`` the true
   ``z_i`` is constant, so some direction ``w_i`` of the codes is constant too:
   ``w_i^T zhat = w_i^T A z + const`` varies with no latent but ``z_i``, so ``w_i^T A``
   is a multiple of ``e_i``. ``w_i`` is the least-variance direction of the codes in that
   data set (the bottom eigenvector of their covariance), and ``w_i^T zhat`` recovers
   ``z_i`` up to scale and shift (their Theorem 3).

With ``k < d`` intervened latents, only those ``k`` coordinates are unmixed; the
remaining ``d - k`` are the codes' principal directions orthogonal (in the
observational covariance) to the found ones, still mixed among themselves.

Examples
--------
>>> from workbench.crl.polynomial import make_interventional_data
>>> data = make_interventional_data(latent_dim=2, degree=2, data_dim=20, n_obs=2000, n_int=500, seed=0)
>>> model = fit_polynomial_autoencoder(data, steps=30)
>>> unmix_by_interventions(model.encode(data.x_obs), [model.encode(x) for x in data.x_int]).shape
torch.Size([2, 2])
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.crl.polynomial import InterventionalData, monomials, num_monomials
from workbench.crl.scores import identifiability_scores
from workbench.errors import ShapeError, WorkbenchInputError
from workbench.latents import train

__all__ = ["PolynomialAutoencoder", "fit_polynomial_autoencoder", "unmix_by_interventions",
           "interventional_scores"]


class PolynomialAutoencoder(nn.Module):
    """MLP encoder ``x -> zhat``; decoder ``zhat -> H m(zhat)``, a polynomial of ``degree``.

    Parameters
    ----------
    data_dim, latent_dim
        Sizes of ``x`` and of the codes ``zhat``.
    degree
        The decoder's degree (that of the data, for Theorem 1 to apply).
    hidden
        Width of the encoder's two hidden layers.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = PolynomialAutoencoder(data_dim=10, latent_dim=2, degree=2)
    >>> x = torch.randn(4, 10)
    >>> model.encode(x).shape, model.decode(model.encode(x)).shape
    (torch.Size([4, 2]), torch.Size([4, 10]))
    >>> model.decoder.in_features                  # the 5 monomials of 2 latents up to degree 2
    5
    >>> mse, logs = model.loss(x)
    >>> logs["loss"] == mse.item()
    True
    """

    kind = "polynomial_autoencoder"

    def __init__(self, data_dim: int, latent_dim: int, degree: int, hidden: int = 128):
        super().__init__()
        self.data_dim, self.latent_dim, self.degree, self.hidden = data_dim, latent_dim, degree, hidden
        self.data_shape = (data_dim,)
        self.kl_scale = 1.0                              # set by the training loop; unused here
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), nn.LeakyReLU(0.2),
                                     nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, latent_dim))
        self.decoder = nn.Linear(num_monomials(latent_dim, degree), data_dim)

    @property
    def config(self) -> dict:
        """The constructor arguments (and ``kind``), as saved beside the weights."""
        return {"kind": self.kind, "data_dim": self.data_dim, "latent_dim": self.latent_dim,
                "degree": self.degree, "hidden": self.hidden}

    @property
    def device(self) -> torch.device:
        """The device the weights are on."""
        return next(self.parameters()).device

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes ``zhat`` of ``(n, data_dim)`` data, ``(n, latent_dim)``."""
        return self.encoder(x.to(self.device))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The polynomial decoder: ``H m(z)`` for ``(n, latent_dim)`` codes."""
        return self.decoder(monomials(z, self.degree))

    def loss(self, x: torch.Tensor, generator=None):
        """Mean squared reconstruction error (``generator`` is unused: nothing is sampled)."""
        mse = ((self.decode(self.encode(x)) - x) ** 2).mean()
        return mse, {"loss": float(mse.detach())}


def fit_polynomial_autoencoder(data: InterventionalData, *, steps: int = 2000, seed: int = 0,
                               batch_size: int = 256, lr: float = 1e-3) -> PolynomialAutoencoder:
    """Step 1: train on all the data (observational and interventional pooled), like the paper.

    Uses the workbench's one training loop (:func:`workbench.latents.train`) on the
    reconstruction error; returns the model in eval mode.

    Examples
    --------
    >>> from workbench.crl.polynomial import make_interventional_data
    >>> data = make_interventional_data(latent_dim=2, degree=2, data_dim=10, n_obs=1000, n_int=300)
    >>> _ = torch.manual_seed(0)
    >>> untrained = PolynomialAutoencoder(10, 2, 2)
    >>> model = fit_polynomial_autoencoder(data, steps=100)
    >>> before, after = untrained.loss(data.x_obs)[0].item(), model.loss(data.x_obs)[0].item()
    >>> after < before / 2                          # the reconstruction error falls
    True
    """
    x = torch.cat([data.x_obs, *data.x_int])
    torch.manual_seed(seed)
    model = PolynomialAutoencoder(x.shape[1], data.z_obs.shape[1], data.degree)
    train(model, x, steps=steps, batch_size=batch_size, lr=lr, seed=seed, progress=False)
    return model.eval()


def _whitening(codes_obs: torch.Tensor):
    cov = torch.cov(codes_obs.T.double())
    values, vectors = torch.linalg.eigh(cov)
    return vectors @ torch.diag(values.clamp_min(1e-12).rsqrt()) @ vectors.T


def unmix_by_interventions(codes_obs: torch.Tensor, codes_int: list, num_intervened: int | None = None,
                           num_samples: int | None = None) -> torch.Tensor:
    """Step 2: the ``(d, d)`` matrix whose rows ``w_i`` give ``z_i ~ w_i^T zhat``.

    Parameters
    ----------
    codes_obs : (n, d) codes of observational data (fixes the scale of each ``w_i``).
    codes_int : list of (n_i, d) codes; item ``i`` is data under ``do(z_i)``.
    num_intervened : use only the first this many interventional data sets (default all).
    num_samples : use only the first this many points of each (default all).

    Raises
    ------
    WorkbenchInputError
        If ``num_intervened`` is not in ``0..min(d, len(codes_int))`` or ``num_samples < 2``.
    ShapeError
        If an interventional code table does not have ``d`` columns.

    Examples
    --------
    Codes that are an affine mixture of the true latents (what step 1 gives) are
    unmixed by one intervention per latent: the MCC goes from 0.63 to 1.

    >>> from workbench.crl.polynomial import make_interventional_data
    >>> from workbench.metrics import mcc
    >>> data = make_interventional_data(latent_dim=2, degree=2, data_dim=10, n_obs=1000, n_int=300)
    >>> mix = lambda z: z @ torch.tensor([[1.0, -1.0], [1.0, 1.0]]) + 3.0
    >>> W = unmix_by_interventions(mix(data.z_obs), [mix(z) for z in data.z_int])
    >>> round(mcc(mix(data.z_obs), data.z_obs).score, 2), round(mcc(mix(data.z_obs) @ W.T, data.z_obs).score, 4)
    (0.63, 1.0)
    >>> unmix_by_interventions(mix(data.z_obs), [mix(z) for z in data.z_int], num_intervened=3)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: num_intervened must lie in 0..2, got 3.
    """
    d = codes_obs.shape[1]
    k = len(codes_int) if num_intervened is None else num_intervened
    if not 0 <= k <= min(d, len(codes_int)):
        raise WorkbenchInputError(f"num_intervened must lie in 0..{min(d, len(codes_int))}, got {num_intervened!r}.")
    if num_samples is not None and num_samples < 2:
        raise WorkbenchInputError(f"num_samples must be at least 2, got {num_samples!r}.")
    if any(c.dim() != 2 or c.shape[1] != d for c in codes_int):
        raise ShapeError(f"Every interventional code table must be (n, {d}).")
    white = _whitening(codes_obs)                       # work where the observational codes are white
    rows = []
    for codes in codes_int[:k]:
        codes = codes[:num_samples].double() @ white
        rows.append(torch.linalg.eigh(torch.cov(codes.T))[1][:, 0])
    found = torch.stack(rows) if rows else torch.zeros(0, d, dtype=torch.float64)
    if k < d:                                           # the rest: any orthonormal completion
        complement = torch.eye(d, dtype=torch.float64) - found.T @ torch.linalg.pinv(found.T) if k else torch.eye(d, dtype=torch.float64)
        rest = torch.linalg.eigh(complement)[1][:, k:].T
        found = torch.cat([found, rest])
    return (found @ white.T).float()


def interventional_scores(model: PolynomialAutoencoder, data: InterventionalData, *,
                          num_intervened: int | None = None, num_samples: int | None = None) -> dict:
    """MCC and R^2 on observational data: the autoencoder alone, and after unmixing.

    Returns
    -------
    dict
        ``{"observational": {"mcc", "r2"}, "interventional": {"mcc", "r2"}}``.

    Examples
    --------
    Unmixing is an invertible linear map of the codes, so it leaves R^2 where it was
    (even for an untrained model); only the MCC can change:

    >>> from workbench.crl.polynomial import make_interventional_data
    >>> data = make_interventional_data(latent_dim=2, degree=2, data_dim=10, n_obs=1000, n_int=300)
    >>> _ = torch.manual_seed(0)
    >>> model = PolynomialAutoencoder(10, 2, 2)
    >>> scores = interventional_scores(model, data)
    >>> sorted(scores["interventional"])
    ['mcc', 'r2']
    >>> abs(scores["observational"]["r2"] - scores["interventional"]["r2"]) < 1e-6
    True
    """
    with torch.no_grad():
        codes_obs = model.encode(data.x_obs)
        codes_int = [model.encode(x) for x in data.x_int]
    unmixing = unmix_by_interventions(codes_obs, codes_int, num_intervened, num_samples)
    return {"observational": identifiability_scores(codes_obs, data.z_obs),
            "interventional": identifiability_scores(codes_obs @ unmixing.T, data.z_obs)}
