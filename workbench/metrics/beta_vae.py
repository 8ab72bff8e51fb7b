"""The BetaVAE score (Higgins et al., 2017), disentanglement_lib protocol, batched.

One training point: pick a factor ``k`` at random; draw ``batch_size`` pairs of
factor vectors that agree on factor ``k`` (and nothing else); the point's feature is
the mean absolute difference of the pairs' codes, and its label is ``k``. In a
disentangled code the latent that encodes ``k`` barely differs within pairs, so a
linear classifier can read ``k`` off the features. The score is the classifier's
accuracy on fresh evaluation points (published: 10,000 training and 5,000 evaluation
points, 64 pairs each, sklearn ``LogisticRegression`` with defaults).

Batched: all pairs of many points are sampled, rendered and encoded in a few large
calls instead of one small call per point; the statistics are the published ones.

Defined results: a single factor raises :class:`MetricInputError` (the classifier
needs two labels); NaN codes raise :class:`~workbench.errors.NonFiniteValueError`.

Examples
--------
>>> from workbench.metrics.synthetic import SyntheticProcess
>>> process = SyntheticProcess("disentangled", noise=0.01)
>>> r = beta_vae_score(process, lambda x: x, num_train=300, num_eval=200, seed=0)
>>> r.score > 0.9, r.choices["batch_size"]
(True, 64)
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from workbench.metrics.errors import MetricInputError
from workbench.metrics.inputs import check_positive_int
from workbench.metrics.protocols import (check_finite_codes, check_sampler, encode_in_batches,
                                         observe)
from workbench.metrics.result import MetricResult

__all__ = ["beta_vae_score", "beta_vae_features", "PUBLISHED"]

PUBLISHED = {"batch_size": 64, "num_train": 10_000, "num_eval": 5_000}


def beta_vae_features(sampler, encode: Callable, num_points: int, batch_size: int,
                      generator: torch.Generator, max_batch: int = 4096):
    """``(features, labels)``: ``num_points`` BetaVAE training points.

    Each sampler and encoder call handles at most ``max_batch`` observations
    (4096 images of 64x64 floats are 67 MB).

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> features, labels = beta_vae_features(process, lambda x: x, 20, 8, torch.Generator().manual_seed(0))
    >>> features.shape[0], labels.shape
    (20, torch.Size([20]))
    """
    chunk = max(1, max_batch // (2 * batch_size))
    k_all = torch.randint(sampler.num_factors, (num_points,), generator=generator)
    features = []
    for start in range(0, num_points, chunk):
        k = k_all[start:start + chunk]
        m = k.shape[0]
        f1 = sampler.sample_factors(m * batch_size, generator)
        f2 = sampler.sample_factors(m * batch_size, generator)
        rows = torch.arange(m * batch_size)
        shared = k.repeat_interleave(batch_size)
        f2[rows, shared] = f1[rows, shared]
        obs = observe(sampler, torch.cat([f1, f2]), generator)
        z = encode_in_batches(encode, obs, raw=True)  # the encoder's dtype, as published
        z1, z2 = z[:m * batch_size], z[m * batch_size:]
        features.append((z1 - z2).abs().reshape(m, batch_size, -1).mean(1))
    features = torch.cat(features).to(torch.float64)
    check_finite_codes(features, "BetaVAE features")  # once, not per chunk
    return features, k_all


def beta_vae_score(sampler, encode: Callable, *, batch_size: int = 64,
                   num_train: int = 10_000, num_eval: int = 5_000, seed: int = 0,
                   max_batch: int = 4096) -> MetricResult:
    """BetaVAE score of ``encode`` on the data set ``sampler``.

    Parameters
    ----------
    sampler : factor sampler
        See :mod:`workbench.metrics.protocols`.
    encode : callable
        Observations -> codes (n, n_latents), e.g. a VAE encoder's mean.
    batch_size : int, default 64
        Pairs averaged into one feature vector.
    num_train, num_eval : int, default 10,000 and 5,000
        Training and evaluation points of the classifier.
    seed : int
        Seeds the sampling (a ``torch.Generator``) and the classifier.
    max_batch : int, default 4096
        Most observations rendered and encoded in one call (memory, not statistics;
        it changes the order of random draws, so it is recorded).

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.synthetic import SyntheticProcess
    >>> process = SyntheticProcess("disentangled", noise=0.01)
    >>> r = beta_vae_score(process, lambda x: x, batch_size=16, num_train=200, num_eval=100)
    >>> r.name, r.score > 0.9
    ('beta_vae', True)
    """
    from sklearn.linear_model import LogisticRegression

    n_factors = check_sampler(sampler, encode)
    if n_factors < 2:
        raise MetricInputError("The BetaVAE score classifies which factor was fixed and "
                               "needs at least 2 factors.")
    for name, value in (("batch_size", batch_size), ("num_train", num_train),
                        ("num_eval", num_eval)):
        check_positive_int(value, name, 2 if name == "batch_size" else 1)
    g = torch.Generator().manual_seed(seed)
    check_positive_int(max_batch, "max_batch")
    x_train, y_train = beta_vae_features(sampler, encode, num_train, batch_size, g, max_batch)
    x_eval, y_eval = beta_vae_features(sampler, encode, num_eval, batch_size, g, max_batch)
    model = LogisticRegression(random_state=seed)
    model.fit(x_train.cpu().numpy(), y_train.numpy())
    train_acc = float(np.mean(model.predict(x_train.cpu().numpy()) == y_train.numpy()))
    eval_acc = float(model.score(x_eval.cpu().numpy(), y_eval.numpy()))
    choices = {"batch_size": batch_size, "num_train": num_train, "num_eval": num_eval,
               "seed": seed, "classifier": "LogisticRegression()", "max_batch": max_batch}
    return MetricResult("beta_vae", eval_acc, choices=choices, published=PUBLISHED,
                        scores={"beta_vae": eval_acc, "train_accuracy": train_acc})
