"""Surgery refusals say what is true: who is the child, and whether anything can identify it.

Reproducer from issue 11: the bow graph's refusal called the outcome a "mediator" and
said the do-calculus "may still identify" an effect that is provably not identifiable.
"""

import pytest

from workbench.diagrams import SurgeryConditionsError, surgery_conditions
from workbench.graphs import admg, dag
from workbench.graphs.projection import latent_projection


def test_bow_refusal_says_not_identifiable_and_calls_y_a_child():
    with pytest.raises(SurgeryConditionsError) as info:
        surgery_conditions(dag([("h", "x"), ("h", "y"), ("x", "y")]), "x", hidden=["h"])
    message = str(info.value)
    assert "'y', a child of 'x'" in message and "mediator 'y'" not in message
    assert "not identifiable" in message and "hedge" in message
    assert "may still" not in message


def test_identifiable_refusal_gives_the_estimand():
    """z -> x -> y with a hidden h -> z, h -> y: back-door through z, not a surgery shape."""
    g = dag([("h", "z"), ("h", "y"), ("z", "x"), ("x", "y")])
    with pytest.raises(SurgeryConditionsError, match=r"condition 1 fails.*does identify P\(y, z \| do\(x\)\) = "):
        surgery_conditions(g, "x", hidden=["h"])


def test_latent_projection_by_hand():
    g = dag([("h1", "a"), ("h1", "h2"), ("h2", "b"), ("a", "h3"), ("h3", "c"), ("b", "c")])
    p = latent_projection(g, ["h1", "h2", "h3"])
    assert sorted(p.directed.edges()) == [("a", "c"), ("b", "c")]
    assert sorted(tuple(sorted(e)) for e in p.bidirected.edges()) == [("a", "b")]
    bow = latent_projection(admg([("x", "y")], bidirected=[("x", "y")]), [])
    assert bow.has_bidirected("x", "y") and list(bow.directed.edges()) == [("x", "y")]
