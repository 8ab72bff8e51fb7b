"""Markov-category laws for finite kernels, as property tests over random kernels."""

import pytest
import torch
from hypothesis import given, settings, strategies as st

from workbench.diagrams import (
    Kernel, NotStochasticError, SupportError, Wire, WireMismatchError, copy, copy_all, discard,
    graph_of, identity, permutation, point, random_kernel, state, swap, uniform,
)
from workbench.errors import NonFiniteValueError, ShapeError, UnknownVariableError

SETTINGS = settings(max_examples=25, deadline=None)
NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def wire_types(draw, min_size=0, max_size=2):
    n = draw(st.integers(min_size, max_size))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n, unique=True))
    return tuple(Wire(name, draw(st.integers(1, 3))) for name in names)


@st.composite
def kernel_chains(draw, length=3, batch=False):
    """``length`` composable random kernels, optionally with a batch axis."""
    types = [draw(wire_types()) for _ in range(length + 1)]
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    shape = (draw(st.integers(1, 3)),) if batch else ()
    return [random_kernel(types[i], types[i + 1], batch_shape=shape, generator=g)
            for i in range(length)]


def close(f: Kernel, g: Kernel) -> bool:
    return f.allclose(g, atol=1e-10)


@SETTINGS
@given(kernel_chains())
def test_composition_is_associative_and_stays_stochastic(ks):
    f, g, h = ks
    left, right = (f >> g) >> h, f >> (g >> h)
    assert close(left, right)
    assert left.is_stochastic() and (f >> g).is_stochastic()


@SETTINGS
@given(kernel_chains(length=1))
def test_identities_are_units(ks):
    (f,) = ks
    assert close(identity(f.inputs) >> f, f)
    assert close(f >> identity(f.outputs), f)
    unit = identity(())
    assert close(unit @ f, f) and close(f @ unit, f)


@SETTINGS
@given(kernel_chains(length=4))
def test_parallel_composition_interchanges_with_sequential(ks):
    f, h, g, k = ks          # f >> h and g >> k compose (consecutive in the chain)
    lhs = (f @ g) >> (h @ k)
    rhs = (f >> h) @ (g >> k)
    assert close(lhs, rhs)
    assert lhs.is_stochastic()


@SETTINGS
@given(kernel_chains(length=3))
def test_tensor_is_associative(ks):
    f, g, h = ks
    assert close((f @ g) @ h, f @ (g @ h))


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 3))
def test_copy_is_a_commutative_comonoid(n, m):
    x = Wire("x", n)
    ix = identity([x])
    assert close(copy(x) >> (ix @ discard([x])), ix)             # counit, right
    assert close(copy(x) >> (discard([x]) @ ix), ix)             # counit, left
    assert close(copy(x) >> (copy(x) @ ix), copy(x) >> (ix @ copy(x)))   # coassociative
    assert close(copy(x) >> swap(x, x), copy(x))                 # cocommutative
    y = Wire("y", m)
    # copying a pair is copying each and untangling (the coherence of copy with @)
    both = copy_all([x, y])
    by_hand = (copy(x) @ copy(y)) >> permutation([x, x, y, y], [0, 2, 1, 3])
    assert close(both, by_hand)


@SETTINGS
@given(kernel_chains(length=1, batch=True))
def test_discard_is_natural_every_kernel_is_causal(ks):
    (f,) = ks
    lhs = f >> discard(f.outputs)
    rhs = discard(f.inputs)
    assert lhs.allclose(rhs, atol=1e-10)


@SETTINGS
@given(kernel_chains(length=2))
def test_swap_is_natural_and_an_involution(ks):
    f, g = ks
    sw_in = permutation(f.inputs + g.inputs, list(range(len(f.inputs), len(f.inputs) + len(g.inputs)))
                        + list(range(len(f.inputs))))
    sw_out = permutation(f.outputs + g.outputs,
                         list(range(len(f.outputs), len(f.outputs) + len(g.outputs)))
                         + list(range(len(f.outputs))))
    assert close((f @ g) >> sw_out, sw_in >> (g @ f))
    a, b = Wire("a", 2), Wire("b", 3)
    assert close(swap(a, b) >> swap(b, a), identity([a, b]))


@SETTINGS
@given(kernel_chains(length=3, batch=True))
def test_batched_composition_equals_one_by_one(ks):
    f, g, h = ks
    batched = f >> g >> h
    for i in range(batched.batch_shape[0]):
        one = (Kernel(f.table[i], f.inputs, f.outputs) >> Kernel(g.table[i], g.inputs, g.outputs)
               >> Kernel(h.table[i], h.inputs, h.outputs))
        assert torch.allclose(batched.table[i], one.table, atol=1e-12)


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_disintegration_recomposes_to_the_joint(seed, na, nb, nc):
    a, b, c = Wire("a", na), Wire("b", nb), Wire("c", nc)
    joint = random_kernel([], [a, b, c], generator=torch.Generator().manual_seed(seed))
    cond = joint.disintegrate(["c", "a"])                       # (c, a) -> b
    assert cond.input_names == ["c", "a"] and cond.output_names == ["b"]
    assert cond.is_stochastic()
    rebuilt = joint.marginal(["c", "a"]) >> graph_of(cond)
    assert close(rebuilt, joint.reorder(["c", "a", "b"]))
    # by hand: P(b | c, a) = P(a, b, c) / P(a, c)
    t = joint.table
    by_hand = (t / t.sum(1, keepdim=True)).permute(2, 0, 1)
    assert torch.allclose(cond.table, by_hand, atol=1e-12)


