"""Pick a treatment and an outcome on a graph; watch ID answer, step by step.

:class:`IdentificationExplorer` shows, for the chosen ``P(y | do(x))``: the estimand
(LaTeX through ``ipywidgets.HTMLMath``), the derivation (one line of ID per step), or
the hedge, highlighted on the drawing, when the effect is not identifiable. Below, the
estimate is set against the truth of a random discrete SCM on the same graph: the
estimand evaluated on the exact observational table and on ``n`` samples, next to
``P(y | do(x))`` computed by enumeration.

State lives in traitlets: ``treatments`` and ``outcomes`` (tuples of node names,
linked to two ``SelectMultiple`` boxes) and ``bidirected`` (the hidden confounders,
a list of ``[a, b]`` pairs). With ``editable=True`` the directed edges are edited in
the SCM area's :class:`~workbench.widgets.scm.GraphEditor` (cycles refused) and the
bidirected ones with an "add/remove confounder" row; every edit draws a fresh random
SCM on the new graph. Callbacks call the library; nothing is inferred inside the widget.

Examples
--------
>>> from workbench.identification import FIXTURES
>>> w = IdentificationExplorer(FIXTURES["frontdoor"].graph, treatments=("x",), outcomes=("y",))
>>> w.result.identifiable, w.max_error_exact < 1e-10
(True, True)
>>> w.outcomes = ("z",)
>>> str(w.result.estimand)
'P(z | x)'
>>> w.treatments = ("q",)
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: Unknown treatment 'q'. ...
>>> w.outcomes = ("y",)
>>> w.bidirected = []                      # remove the hidden confounder x <-> y
>>> str(w.result.estimand)                  # = P(y | x), derived through z
'sum_{z} P(z | x) P(y | x, z)'
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import networkx as nx
import traitlets

from workbench.errors import UnknownVariableError, WidgetValueError, WorkbenchInputError
from workbench.graphs import ADMG, as_admg
from workbench.identification import identify
from workbench.identification.expressions import latex_name
from workbench.identification.truth_check import TruthWorld
from workbench.plots.identification import comparison_html, derivation_html, figure_svg, identification_figure

__all__ = ["IdentificationExplorer", "derivation_html", "comparison_html"]


class IdentificationExplorer(widgets.VBox):
    """Treatment/outcome pickers, estimand, derivation or hedge, estimate vs truth.

    Parameters
    ----------
    graph : networkx.DiGraph or ADMG
        The causal graph (bidirected edges are hidden confounders).
    treatments, outcomes : tuple of node names
        The initial query.
    n : int
        Number of samples for the sampled estimate.
    seed : int
        Seed of the random discrete SCM and of its samples.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> w = IdentificationExplorer(admg([("x", "y")]), treatments=("x",), outcomes=("y",), n=500)
    >>> str(w.result.estimand)
    'P(y | x)'
    """

    treatments = traitlets.Tuple()
    outcomes = traitlets.Tuple()
    bidirected = traitlets.List()

    def __init__(self, graph, treatments=(), outcomes=(), *, n: int = 5000, seed: int = 0,
                 editable: bool = False):
        graph = as_admg(graph)
        self._directed = graph.directed.copy()
        self._nodes = list(graph.nodes)
        names = [str(v) for v in self._nodes]
        self._n, self._seed = int(n), int(seed)
        self.result = None
        self.max_error_exact = float("nan")
        self.max_error_sampled = float("nan")
        options = list(zip(names, self._nodes))   # labels are text, values the nodes themselves
        self.treatment_box = widgets.SelectMultiple(options=options, description="do(x):", rows=min(6, len(names)))
        self.outcome_box = widgets.SelectMultiple(options=options, description="y:", rows=min(6, len(names)))
        self.estimand_view = widgets.HTMLMath()
        self.derivation_view = widgets.HTMLMath()
        self.graph_view = widgets.HTML()
        self.comparison_view = widgets.HTML()
        editors = self._build_editors(names, graph) if editable else []
        super().__init__(editors + [widgets.HBox([self.treatment_box, self.outcome_box]), self.graph_view,
                                    self.estimand_view, self.derivation_view, self.comparison_view])
        self.treatment_box.observe(lambda c: self._from_box("treatments", c["new"]), "value")
        self.outcome_box.observe(lambda c: self._from_box("outcomes", c["new"]), "value")
        with self.hold_trait_notifications():
            self.treatments, self.outcomes = tuple(treatments), tuple(outcomes)
            self.set_trait("bidirected", [list(e) for e in graph.bidirected.edges()])
        self._new_graph()

    # -- graph editing ----------------------------------------------------------------
    def _build_editors(self, names, graph) -> list:
        from workbench.widgets.scm import GraphEditor

        self.editor = GraphEditor(self._nodes, [list(e) for e in graph.directed.edges()])
        self.editor.image.layout.display = "none"  # the explorer draws the graph itself
        self.editor.observe(self._directed_edited, "edges")
        options = list(zip(names, self._nodes))
        self.confounder_a = widgets.Dropdown(options=options, description="confounder")
        self.confounder_b = widgets.Dropdown(options=options, value=self._nodes[-1], description="and")
        add = widgets.Button(description="add a <-> b")
        remove = widgets.Button(description="remove a <-> b")
        add.on_click(lambda _: self._edit_bidirected(True))
        remove.on_click(lambda _: self._edit_bidirected(False))
        return [self.editor, widgets.HBox([self.confounder_a, self.confounder_b, add, remove])]

    def _directed_edited(self, change):
        self._directed = self.editor.graph
        self._new_graph()

    def _edit_bidirected(self, add: bool):
        pair = sorted([self.confounder_a.value, self.confounder_b.value], key=str)
        current = [sorted(e, key=str) for e in self.bidirected]
        try:
            if add and pair not in current:
                self.bidirected = current + [pair]
            elif not add:
                self.bidirected = [e for e in current if e != pair]
        except WidgetValueError as err:
            self.estimand_view.value = f"<b>{html.escape(str(err))}</b>"

    @traitlets.validate("bidirected")
    def _valid_bidirected(self, proposal):
        pairs = [list(e) for e in proposal["value"]]
        for pair in pairs:
            if len(pair) != 2:
                raise WidgetValueError(f"A bidirected edge is a pair [a, b]; got {pair!r}.")
            for v in pair:
                if v not in self._nodes:
                    raise WidgetValueError(str(UnknownVariableError(v, self._nodes, what="node")))
            if pair[0] == pair[1]:
                raise WidgetValueError(f"{pair[0]} <-> {pair[0]} is not an edge; pick two different nodes.")
        return pairs

    @traitlets.observe("bidirected")
    def _bidirected_changed(self, _change):
        self._new_graph()

    def _new_graph(self):
        """Rebuild the ADMG and its random discrete SCM (exact table and samples), then refresh."""
        self.graph = ADMG(self._directed.copy(), nx.Graph([tuple(e) for e in self.bidirected]))
        self.world = TruthWorld.on(self.graph, n=self._n, seed=self._seed)
        self._refresh()

    def _from_box(self, trait: str, value: tuple):
        try:
            setattr(self, trait, tuple(value))
        except WidgetValueError as err:  # e.g. the same node picked in both boxes
            box = self.treatment_box if trait == "treatments" else self.outcome_box
            box.value = getattr(self, trait)  # put the box back to the valid state
            self.estimand_view.value = f"<b>{html.escape(str(err))}</b>"

    @traitlets.validate("treatments", "outcomes")
    def _valid(self, proposal):
        value = tuple(proposal["value"])
        what = "treatment" if proposal["trait"].name == "treatments" else "outcome"
        for v in value:
            if v not in self._nodes:
                raise WidgetValueError(str(UnknownVariableError(v, self._nodes, what=what)))
        other = self.outcomes if what == "treatment" else self.treatments
        if set(value) & set(other):
            raise WidgetValueError(
                f"{sorted(set(value) & set(other))} cannot be both treatment and outcome; "
                "unselect it in the other box first.")
        return value

    @traitlets.observe("treatments", "outcomes")
    def _on_change(self, _change):
        if hasattr(self, "graph"):
            self._refresh()

    def _refresh(self):
        if self.treatment_box.value != self.treatments:
            self.treatment_box.value = self.treatments
        if self.outcome_box.value != self.outcomes:
            self.outcome_box.value = self.outcomes
        if not self.outcomes:
            self.result = None
            self.estimand_view.value = "Pick at least one outcome <i>y</i>."
            self.derivation_view.value = self.comparison_view.value = ""
            self.graph_view.value = figure_svg(identification_figure(self.graph, self.treatments))
            return
        try:
            self.result = identify(self.graph, self.treatments, self.outcomes)
        except WorkbenchInputError as err:
            raise WidgetValueError(str(err)) from err
        r = self.result
        query = html.escape(r.query.to_latex())
        if r.identifiable:
            self.estimand_view.value = f"$${query} = {html.escape(r.estimand.to_latex())}$$"
        else:
            f, fp = (", ".join(latex_name(v) for v in sorted(s, key=str)) for s in (r.hedge.F, r.hedge.F_prime))
            self.estimand_view.value = (
                f"$${query}$$ is <b>not identifiable</b>: hedge "
                f"$F = \\{{{html.escape(f)}\\}}$ (orange and red), $F' = \\{{{html.escape(fp)}\\}}$ (red).")
        self.derivation_view.value = derivation_html(r)
        self.graph_view.value = figure_svg(identification_figure(
            self.graph, self.treatments, self.outcomes, hedge=r.hedge))
        self._update_comparison()

    def _update_comparison(self):
        r = self.result
        if not (r.identifiable and self.treatments):
            self.comparison_view.value = ""
            self.max_error_exact = self.max_error_sampled = float("nan")
            return
        c = self.world.compare(r)
        self.max_error_exact, self.max_error_sampled = c.max_error_exact, c.max_error_sampled
        if c.sampled is None:
            self.comparison_view.value = (
                f"<p>Estimate vs truth (max error on the exact table {c.max_error_exact:.1e}). "
                f"From {self._n} samples the estimand is undefined: {html.escape(c.undefined)}</p>")
            return
        self.comparison_view.value = (
            "<p>Estimate vs truth on a random discrete SCM with this graph "
            f"(max error: exact table {c.max_error_exact:.1e}, samples "
            f"{c.max_error_sampled:.3f})</p>"
            + comparison_html(c.truth, c.exact, c.sampled, self.treatments, self._n))
