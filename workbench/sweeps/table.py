"""A sweep's results as pandas tables: tidy (one row per run and metric), wide, failures.

The tidy table has one row per finished run and metric, with the columns
``key, dataset, model, <hyperparameters>, setting, seed, metric, score`` (``setting``
names the model with its hyperparameters, e.g. ``"beta_vae (beta=8)"``), the shape
that box and violin plots of score against setting take, with the seed spread
(:mod:`workbench.plots.sweeps`). :func:`rank_correlation` gives Spearman's rank
correlation between metrics across runs (Locatello et al. 2019, figure 4).

Examples
--------
>>> rows = [{"key": k, "status": "ok", "dataset": "d", "model": "vae", "seed": s,
...          "score.mig": m, "score.sap": m / 2} for k, s, m in [("a", 0, .1), ("b", 1, .3)]]
>>> results_table(rows)[["seed", "metric", "score"]].values.tolist()
[[0, 'mig', 0.1], [1, 'mig', 0.3], [0, 'sap', 0.05], [1, 'sap', 0.15]]
>>> float(rank_correlation(results_table(rows)).loc["mig", "sap"])
1.0
"""

from __future__ import annotations

import warnings
from pathlib import Path

from workbench.sweeps.errors import SweepConfigError
from workbench.sweeps.store import ResultStore

__all__ = ["wide_table", "results_table", "failures", "rank_correlation", "setting_label"]

_ID = ["key", "dataset", "model"]


def _rows(source) -> list[dict]:
    if isinstance(source, list):
        return source
    if not isinstance(source, ResultStore) and not Path(source).is_dir():
        raise SweepConfigError(f"There is no sweep folder at {str(source)!r}: check the path, or run the "
                               "sweep into it first (sweep.run(folder)).")
    store = source if isinstance(source, ResultStore) else ResultStore(source)
    return store.latest()


def setting_label(model: str, hyper: dict) -> str:
    """``"beta_vae (beta=8)"``: a model with its hyperparameters, for axes and legends.

    Examples
    --------
    >>> setting_label("beta_vae", {"beta": 8.0}), setting_label("vae", {})
    ('beta_vae (beta=8)', 'vae')
    """
    if not hyper:
        return str(model)
    return f"{model} (" + ", ".join(f"{k}={v:g}" for k, v in sorted(hyper.items())) + ")"


def wide_table(source) -> pd.DataFrame:
    """One row per finished run: its settings, ``score.<metric>`` columns, loss, hash.

    ``source`` is a sweep folder, a :class:`~workbench.sweeps.ResultStore` or a list of rows.

    Examples
    --------
    >>> rows = [{"key": "a", "status": "ok", "dataset": "d", "model": "beta_vae", "hyper.beta": 8.0,
    ...          "seed": 0, "score.mig": 0.4}, {"key": "b", "status": "error", "error": "boom"}]
    >>> wide_table(rows)[["setting", "beta", "score.mig"]].values.tolist()
    [['beta_vae (beta=8)', 8.0, 0.4]]
    """
    import pandas as pd        # on first use: a sweep's workers never need it

    rows = [r for r in _rows(source) if r.get("status") == "ok"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    hyper_cols = sorted(c for c in frame.columns if c.startswith("hyper."))
    frame = frame.rename(columns={c: c.removeprefix("hyper.") for c in hyper_cols})
    hyper = [c.removeprefix("hyper.") for c in hyper_cols]
    frame["setting"] = [setting_label(m, {h: row[h] for h in hyper if pd.notna(row[h])})
                        for m, (_, row) in zip(frame["model"], frame.iterrows())]
    return frame.sort_values(["dataset", "setting", "seed"], kind="stable").reset_index(drop=True)


def results_table(source) -> pd.DataFrame:
    """The tidy table: one row per (finished run, metric), sorted by metric then run.

    Examples
    --------
    >>> rows = [{"key": "a", "status": "ok", "dataset": "d", "model": "vae", "seed": 0,
    ...          "score.mig": 0.4, "score.sap": 0.1}]
    >>> results_table(rows)[["setting", "metric", "score"]].values.tolist()
    [['vae', 'mig', 0.4], ['vae', 'sap', 0.1]]
    >>> list(results_table([]).columns)
    ['key', 'dataset', 'model', 'setting', 'seed', 'metric', 'score']
    """
    import pandas as pd        # on first use: a sweep's workers never need it

    wide = wide_table(source)
    if wide.empty:
        return pd.DataFrame(columns=[*_ID, "setting", "seed", "metric", "score"])
    score_cols = [c for c in wide.columns if c.startswith("score.")]
    ids = [c for c in wide.columns if c not in score_cols and c not in
           ("status", "device", "steps", "final_loss", "seconds", "weights_sha256", "recovered")]
    tidy = wide.melt(id_vars=ids, value_vars=score_cols, var_name="metric", value_name="score")
    tidy["metric"] = tidy["metric"].str.removeprefix("score.")
    return tidy.dropna(subset=["score"]).reset_index(drop=True)


def failures(source) -> pd.DataFrame:
    """The runs whose last row is an error: key, dataset, model, seed and the message.

    Examples
    --------
    >>> rows = [{"key": "a", "status": "error", "error": "boom", "model": "vae", "seed": 1},
    ...         {"key": "b", "status": "ok", "model": "vae", "seed": 2}]
    >>> failures(rows)[["key", "seed", "error"]].values.tolist()
    [['a', 1, 'boom']]
    """
    import pandas as pd        # on first use: a sweep's workers never need it

    rows = [{k: r.get(k) for k in (*_ID, "seed", "error")} for r in _rows(source)
            if r.get("status") != "ok"]
    return pd.DataFrame(rows, columns=[*_ID, "seed", "error"])


def rank_correlation(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlation between metrics over the runs of a tidy table.

    A metric with the same score in every run has no ranks to correlate: it is left
    out, with a warning, rather than shown as NaN.

    Examples
    --------
    >>> import pandas as pd
    >>> tidy = pd.DataFrame({"key": ["a", "b", "c", "a", "b", "c"], "metric": ["mig"] * 3 + ["sap"] * 3,
    ...                      "score": [0.1, 0.2, 0.3, 0.2, 0.4, 0.6]})
    >>> float(rank_correlation(tidy).loc["mig", "sap"])
    1.0
    """
    missing = {"key", "metric", "score"} - set(table.columns)
    if missing:
        raise SweepConfigError(f"rank_correlation needs a tidy table (results_table); "
                               f"missing columns {sorted(missing)}.")
    scores = table.pivot_table(index="key", columns="metric", values="score")
    if len(scores) < 2:
        raise SweepConfigError(f"A rank correlation needs at least 2 finished runs, got {len(scores)}.")
    constant = [m for m in scores.columns if scores[m].nunique() < 2]
    if constant:
        warnings.warn(f"Metric(s) {constant} take one value over every run: a rank "
                      "correlation is undefined for them, so they are left out.", stacklevel=2)
        scores = scores.drop(columns=constant)
    return scores.rank().corr(method="pearson")
