"""Estimands as small expression trees: printed as LaTeX, evaluated on tables.

Four node types cover every formula the ID algorithm returns:
:class:`Probability` ``P(a | b)`` (an observational conditional), :class:`Product`,
:class:`Sum` (a marginalisation over some variables) and :class:`Fraction`.
:class:`DoProbability` ``P(y | do(x))`` names a query; it can be printed but not
evaluated on observational data (that is what identification is for).

Evaluation follows factor semantics: every sub-expression becomes a
:class:`~workbench.identification.tables.DiscreteTable` over its free variables, a
product broadcasts, a sum removes axes. So a bound variable that shadows a free one
(``sum_{x'} P(x') P(y | x', z)`` inside a formula that also uses ``x``) is handled
correctly; LaTeX output primes such bound variables.

The helpers :func:`marginalize` and :func:`product` build *simplified* expressions
(summing a variable out of the one conditional it is the outcome of, pulling
factors that do not depend on the summed variables out of the sum). Every
simplification is an identity of probability theory, and the tests check the
simplified and unsimplified forms give the same numbers.

Examples
--------
>>> import torch
>>> from workbench.identification import DiscreteTable, Probability, Sum, marginalize, product
>>> p = DiscreteTable(("x", "z", "y"), torch.full((2, 2, 2), 1 / 8))
>>> backdoor = marginalize(product([Probability(["y"], ["x", "z"]), Probability(["z"])]), ["z"])
>>> print(backdoor)
sum_{z} P(y | x, z) P(z)
>>> print(backdoor.to_latex())
\\sum_{z} P(y \\mid x, z) \\, P(z)
>>> backdoor == Sum(["z"], Probability(["y"], ["x", "z"]) * Probability(["z"]))
True
>>> backdoor.evaluate(p).values
tensor([[0.5000, 0.5000],
        [0.5000, 0.5000]], dtype=torch.float64)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from workbench.errors import NotIdentifiableError, UnknownVariableError, WorkbenchInputError
from workbench.identification.positivity import Evaluation, settle
from workbench.identification.tables import DiscreteTable

__all__ = [
    "Expression", "Probability", "DoProbability", "Product", "Sum", "Fraction", "ONE", "latex_name",
]


def _key(v) -> str:
    return str(v)


def _sorted(vs: Iterable) -> tuple:
    return tuple(sorted(set(vs), key=_key))


_TEX_ESCAPES = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\hat{}", "~": r"\sim{}"}
_TEX_SPECIAL = re.compile(r"([\\{}$&#%_^~])")


def latex_name(v, rename: dict | None = None) -> str:
    """LaTeX for a variable name: ``x1`` becomes ``x_{1}``, words go in ``\\text{}``.

    TeX's special characters are escaped one by one outside the ``\\text{}`` runs,
    so no name can close a group or inject a command.

    Examples
    --------
    >>> latex_name("x1"), latex_name("smoking_status")
    ('x_{1}', '\\\\text{smoking}\\\\_\\\\text{status}')
    >>> latex_name("a}{b")
    '\\\\text{a}\\\\}\\\\{\\\\text{b}'
    """
    if rename and v in rename:
        return rename[v]
    s = str(v)
    m = re.fullmatch(r"([A-Za-z])_?(\d+)", s)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    if re.fullmatch(r"[A-Za-z]", s):
        return s
    if not _TEX_SPECIAL.search(s):
        return r"\text{" + s + "}"
    runs = _TEX_SPECIAL.split(s)
    return "".join(_TEX_ESCAPES.get(r, r"\text{" + r + "}") for r in runs if r) or r"\text{}"


class Expression:
    """Base class; subclasses are frozen dataclasses.

    Examples
    --------
    >>> e = Probability(["y"], ["x"]) * Probability(["x"])
    >>> type(e).__name__, sorted(e.free_variables())
    ('Product', ['x', 'y'])
    """

    def free_variables(self) -> frozenset:  # pragma: no cover - abstract
        """The variables the expression is a function of (summed ones excluded)."""
        raise NotImplementedError

    def evaluate(self, table: DiscreteTable, *, on_undefined: str = "raise") -> DiscreteTable:
        """Evaluate on a joint table of the observed variables; a table over the free variables.

        Parameters
        ----------
        table : DiscreteTable
            A joint distribution (its entries must sum to one).
        on_undefined : {"raise", "nan"}
            What to do when the estimand divides by a zero-probability cell that
            carries weight (a positivity violation, e.g. a treatment value never seen
            with some value of the adjustment set): ``"raise"`` (default) raises
            :class:`~workbench.identification.tables.PositivityError` naming the
            empty cells; ``"nan"`` returns NaN in exactly the undefined cells and
            issues a :class:`~workbench.identification.tables.PositivityWarning`.
            Cells of zero weight (``P(z) = 0`` in ``sum_z P(y | x, z) P(z)``) are
            not violations and evaluate normally.
        """
        result, evaluation = self.evaluate_raw(table, on_undefined)
        return settle(str(self), result, evaluation, on_undefined)

    def evaluate_raw(self, table: DiscreteTable, on_undefined: str = "raise"):
        """The value with NaN where undefined, and the :class:`Evaluation` record (no checks after)."""
        if on_undefined not in ("raise", "nan"):
            raise WorkbenchInputError(f"on_undefined must be 'raise' or 'nan', got {on_undefined!r}.")
        if not isinstance(table, DiscreteTable):
            raise WorkbenchInputError(
                f"Estimands are evaluated on a DiscreteTable (the observational joint), got "
                f"{type(table).__name__}; build one with DiscreteTable(names, tensor) or "
                "DiscreteTable.from_samples(samples)."
            )
        missing = [v for v in self.observed_variables() if v not in table.variables]
        if missing:
            raise UnknownVariableError(missing[0], table.variables, what="table variable")
        table.check_distribution("The table an estimand is evaluated on")
        evaluation = Evaluation(table)
        return self._eval(table, evaluation), evaluation

    def observed_variables(self) -> frozenset:
        """Every variable named anywhere in the expression (free or bound)."""
        return self.free_variables()

    def to_latex(self) -> str:
        """The expression in LaTeX (a variable summed inside a sum over it is primed)."""
        return self._latex({}, set(self.free_variables()))

    def __str__(self) -> str:
        return self._text()

    def _latex(self, rename: dict, outer: set) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _text(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _repr_latex_(self) -> str:
        return f"${self.to_latex()}$"

    def __mul__(self, other: "Expression") -> "Expression":
        """``a * b`` is the (flattened) product of two expressions."""
        if not isinstance(other, Expression):
            return NotImplemented
        return Product(_flatten([self, other]))

    def __truediv__(self, other: "Expression") -> "Expression":
        """``a / b`` is a :class:`Fraction`."""
        if not isinstance(other, Expression):
            return NotImplemented
        return Fraction(self, other)


def _flatten(factors) -> tuple:
    out = []
    for f in factors:
        out.extend(f.factors if isinstance(f, Product) else [f])
    return tuple(out)


@dataclass(frozen=True)
class Probability(Expression):
    """``P(outcomes | given)`` of the observational distribution.

    Examples
    --------
    >>> print(Probability(["y"], ["x", "z"]))
    P(y | x, z)
    """

    outcomes: tuple
    given: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "outcomes", _sorted(self.outcomes))
        object.__setattr__(self, "given", _sorted(self.given))

    def free_variables(self) -> frozenset:
        """Outcomes and conditioning variables."""
        return frozenset(self.outcomes) | frozenset(self.given)

    def _eval(self, table, ev):
        joint = ev.marginal(self.free_variables())
        if not self.given:
            return joint
        return ev.divide(joint, ev.marginal(self.given), "P({}) = 0")

    def _latex(self, rename, outer):
        out = ", ".join(latex_name(v, rename) for v in self.outcomes)
        if not self.given:
            return f"P({out})"
        return f"P({out} \\mid {', '.join(latex_name(v, rename) for v in self.given)})"

    def _text(self):
        out = ", ".join(map(str, self.outcomes))
        return f"P({out} | {', '.join(map(str, self.given))})" if self.given else f"P({out})"


@dataclass(frozen=True)
class DoProbability(Expression):
    """``P(outcomes | do(treatments), given)``: a causal query, printable but not evaluable.

    Examples
    --------
    >>> print(DoProbability(["y"], ["x"]))
    P(y | do(x))
    """

    outcomes: tuple
    treatments: tuple
    given: tuple = ()

    def __post_init__(self):
        for name in ("outcomes", "treatments", "given"):
            object.__setattr__(self, name, _sorted(getattr(self, name)))

    def free_variables(self) -> frozenset:
        """Outcomes and treatments."""
        return frozenset(self.outcomes) | frozenset(self.treatments) | frozenset(self.given)

    def _eval(self, table, ev):
        raise NotIdentifiableError(
            f"{self} is interventional; identify it first (workbench.identification.identify) "
            "and evaluate the estimand that comes back."
        )

    def _latex(self, rename, outer):
        out = ", ".join(latex_name(v, rename) for v in self.outcomes)
        parts = []
        if self.treatments:
            parts.append(r"\mathrm{do}(" + ", ".join(latex_name(v, rename) for v in self.treatments) + ")")
        parts += [latex_name(v, rename) for v in self.given]
        return f"P({out} \\mid {', '.join(parts)})" if parts else f"P({out})"

    def _text(self):
        parts = [f"do({', '.join(map(str, self.treatments))})"] if self.treatments else []
        parts += [str(v) for v in self.given]
        out = ", ".join(map(str, self.outcomes))
        return f"P({out} | {', '.join(parts)})" if parts else f"P({out})"


@dataclass(frozen=True)
class Product(Expression):
    """The product of ``factors`` (the empty product is the constant 1, :data:`ONE`).

    Examples
    --------
    >>> print(Product((Probability(["z"]), Probability(["y"], ["z"]))))
    P(z) P(y | z)
    """

    factors: tuple

    def __post_init__(self):
        object.__setattr__(self, "factors", tuple(self.factors))

    def free_variables(self) -> frozenset:
        """The union of the factors' free variables."""
        return frozenset().union(*(f.free_variables() for f in self.factors))

    def observed_variables(self) -> frozenset:
        """The union of the factors' observed variables."""
        return frozenset().union(*(f.observed_variables() for f in self.factors))

    def _eval(self, table, ev):
        out = DiscreteTable((), 1.0)
        for f in self.factors:
            out = out.weighted_product(f._eval(table, ev))
        return out

    def _latex(self, rename, outer):
        if not self.factors:
            return "1"
        return r" \, ".join(_wrap_latex(f, rename, outer) for f in self.factors)

    def _text(self):
        if not self.factors:
            return "1"
        return " ".join(f"[{f._text()}]" if isinstance(f, (Sum, Fraction)) and len(self.factors) > 1
                        else f._text() for f in self.factors)


