"""Canonical graphs from the identification literature, and seeded random ADMGs.

Each fixture is a :class:`Fixture`: a graph, a query ``P(y | do(x))`` and whether the
literature says it is identifiable. Bidirected edges ``a <-> b`` stand for hidden
common causes.

=============  ======================================================  ==============
name           graph                                                   identifiable
=============  ======================================================  ==============
backdoor       z -> x -> y, z -> y                                     yes (adjust z)
frontdoor      x -> z -> y, x <-> y                                    yes
napkin         w1 -> w2 -> x -> y, w1 <-> x, w1 <-> y                  yes
m_bias         x -> y, x <-> m <-> y                                   yes (no adjustment)
iv             z -> x -> y, x <-> y                                    no
bow            x -> y, x <-> y                                         no
verma          v1 -> v2 -> v3 -> v4, v2 <-> v4; P(v4 | do(v3))         yes
=============  ======================================================  ==============

Examples
--------
>>> from workbench.identification.fixtures import FIXTURES, random_admg
>>> FIXTURES["napkin"].graph
ADMG([w1->w2, w2->x, x->y], bidirected=[w1<->x, w1<->y])
>>> g = random_admg(6, seed=1)
>>> len(g.nodes), g == random_admg(6, seed=1)
(6, False)
>>> sorted(g.directed.edges()) == sorted(random_admg(6, seed=1).directed.edges())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.errors import WorkbenchInputError
from workbench.graphs import ADMG, admg

__all__ = ["Fixture", "FIXTURES", "random_admg", "random_query"]


@dataclass(frozen=True)
class Fixture:
    """A named graph with a query and the literature's identifiability verdict.

    Examples
    --------
    >>> f = FIXTURES["napkin"]
    >>> f.treatments, f.outcomes, f.identifiable
    (('x',), ('y',), True)
    """

    name: str
    graph: ADMG
    treatments: tuple
    outcomes: tuple
    identifiable: bool
    reference: str


FIXTURES = {f.name: f for f in [
    Fixture("backdoor", admg([("z", "x"), ("x", "y"), ("z", "y")]), ("x",), ("y",), True,
            "Pearl (2009), Causality, sec. 3.3.1"),
    Fixture("frontdoor", admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")]), ("x",), ("y",),
            True, "Pearl (1995), Causal diagrams for empirical research, sec. 3.3.2"),
    Fixture("napkin", admg([("w1", "w2"), ("w2", "x"), ("x", "y")],
                           bidirected=[("w1", "x"), ("w1", "y")]), ("x",), ("y",), True,
            "Pearl & Mackenzie (2018), The Book of Why, ch. 7"),
    Fixture("m_bias", admg([("x", "y")], bidirected=[("x", "m"), ("m", "y")]), ("x",), ("y",),
            True, "Greenland, Pearl & Robins (1999), Causal diagrams for epidemiologic research"),
    Fixture("iv", admg([("z", "x"), ("x", "y")], bidirected=[("x", "y")]), ("x",), ("y",), False,
            "Pearl (2009), Causality, p. 153"),
    Fixture("bow", admg([("x", "y")], bidirected=[("x", "y")]), ("x",), ("y",), False,
            "Shpitser & Pearl (2006), Fig. 1(a)"),
    Fixture("verma", admg([("v1", "v2"), ("v2", "v3"), ("v3", "v4")],
                          bidirected=[("v2", "v4")]), ("v3",), ("v4",), True,
            "Verma & Pearl (1990), Equivalence and synthesis of causal models"),
]}


def random_admg(n: int, *, p_directed: float = 0.3, p_bidirected: float = 0.2,
                seed: int = 0) -> ADMG:
    """A random ADMG on nodes ``v0 .. v{n-1}`` (edges only go from lower to higher index).

    Each pair ``i < j`` gets ``vi -> vj`` with probability ``p_directed`` and,
    independently, ``vi <-> vj`` with probability ``p_bidirected``.

    Examples
    --------
    >>> g = random_admg(4, seed=0)
    >>> g.nodes
    ['v0', 'v1', 'v2', 'v3']
    """
    if not isinstance(n, int) or n < 1:
        raise WorkbenchInputError(f"n must be a positive integer, got {n!r}.")
    for name, p in [("p_directed", p_directed), ("p_bidirected", p_bidirected)]:
        if not 0 <= p <= 1:
            raise WorkbenchInputError(f"{name} must lie in [0, 1], got {p}.")
    rng = np.random.default_rng(int(seed))
    nodes = [f"v{i}" for i in range(n)]
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:]]
    directed = [e for e, r in zip(pairs, rng.random(len(pairs))) if r < p_directed]
    bidirected = [e for e, r in zip(pairs, rng.random(len(pairs))) if r < p_bidirected]
    return admg(directed, bidirected, nodes=nodes)


def random_query(graph: ADMG, *, n_treatments: int = 1, n_outcomes: int = 1,
                 seed: int = 0) -> tuple[tuple, tuple]:
    """Disjoint random treatment and outcome sets on ``graph``'s nodes.

    Examples
    --------
    >>> x, y = random_query(random_admg(5, seed=1), seed=2)
    >>> len(x), len(y), set(x) & set(y)
    (1, 1, set())
    """
    nodes = list(graph.nodes)
    if n_treatments + n_outcomes > len(nodes):
        raise WorkbenchInputError(
            f"{n_treatments} treatments and {n_outcomes} outcomes need that many nodes; "
            f"the graph has {len(nodes)}."
        )
    picked = np.random.default_rng(int(seed)).permutation(len(nodes))
    x = tuple(nodes[i] for i in picked[:n_treatments])
    y = tuple(nodes[i] for i in picked[n_treatments:n_treatments + n_outcomes])
    return x, y
