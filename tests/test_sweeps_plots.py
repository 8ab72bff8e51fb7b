"""Sweep figures and the sweep widget: what they draw, and bad input refused."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench import sweeps
from workbench.errors import WidgetValueError
from workbench.plots.sweeps import rank_correlation_figure, score_distributions
from workbench.sweeps import SweepConfigError
from workbench.widgets.sweeps import SweepExplorer

matplotlib.use("Agg")


def _table():
    rows = []
    for model, hyper, scores in [("vae", {}, [0.1, 0.2, 0.3]),
                                 ("beta_vae", {"hyper.beta": 8.0}, [0.5, 0.6, 0.9])]:
        for seed, s in enumerate(scores):
            rows.append({"key": f"{model}-{seed}", "status": "ok", "dataset": "sprites",
                         "model": model, **hyper, "seed": seed, "score.mig": s, "score.sap": 1 - s})
    return sweeps.results_table(rows)


def test_one_panel_per_metric_one_box_per_setting_one_dot_per_seed():
    fig = score_distributions(_table())
    assert [ax.get_title() for ax in fig.axes] == ["mig", "sap"]
    mig = fig.axes[0]
    assert [t.get_text() for t in mig.get_xticklabels()] == ["beta_vae (beta=8)", "vae"]
    dots = np.concatenate([c.get_offsets() for c in mig.collections])
    assert sorted(dots[:, 1].round(6).tolist()) == [0.1, 0.2, 0.3, 0.5, 0.6, 0.9]
    medians = sorted(line.get_ydata()[0] for line in mig.lines if line.get_color() in ("C1", "#ff7f0e"))
    assert medians == pytest.approx([0.2, 0.6])


def test_violins_and_grouping_by_model():
    fig = score_distributions(_table(), by="model", kind="violin", metrics=["sap"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["beta_vae", "vae"]
    assert len(fig.axes) == 1


@pytest.mark.parametrize("options, match", [
    ({"kind": "bar"}, "kind must be"),
    ({"metrics": ["dci"]}, r"No scores for metric\(s\) \['dci'\]"),
    ({"by": "colour"}, r"missing columns \['colour'\]"),
])
def test_bad_plot_options_are_typed_errors(options, match):
    with pytest.raises(SweepConfigError, match=match):
        score_distributions(_table(), **options)


def test_an_empty_table_says_run_the_sweep_first():
    with pytest.raises(SweepConfigError, match="run the sweep first"):
        score_distributions(sweeps.results_table([]))


def test_rank_correlation_figure_shows_each_value():
    corr = sweeps.rank_correlation(_table())
    fig = rank_correlation_figure(corr)
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["-1.00", "-1.00", "1.00", "1.00"]
    with pytest.raises(SweepConfigError, match="square"):
        rank_correlation_figure(pd.DataFrame({"a": [1.0]}, index=["b"]))


def test_the_widget_follows_its_controls_and_refuses_unknown_values():
    view = SweepExplorer(_table())
    first = bytes(view.image.value)
    view.controls["metric"].value = "sap"
    assert view.metric == "sap" and bytes(view.image.value) != first
    view.controls["kind"].value = "violin"
    view.controls["by"].value = "seed"
    assert (view.kind, view.by) == ("violin", "seed")
    with pytest.raises(WidgetValueError, match="choose one of"):
        view.by = "colour"
    assert view.by == "seed"
