"""One interventional query, answered by independent routes.

``P(outcome | do(treatment))`` for a :class:`~workbench.identification.DiscreteCPTModel`:

``"surgery"``
    String-diagram surgery / comb disintegration on the *observational joint* only
    (:func:`workbench.diagrams.identify.from_observational`).
``"do-calculus"``
    The estimand the ID algorithm of :mod:`workbench.identification` derives from the
    graph, evaluated on the same observational joint.
``"pyro do"``
    ChiRho's ``do`` applied to the generating :class:`workbench.scm.SCM` (a Pyro
    program), made exact by running the program once on every joint value of its
    sites (all assignments in one plate) and weighting by the trace's probability.
``"truth"``
    Surgery on the generating model itself (hidden tables included).

Each result is a :class:`Kernel` ``treatment -> outcome``; a route that does not apply
gives the error it raised instead (e.g. a hedge, or the sufficient conditions failing).

Examples
--------
>>> from workbench.diagrams.models import smoking_example
>>> answers = three_ways(smoking_example(), "smoking", ["cancer"])
>>> sorted(answers)
['do-calculus', 'pyro do', 'surgery', 'truth']
>>> all(answers[k].allclose(answers["truth"], atol=1e-6) for k in answers)
True
"""

from __future__ import annotations

import itertools
from typing import Sequence

import pyro
import torch

from workbench.diagrams.identify import from_observational
from workbench.diagrams.kernels import Kernel, Wire
from workbench.diagrams.models import interventional_kernel, joint_kernel, table_of_kernel
from workbench.graphs import latent_projection
from workbench.identification.truth import DiscreteCPTModel
from workbench.errors import UnknownVariableError, WorkbenchError
from workbench.runtime import device as default_device

__all__ = ["pyro_do_kernel", "do_calculus_kernel", "three_ways", "ROUTES"]

ROUTES = ("surgery", "do-calculus", "pyro do", "truth")


def _check(model: DiscreteCPTModel, treatment: str, outcome: Sequence[str]) -> list[str]:
    observed = model.observed
    if treatment not in observed:
        raise UnknownVariableError(treatment, observed, what="observed variable")
    outcome = [o for o in observed if o != treatment] if outcome is None else list(outcome)
    for o in outcome:
        if o not in observed or o == treatment:
            raise UnknownVariableError(o, [v for v in observed if v != treatment], what="outcome")
    return outcome


def pyro_do_kernel(model: DiscreteCPTModel, treatment: str, outcome: Sequence[str] | None = None,
                   scm=None) -> Kernel:
    """``P(outcome | do(treatment))`` from Pyro: ChiRho ``do`` on the SCM, enumerated exactly.

    Every site (hidden ones too) is conditioned on every joint assignment at once, one
    assignment per unit of the SCM's plate; a unit's weight is the exponentiated sum of
    its sites' log-probabilities, and its outcome is what the intervened program returns.

    Examples
    --------
    >>> from workbench.diagrams.models import smoking_example
    >>> m = smoking_example()
    >>> k = pyro_do_kernel(m, "smoking", ["cancer"])
    >>> k.allclose(interventional_kernel(m, "smoking", ["cancer"]), atol=1e-6)
    True
    """
    outcome = _check(model, treatment, outcome)
    scm = model.to_scm() if scm is None else scm
    names = list(scm.variables)
    cards = [scm.mechanisms[v].cardinality for v in names]
    grid = torch.tensor(list(itertools.product(*[range(c) for c in cards])), dtype=torch.long,
                        device=default_device())
    data = {v: grid[:, i] for i, v in enumerate(names)}
    size = model.sizes[treatment]
    out_shape = [model.sizes[o] for o in outcome]
    table = torch.zeros([size] + out_shape, dtype=torch.float64)
    for x in range(size):
        program = pyro.poutine.condition(scm.do({treatment: torch.tensor(x)}).model, data=data)
        with torch.no_grad():
            trace = pyro.poutine.trace(program).get_trace(len(grid), explicit_noise=False)
        trace.compute_log_prob()
        logp = sum(site["log_prob"] for site in trace.nodes.values()
                   if site["type"] == "sample" and "log_prob" in site and site["log_prob"].dim() == 1)
        values = trace.nodes["_RETURN"]["value"]
        index = tuple(values[o].long().cpu() for o in outcome)
        table[x].index_put_(index, logp.exp().to(torch.float64).cpu(), accumulate=True)
    table = table / table.sum(dim=tuple(range(1, table.dim())), keepdim=True)
    wires = [Wire(o, model.sizes[o]) for o in outcome]
    return Kernel(table.to(default_device()), [Wire(treatment, size)], wires)


def do_calculus_kernel(model: DiscreteCPTModel, treatment: str, outcome: Sequence[str] | None = None,
                       joint: Kernel | None = None) -> Kernel:
    """The ID algorithm's estimand (``workbench.identification``) evaluated on the joint.

    Raises :class:`workbench.identification.HedgeError` when the effect is not identifiable.

    Examples
    --------
    >>> from workbench.diagrams.models import smoking_example
    >>> m = smoking_example()
    >>> do_calculus_kernel(m, "smoking", ["cancer"]).allclose(interventional_kernel(m, "smoking", ["cancer"]))
    True
    """
    from workbench.identification import identify

    outcome = _check(model, treatment, outcome)
    joint = joint_kernel(model) if joint is None else joint
    graph = _observed_admg(model)
    found = identify(graph, [treatment], outcome)
    table = table_of_kernel(joint)
    values = found.evaluate(table).permute([treatment] + outcome).values   # HedgeError if none
    wires = [Wire(o, model.sizes[o]) for o in outcome]
    return Kernel(values.to(joint.table.device), [Wire(treatment, model.sizes[treatment])], wires)


def _observed_admg(model: DiscreteCPTModel):
    """The ADMG over the observed variables (hidden roots become bidirected edges)."""
    return latent_projection(model.graph, model.latents)


def three_ways(model: DiscreteCPTModel, treatment: str, outcome: Sequence[str] | None = None,
               *, routes: Sequence[str] = ROUTES) -> dict[str, Kernel | WorkbenchError]:
    """``P(outcome | do(treatment))`` by each route in ``routes`` (see the module docstring).

    Examples
    --------
    >>> from workbench.diagrams.models import smoking_example
    >>> m = smoking_example()
    >>> sorted(three_ways(m, "smoking", ["cancer"], routes=("surgery", "truth")))
    ['surgery', 'truth']
    """
    outcome = _check(model, treatment, outcome)
    joint = joint_kernel(model)
    makers = {
        "surgery": lambda: from_observational(model.graph, joint, treatment, outcome=outcome),
        "do-calculus": lambda: do_calculus_kernel(model, treatment, outcome, joint=joint),
        "pyro do": lambda: pyro_do_kernel(model, treatment, outcome),
        "truth": lambda: interventional_kernel(model, treatment, outcome),
    }
    answers = {}
    for route in routes:
        if route not in makers:
            raise UnknownVariableError(route, list(makers), what="route")
        try:
            answers[route] = makers[route]()
        except WorkbenchError as exc:  # a route that does not apply says why
            answers[route] = exc
    return answers
