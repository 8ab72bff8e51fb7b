"""SCMs refuse what they cannot answer: continuous table parents, fractional or unknown
categories, empty sample counts, and draws larger than memory.

Reproducers from issue 11 ("no silent wrong answers").
"""

import pyro.distributions as dist
import pytest
import torch

from workbench.errors import ShapeError, WorkbenchInputError
from workbench.scm import (
    SCM, CategoryError, DiscreteCPT, FunctionMechanism, LinearGaussian, MemoryBudgetError,
    ParentTableError, random_discrete_scm,
)
from workbench.scm.budget import bytes_per_unit

COIN = torch.tensor([0.4, 0.6])
GIVEN = torch.tensor([[0.9, 0.1], [0.2, 0.8]])


def _discrete():
    return SCM({"c": DiscreteCPT([], COIN), "y": DiscreteCPT(["c"], GIVEN)})


def test_a_continuous_parent_of_a_table_is_refused():
    """Before: a = -2.18 silently read row -2 of the table."""
    with pytest.raises(ParentTableError, match="'a' is continuous"):
        SCM({"a": LinearGaussian(), "b": DiscreteCPT(["a"], GIVEN)})


def test_a_table_needs_one_row_per_parent_category():
    """Before: a parent with 3 categories and a 2-row table crashed with an IndexError."""
    with pytest.raises(ParentTableError, match="2 rows for its parent 'a', which has 3 categories"):
        SCM({"a": DiscreteCPT([], torch.tensor([0.2, 0.3, 0.5])), "b": DiscreteCPT(["a"], GIVEN)})
    discretised = FunctionMechanism(["x"], lambda pa, u: (pa[..., 0] + u > 0).long(),
                                    dist.Normal(0.0, 1.0), cardinality=2)
    m = SCM({"x": LinearGaussian(), "d": discretised, "b": DiscreteCPT(["d"], GIVEN)})
    assert set(m.sample(50, seed=0)["b"].tolist()) <= {0, 1}


def test_fractional_factual_category_is_refused():
    """Before: factual c = 0.7 was truncated to category 0."""
    unit = {"c": torch.tensor([0.7]), "y": torch.tensor([1])}
    with pytest.raises(CategoryError, match=r"factual\['c'\] = 0.7"):
        _discrete().counterfactual(unit, {"c": 0}, n_samples=4)
    ok = _discrete().counterfactual({"c": torch.tensor([1.0]), "y": torch.tensor([1])}, {"c": 0}, n_samples=4)
    assert ok.factual["c"].dtype == torch.long


def test_out_of_range_factual_category_is_a_typed_error():
    """Before: factual 5 on a 2-category variable crashed with a RuntimeError."""
    with pytest.raises(CategoryError, match=r"factual\['c'\] = 5 .* 0..1"):
        _discrete().counterfactual({"c": torch.tensor([5]), "y": torch.tensor([1])}, {"c": 0}, n_samples=4)
    with pytest.raises(CategoryError):
        _discrete().counterfactual({"c": torch.tensor([-1]), "y": torch.tensor([1])}, {"c": 0})


@pytest.mark.parametrize("value", [5, 0.5, -1])
def test_condition_on_a_non_category_is_refused(value):
    """Before: condition(c=5) crashed with an IndexError; c=0.5 returned c = 0.5 samples."""
    with pytest.raises(CategoryError, match=r"condition\(c=...\)"):
        _discrete().condition(c=value)


@pytest.mark.parametrize("kw", [dict(n_samples=0), dict(n_samples=-2), dict(n_samples=1.5),
                                dict(particles=0)])
def test_counterfactual_counts_must_be_positive_integers(kw):
    """Before: n_samples=0 crashed with "shape '[0, 1, -1]' is invalid"."""
    with pytest.raises(WorkbenchInputError, match=next(iter(kw))):
        _discrete().counterfactual({"c": torch.tensor([1]), "y": torch.tensor([1])}, {"c": 0}, **kw)


def test_a_draw_larger_than_memory_is_refused_before_allocating():
    """Before: sample(10**12) asked the allocator for 4 TB and failed with its RuntimeError."""
    m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 1.0})})
    with pytest.raises(MemoryBudgetError, match=r"sample\(1000000000000\) needs about 48 TB"):
        m.sample(10**12)
    with pytest.raises(MemoryBudgetError):
        m.model(10**12)
    with pytest.raises(MemoryBudgetError, match="counterfactual"):
        _discrete().counterfactual({"y": torch.ones(10**6, dtype=torch.long)}, {"c": 0},
                                   particles=10**7)
    assert m.sample(10, seed=0)["y"].shape == (10,)


def test_memory_estimate_counts_table_noise():
    m = random_discrete_scm(4, seed=0)
    expected = sum(8 + 4 * mech.cardinality for mech in m.mechanisms.values()) * 2
    assert bytes_per_unit(m) == expected


def test_abduction_through_a_step_function_keeps_the_posterior():
    """Before: a float step ``(pa + u > 0).float()`` crashed in the Newton refinement
    (autograd has no slope through a comparison). Now the chosen prior draw stands: every
    abducted noise reproduces its value, and their mean is the truncated normal's."""
    step = FunctionMechanism(["x"], lambda pa, u: (pa[..., 0] + u > 0).float(), dist.Normal(0.0, 1.0))
    torch.manual_seed(0)
    n = 4000
    value, pa = torch.ones(n), torch.zeros(n, 1)
    u = step.abduct(value, pa)
    assert torch.equal(step(pa, u), value)
    # E[u | u > 0] for a standard normal is sqrt(2 / pi) = 0.798; the standard error is 0.01
    assert abs(float(u.mean()) - (2 / torch.pi) ** 0.5) < 0.04
    below = step.abduct(torch.zeros(n), torch.full((n, 1), 1.0))   # u <= -1
    assert bool((below <= -1.0).all())


@pytest.mark.parametrize("pa, error, message", [
    (torch.tensor([[-1]]), CategoryError, "got -1"),          # before: read the last row
    (torch.tensor([[0.7]]), CategoryError, "got 0.7"),        # before: truncated to row 0
    (torch.tensor([[2]]), CategoryError, "categories 0..1"),  # before: an IndexError
    (torch.tensor([[0, 1]]), ShapeError, r"shape \(\.\.\., 1\)"),  # before: a wrong shape, silently
])
def test_a_lone_table_refuses_parent_values_that_are_not_its_categories(pa, error, message):
    """Outside an SCM nothing checked a table's parent values before indexing with them."""
    cpt = DiscreteCPT(["a"], GIVEN)
    with pytest.raises(error, match=message):
        cpt(pa, torch.zeros(1, 2))
    assert cpt(torch.tensor([[1.0]]), torch.zeros(1, 2)).tolist() == [1]