def _wrap_latex(f, rename, outer) -> str:
    s = f._latex(rename, outer)
    return f"\\left({s}\\right)" if isinstance(f, Sum) else s


ONE = Product(())


@dataclass(frozen=True)
class Sum(Expression):
    """``sum_{over} expression``: marginalise the variables ``over``.

    Examples
    --------
    >>> print(Sum(("z",), Probability(["y", "z"])))
    sum_{z} P(y, z)
    """

    over: tuple
    expression: Expression

    def __post_init__(self):
        object.__setattr__(self, "over", _sorted(self.over))

    def free_variables(self) -> frozenset:
        """The inner expression's free variables, less the summed ones."""
        return self.expression.free_variables() - frozenset(self.over)

    def observed_variables(self) -> frozenset:
        """The inner expression's observed variables."""
        return self.expression.observed_variables() | frozenset(self.over)

    def _eval(self, table, ev):
        inner = self.expression._eval(table, ev)
        present = [v for v in self.over if v in inner.variables]
        out = inner.sum_out(present)
        for v in self.over:  # summing a constant over k values multiplies it by k
            if v not in inner.variables:
                out = DiscreteTable._raw(out.variables, out.values * table.cardinalities[v])
        return out

    def _latex(self, rename, outer):
        rename = dict(rename)
        for v in self.over:
            if v in outer:  # a bound variable shadowing one in use outside: prime it
                rename[v] = latex_name(v, rename) + "'"
        idx = ", ".join(latex_name(v, rename) for v in self.over)
        return f"\\sum_{{{idx}}} " + self.expression._latex(rename, outer | set(self.over))

    def _text(self):
        return f"sum_{{{', '.join(map(str, self.over))}}} {self.expression._text()}"


@dataclass(frozen=True)
class Fraction(Expression):
    """``numerator / denominator`` (a zero denominator is undefined, see :meth:`Expression.evaluate`).

    Examples
    --------
    >>> print(Fraction(Probability(["x", "y"]), Probability(["x"])))
    (P(x, y)) / (P(x))
    """

    numerator: Expression
    denominator: Expression

    def free_variables(self) -> frozenset:
        """The union of numerator's and denominator's free variables."""
        return self.numerator.free_variables() | self.denominator.free_variables()

    def observed_variables(self) -> frozenset:
        """The union of numerator's and denominator's observed variables."""
        return self.numerator.observed_variables() | self.denominator.observed_variables()

    def _eval(self, table, ev):
        label = f"the denominator {self.denominator} = 0 at {{}}"
        return ev.divide(self.numerator._eval(table, ev), self.denominator._eval(table, ev), label)

    def _latex(self, rename, outer):
        return (f"\\frac{{{self.numerator._latex(rename, outer)}}}"
                f"{{{self.denominator._latex(rename, outer)}}}")

    def _text(self):
        return f"({self.numerator._text()}) / ({self.denominator._text()})"
