"""The factor-sampler interface, and codes drawn through it.

Metrics that need batches with a factor held fixed (BetaVAE, FactorVAE) cannot work
from a fixed table of codes: they ask a data set for new observations. Any object
with these two methods, and ``num_factors``, is a *factor sampler*:

``sample_factors(n, generator) -> LongTensor (n, n_factors)``
    ``n`` factor vectors drawn from the data set's factor distribution;
``observe(factors, generator) -> Tensor (n, ...)``
    observations rendered from the given factors (a ``render(factors)`` method, as
    :class:`workbench.datasets.FactorImageDataset` has, is used when there is no
    ``observe``).

This is disentanglement_lib's ``GroundTruthData`` in torch: holding one factor fixed is
then ``factors[:, k] = value`` between the two calls (:func:`sample_fixed`). An
``encode(observations) -> codes`` callable (e.g. a VAE encoder's mean) maps
observations to codes of shape (n, n_latents). :class:`~workbench.metrics.synthetic.
SyntheticProcess` is a small sampler whose observations are already codes.

Examples
--------
>>> import torch
>>> from workbench.metrics.synthetic import SyntheticProcess
>>> process = SyntheticProcess()
>>> g = torch.Generator().manual_seed(0)
>>> obs, factors = sample_fixed(process, 2, 4, g)
>>> factors[:, 2].unique().numel(), tuple(obs.shape)
(1, (4, 5))
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import torch

from workbench.errors import NonFiniteValueError
from workbench.metrics.errors import SamplerError
from workbench.metrics.inputs import as_matrix

__all__ = ["FactorSampler", "check_sampler", "observe", "sample_fixed", "encode_in_batches",
           "check_finite_codes", "sample_codes", "mean_encoder"]


@runtime_checkable
class FactorSampler(Protocol):
    """A data set that can sample factors and render observations from them.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> isinstance(process, FactorSampler)
    True
    """

    num_factors: int

    def sample_factors(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` rows of factor values (n, n_factors)."""
        ...

    def observe(self, factors: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The observations (e.g. images) of ``factors``."""
        ...


def check_sampler(sampler, encode) -> int:
    """Check the interface; return the number of factors.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> check_sampler(process, lambda x: x)
    5
    """
    missing = [m for m in ("sample_factors", "observe") if not callable(getattr(sampler, m, None))]
    if missing == ["observe"] and callable(getattr(sampler, "render", None)):
        missing = []
    if missing or not isinstance(getattr(sampler, "num_factors", None), int):
        raise SamplerError(
            f"{type(sampler).__name__} is not a factor sampler: it needs num_factors (int), "
            "sample_factors(n, generator) and observe(factors, generator) (or "
            f"render(factors)); missing {missing or ['num_factors']}.")
    if not callable(encode):
        raise SamplerError(f"encode must be callable (observations -> codes), got "
                           f"{type(encode).__name__}.")
    return sampler.num_factors


def observe(sampler, factors: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Observations of ``factors``: ``sampler.observe``, else ``sampler.render``.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> g = torch.Generator().manual_seed(0)
    >>> observe(process, process.sample_factors(3, g), g).shape
    torch.Size([3, 5])
    """
    if callable(getattr(sampler, "observe", None)):
        return sampler.observe(factors, generator)
    return sampler.render(factors)


def sample_fixed(sampler, factor_index: int, batch_size: int, generator: torch.Generator):
    """A batch whose factor ``factor_index`` takes one shared (random) value.

    Returns ``(observations, factors)``.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> _, factors = sample_fixed(process, 0, 4, torch.Generator().manual_seed(0))
    >>> bool((factors[:, 0] == factors[0, 0]).all())
    True
    """
    factors = sampler.sample_factors(batch_size, generator)
    factors[:, factor_index] = factors[0, factor_index]
    return observe(sampler, factors, generator), factors


ENCODE_NUMBERS = 128 * 64 * 64  # most observation entries handed to the encoder at once


def encode_in_batches(encode: Callable, observations: torch.Tensor,
                      batch_size: int | None = None, raw: bool = False) -> torch.Tensor:
    """Codes of ``observations`` as a 2-D float64 tensor, encoded in chunks, no grad.

    ``raw=True`` returns the codes unchecked, in the encoder's own dtype when that is
    float32 or float64 (else float64), for callers that reduce them first and check
    the (smaller) result: NaN and infinity propagate into it (see
    :func:`check_finite_codes`).

    By default a chunk holds at most ``ENCODE_NUMBERS`` observation entries: 128
    images of 64x64, which keeps a convolutional encoder's activations small and in
    cache (measured with the pretrained sprite VAEs on one core: 512 images a call
    held about 100 MB more at its peak and was no faster), or 8,192 observations of
    64 numbers (one call instead of 128: small encoders lose most time per call).

    Examples
    --------
    >>> import torch
    >>> encode_in_batches(lambda x: x * 2, torch.ones(5, 2), batch_size=2).sum().item()
    20.0
    """
    n = observations.shape[0]
    if batch_size is None:
        batch_size = max(1, ENCODE_NUMBERS // max(1, observations[:1].numel()))
    with torch.no_grad():
        parts = [encode(observations[i:i + batch_size]) for i in range(0, n, batch_size)]
    parts = [p if isinstance(p, torch.Tensor) else torch.as_tensor(p) for p in parts]
    codes = (parts[0] if len(parts) == 1 else torch.cat(parts)).reshape(n, -1)
    if not raw:
        return as_matrix(codes, "encoded codes")
    return codes if codes.dtype in (torch.float32, torch.float64) else codes.to(torch.float64)


def check_finite_codes(values: torch.Tensor, what: str) -> None:
    """Raise :class:`~workbench.errors.NonFiniteValueError` if ``values``, computed from
    encoded codes, hold NaN or infinity (then so did the codes).

    Examples
    --------
    >>> import torch
    >>> check_finite_codes(torch.tensor([1.0, float("nan")]), "the variances")
    Traceback (most recent call last):
    ...
    workbench.errors.NonFiniteValueError: ...
    """
    if not bool(torch.isfinite(values).all()):
        raise NonFiniteValueError(
            f"The encoder produced NaN or infinite codes (seen in the {what}). Metrics need "
            "finite numbers: fix the encoder (a diverged VAE often produces NaN codes).")


def sample_codes(sampler, encode: Callable, n: int, generator: torch.Generator,
                 batch_size: int = 4096):
    """``(codes, factors)`` for ``n`` fresh points from ``sampler`` through ``encode``.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> codes, factors = sample_codes(process, lambda x: x, 6, torch.Generator().manual_seed(0))
    >>> codes.shape, factors.shape
    (torch.Size([6, 5]), torch.Size([6, 5]))
    """
    check_sampler(sampler, encode)
    factors = sampler.sample_factors(n, generator)
    parts = [encode_in_batches(encode, observe(sampler, factors[i:i + batch_size], generator))
             for i in range(0, n, batch_size)]  # render in chunks too: images are large
    return torch.cat(parts), factors


def mean_encoder(model) -> Callable:
    """``encode`` for a VAE whose ``encode(x)`` returns ``(mean, logvar)``: the mean code.

    The disentanglement_lib protocols score the *mean* representation. Observations
    are moved to the model's device; codes come back on the CPU.

    Examples
    --------
    >>> import torch
    >>> class Toy(torch.nn.Module):
    ...     def encode(self, x):
    ...         return 2 * x, torch.zeros_like(x)
    >>> mean_encoder(Toy())(torch.ones(2, 3)).tolist()
    [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """
    if not callable(getattr(model, "encode", None)):
        raise SamplerError(f"{type(model).__name__} has no encode(x) -> (mean, logvar).")
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    device = params[0].device if params else torch.device("cpu")

    def encode(x: torch.Tensor) -> torch.Tensor:
        out = model.encode(x.to(device))
        mean = out[0] if isinstance(out, (tuple, list)) else out
        return mean.detach().cpu()

    return encode
