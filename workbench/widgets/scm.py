"""Widgets over structural causal models: a graph editor, an intervention panel and a
counterfactual panel. State lives in traitlets (``@validate`` / ``@observe``); the
callbacks only call :mod:`workbench.scm` and :mod:`workbench.plots.scm`.

Examples
--------
>>> from workbench.scm import backdoor_example
>>> panel = InterventionPanel(backdoor_example(), outcome="y", n=2000)
>>> panel.set_intervention("x", 1.0)
>>> abs(panel.interventional_mean - 1.5) < 0.2      # E[y | do(x=1)] = 1.5
True
>>> editor = GraphEditor(["a", "b", "c"], [("a", "b"), ("b", "c")])
>>> editor.add_edge("c", "a")
False
>>> editor.message
'Refused c → a: it would close the cycle a → b → c → a. A causal graph must be acyclic.'
"""

from __future__ import annotations

import html
import math
import time
from typing import Iterable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import traitlets

from workbench.errors import UnknownVariableError, WidgetValueError, WorkbenchInputError
from workbench.graphs import dag, would_create_cycle
from workbench.plots.graphs import draw_graph, layout
from workbench.plots.scm import DistributionView, describe_interventions
from workbench.scm.model import SCM
from workbench.widgets.controls import FiniteFloatSlider
from workbench.widgets.counterfactual import CounterfactualPanel  # its own module, importable here
from workbench.widgets.images import SHARPNESS, picture, show_figure, show_png

__all__ = ["GraphEditor", "InterventionPanel", "CounterfactualPanel"]


# ------------------------------------------------------------------ graph editor
class GraphEditor(widgets.VBox):
    """Add and remove edges of a DAG over fixed nodes; a cycle is refused and explained.

    ``edges`` (a list of ``[a, b]`` pairs) is the state. Setting it to a cyclic
    graph raises :class:`~workbench.errors.CycleError` and leaves it unchanged;
    the buttons (and :meth:`add_edge`) show the explanation in ``message`` instead.

    Examples
    --------
    >>> editor = GraphEditor(["a", "b"], [])
    >>> editor.add_edge("a", "b"), sorted(editor.graph.edges)
    (True, [('a', 'b')])
    """

    edges = traitlets.List()
    message = traitlets.Unicode("")

    def __init__(self, nodes: Iterable[str], edges: Iterable = (), *, latent: Iterable[str] = ()):
        self._nodes = list(nodes)   # the node objects themselves (2 stays the int 2)
        self._latent = set(latent)
        if not self._nodes:
            raise WorkbenchInputError("GraphEditor needs at least one node.")
        options = [(str(v), v) for v in self._nodes]
        self.source = widgets.Dropdown(options=options, description="from")
        self.target = widgets.Dropdown(options=options, value=self._nodes[-1], description="to")
        self.add_button = widgets.Button(description="add edge", button_style="success")
        self.remove_button = widgets.Button(description="remove edge", button_style="warning")
        self.status = widgets.HTML()
        self.image = picture()
        super().__init__([widgets.HBox([self.source, self.target, self.add_button, self.remove_button]),
                          self.status, self.image])
        self.edges = [list(e) for e in edges]
        self.add_button.on_click(lambda _: self.add_edge(self.source.value, self.target.value))
        self.remove_button.on_click(lambda _: self.remove_edge(self.source.value, self.target.value))
        self._redraw()

    @classmethod
    def for_scm(cls, scm: SCM) -> "GraphEditor":
        """An editor started from a model's graph (latent variables drawn dashed)."""
        return cls(scm.variables, scm.graph.edges(), latent=scm.latent)

    @property
    def graph(self):
        """The current DAG (a new ``networkx.DiGraph``)."""
        return dag([tuple(e) for e in self.edges], nodes=self._nodes)

    @traitlets.validate("edges")
    def _valid_edges(self, proposal):
        edges = [list(e) for e in proposal["value"]]
        for e in edges:
            if len(e) != 2:
                raise WorkbenchInputError(f"An edge is a pair [source, target], got {e!r}.")
            for v in e:
                if v not in self._nodes:
                    raise UnknownVariableError(v, self._nodes, what="node")
        dag([tuple(e) for e in edges], nodes=self._nodes)  # raises CycleError naming the cycle
        return edges

    @traitlets.observe("edges", "message")
    def _redraw(self, change=None):
        self.status.value = f"<span>{html.escape(self.message)}</span>"
        show_figure(self.image, draw_graph(self.graph, latent=self._latent).figure, dpi=90)

    def add_edge(self, source: str, target: str) -> bool:
        """Add ``source -> target``; return False (and explain why) if it is refused."""
        for v in (source, target):
            if v not in self._nodes:
                raise UnknownVariableError(v, self._nodes, what="node")
        if [source, target] in self.edges:
            self.message = f"{source} → {target} is already there."
            return False
        cycle = would_create_cycle(self.graph, source, target)
        if cycle is not None:
            self.message = (f"Refused {source} → {target}: it would close the cycle "
                            f"{' → '.join(map(str, cycle))}. A causal graph must be acyclic.")
            return False
        self.edges = self.edges + [[source, target]]
        self.message = f"Added {source} → {target}."
        return True

    def remove_edge(self, source: str, target: str) -> bool:
        """Remove ``source -> target``; return False if there is no such edge."""
        if [source, target] not in self.edges:
            self.message = f"There is no edge {source} → {target} to remove."
            return False
        self.edges = [e for e in self.edges if e != [source, target]]
        self.message = f"Removed {source} → {target}."
        return True


