"""Checkers for the self-checking exercises of notebook 03 (identification).

Each checker compares a learner's answer with what the library computes and either
returns a short confirmation or raises ``AssertionError`` with a hint, so an exercise
cell is just ``check_...(answer)``.

Examples
--------
>>> from workbench.identification import FIXTURES, Probability, Sum, Product
>>> g = FIXTURES["backdoor"].graph
>>> check_adjustment_set(g, "x", "y", {"z"})
'Correct: {z} satisfies the back-door criterion.'
>>> print(check_identifiable(FIXTURES["bow"].graph, "x", "y", False))
Correct: not identifiable (hedge F = [x, y], F' = [y]).
>>> answer = Sum(("z",), Product((Probability(["y"], ["x", "z"]), Probability(["z"]))))
>>> check_estimand(g, "x", "y", answer)
'Correct: your estimand equals P(y | do(x)) on 3 random models (max error 1.1e-16).'
"""

from __future__ import annotations

from workbench.identification._inputs import as_set, check_query
from workbench.identification.criteria import check_backdoor
from workbench.identification.expressions import Expression
from workbench.identification.id_algorithm import identify
from workbench.identification.truth import random_discrete_model

__all__ = ["check_adjustment_set", "check_identifiable", "check_estimand"]


def _names(nodes) -> str:
    return "{" + ", ".join(sorted(map(str, nodes))) + "}" if nodes else "∅"


def check_adjustment_set(graph, treatments, outcomes, answer) -> str:
    """Is ``answer`` a valid back-door adjustment set? Explains the failing condition.

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> check_adjustment_set(FIXTURES["backdoor"].graph, "x", "y", {"z"})
    'Correct: {z} satisfies the back-door criterion.'
    """
    check = check_backdoor(graph, treatments, outcomes, as_set(answer))
    failed = [text for text, ok in check.conditions if not ok]
    assert not failed, f"Not quite: {_names(as_set(answer))} fails: {failed[0]}."
    return f"Correct: {_names(as_set(answer))} satisfies the back-door criterion."


def check_identifiable(graph, treatments, outcomes, answer: bool) -> str:
    """Does ``answer`` (True/False) match ID's verdict?

    Examples
    --------
    >>> from workbench.identification import FIXTURES
    >>> check_identifiable(FIXTURES["bow"].graph, "x", "y", False)
    "Correct: not identifiable (hedge F = [x, y], F' = [y])."
    """
    result = identify(graph, treatments, outcomes)
    if result.identifiable:
        assert answer is True, (
            "Not quite: it is identifiable. Run wi.identify(...) and read the derivation.")
        return f"Correct: identifiable, P = {result.estimand}."
    assert answer is False, ("Not quite: it is not identifiable. Look for two c-components, "
                             "one inside the other, around the treatment.")
    h = result.hedge
    return (f"Correct: not identifiable (hedge F = [{', '.join(sorted(map(str, h.F)))}], "
            f"F' = [{', '.join(sorted(map(str, h.F_prime)))}]).")


def check_estimand(graph, treatments, outcomes, answer: Expression, *, models: int = 3,
                   tol: float = 1e-9) -> str:
    """Evaluate ``answer`` on the exact tables of random models and compare with the truth.

    Examples
    --------
    >>> from workbench.identification import FIXTURES, Probability
    >>> check_estimand(FIXTURES["backdoor"].graph, "x", "y", Probability(["y"], ["x"]))
    Traceback (most recent call last):
    ...
    AssertionError: ...
    """
    g, x, y = check_query(graph, treatments, outcomes, need_treatment=True)
    assert isinstance(answer, Expression), (
        "Build the answer from Probability, Product, Sum and Fraction "
        f"(got a {type(answer).__name__}).")
    worst = 0.0
    for seed in range(models):
        model = random_discrete_model(g, seed=seed, cardinality=2 + seed % 2)
        estimate = answer.evaluate(model.observational())
        worst = max(worst, estimate.max_abs_diff(model.interventional(x, y)))
    assert worst < tol, (
        f"Not quite: on a random model your estimand is off by up to {worst:.3f}. Check "
        "which variables you condition on and which you sum over.")
    return f"Correct: your estimand equals P(y | do(x)) on {models} random models (max error {worst:.1e})."
