"""Pictures of one unit's counterfactual: the twin network, and the outcome against the do-value.

The **twin network** (Balke & Pearl 1994) draws the factual world and the counterfactual
world side by side, sharing every exogenous noise ``U_v``: that shared noise is what
makes the second world the same *unit*. In the counterfactual copy the arrows into the
intervened variable are cut.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from workbench.scm import backdoor_example
>>> g, pos = twin_network(backdoor_example(), "x")
>>> sorted(g.predecessors("x*")), sorted(g.predecessors("y*"))
([], ['U_y', 'x*', 'z*'])
"""

from __future__ import annotations

import networkx as nx

from workbench.plots.graphs import draw_graph, layout

__all__ = ["twin_network", "plot_counterfactual"]

FACTUAL, COUNTERFACTUAL = "#9fc5e8", "#f9cb9c"


def twin_network(scm, target: str) -> tuple[nx.DiGraph, dict]:
    """The twin graph (``v`` factual, ``v*`` counterfactual, ``U_v`` shared) and positions.

    Examples
    --------
    >>> from workbench.scm import backdoor_example
    >>> g, pos = twin_network(backdoor_example(), "x")
    >>> sorted(g.successors("U_z")), sorted(g.successors("U_x"))   # x* is set, so U_x feeds only x
    (['z', 'z*'], ['x'])
    >>> pos["x"][1] > pos["U_x"][1] > pos["x*"][1]   # factual on top, noises between, twin below
    True
    """
    base = scm.graph
    pos0 = layout(base)
    ys = [p[1] for p in pos0.values()]
    spread = (max(ys) - min(ys)) or 1.0
    g, pos = nx.DiGraph(), {}
    for v in base.nodes:          # factual world on top, noises in the middle, twin below
        x, y = pos0[v]
        y = 0.4 * (y - min(ys)) / spread
        u = f"U_{v}"
        g.add_edge(u, v)
        if v != target:
            g.add_edge(u, f"{v}*")
        g.add_node(f"{v}*")
        pos[v], pos[u], pos[f"{v}*"] = (x, 1.0 + y), (x, 0.0), (x, -1.0 - y)
    for a, b in base.edges:
        g.add_edge(a, b)
        if b != target:
            g.add_edge(f"{a}*", f"{b}*")
    return g, pos


def plot_counterfactual(scm, target: str, outcome: str, values, outcomes, *,
                        current: tuple[float, float], factual: tuple[float, float]):
    """Two panels: the twin network, and ``outcome`` in the counterfactual world vs ``do(target)``.

    ``values``/``outcomes`` trace the unit's counterfactual outcome over a grid of do-values;
    ``current`` marks the chosen ``(value, outcome)``, ``factual`` the unit's own ``(target, outcome)``.

    Examples
    --------
    >>> from workbench.scm import backdoor_example
    >>> scm = backdoor_example()
    >>> fig = plot_counterfactual(scm, "x", "y", [0.0, 1.0], [0.2, 0.7],
    ...                           current=(1.0, 0.7), factual=(0.0, 0.2))
    >>> len(fig.axes), fig.axes[1].get_xlabel(), fig.axes[1].get_ylabel()
    (2, 'do(x = value)', 'y of this unit')
    """
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [1, 1.15]})
    g, pos = twin_network(scm, target)
    noise = [v for v in g.nodes if v.startswith("U_")]
    marks = {**{v: FACTUAL for v in scm.graph.nodes}, **{f"{v}*": COUNTERFACTUAL for v in scm.graph.nodes}}
    draw_graph(g, ax=left, pos=pos, latent=noise, highlight_nodes=marks, font_size=8,
               title=f"twin network: factual world (top), do({target}) world (below)")
    style = "o-" if scm.mechanisms[target].cardinality else "-"
    right.plot(values, outcomes, style, color="tab:orange", lw=2, label=f"{outcome} had {target} been set")
    right.axvline(current[0], color="gray", ls=":", lw=1)
    right.plot([factual[0]], [factual[1]], "o", color="tab:blue", label="what happened")
    right.plot([current[0]], [current[1]], "o", color="tab:orange", mec="k")
    right.set_xlabel(f"do({target} = value)")
    binary = scm.mechanisms[outcome].cardinality == 2
    right.set_ylabel(f"P({outcome} = 1) for this unit" if binary else f"{outcome} of this unit")
    right.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
