"""Figures of a sweep: score against setting with the seed spread, and metric agreement.

Locatello et al. (2019) showed each metric's distribution over seeds for every model
and hyperparameter (their figure 7, violins) and how often metrics agree on a ranking
(figure 4, rank correlations). These two figures do the same for a tidy table from
:func:`workbench.sweeps.results_table`.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"key": list("abcd"), "setting": ["vae", "vae", "beta", "beta"],
...                       "seed": [0, 1, 0, 1], "metric": "mig", "score": [.1, .2, .3, .5]})
>>> fig = score_distributions(table)
>>> [ax.get_title() for ax in fig.axes], [t.get_text() for t in fig.axes[0].get_xticklabels()]
(['mig'], ['beta', 'vae'])
"""

from __future__ import annotations

import numpy as np

from workbench.sweeps.errors import SweepConfigError

__all__ = ["score_distributions", "rank_correlation_figure"]


def _check_table(table, needed) -> None:
    missing = set(needed) - set(table.columns)
    if missing:
        raise SweepConfigError(f"Expected a tidy sweep table (workbench.sweeps.results_table); "
                               f"missing columns {sorted(missing)}.")
    if table.empty:
        raise SweepConfigError("The table has no finished runs to plot: run the sweep first.")


def score_distributions(table, *, by: str = "setting", kind: str = "box", metrics=None,
                        width: float = 3.2, height: float = 3.0):
    """One panel per metric: a box (or violin) per ``by`` value, each seed a dot.

    Parameters
    ----------
    table : DataFrame
        Tidy: columns ``metric``, ``score``, ``seed`` and ``by``.
    by : str
        Column on the horizontal axis: ``"setting"``, ``"model"``, or a hyperparameter.
    kind : {"box", "violin"}
    metrics : list of str, optional
        Panels to draw (default: every metric in the table, sorted).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"setting": ["vae"] * 3 + ["beta"] * 3, "seed": [0, 1, 2] * 2,
    ...                       "metric": "sap", "score": [.1, .2, .15, .3, .5, .4]})
    >>> fig = score_distributions(table, kind="violin")
    >>> fig.axes[0].get_title(), len(fig.axes[0].collections) >= 2
    ('sap', True)
    >>> score_distributions(table, by="seed").get_suptitle()
    'score by seed: one dot per run'
    >>> score_distributions(table, kind="bar")
    Traceback (most recent call last):
    ...
    workbench.sweeps.errors.SweepConfigError: kind must be 'box' or 'violin', got 'bar'.
    """
    import matplotlib.pyplot as plt

    _check_table(table, {"metric", "score", "seed", by})
    if kind not in ("box", "violin"):
        raise SweepConfigError(f"kind must be 'box' or 'violin', got {kind!r}.")
    metrics = sorted(table["metric"].unique()) if metrics is None else list(metrics)
    unknown = sorted(set(metrics) - set(table["metric"]))
    if unknown:
        raise SweepConfigError(f"No scores for metric(s) {unknown} in the table.")
    groups = sorted(table[by].unique(), key=str)
    fig, axes = plt.subplots(1, len(metrics), figsize=(width * len(metrics), height),
                             squeeze=False, constrained_layout=True)
    for ax, metric in zip(axes[0], metrics):
        part = table[table["metric"] == metric]
        values = [part.loc[part[by] == g, "score"].to_numpy(float) for g in groups]
        positions = np.arange(1, len(groups) + 1)
        drawn = [(p, v) for p, v in zip(positions, values) if len(v)]
        if kind == "violin" and all(len(v) > 1 for _, v in drawn):
            ax.violinplot([v for _, v in drawn], positions=[p for p, _ in drawn], showmedians=True)
        else:
            ax.boxplot([v for _, v in drawn], positions=[p for p, _ in drawn], widths=0.5)
        for p, g in zip(positions, groups):
            seeds = part.loc[part[by] == g, ["seed", "score"]]
            offsets = (seeds["seed"].rank(method="first").to_numpy() - (len(seeds) + 1) / 2) * 0.06
            ax.scatter(p + offsets, seeds["score"], s=14, color="black", zorder=3)
        ax.set_xticks(positions, [str(g) for g in groups], rotation=30, ha="right")
        ax.set_title(metric)
        ax.set_ylabel("score" if ax is axes[0][0] else "")
    dots = "one dot per seed" if by == "setting" else "one dot per run"   # seed x setting
    fig.suptitle(f"score by {by}: {dots}")
    return fig


def rank_correlation_figure(correlation, *, size: float = 3.6):
    """A heat map of rank correlations between metrics (from ``rank_correlation``).

    Examples
    --------
    >>> import pandas as pd
    >>> correlation = pd.DataFrame([[1.0, -0.5], [-0.5, 1.0]], index=["mig", "sap"],
    ...                            columns=["mig", "sap"])
    >>> fig = rank_correlation_figure(correlation)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['1.00', '-0.50', '-0.50', '1.00']
    """
    import matplotlib.pyplot as plt

    names = list(correlation.columns)
    if not names or list(correlation.index) != names:
        raise SweepConfigError("Expected a square metric-by-metric table from "
                               "workbench.sweeps.rank_correlation.")
    fig, ax = plt.subplots(figsize=(size + 0.8, size), constrained_layout=True)
    image = ax.imshow(correlation.to_numpy(float), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            value = correlation.iat[i, j]
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if abs(value) > 0.6 else "black")
    fig.colorbar(image, ax=ax, label="Spearman rank correlation")
    ax.set_title("do the metrics rank runs alike?")
    return fig