# ------------------------------------------------------------ intervention panel
def _slider_for(name: str, mech, values: torch.Tensor):
    if mech.cardinality is not None:
        return widgets.IntSlider(value=0, min=0, max=mech.cardinality - 1, description=name,
                                 continuous_update=False)
    mu, sd = float(values.mean()), float(values.std())
    step = nice_step(6 * sd)
    lo, hi = step * math.floor((mu - 3 * sd) / step), step * math.ceil((mu + 3 * sd) / step)
    return FiniteFloatSlider(value=round(step * round(mu / step), 10), min=round(lo, 10), max=round(hi, 10),
                             step=step, description=name, continuous_update=False)


def nice_step(span: float, ticks: int = 50) -> float:
    """A slider step of 1, 2 or 5 times a power of ten, about ``span / ticks``.

    >>> nice_step(6.0), nice_step(168.4), nice_step(0.0)
    (0.1, 5.0, 0.01)
    """
    if not span > 0:
        return 0.01
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(round(m * power, 12) for m in (1, 2, 5, 10) if m * power >= raw)


class InterventionPanel(widgets.VBox):
    """One slider per observed variable; the outcome's observational vs interventional distribution.

    Moving a variable's slider intervenes on it (its checkbox turns on); unticking
    the checkbox releases it. State: ``interventions`` ({variable: value}) and
    ``outcome``; each update samples the intervened model and redraws the chart.

    Examples
    --------
    >>> from workbench.scm import backdoor_example
    >>> panel = InterventionPanel(backdoor_example(), outcome="y", n=500)
    >>> panel.outcome
    'y'
    """

    outcome = traitlets.Unicode()
    interventions = traitlets.Dict()
    observational_mean = traitlets.Float(read_only=True)
    interventional_mean = traitlets.Float(read_only=True)
    last_update_s = traitlets.Float(0.0, read_only=True)

    def __init__(self, scm: SCM, outcome: str | None = None, *, n: int = 20000, seed: int = 0):
        if not isinstance(scm, SCM):
            raise WorkbenchInputError(f"InterventionPanel needs a workbench SCM, got {type(scm).__name__}.")
        self.scm, self._n, self._seed = scm, n, seed
        self._view = None
        self._pos = layout(scm.graph)   # keep nodes in place while edges are cut
        self._observational = scm.sample(n, seed=seed)
        names = scm.observed
        self.sliders = {v: _slider_for(v, scm.mechanisms[v], self._observational[v]) for v in names}
        self.active = {v: widgets.Checkbox(value=False, description="do", indent=False,
                                           layout=widgets.Layout(width="60px")) for v in names}
        self.outcome_picker = widgets.Dropdown(options=names, value=outcome or names[-1], description="outcome")
        self.graph_image = picture()
        self.image = picture()
        self.readout = widgets.HTML()
        rows = [widgets.HBox([self.active[v], self.sliders[v]]) for v in names]
        super().__init__([self.outcome_picker, *rows, self.readout,
                          widgets.HBox([self.graph_image, self.image])])
        self.outcome = self.outcome_picker.value
        widgets.link((self.outcome_picker, "value"), (self, "outcome"))
        for v in names:
            self.sliders[v].observe(lambda ch, v=v: self.set_intervention(v, ch["new"]), "value")
            self.active[v].observe(lambda ch, v=v: self._toggle(v, ch["new"]), "value")
        self._draw_graph()
        self._update()

    # -- state
    @traitlets.validate("outcome")
    def _valid_outcome(self, proposal):
        if proposal["value"] not in self.scm.observed:
            raise UnknownVariableError(proposal["value"], self.scm.observed)
        return proposal["value"]

    @traitlets.validate("interventions")
    def _valid_interventions(self, proposal):
        out = {}
        for v, x in proposal["value"].items():
            if v not in self.sliders:
                raise UnknownVariableError(v, list(self.sliders))
            s = self.sliders[v]
            if not isinstance(x, (int, float)) or isinstance(x, bool) or not (s.min <= x <= s.max):
                raise WidgetValueError(f"do({v}={x!r}) is outside the slider's range [{s.min}, {s.max}].")
            if isinstance(s, widgets.IntSlider) and x != int(x):
                raise WidgetValueError(f"{v} is discrete: pick a category {s.min}..{s.max}.")
            out[v] = int(x) if isinstance(s, widgets.IntSlider) else float(x)
        return out

    def set_intervention(self, variable: str, value) -> None:
        """Intervene on ``variable`` (what moving its slider does)."""
        self.interventions = {**self.interventions, variable: value}

    def release(self, variable: str) -> None:
        """Stop intervening on ``variable``."""
        self.interventions = {k: v for k, v in self.interventions.items() if k != variable}

    def _toggle(self, v, on):
        if on and v not in self.interventions:
            self.set_intervention(v, self.sliders[v].value)
        elif not on and v in self.interventions:
            self.release(v)

    @traitlets.observe("interventions", "outcome")
    def _changed(self, change):
        for v, x in self.interventions.items():  # keep the controls in step with the state
            self.active[v].value = True
            if self.sliders[v].value != x:
                self.sliders[v].value = x
        for v in self.sliders:
            if v not in self.interventions:
                self.active[v].value = False
        if change["name"] == "outcome" and self._view is not None:
            self._view.close()
            self._view = None
        if change["name"] == "outcome" or set(change["old"] or {}) != set(change["new"] or {}):
            self._draw_graph()
        self._update()

    # -- views
    def _draw_graph(self):
        from workbench.graphs import mutilate
        g = mutilate(self.scm.graph, list(self.interventions))
        marks = {**{v: "#f9cb9c" for v in self.interventions}, self.outcome: "#9fc5e8"}
        fig, ax = plt.subplots(figsize=(3.6, 2.6))
        # The drawing depends only on which variables are cut, not on their values, so
        # it is redrawn when that set changes and its title names no values.
        cut = ", ".join(sorted(self.interventions))
        draw_graph(g, ax=ax, pos=self._pos, highlight_nodes=marks,
                   title=f"graph under do({cut})" if cut else "observational graph")
        show_figure(self.graph_image, fig, dpi=90)

    def _update(self):
        start = time.perf_counter()
        model = self.scm.do(self.interventions) if self.interventions else self.scm
        # with nothing intervened on, the "interventional" sample is the observational one
        samples = model.sample(self._n, seed=self._seed + 1) if self.interventions else self._observational
        y0, y1 = self._observational[self.outcome], samples[self.outcome]
        label = describe_interventions(self.interventions)
        if self._view is None:
            self._view = DistributionView(y0, name=self.outcome, dpi=100 * SHARPNESS,
                                          cardinality=self.scm.mechanisms[self.outcome].cardinality)
        show_png(self.image, self._view.update(y1, label=label), scale=SHARPNESS)
        self.set_trait("observational_mean", float(y0.float().mean()))
        self.set_trait("interventional_mean", float(y1.float().mean()))
        self.readout.value = (f"<b>{html.escape(self.outcome)}</b>: observational mean "
                              f"{self.observational_mean:.3f}, under {html.escape(label)} "
                              f"{self.interventional_mean:.3f}" if self.interventions else
                              f"<b>{html.escape(self.outcome)}</b>: observational mean "
                              f"{self.observational_mean:.3f} (no intervention yet: move a slider)")
        self.set_trait("last_update_s", time.perf_counter() - start)