def test_condition_is_bayes_rule_by_hand():
    rain, wet = Wire("rain", 2), Wire("wet", 2)
    joint = state([rain], [0.8, 0.2]) >> graph_of(Kernel([[0.9, 0.1], [0.2, 0.8]], [rain], [wet]))
    post = joint.condition({"wet": 1}).table
    evidence = 0.8 * 0.1 + 0.2 * 0.8
    assert torch.allclose(post, torch.tensor([0.08 / evidence, 0.16 / evidence], dtype=torch.float64))


def test_marginal_reorders_and_sums():
    a, b = Wire("a", 2), Wire("b", 3)
    joint = random_kernel([], [a, b], generator=torch.Generator().manual_seed(0))
    assert torch.allclose(joint.marginal(["b"]).table, joint.table.sum(0))
    assert torch.allclose(joint.marginal(["b", "a"]).table, joint.table.T)


def test_kernels_live_on_the_runtime_device():
    from workbench.runtime import device
    k = state([Wire("a", 2)], [0.5, 0.5])
    assert k.table.device.type == device().type
    assert uniform([Wire("a", 2)]).table.device.type == device().type


# -- bad input --------------------------------------------------------------------------
def test_non_stochastic_tables_raise():
    a, b = Wire("a", 2), Wire("b", 2)
    with pytest.raises(NotStochasticError, match="does not sum to 1"):
        Kernel([[0.5, 0.6], [0.5, 0.5]], [a], [b])
    with pytest.raises(NotStochasticError, match="negative"):
        Kernel([[1.5, -0.5], [0.5, 0.5]], [a], [b])
    with pytest.raises(NonFiniteValueError):
        Kernel([[float("nan"), 1.0], [0.5, 0.5]], [a], [b])
    with pytest.raises(ShapeError, match="sizes"):
        Kernel([0.5, 0.5], [a], [b])


def test_mismatched_wires_raise():
    a, b, c = Wire("a", 2), Wire("b", 2), Wire("c", 3)
    f = random_kernel([a], [b])
    with pytest.raises(WireMismatchError, match="names, sizes and order"):
        f >> random_kernel([c], [a])
    with pytest.raises(WireMismatchError):
        f >> random_kernel([Wire("b", 3)], [a])      # same name, other size
    with pytest.raises(WireMismatchError):
        f >> random_kernel([Wire("B", 2)], [a])      # same size, other name


def test_other_bad_input_raises():
    a = Wire("a", 2)
    with pytest.raises(ValueError, match="positive whole number"):
        Wire("a", 0)
    with pytest.raises(ValueError, match="integer in 0..1"):
        point(a, 2)
    joint = state([a, Wire("b", 2)], [[0.5, 0.5], [0.0, 0.0]])
    with pytest.raises(SupportError, match="probability zero"):
        joint.disintegrate(["a"])
    filled = joint.disintegrate(["a"], on_zero="uniform")
    assert torch.allclose(filled.table[1], torch.tensor([0.5, 0.5], dtype=torch.float64))
    with pytest.raises(UnknownVariableError, match="Did you mean 'b'"):
        joint.marginal(["bb"])


@SETTINGS
@given(kernel_chains(length=1, batch=True))
def test_graph_of_is_copy_then_kernel(ks):
    (f,) = ks
    by_structure = copy_all(f.inputs) >> (identity(f.inputs) @ f)
    assert graph_of(f).allclose(by_structure, atol=1e-12)
    assert graph_of(f).is_stochastic()


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_structural_layers_equal_composition_with_dense_kernels(seed, na, nb, nc):
    from workbench.diagrams.kernels import apply_at
    from workbench.diagrams.structural import copy_at, discard_at, permute_at
    a, b, c = Wire("a", na), Wire("b", nb), Wire("c", nc)
    f = random_kernel([c], [a, b, c], generator=torch.Generator().manual_seed(seed), batch_shape=(2,))
    assert copy_at(f, 1, b).allclose(apply_at(f, 1, copy(b)), atol=1e-12)
    assert discard_at(f, 2, c).allclose(apply_at(f, 2, discard([c])), atol=1e-12)
    assert permute_at(f, 0, [a, b, c], [2, 0, 1]).allclose(
        apply_at(f, 0, permutation([a, b, c], [2, 0, 1])), atol=1e-12)
    with pytest.raises(WireMismatchError):
        copy_at(f, 0, b)
