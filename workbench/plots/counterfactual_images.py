"""Figures and HTML for counterfactual images: one digit's factual, counterfactuals and truth.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import torch
>>> panels = {"factual": {"image": torch.zeros(1, 32, 32), "truth_l1": 12.0, "thickness": 2.0}}
>>> fig = plot_counterfactual_row(panels)
>>> len(fig.axes)
1
>>> "&lt;b&gt;" in scores_html({"<b>": {"truth_l1": 1.0, "thickness": 2.0, "intensity": 3.0}})
True
"""

from __future__ import annotations

import html

__all__ = ["plot_counterfactual_row", "plot_comparison", "scores_html"]


def plot_counterfactual_row(panels: dict, size: float = 1.3):
    """One labelled image per panel, side by side, square pixels (the aspect kept).

    ``panels``: ``{label: {"image": (1, H, W), "truth_l1": float, "thickness": float}}``;
    each title is the label, the subtitle its L1 to the exact counterfactual and measured
    thickness.

    Examples
    --------
    >>> import torch
    >>> fig = plot_counterfactual_row({k: {"image": torch.rand(1, 8, 8), "truth_l1": 0.0, "thickness": 1.0}
    ...                                for k in ("a", "b")})
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes]
    ['a', 'b']
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * 1.35), squeeze=False)
    for ax, (label, panel) in zip(axes[0], panels.items()):
        ax.imshow(panel["image"].detach().cpu().reshape(panel["image"].shape[-2:]).numpy(), cmap="gray",
                  vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
        ax.set_title(f"{label}\nL1 {float(panel['truth_l1']):.1f}, t {float(panel['thickness']):.2f}",
                     fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout(pad=0.3)
    return fig


def plot_comparison(comparison: dict, index: int = 0, size: float = 1.3):
    """:func:`plot_counterfactual_row` of digit ``index`` of a
    :func:`workbench.deepscm.comparison.compare_counterfactuals` result.

    Examples
    --------
    >>> import torch
    >>> out = {"a": {"image": torch.rand(2, 1, 8, 8), "truth_l1": torch.zeros(2), "thickness": torch.ones(2)}}
    >>> plot_comparison(out, index=1).axes[0].get_title()
    'a\\nL1 0.0, t 1.00'
    """
    return plot_counterfactual_row({label: {k: v[index] for k, v in panel.items()}
                                    for label, panel in comparison.items()}, size=size)


def scores_html(scores: dict) -> str:
    """An HTML table of each panel's scores (names escaped).

    Examples
    --------
    >>> scores_html({"truth": {"truth_l1": 0.0, "thickness": 2.5, "intensity": 200.0}}).count("<tr>")
    2
    """
    cell = "style='padding:1px 12px;text-align:right'"
    head = (f"<tr><th style='text-align:left'>image</th><th {cell}>pixel L1 to truth</th>"
            f"<th {cell}>measured thickness</th><th {cell}>measured intensity</th></tr>")
    rows = "".join(f"<tr><td>{html.escape(str(label))}</td><td {cell}>{float(s['truth_l1']):.2f}</td>"
                   f"<td {cell}>{float(s['thickness']):.2f}</td><td {cell}>{float(s['intensity']):.1f}</td></tr>"
                   for label, s in scores.items())
    return f"<table style='font-size:12px'>{head}{rows}</table>"
