"""Diagrams, the interpretation functor, causal diagrams and the surgery endofunctor."""

import pytest
import torch
from hypothesis import given, settings, strategies as st

from workbench.diagrams import (
    Diagram, DiagramError, Wire, WireMismatchError, box, causal_diagram, copy, copy_box, cut,
    cut_boxes, discard, discard_box, do_box, identity, interpret, permutation, permute_box,
    map_boxes, random_kernel, swap, swap_box, uniform,
)
from workbench.diagrams.models import diagram_of, joint_kernel, random_front_door
from workbench.errors import UnknownVariableError
from workbench.graphs import dag

SETTINGS = settings(max_examples=20, deadline=None)


@st.composite
def boxes_with_tables(draw):
    """Two composable boxes f : A -> B, g : B -> C and a third h : D -> E, with tables."""
    size = st.integers(1, 3)
    a, b, c = Wire("a", draw(size)), Wire("b", draw(size)), Wire("c", draw(size))
    d, e = Wire("d", draw(size)), Wire("e", draw(size))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    batch = draw(st.sampled_from([(), (2,)]))
    tables = {"f": random_kernel([a], [b, c], generator=gen, batch_shape=batch),
              "g": random_kernel([b, c], [a], generator=gen, batch_shape=batch),
              "h": random_kernel([d], [e], generator=gen, batch_shape=batch)}
    return box("f", [a], [b, c]), box("g", [b, c], [a]), box("h", [d], [e]), tables


@SETTINGS
@given(boxes_with_tables())
def test_interpretation_preserves_composition(data):
    f, g, h, tables = data
    sub = lambda *names: {n: tables[n] for n in names}  # noqa: E731
    assert interpret(f >> g, sub("f", "g")).allclose(interpret(f, sub("f")) >> interpret(g, sub("g")))
    assert interpret(f @ h, sub("f", "h")).allclose(interpret(f, sub("f")) @ interpret(h, sub("h")))
    # interchange: (f @ h) >> (g @ id) == (f >> g) @ h, both as diagrams and as kernels
    lhs = (f @ h) >> (g @ Diagram.id(h.cod))
    rhs = (f >> g) @ h
    assert lhs.dom == rhs.dom and lhs.cod == rhs.cod
    assert interpret(lhs, tables).allclose(interpret(rhs, tables))
    assert interpret(lhs, tables).is_stochastic()


def test_interpretation_sends_generators_to_the_structural_kernels():
    a, b = Wire("a", 2), Wire("b", 3)
    assert interpret(copy_box(a), {}).allclose(copy(a))
    assert interpret(discard_box(a), {}).allclose(discard([a]))
    assert interpret(swap_box(a, b), {}).allclose(swap(a, b))
    assert interpret(permute_box([a, b, a], [2, 0, 1]), {}).allclose(permutation([a, b, a], [2, 0, 1]))
    assert interpret(do_box(b), {}).allclose(uniform([b]))
    assert interpret(do_box(b, 2), {}).table.tolist() == [0.0, 0.0, 1.0]
    assert interpret(Diagram.id([a, b]), {}).allclose(identity([a, b]))


def test_causal_diagram_of_the_front_door_by_hand():
    #   h (hidden)
    #  /  \
    # x -> z -> y
    m = random_front_door(seed=3, sizes={"h": 2, "x": 2, "z": 3, "y": 2})
    d = diagram_of(m)
    assert [w.name for w in d.cod] == ["x", "z", "y"]
    assert sorted(b.name for b in d.boxes if b.kind == "box") == ["h", "x", "y", "z"]
    # h is copied once (for its two children) and never output; x and z copied once each
    copies = [b.dom[0].name for b in d.boxes if b.kind == "copy"]
    assert sorted(copies) == ["h", "x", "z"]
    t = m.tables
    by_hand = torch.einsum("h,hx,xz,hzy->xzy", t["h"], t["x"], t["z"], t["y"])
    assert torch.allclose(joint_kernel(m).table, by_hand, atol=1e-12)


