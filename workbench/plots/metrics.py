"""Altair charts of disentanglement scores: models side by side, and sensitivity curves.

Both charts take plain rows (lists of dicts), built from
:class:`~workbench.metrics.MetricResult` objects by :func:`score_rows` and
:func:`sensitivity_rows`, so they serialise and test without a browser.

Examples
--------
>>> from workbench import metrics
>>> codes, factors = metrics.constructed_codes("rotated", n_points=500, seed=0)
>>> rows = score_rows({"rotated": metrics.score_codes(codes, factors, metrics=("mig", "mcc"))})
>>> sorted(r["metric"] for r in rows)
['mcc', 'mig']
>>> scores_chart(rows).to_dict()["mark"]["type"]
'bar'
"""

from __future__ import annotations

from typing import Mapping

import altair as alt

__all__ = ["score_rows", "sensitivity_rows", "scores_chart", "sensitivity_chart"]


def score_rows(results_by_model: Mapping[str, Mapping[str, object]]) -> list[dict]:
    """One row per (model, sub-score): model, metric, score, mode and protocol flag.

    Examples
    --------
    >>> from workbench import metrics
    >>> codes, factors = metrics.constructed_codes("disentangled", n_points=300, seed=0)
    >>> rows = score_rows({"ideal": metrics.score_codes(codes, factors, metrics=("mig",))})
    >>> rows[0]["model"], rows[0]["metric"], round(rows[0]["score"], 2), rows[0]["mode"]
    ('ideal', 'mig', 0.75, 'exact')
    """
    rows = []
    for model, results in results_by_model.items():
        for result in results.values():
            for name, value in result.scores.items():
                rows.append({"model": str(model), "metric": name, "score": float(value),
                             "mode": result.mode,
                             "published": result.follows_published_protocol})
    return rows


def sensitivity_rows(curves: Mapping[str, list], param: str) -> list[dict]:
    """Rows (model, value of ``param``, score) from :func:`workbench.metrics.sensitivity`.

    Examples
    --------
    >>> from workbench import metrics
    >>> codes, factors = metrics.constructed_codes("disentangled", n_points=300, seed=0)
    >>> curves = {"ideal": metrics.sensitivity(codes, factors, "mig", "bins", [5, 20])}
    >>> [(r["value"], round(r["score"], 2)) for r in sensitivity_rows(curves, "bins")]
    [(5, 0.68), (20, 0.75)]
    """
    return [{"model": str(model), "value": r.choices[param], "score": float(r.score)}
            for model, results in curves.items() for r in results]


def scores_chart(rows: list[dict], width: int = 420, height: int = 220) -> alt.Chart:
    """Grouped bars: each metric, one bar per model.

    Examples
    --------
    >>> rows = [{"model": "a", "metric": "mig", "score": 0.8, "mode": "exact", "published": True},
    ...         {"model": "b", "metric": "mig", "score": 0.3, "mode": "exact", "published": True}]
    >>> spec = scores_chart(rows, width=300).to_dict()
    >>> spec["encoding"]["xOffset"]["field"], spec["width"], len(spec["data"]["values"])
    ('model', 300, 2)
    """
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("metric:N", title=None),
        xOffset=alt.XOffset("model:N"),
        y=alt.Y("score:Q", title="score", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("model:N", title="model"),
        tooltip=["model:N", "metric:N", alt.Tooltip("score:Q", format=".3f"), "mode:N",
                 "published:N"],
    ).properties(width=width, height=height, title="scores (hover for mode and protocol)")


def sensitivity_chart(rows: list[dict], current: float, param: str, metric: str,
                      width: int = 420, height: int = 200) -> alt.LayerChart:
    """Score against one estimator choice per model, with a rule at the current value.

    Examples
    --------
    >>> rows = [{"model": "a", "value": 5, "score": 0.6}, {"model": "a", "value": 20, "score": 0.8}]
    >>> spec = sensitivity_chart(rows, current=20, param="bins", metric="mig").to_dict()
    >>> spec["title"], [layer["mark"]["type"] for layer in spec["layer"]]
    ('mig as bins changes', ['line', 'rule'])
    """
    lines = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("value:Q", title=param), y=alt.Y("score:Q", title=metric),
        color=alt.Color("model:N", title="model"),
        tooltip=["model:N", "value:Q", alt.Tooltip("score:Q", format=".3f")])
    rule = alt.Chart(alt.Data(values=[{"value": float(current)}])).mark_rule(
        color="gray", strokeDash=[4, 4]).encode(x="value:Q")
    return (lines + rule).properties(width=width, height=height,
                                     title=f"{metric} as {param} changes")
