"""Cut a wire, see the diagram change, and compare one interventional query three ways.

Choose the variable to intervene on and an outcome. The widget draws the model's
string diagram before and after surgery (the cut wire in red), and shows
``P(outcome | do(variable))`` computed by independent routes side by side:

1. surgery / comb disintegration on the observational joint (``workbench.diagrams``),
2. the do-calculus estimand of the ID algorithm (``workbench.identification``),
3. ChiRho ``do`` on the generating Pyro SCM (``workbench.scm``), enumerated exactly,

next to the truth (surgery on the generating model, hidden variables included). A
route that does not apply shows why (for example the sufficient conditions failing).
All computing is done by :func:`workbench.diagrams.compare.three_ways`.

Examples
--------
>>> w = SurgeryWidget()
>>> w.value, w.outcome
('smoking', 'cancer')
>>> w.agree
True
>>> w.value = "tar"
>>> sorted(k for k, v in w.results.items() if isinstance(v, str))   # not covered
['surgery']
"""

from __future__ import annotations

import ipywidgets as widgets
import traitlets

from workbench.diagrams.compare import three_ways
from workbench.plots.diagrams import ROUTE_TITLES, draw_surgery, query_table
from workbench.widgets.images import picture, show_figure
from workbench.diagrams.kernels import Kernel
from workbench.diagrams.models import diagram_of, smoking_example
from workbench.identification.truth import DiscreteCPTModel
from workbench.errors import WidgetValueError

__all__ = ["SurgeryWidget", "ROUTE_TITLES", "query_table"]  # the last two from plots.diagrams



class SurgeryWidget(widgets.VBox):
    """Choose ``value`` (the variable to cut) and ``outcome``; read ``results``.

    Attributes
    ----------
    value, outcome : str
        Observed variables of the model; setting an unknown one raises WidgetValueError.
    results : dict
        Route -> ``P(outcome | do(value))`` as nested lists (rows: values of ``value``),
        or the message of the error that route raised.
    agree : bool
        Whether every route that applies matches the truth within ``1e-6``.

    Examples
    --------
    >>> w = SurgeryWidget()
    >>> w.value, w.agree
    ('smoking', True)
    """

    value = traitlets.Unicode()
    outcome = traitlets.Unicode()
    results = traitlets.Dict(read_only=True)
    agree = traitlets.Bool(read_only=True)

    def __init__(self, model: DiscreteCPTModel | None = None, value: str | None = None,
                 outcome: str | None = None):
        self.model = smoking_example() if model is None else model
        observed = self.model.observed
        if len(observed) < 2:
            raise WidgetValueError("The model needs at least two observed variables.")
        self.variable_picker = widgets.Dropdown(options=observed, description="do(")
        self.outcome_picker = widgets.Dropdown(options=observed, description="outcome")
        self.image = picture()
        self.table = widgets.HTML()
        super().__init__([widgets.HBox([self.variable_picker, self.outcome_picker]),
                          self.image, self.table])
        self._busy = True
        self.value = observed[0] if value is None else value
        self.outcome = (observed[-1] if observed[-1] != self.value else observed[0]) \
            if outcome is None else outcome
        self._busy = False
        widgets.link((self, "value"), (self.variable_picker, "value"))   # ours win at start
        widgets.link((self, "outcome"), (self.outcome_picker, "value"))
        self._refresh()

    @traitlets.validate("value", "outcome")
    def _known(self, proposal):
        name = proposal["value"]
        if name not in self.model.observed:
            raise WidgetValueError(
                f"{proposal['trait'].name} must be an observed variable "
                f"({', '.join(self.model.observed)}); got {name!r}.")
        return name

    @traitlets.observe("value", "outcome")
    def _on_change(self, change):
        if self._busy:
            return
        if self.value == self.outcome:  # keep the query meaningful: move the other one away
            self._busy = True
            if change["name"] == "value":
                self.outcome = [v for v in self.model.observed if v != self.value][-1]
            else:
                self.value = [v for v in self.model.observed if v != self.outcome][0]
            self._busy = False
        self._refresh()

    def _refresh(self):
        # one snapshot of the query: the heading, the numbers and the picture always belong
        # to the same (value, outcome), however quickly the dropdowns change
        x, y = self.value, self.outcome
        answers = three_ways(self.model, x, [y])
        results = {r: (a.table.tolist() if isinstance(a, Kernel) else str(a)) for r, a in answers.items()}
        truth = answers["truth"]
        agree = all(a.allclose(truth, atol=1e-6) for a in answers.values() if isinstance(a, Kernel))
        figure = draw_surgery(diagram_of(self.model), x)
        self.set_trait("results", results)
        self.set_trait("agree", agree)
        show_figure(self.image, figure, dpi=80, tight=False)
        self.table.value = query_table(x, y, self.model.sizes, results, agree)
