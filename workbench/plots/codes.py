"""What a code looks like: the normalised mutual information between every latent and
every factor, as one heatmap per code. A disentangled code is a permutation matrix
(one bright cell per row and per column); mixing smears the brightness.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from workbench import metrics
>>> codes = {k: metrics.constructed_codes(k, n_points=500, seed=0) for k in ("disentangled", "rotated")}
>>> fig = plot_code_heatmaps(codes)
>>> [ax.get_title() for ax in fig.axes[:2]]
['disentangled', 'rotated']
"""

from __future__ import annotations

from typing import Mapping, Sequence

__all__ = ["code_heatmap", "plot_code_heatmaps", "plot_intervention_response"]


def code_heatmap(z, v, *, bins: int = 20):
    """``I(z_j; v_k) / H(v_k)``, shape ``(latents, factors)``, from MIG's histogram estimator.

    Examples
    --------
    >>> from workbench import metrics
    >>> z, v = metrics.constructed_codes("disentangled", n_points=500, seed=0)
    >>> heat = code_heatmap(z, v)
    >>> heat.shape
    torch.Size([5, 5])
    >>> heat.diagonal().round(decimals=2)   # each latent tells most about its own factor
    tensor([1.0000, 0.9400, 0.7600, 0.8300, 0.8100], dtype=torch.float64)
    """
    from workbench.metrics import mig

    details = mig(z, v, bins=bins).details
    return details["mutual_information"] / details["entropy"][None, :]


def plot_code_heatmaps(codes: Mapping[str, tuple], *, factor_names: Sequence[str] | None = None,
                       bins: int = 20):
    """One heatmap per named code ``(z, v)``: rows latents, columns factors, 0 (dark) to 1.

    Examples
    --------
    >>> from workbench import metrics
    >>> codes = {"disentangled": metrics.constructed_codes("disentangled", n_points=300, seed=0)}
    >>> fig = plot_code_heatmaps(codes, factor_names=list("abcde"))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()], fig.axes[-1].get_ylabel()
    (['a', 'b', 'c', 'd', 'e'], 'I(z; v) / H(v)')
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(codes), figsize=(2.3 * len(codes) + 0.8, 2.9), squeeze=False)
    for ax, (name, (z, v)) in zip(axes[0], codes.items()):
        heat = code_heatmap(z, v, bins=bins)
        image = ax.imshow(heat, vmin=0, vmax=1, cmap="magma", aspect="equal")
        ax.set_title(name, fontsize=10)
        ax.set_xticks(range(heat.shape[1]), factor_names or [f"v{k}" for k in range(heat.shape[1])],
                      rotation=90 if factor_names else 0, fontsize=8)
        ax.set_yticks(range(heat.shape[0]), [f"z{j}" for j in range(heat.shape[0])], fontsize=8)
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="I(z; v) / H(v)")
    return fig


def plot_intervention_response(response, *, title: str = "latent response to do(variable)"):
    """Two heatmaps: how each latent moves under each intervention, and the graph's reachability.

    ``response`` is a :class:`workbench.metrics.interventional.InterventionResponse`.

    Examples
    --------
    >>> import torch
    >>> from workbench.metrics.interventional import InterventionResponse
    >>> r = InterventionResponse(("cause", "effect"), torch.tensor([[2.0, 1.0], [0.0, 0.5]]),
    ...                          torch.tensor([[True, True], [False, True]]), {})
    >>> fig = plot_intervention_response(r)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['latent response to do(variable)', 'truth: what each do() changes']
    """
    import matplotlib.pyplot as plt

    names = list(response.variables)
    heat, reach = response.normalised(), response.descendants.float()
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.0))
    image = left.imshow(heat, vmin=0, vmax=1, cmap="magma")
    left.set_title(title, fontsize=10)
    left.set_xticks(range(heat.shape[1]), [f"z{j}" for j in range(heat.shape[1])], fontsize=8)
    left.set_yticks(range(len(names)), [f"do({v})" for v in names], fontsize=8)
    fig.colorbar(image, ax=left, shrink=0.8, label="|Δ mean| (row max = 1)")
    right.imshow(reach, vmin=0, vmax=1, cmap="magma")
    right.set_title("truth: what each do() changes", fontsize=10)
    right.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    right.set_yticks(range(len(names)), [f"do({v})" for v in names], fontsize=8)
    fig.tight_layout()
    return fig
