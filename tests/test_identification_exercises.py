"""The notebook's exercise checkers accept right answers and reject wrong ones."""

import pytest

from workbench.identification import FIXTURES, Probability, Product, Sum
from workbench.identification.exercises import (
    check_adjustment_set, check_estimand, check_identifiable,
)


def test_adjustment_checker():
    assert check_adjustment_set(FIXTURES["m_bias"].graph, "x", "y", set()).startswith("Correct")
    with pytest.raises(AssertionError, match="back-door path"):
        check_adjustment_set(FIXTURES["m_bias"].graph, "x", "y", {"m"})


def test_identifiable_checker():
    assert check_identifiable(FIXTURES["napkin"].graph, "x", "y", True).startswith("Correct")
    with pytest.raises(AssertionError, match="not identifiable"):
        check_identifiable(FIXTURES["iv"].graph, "x", "y", True)
    with pytest.raises(AssertionError, match="is identifiable"):
        check_identifiable(FIXTURES["frontdoor"].graph, "x", "y", False)


def test_estimand_checker():
    g = FIXTURES["frontdoor"].graph
    inner = Sum(("x",), Product((Probability(["x"]), Probability(["y"], ["x", "z"]))))
    right = Sum(("z",), Product((Probability(["z"], ["x"]), inner)))
    assert check_estimand(g, "x", "y", right).startswith("Correct")
    with pytest.raises(AssertionError, match="off by"):
        check_estimand(g, "x", "y", Probability(["y"], ["x"]))
    with pytest.raises(AssertionError, match="Build the answer"):
        check_estimand(g, "x", "y", "P(y|x)")