def test_causal_diagram_options_and_errors():
    g = dag([("a", "b"), ("a", "c")])
    d = causal_diagram(g, {"a": 2, "b": 2, "c": 2}, outputs=["c", "a", "b"])
    assert [w.name for w in d.cod] == ["c", "a", "b"]
    with pytest.raises(UnknownVariableError, match="sizes"):
        causal_diagram(g, {"a": 2, "b": 2})
    with pytest.raises(UnknownVariableError, match="Did you mean 'a'"):
        causal_diagram(g, {"a": 2, "b": 2, "c": 2}, hidden=["aa"])
    # a hidden variable with no children is discarded
    d = causal_diagram(g, {"a": 2, "b": 2, "c": 2}, hidden=["c"])
    assert [w.name for w in d.cod] == ["a", "b"] and d.boxes[-1].kind == "discard"


def test_surgery_is_an_endofunctor():
    m = random_front_door(seed=1)
    d = diagram_of(m)
    k = next(i for i, b in enumerate(d.boxes) if b.name == "x") + 1
    first = Diagram(d.dom, d.layers[:k])
    second = Diagram(first.cod, d.layers[k:])
    assert first >> second == d
    assert cut(d, "x") == cut(first, "x") >> second        # cut acts box by box
    assert map_boxes(d, lambda b: None) == d                 # the identity functor
    with pytest.raises(UnknownVariableError, match="box to cut"):
        cut(second, "x")                                     # x's box is in the first half
    assert cut_boxes(cut(d, "x")) == ["x"]
    boxes = lambda part: {b.name for b in part.boxes if b.kind == "box"} - {"x"}  # noqa: E731
    whole = interpret(cut(d, "x"), {n: m.tables[n] for n in boxes(d)})
    pieces = (interpret(cut(first, "x"), {n: m.tables[n] for n in boxes(first)})
              >> interpret(second, {n: m.tables[n] for n in boxes(second)}))
    assert whole.allclose(pieces)


def test_cut_replaces_the_box_by_discards_and_a_state():
    m = random_front_door(seed=0)
    before = diagram_of(m)
    after = cut(before, "x", value=1)
    assert after.dom == before.dom and after.cod == before.cod
    assert "x" not in [b.name for b in after.boxes if b.kind == "box"]
    do = [b for b in after.boxes if b.kind == "do"]
    assert len(do) == 1 and do[0].data == 1 and do[0].cod[0].name == "x"
    # with a point state, x is always 1 in the joint
    joint = interpret(after, {n: t for n, t in m.tables.items() if n != "x"})
    assert torch.allclose(joint.marginal(["x"]).table, torch.tensor([0.0, 1.0], dtype=torch.float64))


def test_bad_diagrams_raise_typed_errors():
    a, b = Wire("a", 2), Wire("b", 2)
    f = box("f", [a], [b])
    with pytest.raises(WireMismatchError, match="ends in"):
        f >> f
    with pytest.raises(DiagramError, match="has no table"):
        interpret(f, {})
    with pytest.raises(UnknownVariableError, match="Did you mean 'f'"):
        interpret(f, {"f": [[0.5, 0.5], [0.5, 0.5]], "ff": [0.5, 0.5]})
    with pytest.raises(ValueError, match="does not sum to 1"):
        interpret(f, {"f": [[0.5, 0.6], [0.5, 0.5]]})
    with pytest.raises(WireMismatchError, match="the box needs"):
        interpret(f, {"f": random_kernel([a], [Wire("c", 2)])})
    with pytest.raises(UnknownVariableError, match="box to cut"):
        cut(f, "g")
    with pytest.raises(ValueError, match="integer in 0..1"):
        cut(f, "f", value=5)
    with pytest.raises(DiagramError, match="not a permutation"):
        permute_box([a, b], [0, 0])
