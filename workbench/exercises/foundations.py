"""Exercises of notebooks 00 (start here), 01 (structural causal models), 02 (interventions).

Every checker compares the answer with the truth of the *stated* model, computed here
in closed form, never with a model the learner built.

Examples
--------
>>> from workbench.scm import backdoor_example
>>> linear_moments(backdoor_example(), "y", {"x": 2.0})
(3.0, 5.0)
"""

from __future__ import annotations

import networkx as nx
import torch

from workbench.exercises._answers import close, names, number
from workbench.exercises.registry import Wrong, register

__all__ = ["linear_moments"]


def linear_moments(scm, variable: str, actions: dict | None = None) -> tuple[float, float]:
    """Exact mean and variance of ``variable`` in a linear-Gaussian SCM under ``do(actions)``.

    Each variable is written as a constant plus a combination of the noises, in causal order.

    Examples
    --------
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(noise_scale=2.0), "y": LinearGaussian({"x": 3.0}, bias=1.0)})
    >>> linear_moments(m, "y"), linear_moments(m, "y", {"x": 1.0})     # var 9 * 4 + 1
    ((1.0, 37.0), (4.0, 1.0))
    """
    actions = dict(actions or {})
    const, loads = {}, {}
    for v in nx.topological_sort(scm.graph):
        if v in actions:
            const[v], loads[v] = float(actions[v]), {}
            continue
        mech = scm.mechanisms[v]
        const[v] = mech.bias + sum(w * const[p] for p, w in mech.weights.items())
        load = {v: mech.noise_scale}
        for p, w in mech.weights.items():
            for u, c in loads[p].items():
                load[u] = load.get(u, 0.0) + w * c
        loads[v] = load
    return const[variable], sum(c * c for c in loads[variable].values())


# ---------------------------------------------------------------- 00 · start here

@register("00", 1, answers=("c_answer",), solution="c_answer = 0.0",
          blank="set c_answer to a confounding strength c, e.g. c_answer = 0.5.")
def _no_confounding(c):
    from workbench.widgets.start import observational_slope

    c = number(c, "c_answer")
    gap = max(abs(observational_slope(c, b) - b) for b in (-1.0, 0.0, 0.7, 2.0))
    if gap > 1e-9:
        raise Wrong(f"with c = {c:g} the slope seen in data is b + {c * c / (c * c + 1):.3f}: "
                    "the two lines still differ. For which c is c^2 / (c^2 + 1) zero?")
    return "with no confounding, observing is as good as intervening."


@register("00", 2, answers=("limit_answer",), solution="limit_answer = 1.0",
          blank="set limit_answer to the slope's limit as c grows, e.g. limit_answer = 0.3.")
def _confounding_limit(limit):
    close(limit, 1.0, 1e-3, "limit_answer",
          "with b = 0 the slope is c^2 / (c^2 + 1). What does that tend to as c grows? "
          "Try observational_slope(50.0, 0.0).")
    return "a strong confounder alone produces a slope near 1, with no causal effect."


# ---------------------------------------------------------------- 01 · SCMs

def _weather():
    from workbench.scm import SCM, LinearGaussian

    return SCM({"t": LinearGaussian(bias=20.0, noise_scale=5.0),
                "i": LinearGaussian({"t": 2.0}, bias=10.0, noise_scale=1.0),
                "s": LinearGaussian({"t": 0.5}, noise_scale=3.0)})


@register("01", 1, answers=("var_s_answer",), solution="var_s_answer = 0.5**2 * 5**2 + 3**2",
          blank="set var_s_answer to the variance of s, a number.")
def _variance_of_swimmers(answer):
    _, var = linear_moments(_weather(), "s")
    close(answer, var, 0.05, "var_s_answer",
          "s := 0.5 t + 3 u_s with t and u_s independent: Var(s) = 0.5^2 Var(t) + 3^2 Var(u_s), "
          "and Var(t) = 5^2.")
    return f"Var(s) = 0.5^2 Var(t) + 3^2 = {var:g}."


_COIN = torch.tensor([0.7, 0.3])
_LAMP = torch.tensor([[0.8, 0.2], [0.1, 0.9]])


@register("01", 2, answers=("coin_lamp", "p_lamp_answer"),
          solution='coin_lamp = discrete_scm({"c": ([], [0.7, 0.3]),\n'
                   '                          "l": (["c"], [[0.8, 0.2], [0.1, 0.9]])})\n'
                   "p_lamp_answer = 0.3 * 0.9 + 0.7 * 0.2",
          blank="build coin_lamp with discrete_scm({...}) and set p_lamp_answer to a number.")
