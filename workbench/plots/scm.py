"""Figures for structural causal models: observational vs interventional distributions.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> from workbench.scm import backdoor_example
>>> from workbench.plots.scm import intervention_figure
>>> m = backdoor_example()
>>> fig = intervention_figure(m, m.sample(2000, seed=0), m.do(x=1.0).sample(2000, seed=0),
...                           outcome="y", interventions={"x": 1.0})
>>> [ax.get_title() for ax in fig.axes]
['do(x=1)', 'y: observational vs do(x=1)']
>>> plt.close(fig)
"""

from __future__ import annotations

import html
from typing import Mapping

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from workbench.graphs import mutilate
from workbench.plots.graphs import draw_graph, layout
from workbench.plots.png import figure_to_png
from workbench.scm.sites import noise_site

__all__ = ["counterfactual_table", "distribution_comparison", "intervention_figure", "describe_interventions",
           "DistributionView"]

OBS, INT = "#6fa8dc", "#e69138"


def describe_interventions(interventions: Mapping) -> str:
    """``'do(x=1, z=0.5)'``, or ``'no intervention'``.

    Examples
    --------
    >>> describe_interventions({"x": 1.0, "z": 0.5}), describe_interventions({})
    ('do(x=1, z=0.5)', 'no intervention')
    """
    if not interventions:
        return "no intervention"
    parts = []
    for v, a in interventions.items():
        value = float(a) if isinstance(a, (int, float)) or (torch.is_tensor(a) and a.numel() == 1) else a
        parts.append(f"{v}={value:g}" if isinstance(value, float) else f"{v}={value}")
    return "do(" + ", ".join(parts) + ")"


def _plain(text: str) -> str:
    """``text`` with every ``$`` escaped, so matplotlib never reads a name as mathtext."""
    return str(text).replace("$", r"\$")


def distribution_comparison(observational: torch.Tensor, interventional: torch.Tensor, *,
                            name: str, label: str = "do", ax=None, cardinality: int | None = None):
    """Overlaid histograms (continuous) or paired bars (discrete) of one variable.

    Examples
    --------
    >>> ax = distribution_comparison(torch.randn(500), torch.randn(500) + 1, name="y")
    >>> len(ax.patches) > 0
    True
    >>> plt.close(ax.figure)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    if cardinality is not None:
        ks = torch.arange(cardinality)
        observational, interventional = observational.cpu(), interventional.cpu()
        p_obs = torch.bincount(observational.long(), minlength=cardinality).float()
        p_int = torch.bincount(interventional.long(), minlength=cardinality).float()
        ax.bar(ks - 0.2, p_obs / p_obs.sum(), width=0.4, color=OBS, label="observational")
        ax.bar(ks + 0.2, p_int / p_int.sum(), width=0.4, color=INT, label=_plain(label))
        ax.set_xticks(ks.tolist())
        ax.set_ylim(0, 1)
        ax.set_ylabel("probability")
    else:
        both = torch.cat([observational, interventional]).float()
        lo, hi = torch.quantile(both[:20000], torch.tensor([0.002, 0.998], device=both.device)).tolist()
        bins = torch.linspace(lo, hi + 1e-6, 41).tolist()
        ax.hist(observational.float().cpu().numpy(), bins=bins, density=True, alpha=0.55, color=OBS,
                label="observational")
        ax.hist(interventional.float().cpu().numpy(), bins=bins, density=True, alpha=0.55, color=INT,
                label=_plain(label))
        ax.axvline(float(observational.float().mean()), color=OBS, lw=2)
        ax.axvline(float(interventional.float().mean()), color=INT, lw=2, ls="--")
        ax.set_ylabel("density")
    ax.set_xlabel(name, parse_math=False)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def intervention_figure(scm, observational: Mapping, interventional: Mapping, *, outcome: str,
                        interventions: Mapping):
    """Left: the mutilated graph, intervened nodes highlighted. Right: the outcome's two distributions.

    Examples
    --------
    >>> from workbench.scm import backdoor_example
    >>> m = backdoor_example()
    >>> fig = intervention_figure(m, m.sample(500, seed=0), m.do(x=1.0).sample(500, seed=0), outcome="y",
    ...                           interventions={"x": 1.0})
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    fig, (g_ax, d_ax) = plt.subplots(1, 2, figsize=(8.5, 3.0), gridspec_kw={"width_ratios": [1, 1.3]})
    label = describe_interventions(interventions)
    graph = mutilate(scm.graph, list(interventions))
    draw_graph(graph, ax=g_ax, pos=layout(scm.graph), highlight_nodes={**{v: "#f9cb9c" for v in interventions}, outcome: "#9fc5e8"},
               title=label, font_size=9)
    distribution_comparison(observational[outcome], interventional[outcome], name=outcome, label=label,
                            ax=d_ax, cardinality=scm.mechanisms[outcome].cardinality)
    d_ax.set_title(f"{outcome}: observational vs {label}", fontsize=10, parse_math=False)
    fig.tight_layout()
    return fig


