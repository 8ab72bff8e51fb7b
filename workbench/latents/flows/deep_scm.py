"""The parents of the morpho-style digits as flows: thickness -> intensity (a deep SCM's top).

Pawlowski, Castro & Glocker (NeurIPS 2020) model Morpho-MNIST's thickness ``t`` and
intensity ``i`` with normalizing flows, ``t := f_t(u_t)`` and ``i := f_i(u_i; t)``, and
report the test log-likelihoods ``log p(t) = -0.93`` and ``log p(i) = -4.30``
(:data:`PUBLISHED`). :func:`fit_digit_parents` fits the same two mechanisms as
:class:`~workbench.latents.flows.FlowMechanism` s to exact draws of our digits' SCM
(:class:`workbench.datasets.Digits`: ``t = 0.5 + Gamma(10, rate 5)``, ``i = 64 + 191
sigmoid(2(t - 2.5) + N(0, 0.5^2))``) and, because that SCM is known, reports each
flow's gap to the *true* log-likelihood, the limit no model can pass on this data.

The published numbers are not a like-for-like comparison: they are on Morpho-MNIST,
whose thickness and intensity are measured from morphed MNIST images (so they carry
measurement noise), with their own flows and test split; ours are exact draws of the
generating equations. Set them side by side as context, not as a race.

Examples
--------
>>> fit = fit_digit_parents(n_train=500, n_test=500, steps=5, progress=False)
>>> sorted(fit.log_likelihood), sorted(fit.log_likelihood["thickness"])
(['intensity', 'thickness'], ['flow', 'gap', 'published', 'true'])
>>> sorted(fit.scm.do(thickness=2.0).sample(3, seed=0))
['intensity', 'thickness']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.distributions as td

from workbench.datasets.digits import Digits
from workbench.latents.flows.mechanism import FlowMechanism
from workbench.scm import SCM

__all__ = ["PUBLISHED", "DigitParentsFit", "digit_parent_data", "true_parent_log_density", "fit_digit_parents"]

#: Pawlowski et al. (2020), Morpho-MNIST, the flow model's test log-likelihoods
PUBLISHED = {"thickness": -0.93, "intensity": -4.30}
PARENTS = {"thickness": [], "intensity": ["thickness"]}


def digit_parent_data(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``n`` exact draws of ``(thickness, intensity)`` from the digits' SCM (no images drawn).

    Examples
    --------
    >>> data = digit_parent_data(1000, seed=0)
    >>> sorted(data), data["thickness"].shape
    (['intensity', 'thickness'], torch.Size([1000]))
    >>> bool((data["thickness"] > 0.5).all()), bool(((64 < data["intensity"]) & (data["intensity"] < 255)).all())
    (True, True)
    """
    scm = Digits().scm
    values = scm.solve(scm.sample_noise(n, generator=seed))
    return {v: values[v].float() for v in PARENTS}


def true_parent_log_density(values) -> dict[str, torch.Tensor]:
    """The exact ``log p(t)`` and ``log p(i | t)`` of each unit under the digits' SCM.

    ``t - 0.5 ~ Gamma(10, rate 5)``; ``u = logit((i - 64) / 191) - 2(t - 2.5) ~ N(0, 0.5^2)``
    and ``di/du = 191 s (1 - s)`` with ``s = (i - 64) / 191``.

    Examples
    --------
    >>> data = digit_parent_data(2000, seed=0)
    >>> lp = true_parent_log_density(data)
    >>> round(float(lp["thickness"].mean()), 1), round(float(lp["intensity"].mean()), 1)   # the ceiling a flow can reach
    (-0.9, -4.2)
    """
    t, i = (torch.as_tensor(values[v], dtype=torch.float64) for v in ("thickness", "intensity"))
    s = ((i - 64.0) / 191.0).clamp(1e-12, 1 - 1e-12)
    u = torch.logit(s) - 2.0 * (t - 2.5)
    return {"thickness": td.Gamma(10.0, 5.0).log_prob((t - 0.5).clamp_min(1e-12)),
            "intensity": td.Normal(0.0, 0.5).log_prob(u) - torch.log(191.0 * s * (1 - s))}


@dataclass
class DigitParentsFit:
    """What :func:`fit_digit_parents` returns.

    ``scm`` is the learned SCM over thickness and intensity (flow mechanisms);
    ``log_likelihood[v]`` holds the flow's and the true mean test log-likelihood, their
    ``gap`` (true minus flow, >= 0 up to sampling noise) and the ``published`` number.

    Examples
    --------
    >>> fit = fit_digit_parents(n_train=200, n_test=200, steps=3, progress=False)
    >>> type(fit).__name__, fit.scm.variables
    ('DigitParentsFit', ['thickness', 'intensity'])
    >>> fit.training["thickness"]["steps"], fit.log_likelihood["intensity"]["published"]
    (3, -4.3)
    """

    scm: SCM
    log_likelihood: dict
    training: dict = field(default_factory=dict)


def fit_digit_parents(n_train: int = 5000, n_test: int = 5000, *, flow: str = "nsf", steps: int = 1000,
                      batch_size: int = 256, lr: float = 1e-2, seed: int = 0, progress: bool = True,
                      **flow_options) -> DigitParentsFit:
    """Fit thickness and intensity | thickness as flows by maximum likelihood and score them.

    Examples
    --------
    >>> fit = fit_digit_parents(n_train=300, n_test=300, steps=20, flow="maf", transforms=1, progress=False)
    >>> {v: round(s["gap"], 1) for v, s in fit.log_likelihood.items()}   # true minus flow log-likelihood
    {'thickness': 1.0, 'intensity': 0.2}
    >>> sorted(fit.scm.do(thickness=3.0).sample(2, seed=0)["thickness"].tolist())
    [3.0, 3.0]
    """
    train, test = digit_parent_data(n_train, seed), digit_parent_data(n_test, seed + 1)
    mechanisms, training = {}, {}
    for k, (v, parents) in enumerate(PARENTS.items()):
        with torch.random.fork_rng(devices=[]):   # initial weights from the seed, global state untouched
            torch.manual_seed(seed + k)
            mech = FlowMechanism(parents, flow=flow, **flow_options)
        result = mech.fit(train, v, steps=steps, batch_size=batch_size, lr=lr, seed=seed, progress=progress)
        mechanisms[v], training[v] = mech, {"steps": result.step, "seconds": round(result.seconds, 2)}
    truth = true_parent_log_density(test)
    scores = {}
    with torch.no_grad():
        for v, mech in mechanisms.items():
            pa = torch.stack([test[p] for p in mech.parents], -1) if mech.parents else torch.zeros(n_test, 0)
            ours, best = float(mech.log_prob(test[v], pa).mean()), float(truth[v].mean())
            scores[v] = {"flow": ours, "true": best, "gap": best - ours, "published": PUBLISHED[v]}
    return DigitParentsFit(SCM(mechanisms, name="digit_parents"), scores, training)
