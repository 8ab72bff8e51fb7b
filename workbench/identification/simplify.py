"""Simplifying constructors of estimands: products, sums and conditionals, tidied.

The ID algorithm builds its estimand with these three, so that it reads as a person
would write it: factors equal to 1 dropped, a variable summed out of the one
conditional it is the outcome of, factors that do not mention a summed variable moved
in front of the sum (the expression types are :mod:`~workbench.identification.expressions`).

Examples
--------
>>> from workbench.identification.expressions import Probability
>>> print(marginalize(Probability(["y"], ["x"]) * Probability(["x"]), ["x"]))
sum_{x} P(y | x) P(x)
>>> print(marginalize(Probability(["x", "y"]), ["x"]))
P(y)
"""

from __future__ import annotations

from typing import Iterable

from workbench.identification.expressions import (
    ONE, Expression, Fraction, Probability, Product, Sum, _flatten, _key,
)

__all__ = ["product", "marginalize", "conditional"]


def product(factors: Iterable[Expression]) -> Expression:
    """A flattened product without factors equal to 1; a single factor is returned as is.

    Examples
    --------
    >>> from workbench.identification.expressions import ONE, Probability
    >>> print(product([Probability(["x"]), ONE]))
    P(x)
    """
    flat = _flatten(factors)
    return flat[0] if len(flat) == 1 else Product(flat)


def _sum_out_of_probability(p: Probability, w) -> Expression:
    """``sum_w P(A | B) = P(A - w | B)`` for ``w`` in ``A`` (and 1 when ``A = {w}``)."""
    rest = [v for v in p.outcomes if v != w]
    return Probability(rest, p.given) if rest else ONE


def marginalize(expression: Expression, over: Iterable) -> Expression:
    """``sum_{over} expression``, simplified by identities of probability.

    A variable that is the outcome of exactly one conditional and appears nowhere
    else is summed out of that conditional; factors that do not mention any summed
    variable move in front of the sum; nested sums merge.

    Examples
    --------
    >>> from workbench.identification.expressions import Probability
    >>> print(marginalize(Probability(["y", "z"], ["x"]), ["z"]))
    P(y | x)
    """
    over = set(over) & set(expression.free_variables())
    if not over:
        return expression
    if isinstance(expression, Sum):
        return marginalize(expression.expression, over | set(expression.over))
    factors = list(expression.factors) if isinstance(expression, Product) else [expression]
    changed = True
    while changed:
        changed = False
        for w in sorted(over, key=_key):
            holders = [i for i, f in enumerate(factors) if w in f.free_variables()]
            if len(holders) == 1 and isinstance(factors[holders[0]], Probability) \
                    and w in factors[holders[0]].outcomes:
                factors[holders[0]] = _sum_out_of_probability(factors[holders[0]], w)
                factors = [f for f in factors if f != ONE]
                over.discard(w)
                changed = True
            elif not holders:
                over.discard(w)  # cannot happen for free variables; kept for safety
    if not over:
        return product(factors)
    outside = [f for f in factors if not (f.free_variables() & over)]
    inside = [f for f in factors if f.free_variables() & over]
    inner = Sum(tuple(over), product(inside))
    return product(outside + [inner]) if outside else inner


def conditional(q: Expression, scope: Iterable, targets: Iterable, given: Iterable) -> Expression:
    """``Q(targets | given)`` for a distribution expression ``q`` over the variables ``scope``.

    When ``q`` is the observational joint (or a marginal of it) this is simply
    ``P(targets | given)``; otherwise ``sum_{scope - targets - given} q`` divided by
    ``sum_{scope - given} q``.

    Examples
    --------
    >>> from workbench.identification.expressions import Probability
    >>> print(conditional(Probability(["x", "y"]), {"x", "y"}, ["y"], ["x"]))
    P(y | x)
    """
    scope, targets, given = set(scope), set(targets), set(given)
    if isinstance(q, Probability) and not q.given:
        return Probability(targets, given)
    numerator = marginalize(q, scope - targets - given)
    denominator = marginalize(q, scope - given)
    if denominator == ONE:
        return numerator
    return Fraction(numerator, denominator)
