"""Exercises of notebook 03 (identification), built on ``workbench.identification.exercises``.

The graphs of the exercises live here, so the checkers never depend on a graph the
learner may have edited.

Examples
--------
>>> from workbench.exercises import check
>>> check("03", 1, set())
Not yet: ∅ fails: Z blocks every back-door path: ...
"""

from __future__ import annotations

from workbench.exercises.registry import Wrong, register
from workbench.graphs import admg
from workbench.identification import FIXTURES
from workbench.identification import exercises as wie

__all__ = ["GRAPHS"]

#: the graph of each exercise, by number
GRAPHS = {
    1: admg([("a", "x"), ("a", "b"), ("b", "y"), ("x", "y"), ("c", "x"), ("c", "y")]),
    2: admg([("x", "z"), ("z", "y")], bidirected=[("x", "z")]),
    3: FIXTURES["backdoor"].graph,
}


def _hint(err: AssertionError) -> str:
    return str(err).removeprefix("Not quite: ")


@register("03", 1, answers=("answer1",), solution='answer1 = {"b", "c"}',
          blank='set answer1 to a set of variable names, e.g. {"a"}.')
def _adjustment_set(answer):
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        raise Wrong(f"answer1 should be a set of names such as {{'a'}}, not {answer!r}.")
    unknown = set(answer) - set(GRAPHS[1].nodes)
    if unknown:
        raise Wrong(f"{sorted(unknown)} is not in the graph; its nodes are a, b, c, x, y.")
    try:
        return wie.check_adjustment_set(GRAPHS[1], "x", "y", answer).removeprefix("Correct: ")
    except AssertionError as err:
        raise Wrong(_hint(err)) from None


@register("03", 2, answers=("answer2",), solution="answer2 = False",
          blank="set answer2 to True or False.")
def _identifiable(answer):
    if not isinstance(answer, bool):
        raise Wrong(f"answer2 should be True or False, not {answer!r}.")
    try:
        return wie.check_identifiable(GRAPHS[2], "x", "y", answer).removeprefix("Correct: ")
    except AssertionError as err:
        raise Wrong(_hint(err)) from None


@register("03", 3, answers=("answer3",),
          solution='answer3 = wi.Sum(["z"], wi.Probability(["y"], ["x", "z"]) * wi.Probability(["z"]))',
          blank="set answer3 to an expression built from wi.Probability, * and wi.Sum.")
def _backdoor_estimand(answer):
    try:
        return wie.check_estimand(GRAPHS[3], "x", "y", answer).removeprefix("Correct: ")
    except AssertionError as err:
        raise Wrong(_hint(err)) from None


@register("03", 4, answers=("ate4", "naive_inside"), context=("samples_fd",),
          solution='r = we.estimate_effect(samples_fd, "x", "y", mediator="z", method="ipw")\n'
                   "ate4 = r.value\n"
                   'seen = {k: v.double() for k, v in samples_fd.items()}\n'
                   'naive = float(seen["y"][seen["x"] == 1].mean() - seen["y"][seen["x"] == 0].mean())\n'
                   "naive_inside = r.low <= naive <= r.high",
          blank="set ate4 to a number and naive_inside to True or False.")
def _frontdoor_ipw(ate, inside, *, samples_fd):
    from workbench.estimation import estimate_effect
    from workbench.exercises._answers import number

    ate = number(ate, "ate4")
    r = estimate_effect(samples_fd, "x", "y", mediator="z", method="ipw")
    seen = {k: v.double() for k, v in samples_fd.items()}
    naive = float(seen["y"][seen["x"] == 1].mean() - seen["y"][seen["x"] == 0].mean())
    if abs(ate - naive) < 1e-9:
        raise Wrong("that is the naive difference of means, which the hidden gene confounds; "
                    "use the front-door formula: estimate_effect(..., mediator='z', method='ipw').")
    if abs(ate - r.value) > 1e-6:
        raise Wrong(f"{ate:.4f} is not the front-door IPW estimate on samples_fd; check the "
                    "treatment, mediator and outcome names (x, z, y).")
    if not isinstance(inside, bool):
        raise Wrong(f"naive_inside should be True or False, not {inside!r}.")
    if inside != r.covers(naive):
        raise Wrong(f"the interval is [{r.low:.3f}, {r.high:.3f}] and the naive difference is "
                    f"{naive:.3f}: look again.")
    return (f"ATE {r.value:.4f} [{r.low:.3f}, {r.high:.3f}]; the naive {naive:.3f} is "
            f"{'inside' if r.covers(naive) else 'far outside'} it.")
