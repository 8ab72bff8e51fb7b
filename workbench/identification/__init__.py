"""Identification: can ``P(y | do(x))`` be computed from observational data, and how?

The pieces, each in its own module:

- :mod:`~workbench.identification.tables`: :class:`DiscreteTable`, a torch tensor with
  named axes (joint distributions and the factors met while evaluating estimands).
- :mod:`~workbench.identification.expressions`: estimands as expression trees
  (:class:`Probability`, :class:`Product`, :class:`Sum`, :class:`Fraction`), printed
  as LaTeX and evaluated on tables.
- :mod:`~workbench.identification.id_algorithm`: the ID algorithm with its
  :class:`Derivation` and, when an effect is not identifiable, its :class:`Hedge`.
"""

from workbench.identification._inputs import OverlappingVariablesError
from workbench.identification.derivation import Derivation, Step
from workbench.identification.expressions import (
    ONE, DoProbability, Expression, Fraction, Probability, Product, Sum, conditional,
    marginalize, product,
)
from workbench.identification.id_algorithm import Hedge, HedgeError, Identification, identify
from workbench.identification.tables import DiscreteTable

__all__ = [
    "DiscreteTable", "Expression", "Probability", "DoProbability", "Product", "Sum",
    "Fraction", "ONE", "marginalize", "product", "conditional", "identify",
    "Identification", "Hedge", "HedgeError", "Derivation", "Step",
    "OverlappingVariablesError",
]
