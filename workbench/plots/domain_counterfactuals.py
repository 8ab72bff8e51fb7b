"""Figures for domain counterfactuals: one observation, its true and estimated counterfactuals.

Examples
--------
>>> import torch
>>> result = {"x": torch.zeros(3), "true": torch.ones(3), "domain": 0, "target": 1,
...           "estimates": {"sparse": torch.ones(3), "dense": torch.zeros(3)},
...           "errors": {"sparse": 0.0, "dense": 1.0}, "identity_error": 1.0}
>>> fig = plot_counterfactual_comparison(result)
>>> len(fig.axes)
2
"""

from __future__ import annotations

__all__ = ["plot_counterfactual_comparison"]

_COLOURS = {"sparse": "tab:blue", "dense": "tab:orange"}


def plot_counterfactual_comparison(result: dict, width: float = 7.0):
    """One panel per model: ``x``, the true ``x'`` and the model's ``x'``, coordinate by coordinate.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.domain_counterfactuals import load_demo
    >>> from workbench.latents.domain_counterfactuals.evaluation import compare_counterfactuals
    >>> demo = load_demo()
    >>> result = compare_counterfactuals(demo.scm, demo.models, demo.x[0], int(demo.domains[0]), 1)
    >>> fig = plot_counterfactual_comparison(result, width=6.0)
    >>> [ax.get_title().split(":")[0] for ax in fig.axes], fig.get_size_inches().tolist()
    (['sparse', 'dense'], [6.0, 2.6])
    """
    import matplotlib.pyplot as plt

    names = list(result["estimates"])
    m = len(result["x"])
    fig, axes = plt.subplots(1, len(names), figsize=(width, 2.6), sharey=True, squeeze=False)
    coords = range(m)
    values = [result["x"], result["true"], *result["estimates"].values()]
    low = min(float(v.min()) for v in values)
    high = max(float(v.max()) for v in values)
    pad = 0.1 * (high - low + 1e-6)
    for ax, name in zip(axes[0], names):
        estimate = result["estimates"][name]
        for i in coords:
            ax.plot([i, i], [float(result["true"][i]), float(estimate[i])], color="0.7", lw=1, zorder=1)
        ax.scatter(coords, result["x"], marker="s", s=22, color="0.6", label="x (observed)", zorder=2)
        ax.scatter(coords, result["true"], marker="o", s=40, facecolors="none", edgecolors="black",
                   label="true x'", zorder=3)
        ax.scatter(coords, estimate, marker="x", s=30, color=_COLOURS.get(name, "tab:green"),
                   label=f"{name} x'", zorder=4)
        ax.set_title(f"{name}: error {result['errors'][name]:.3f} (x' = x: {result['identity_error']:.3f})",
                     fontsize=9)
        ax.set_xticks(list(coords), [f"x{i}" for i in coords])
        ax.set_ylim(low - pad, high + pad)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[0][0].set_ylabel(f"domain {result['domain']} -> {result['target']}")
    fig.tight_layout()
    return fig