class DistributionView:
    """A persistent figure of one variable's two distributions, updated in place.

    Creating a matplotlib figure is the slow part of a redraw, so a widget keeps
    one of these and calls :meth:`update`, which only moves the bars and returns
    PNG bytes (tens of milliseconds).

    Examples
    --------
    >>> import torch
    >>> view = DistributionView(torch.randn(1000), name="y")
    >>> png = view.update(torch.randn(1000) + 2, label="do(x=1)")
    >>> png[1:4] == b"PNG", round(view.interventional_mean) == 2
    (True, True)
    """

    BINS = 40

    def __init__(self, observational: torch.Tensor, *, name: str, cardinality: int | None = None,
                 figsize=(4.6, 2.8), dpi: int = 72):
        self.observational, self.name, self.cardinality, self.dpi = observational, name, cardinality, dpi
        # a Figure outside pyplot: a notebook does not show it again at the end of the cell
        self.fig = Figure(figsize=figsize)
        self.ax = self.fig.subplots()
        k = cardinality or self.BINS
        zeros = [0.0] * k
        self.obs_bars = self.ax.bar(range(k), zeros, width=0.4, align="edge", color=OBS, alpha=0.6,
                                    label="observational")
        self.int_bars = self.ax.bar(range(k), zeros, width=0.4, align="edge", color=INT, alpha=0.6, label="do")
        self.ax.set_xlabel(name, parse_math=False)
        self.ax.set_ylabel("probability" if cardinality else "density")
        if cardinality:
            self.ax.set_xticks(range(cardinality))
        self.legend = self.ax.legend(fontsize=8, loc="upper right")
        self.ax.set_title(f"{name}: observational vs do", fontsize=10, parse_math=False)
        self.fig.tight_layout()  # once: later updates keep the layout
        self.interventional_mean = float("nan")

    def _heights(self, x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        if self.cardinality:
            c = torch.bincount(x.long(), minlength=self.cardinality).float()
            return c / c.sum()
        c = torch.histc(x.float(), self.BINS, lo, hi)
        return c / (c.sum() * (hi - lo) / self.BINS)

    def update(self, interventional: torch.Tensor, *, label: str = "do") -> bytes:
        """Redraw with new interventional samples; return the figure as PNG bytes."""
        self.interventional_mean = float(interventional.float().mean())
        if self.cardinality:
            lo, hi, width, offset = -0.4, self.cardinality - 0.6, 0.4, 0.0
        else:
            both = torch.cat([self.observational[:5000], interventional[:5000]]).float()
            lo, hi = torch.quantile(both, torch.tensor([0.002, 0.998], device=both.device)).tolist()
            hi = hi if hi > lo else lo + 1.0
            width, offset = (hi - lo) / self.BINS, 0.0
        h_obs, h_int = self._heights(self.observational, lo, hi), self._heights(interventional, lo, hi)
        for i, (a, b) in enumerate(zip(self.obs_bars, self.int_bars)):
            left = (i - 0.4) if self.cardinality else lo + i * width
            a.set_x(left), a.set_width(width), a.set_height(float(h_obs[i]))
            b.set_x(left + (0.4 if self.cardinality else offset)), b.set_width(width)
            b.set_height(float(h_int[i]))
        self.ax.set_xlim(lo - 0.2 if self.cardinality else lo, hi + 0.2 if self.cardinality else hi)
        self.ax.set_ylim(0, 1.0 if self.cardinality else 1.1 * float(torch.maximum(h_obs, h_int).max()))
        self.legend.get_texts()[1].set_text(_plain(label))
        self.ax.set_title(f"{self.name}: observational vs {label}", fontsize=10, parse_math=False)
        return figure_to_png(self.fig, self.dpi, tight=False, close=False)

    def close(self):
        """Nothing to release: the figure is not registered with pyplot."""


def counterfactual_table(scm, result, action: str) -> str:
    """HTML table of a one-unit counterfactual: factual value, counterfactual value, abducted noise.

    ``result`` is a :class:`~workbench.scm.CounterfactualResult` of one unit. When its
    abduction was not exact (``result.exact`` false), values are posterior means over
    the samples and a discrete variable shows the probability of each category.

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0})})
    >>> r = m.counterfactual({"x": torch.tensor([1.0]), "y": torch.tensor([2.5])}, {"x": 0.0})
    >>> html_text = counterfactual_table(m, r, "do(x=0)")
    >>> html_text.count("<tr>"), "0.500" in html_text
    (3, True)
    """
    exact = result.exact

    def cell(x, v):
        x = x.reshape(-1, *x.shape[2:]) if x.dim() > 1 and not exact else x
        if scm.mechanisms[v].cardinality is None:
            return f"{float(x.float().mean()):.3f}" + ("" if exact else " (mean)")
        k = scm.mechanisms[v].cardinality
        p = torch.bincount(x.long().reshape(-1), minlength=k).float()
        p = p / p.sum()
        return str(int(x.reshape(-1)[0])) if p.max() == 1 else \
            ", ".join(f"P({html.escape(v)}={i})={float(p[i]):.2f}" for i in range(k))

    def noise(u):
        u = u if exact else u[0]
        return ", ".join(f"{float(t):.2f}" for t in u.reshape(-1)[:4])

    rows = [f"<tr><td><b>{html.escape(v)}</b></td><td>{cell(result.factual[v], v)}</td>"
            f"<td>{cell(result.counterfactual[v], v)}</td><td>{noise(result.noise[noise_site(v)])}</td></tr>"
            for v in scm.observed]
    head = ("<tr><th>variable</th><th>factual</th><th>counterfactual "
            f"{html.escape(action)}</th><th>abducted noise u</th></tr>")
    style = ("<style>.wb-cf td, .wb-cf th {padding: 2px 14px; text-align: right;}"
             ".wb-cf th {border-bottom: 1px solid #999;}</style>")
    return f"{style}<table class='wb-cf'>{head}{''.join(rows)}</table>"
