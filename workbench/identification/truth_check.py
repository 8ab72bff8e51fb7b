"""An estimand against the truth: a random discrete model on the graph, exactly and from samples.

:class:`TruthWorld` draws a random discrete causal model on a graph (hidden confounders
made explicit), its exact observational table, and the empirical table of ``n`` samples;
:meth:`TruthWorld.compare` evaluates an identification result on both tables and sets
it against ``P(y | do(x))`` computed by enumeration. The identification explorer widget
shows what this returns.

Examples
--------
>>> from workbench.identification import FIXTURES, identify
>>> f = FIXTURES["frontdoor"]
>>> world = TruthWorld.on(f.graph, n=2000, seed=0)
>>> c = world.compare(identify(f.graph, "x", "y"))
>>> c.max_error_exact < 1e-10, c.max_error_sampled < 0.1
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.graphs import as_admg
from workbench.identification.tables import DiscreteTable, PositivityError
from workbench.identification.truth import DiscreteCPTModel, random_discrete_model

__all__ = ["TruthWorld", "TruthComparison"]


@dataclass(frozen=True)
class TruthComparison:
    """``P(y | do(x))`` three ways: the truth, the estimand on the exact table, on samples.

    ``sampled`` is ``None`` (and ``max_error_sampled`` NaN) when the samples leave a cell
    the estimand divides by empty; ``undefined`` then says which.

    Examples
    --------
    >>> t = DiscreteTable(("y",), torch.tensor([0.5, 0.5]))
    >>> TruthComparison(t, t, None, 0.0, float("nan"), "an empty cell").undefined
    'an empty cell'
    """

    truth: DiscreteTable
    exact: DiscreteTable
    sampled: DiscreteTable | None
    max_error_exact: float
    max_error_sampled: float
    undefined: str | None = None


@dataclass(frozen=True)
class TruthWorld:
    """A discrete causal model on a graph, its exact observational table and ``n`` samples' table.

    Examples
    --------
    >>> from workbench.graphs import admg
    >>> w = TruthWorld.on(admg([("x", "y")]), n=100, seed=1)
    >>> w.joint.variables, w.n
    (('x', 'y'), 100)
    """

    model: DiscreteCPTModel
    joint: DiscreteTable
    empirical: DiscreteTable
    n: int

    @classmethod
    def on(cls, graph, *, n: int = 5000, seed: int = 0) -> "TruthWorld":
        """A random model on ``graph`` (:func:`random_discrete_model`, ``seed``) and ``n`` samples of it.

        Examples
        --------
        >>> from workbench.graphs import admg
        >>> TruthWorld.on(admg([("x", "y")]), n=10).empirical.values.sum().item()
        1.0
        """
        model = random_discrete_model(as_admg(graph), seed=seed)
        samples = model.sample(int(n), generator=torch.Generator().manual_seed(seed))
        return cls(model, model.observational(), DiscreteTable.from_samples(samples, model.cardinalities), int(n))

    def compare(self, result) -> TruthComparison:
        """Evaluate the identifiable ``result`` (of :func:`identify`) on both tables, against the truth.

        Examples
        --------
        >>> from workbench.graphs import admg
        >>> from workbench.identification import identify
        >>> g = admg([("x", "y")])
        >>> TruthWorld.on(g, n=10).compare(identify(g, "x", "y")).max_error_exact
        0.0
        """
        q = result.query
        truth = self.model.interventional(q.treatments, q.outcomes)
        truth = truth.permute([v for v in result.graph.nodes if v in truth.variables])
        exact = result.evaluate(self.joint)
        error = exact.max_abs_diff(truth)
        try:
            sampled = result.evaluate(self.empirical)
        except PositivityError as err:  # the samples left a needed cell empty
            return TruthComparison(truth, exact, None, error, float("nan"), str(err))
        return TruthComparison(truth, exact, sampled, error, sampled.max_abs_diff(truth))
