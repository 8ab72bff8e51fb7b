"""A domain-counterfactual explorer: pick a sample and a target domain, compare the models.

:class:`DomainCounterfactualExplorer` shows, for one test observation ``x`` seen in its
domain, the *true* counterfactual ``x'`` in the chosen target domain (the generator
knows it) and each model's estimate (sparse and dense side by side), with their
errors and that of doing nothing (``x' = x``). State lives in the traitlets
``sample`` and ``target``; the callbacks call
:func:`workbench.latents.domain_counterfactuals.evaluation.compare_counterfactuals`
and :mod:`workbench.plots.domain_counterfactuals`.

Examples
--------
>>> from workbench.latents.domain_counterfactuals import DomainModel, LatentDomainSCM
>>> scm = LatentDomainSCM(2, latent_dim=3, seed=0, scale_samples=200)
>>> x, d, _ = scm.sample(4)
>>> view = DomainCounterfactualExplorer(scm, {"sparse": DomainModel(2, 3, k=1)}, x, d)
>>> view.sample, view.target = 5, 0
>>> view.result["domain"], view.result["target"]
(1, 0)
>>> view.target = 2
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: target = 2 is not a domain; choose 0 to 1.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
import traitlets

from workbench.errors import ShapeError, WidgetValueError
from workbench.latents.domain_counterfactuals.checks import check_domains, check_matrix
from workbench.latents.domain_counterfactuals.evaluation import compare_counterfactuals
from workbench.plots.domain_counterfactuals import plot_counterfactual_comparison
from workbench.widgets.images import picture, show_figure

__all__ = ["DomainCounterfactualExplorer"]


class DomainCounterfactualExplorer(widgets.VBox):
    """Explore one observation's counterfactuals across domains.

    Parameters
    ----------
    scm : LatentDomainSCM
        The generator of ``x`` (for the true counterfactuals).
    models : dict of name -> DomainModel
        Models with one replica each, e.g. ``{"sparse": ..., "dense": ...}``.
    x : Tensor ``(n, m)``
        Observations to pick from; ``domains`` gives each one's domain.
    width : float
        Width of the figure in inches (shown at 80 dots an inch; the height follows).

    Examples
    --------
    >>> from workbench.latents.domain_counterfactuals import load_demo
    >>> demo = load_demo()
    >>> sparse = {"sparse": demo.models["sparse"]}
    >>> view = DomainCounterfactualExplorer(demo.scm, sparse, demo.x[:10], demo.domains[:10], width=4.0)
    >>> view.sample = 3                  # as if the slider moved
    >>> view.result["domain"], view.result["target"], list(view.result["errors"])
    (0, 1, ['sparse'])
    >>> bool(view.result["errors"]["sparse"] < view.result["identity_error"])
    True
    """

    sample = traitlets.Int(0)
    target = traitlets.Int(1)

    def __init__(self, scm, models: dict, x, domains, width: float = 7.0):
        self.scm, self.models, self.width = scm, dict(models), float(width)
        self.x = check_matrix(x, scm.latent_dim, "x")
        self.domains = check_domains(domains, len(self.x), scm.n_domains)
        if not self.models:
            raise ShapeError("models is empty: pass at least one model, e.g. {'sparse': model}.")
        self.sample_slider = widgets.IntSlider(value=0, min=0, max=len(self.x) - 1, description="sample",
                                               continuous_update=False)
        self.target_picker = widgets.Dropdown(options=[(f"domain {d}", d) for d in range(scm.n_domains)],
                                              value=1, description="target")
        self.image = picture()
        self.table = widgets.HTML()
        super().__init__([widgets.HBox([self.sample_slider, self.target_picker]), self.image, self.table])
        widgets.link((self.sample_slider, "value"), (self, "sample"))
        widgets.link((self.target_picker, "value"), (self, "target"))
        self._update()

    @traitlets.validate("sample")
    def _validate_sample(self, proposal):
        value = proposal["value"]
        if not 0 <= value < len(self.x):
            raise WidgetValueError(f"sample = {value} is outside 0 to {len(self.x) - 1}; pick one of "
                                   f"the {len(self.x)} observations.")
        return value

    @traitlets.validate("target")
    def _validate_target(self, proposal):
        value = proposal["value"]
        if not 0 <= value < self.scm.n_domains:
            raise WidgetValueError(f"target = {value} is not a domain; choose 0 to {self.scm.n_domains - 1}.")
        return value

    @traitlets.observe("sample", "target")
    def _changed(self, change):
        self._update()

    def _update(self):
        domain = int(self.domains[self.sample])
        self.result = compare_counterfactuals(self.scm, self.models, self.x[self.sample], domain,
                                              self.target)
        show_figure(self.image, plot_counterfactual_comparison(self.result, width=self.width), dpi=80)
        rows = "".join(f"<tr><td>{html.escape(str(name))}</td><td>{err:.4f}</td></tr>"
                       for name, err in self.result["errors"].items())
        self.table.value = (f"<table style='width: auto'><tr><th>counterfactual of sample {self.sample} "
                            f"(domain {domain} &rarr; {self.target})</th><th>squared error</th></tr>"
                            f"{rows}<tr><td>x' = x (nothing changes)</td>"
                            f"<td>{self.result['identity_error']:.4f}</td></tr></table>")
