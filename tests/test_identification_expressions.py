"""Discrete tables and estimand expressions: numbers against closed forms and by-hand sums."""

import pytest
import torch

from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError
from workbench.identification import (
    PositivityError, PositivityWarning, ONE, DiscreteTable, DoProbability, Fraction, Probability, Product, Sum, marginalize, product,
)


def _joint(seed=0, shape=(2, 3, 2), names=("x", "z", "y")):
    t = torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return DiscreteTable(names, t / t.sum())


def test_conditional_matches_by_hand():
    p = _joint()
    cond = p.conditional(["y"], ["x"]).permute(["x", "y"]).values
    pxy = p.values.sum(1)
    assert torch.allclose(cond, pxy / pxy.sum(1, keepdim=True))


def test_backdoor_formula_by_hand():
    p = _joint()
    expr = marginalize(product([Probability(["y"], ["x", "z"]), Probability(["z"])]), ["z"])
    t = p.values
    pz = t.sum((0, 2))
    py_xz = t / t.sum(2, keepdim=True)
    by_hand = (py_xz * pz[None, :, None]).sum(1)
    assert torch.allclose(expr.evaluate(p).permute(["x", "y"]).values, by_hand)


def test_simplifications_preserve_value():
    p = _joint(1)
    raw = Sum(("z", "y"), Product((Probability(["z"], ["x"]), Probability(["y"], ["x", "z"]))))
    simple = marginalize(raw.expression, ["z", "y"])
    assert simple == ONE  # a chain of conditionals sums to one
    assert raw.evaluate(p).max_abs_diff(DiscreteTable((), 1.0)) < 1e-12
    m = marginalize(Probability(["x", "z", "y"]), ["z"])
    assert m == Probability(["x", "y"])
    # a factor that does not mention z moves out of the sum
    e = marginalize(product([Probability(["x"]), Probability(["y"], ["z"]), Probability(["z"], ["x"])]), ["z"])
    assert isinstance(e, Product) and e.factors[0] == Probability(["x"])
    unsimplified = Sum(("z",), Product((Probability(["x"]), Probability(["y"], ["z"]), Probability(["z"], ["x"]))))
    assert e.evaluate(p).max_abs_diff(unsimplified.evaluate(p)) < 1e-12


def test_shadowed_bound_variable():
    """sum_x' P(x') P(y | x', z) inside a formula that also uses x: factor semantics."""
    p = _joint(2)
    inner = Sum(("x",), Product((Probability(["x"]), Probability(["y"], ["x", "z"]))))
    expr = Sum(("z",), Product((Probability(["z"], ["x"]), inner)))
    t = p.values
    px, pz_x = t.sum((1, 2)), t.sum(2) / t.sum((1, 2))[:, None]
    py_xz = t / t.sum(2, keepdim=True)
    inner_hand = torch.einsum("a,azy->zy", px, py_xz)
    by_hand = torch.einsum("xz,zy->xy", pz_x, inner_hand)
    assert torch.allclose(expr.evaluate(p).permute(["x", "y"]).values, by_hand)
    assert "x'" in expr.to_latex() and r"\mid" in expr.to_latex()


def test_sum_over_absent_variable_multiplies_by_cardinality():
    p = _joint()
    assert float(Sum(("z",), ONE).evaluate(p).values) == 3.0


def test_fraction_zero_denominator_is_undefined_never_zero():
    """0/0 used to evaluate to 0, so a row of P(y | x) silently summed to 0 (issue 11)."""
    p = DiscreteTable(("x", "y"), torch.tensor([[0.5, 0.5], [0.0, 0.0]]))
    with pytest.raises(PositivityError, match="x=1"):
        Fraction(Probability(["x", "y"]), Probability(["x"])).evaluate(p)
    with pytest.warns(PositivityWarning):
        out = Fraction(Probability(["x", "y"]), Probability(["x"])).evaluate(p, on_undefined="nan")
    assert out.values[0].tolist() == [0.5, 0.5] and torch.isnan(out.values[1]).all()


def test_from_samples_counts():
    t = DiscreteTable.from_samples({"a": torch.tensor([0, 1, 1, 2]), "b": torch.tensor([1, 1, 0, 1])})
    assert t.values.tolist() == [[0.0, 0.25], [0.25, 0.25], [0.0, 0.25]]
    with pytest.raises(ValueError, match="0..1"):
        DiscreteTable.from_samples({"a": torch.tensor([0, 2])}, {"a": 2})


def test_table_errors():
    with pytest.raises(ShapeError):
        DiscreteTable(("x",), torch.ones(2, 2))
    with pytest.raises(NonFiniteValueError):
        DiscreteTable(("x",), torch.tensor([float("nan"), 1.0]))
    with pytest.raises(UnknownVariableError, match="Did you mean 'x'"):
        _joint().marginal(["xx"])
    with pytest.raises(ShapeError, match="values"):
        DiscreteTable(("x",), torch.ones(2)) * DiscreteTable(("x",), torch.ones(3))
    with pytest.raises(UnknownVariableError):
        Probability(["w"]).evaluate(_joint())


def test_do_probability_prints_but_does_not_evaluate():
    q = DoProbability(["y"], ["x"], ["w"])
    assert str(q) == "P(y | do(x), w)"
    assert q.to_latex() == r"P(y \mid \mathrm{do}(x), w)"
    with pytest.raises(ValueError, match="identify it first"):
        q.evaluate(_joint(names=("x", "w", "y")))


def test_latex_names():
    e = Probability(["X1", "smoking_status"], ["x"])
    assert e.to_latex() == r"P(X_{1}, \text{smoking}\_\text{status} \mid x)"


def test_operators_build_products_and_fractions():
    a, b, c = Probability(["x"]), Probability(["y"], ["x"]), Probability(["z"])
    assert a * b * c == Product((a, b, c))  # flattened
    assert (a / b) == Fraction(a, b)
    p = _joint(3)
    assert (a * b).evaluate(p).max_abs_diff(Probability(["x", "y"]).evaluate(p)) < 1e-12
    with pytest.raises(TypeError):
        a * 2
