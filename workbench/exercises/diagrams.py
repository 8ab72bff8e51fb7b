"""Exercises of notebook 04 (string-diagram surgery).

The truth comes from the generating model ``workbench.diagrams.smoking_example()``, built
here, never from tables the learner may have changed.

Examples
--------
>>> from workbench.exercises import check
>>> check("04", 2, [True, True, True, True])
Not yet: graph (b) is not covered: condition 3 fails: ....
"""

from __future__ import annotations

import re

import torch

from workbench.exercises._answers import choose, number
from workbench.exercises.registry import Wrong, register

__all__ = ["COVER_GRAPHS"]

#: the four graphs of exercise 2: (edges, hidden variables)
COVER_GRAPHS = {
    "a": ([("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")], ["h"]),
    "b": ([("h", "x"), ("h", "z"), ("x", "z"), ("z", "y")], ["h"]),
    "c": ([("x", "z"), ("z", "y")], []),
    "d": ([("w", "x"), ("h", "x"), ("h", "y"), ("x", "z"), ("z", "y")], ["h"]),
}


def _model():
    from workbench.diagrams import smoking_example

    return smoking_example()


@register("04", 1, answers=("answer_1",),
          solution="p = joint.table                       # axes (smoking, tar, cancer)\n"
                   "p_s = p.sum((1, 2))\n"
                   "p_t_given_s = p.sum(2) / p_s[:, None]\n"
                   "p_c_given_st = p / p.sum(2, keepdim=True)\n"
                   "answer_1 = float(sum(p_t_given_s[0, t] * sum(p_s[s] * p_c_given_st[s, t, 1] for s in range(2))\n"
                   "                     for t in range(2)))",
          blank="set answer_1 to P(cancer = 1 | do(smoking = 0)), a float.")
def _front_door_number(answer):
    m = _model()
    answer = number(answer, "answer_1")
    from workbench.diagrams import interventional_kernel, joint_kernel

    truth = float(interventional_kernel(m, "smoking", ["cancer"]).table[0, 1])
    naive = float(joint_kernel(m).marginal(["smoking", "cancer"]).disintegrate(["smoking"]).table[0, 1])
    if abs(answer - naive) < 1e-6:
        raise Wrong("that is P(cancer = 1 | smoking = 0), the naive conditional, which the "
                    "genotype confounds. Sum over tar: sum_t P(t | s=0) sum_s' P(s') P(c=1 | s', t).")
    if abs(answer - truth) > 1e-9:
        raise Wrong(f"{answer:.4f} is not the front-door value. Check which index is smoking = 0 "
                    "and that the inner sum runs over smoking s', weighted by P(s').")
    return f"P(cancer = 1 | do(smoking = 0)) = {truth:.4f}, from the observational joint alone."


def _covered(key: str) -> tuple[bool, str]:
    from workbench.diagrams import SurgeryConditionsError, surgery_conditions
    from workbench.graphs import dag

    edges, hidden = COVER_GRAPHS[key]
    try:
        surgery_conditions(dag(edges), "x", hidden=hidden)
        return True, ""
    except SurgeryConditionsError as err:
        return False, str(err)


@register("04", 2, answers=("answer_2",), solution="answer_2 = [True, False, True, False]",
          blank="set answer_2 to a list of four booleans, one per graph (a)-(d).")
def _sufficient_condition(answer):
    if not (isinstance(answer, (list, tuple)) and len(answer) == 4
            and all(isinstance(a, bool) for a in answer)):
        raise Wrong(f"answer_2 should be a list of four True/False values, not {answer!r}.")
    for key, said in zip("abcd", answer):
        covered, reason = _covered(key)
        if said != covered:
            found = re.search(r"condition \d fails: [^;]*", reason)
            raise Wrong(f"graph ({key}) is {'' if covered else 'not '}covered: "
                        + (f"{found.group(0)}." if found else "check the four conditions one by one."))
    return "the condition covers (a) and (c) only."


@register("04", 3, answers=("lhs",),
          solution='w = wd.Wire("w", 3)\n'
                   "lhs = wd.copy(w) >> (wd.identity([w]) @ wd.discard([w]))",
          blank="build lhs from wd.copy, wd.identity and wd.discard on a wire with 3 values.")
def _copy_then_discard(lhs):
    from workbench.diagrams import Kernel, identity

    if not isinstance(lhs, Kernel):
        raise Wrong(f"lhs should be a kernel built with >> and @, not {type(lhs).__name__}.")
    if len(lhs.inputs) != 1 or lhs.inputs[0].size != 3:
        raise Wrong(f"lhs should take one wire with 3 values; it takes {list(lhs.inputs)}.")
    if len(lhs.outputs) != 1:
        raise Wrong(f"lhs has {len(lhs.outputs)} output wires {list(lhs.outputs)}: after copying, "
                    "discard one of the two copies.")
    if not lhs.allclose(identity(list(lhs.inputs))):
        raise Wrong("lhs has the right wires but is not the identity: copy, then pass one copy "
                    "through the identity and discard the other.")
    return "copy followed by discarding one copy is the identity."


_WHY = {
    "a": "smoking no longer causes cancer",
    "b": "with no arrow genotype -> smoking there is no back-door path from smoking to cancer",
    "c": "tar blocks every path from the genotype to cancer",
    "d": "the genotype no longer affects cancer",
}


@register("04", 4, answers=("unconfounded", "why_4"),
          solution="tables = dict(m.tables)\n"
                   'tables["smoking"] = torch.tensor([[0.6, 0.4], [0.6, 0.4]], dtype=torch.float64)\n'
                   "unconfounded = wd.causal_tables(m.graph, m.sizes, tables)\n"
                   'why_4 = "b"',
          blank="build unconfounded with wd.causal_tables and set why_4 to a letter a-d.")
def _unconfounded(model, why):
    from workbench.identification import DiscreteCPTModel

    m = _model()
    if not isinstance(model, DiscreteCPTModel):
        raise Wrong(f"unconfounded should be a model made by wd.causal_tables, not {type(model).__name__}.")
    if set(model.tables) != set(m.tables) or set(model.graph.edges) != set(m.graph.edges):
        raise Wrong("keep the smoking model's graph and variables: change only the smoking table.")
    rows = torch.as_tensor(model.tables["smoking"], dtype=torch.float64)
    if rows.shape != (2, 2) or not torch.allclose(rows, torch.tensor([[0.6, 0.4]] * 2, dtype=torch.float64)):
        raise Wrong(f"P(smoking | genotype) is {rows.tolist()}: both rows should be [0.6, 0.4].")
    for name, table in m.tables.items():
        if name != "smoking" and not torch.allclose(torch.as_tensor(model.tables[name], dtype=table.dtype), table):
            raise Wrong(f"you changed the table of {name}; change only smoking's.")
    return "unconfounded, and " + choose(why, _WHY, right="b", hints={
        "a": "smoking still causes cancer (through tar): P(cancer | do(smoking)) still depends on smoking.",
        "c": "tar is not on the path genotype -> cancer; what did you change about smoking?",
        "d": "the genotype still enters cancer's table; what changed is its link to smoking.",
    }) + "."