def _coin_and_lamp(model, p):
    mechs = getattr(model, "mechanisms", None)
    if mechs is None or set(mechs) != {"c", "l"}:
        raise Wrong("coin_lamp should be a discrete_scm with the two variables 'c' and 'l'.")
    coin, lamp = mechs["c"], mechs["l"]
    if getattr(coin, "parents", None) != () or getattr(lamp, "parents", None) != ("c",):
        raise Wrong("the coin has no parents and the lamp has one, the coin: "
                    "'l': (['c'], table).")
    if coin.table.shape != (2,) or not torch.allclose(coin.table.float(), _COIN, atol=1e-6):
        raise Wrong(f"the coin's table is {coin.table.tolist()}; heads (1) has probability 0.3, "
                    "and the table lists P(c = 0) first.")
    if lamp.table.shape != (2, 2) or not torch.allclose(lamp.table.float(), _LAMP, atol=1e-6):
        raise Wrong(f"the lamp's table is {lamp.table.tolist()}: row c holds "
                    "[P(l = 0 | c), P(l = 1 | c)]; after heads (row 1) the lamp is on with 0.9.")
    truth = float(_COIN @ _LAMP[:, 1])
    close(p, truth, 1e-3, "p_lamp_answer",
          "your model is right; now P(l = 1) = sum over c of P(c) P(l = 1 | c).")
    return f"the model is right and P(l = 1) = 0.3 * 0.9 + 0.7 * 0.2 = {truth:.2f}."


@register("01", 3, answers=("refused_answer",), solution='refused_answer = ("c", "a")',
          blank='set refused_answer to an edge as a pair of names, e.g. ("b", "a").')
def _refused_edge(edge):
    from workbench.widgets.scm import GraphEditor

    if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(isinstance(v, str) for v in edge)):
        raise Wrong(f'give the edge as a pair of names such as ("b", "a"), not {edge!r}.')
    if not set(edge) <= {"a", "b", "c"}:
        raise Wrong("the chain's nodes are 'a', 'b' and 'c'.")
    editor = GraphEditor(["a", "b", "c"], [("a", "b"), ("b", "c")])
    if editor.add_edge(*edge):
        raise Wrong(f"the editor accepts {edge[0]} -> {edge[1]}: it closes no loop. Which edge "
                    "would lead back to where the chain starts?")
    if tuple(edge) in {("a", "b"), ("b", "c")}:
        raise Wrong(f"{edge[0]} -> {edge[1]} is refused only because it is already there; "
                    "which new edge would make a cycle?")
    return editor.message


# ---------------------------------------------------------------- 02 · interventions

def _backdoor():
    from workbench.scm import backdoor_example

    return backdoor_example()


@register("02", 1, answers=("mean_answer", "var_answer"),
          solution="mean_answer, var_answer = 1.5 * 2, 2**2 + 1",
          blank="set mean_answer and var_answer to two numbers.")
def _do_x_two(mean, var):
    true_mean, true_var = linear_moments(_backdoor(), "y", {"x": 2.0})
    close(mean, true_mean, 0.01, "mean_answer",
          "under do(x = 2), y := 1.5 * 2 + 2 z + u_y, and z keeps its own mean. "
          "(2.5 x is the *observational* slope: it mixes in z.)")
    close(var, true_var, 0.01, "var_answer",
          "the mean is right. Under do(x = 2) only z and u_y still vary: Var = 2^2 Var(z) + Var(u_y).")
    return f"E[y | do(x=2)] = {true_mean:g}, Var[y | do(x=2)] = {true_var:g}."


@register("02", 2, answers=("total_answer",), solution="total_answer = 2.0 + 1.0 * 1.5",
          blank="set total_answer to E[y | do(z = 1)], a number.")
def _do_z_one(total):
    truth, _ = linear_moments(_backdoor(), "y", {"z": 1.0})
    close(total, truth, 0.01, "total_answer",
          "z reaches y directly (weight 2) and through x (1 * 1.5): add both paths.")
    return f"the total effect of z is 2 + 1 * 1.5 = {truth:g}."


@register("02", 3, answers=("unchanged_answer",), solution='unchanged_answer = {"x", "y"}',
          blank='set unchanged_answer to a set of variable names, e.g. {"x"}.')
def _leaves_z_alone(answer):
    model = _backdoor()
    answer = names(answer, "unchanged_answer")
    unknown = answer - set(model.variables)
    if unknown:
        raise Wrong(f"the model's variables are x, y and z; {sorted(unknown)} is not one of them.")
    if "z" in answer:
        raise Wrong("do(z = 3) sets z itself, which certainly changes its distribution.")
    truth = {v for v in model.variables if v != "z" and "z" not in nx.descendants(model.graph, v)}
    missing = truth - answer
    if missing:
        raise Wrong(f"intervening on {sorted(missing)} also leaves z alone: give every such "
                    "variable (an intervention changes only what lies downstream of it).")
    return "intervening on a descendant (x or y) never changes its ancestor z."
