"""Canonical causal graphs, frozen so that no test can change them by accident.

Each is drawn in ASCII next to its definition. ADMGs use ``<->`` for a hidden
common cause.
"""

import networkx as nx

from workbench.graphs import admg, dag


def _freeze_admg(g):
    nx.freeze(g.directed)
    nx.freeze(g.bidirected)
    return g


#   x -> m -> y
CHAIN = nx.freeze(dag([("x", "m"), ("m", "y")]))

#   x <- c -> y
FORK = nx.freeze(dag([("c", "x"), ("c", "y")]))

#   x -> c <- y
COLLIDER = nx.freeze(dag([("x", "c"), ("y", "c")]))

#   smoking -> tar -> cancer,  smoking <-> cancer
FRONT_DOOR = _freeze_admg(admg([("smoking", "tar"), ("tar", "cancer")],
                               bidirected=[("smoking", "cancer")]))

#   w1 -> w2 -> x -> y,  w1 <-> x,  w1 <-> y      (Pearl's "napkin")
NAPKIN = _freeze_admg(admg([("w1", "w2"), ("w2", "x"), ("x", "y")],
                           bidirected=[("w1", "x"), ("w1", "y")]))

#   u1 -> x,  u1 -> m <- u2,  u2 -> y,  x -> y     (M-bias: m is a collider)
M_BIAS = nx.freeze(dag([("u1", "x"), ("u1", "m"), ("u2", "m"), ("u2", "y"), ("x", "y")]))

ALL = {"chain": CHAIN, "fork": FORK, "collider": COLLIDER, "front_door": FRONT_DOOR,
       "napkin": NAPKIN, "m_bias": M_BIAS}
