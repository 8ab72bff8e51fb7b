"""Identification: can ``P(y | do(x))`` be computed from observational data, and how?

The pieces, each in its own module:

- :mod:`~workbench.identification.tables`: :class:`DiscreteTable`, a torch tensor with
  named axes (joint distributions and the factors met while evaluating estimands).
- :mod:`~workbench.identification.expressions`: estimands as expression trees
  (:class:`Probability`, :class:`Product`, :class:`Sum`, :class:`Fraction`), printed
  as LaTeX and evaluated on tables.
- :mod:`~workbench.identification.id_algorithm`: the ID algorithm with its
  :class:`Derivation` and, when an effect is not identifiable, its :class:`Hedge`.
- :mod:`~workbench.identification.docalculus`: the three rules as :class:`RuleCheck` objects.
- :mod:`~workbench.identification.criteria`: back-door and front-door criteria,
  adjustment-set search and their estimands (:func:`frontdoor_effect` on a joint table).
- :mod:`~workbench.identification.truth`: discrete models with explicit latents and
  their exact observational and interventional laws, by enumeration.
- :mod:`~workbench.identification.fixtures`: literature graphs and random ADMGs.

Examples
--------
>>> import workbench.identification as wi
>>> f = wi.FIXTURES["frontdoor"]
>>> model = wi.random_discrete_model(f.graph, seed=0)
>>> estimand = wi.identify(f.graph, "x", "y").estimand
>>> error = estimand.evaluate(model.observational()).max_abs_diff(model.interventional("x", "y"))
>>> error < 1e-12
True
"""

from workbench.identification._inputs import OverlappingVariablesError
from workbench.identification.derivation import Derivation, Step
from workbench.identification.expressions import (
    ONE, DoProbability, Expression, Fraction, Probability, Product, Sum,
)
from workbench.identification.simplify import conditional, marginalize, product
from workbench.identification.id_algorithm import Hedge, HedgeError, Identification, identify
from workbench.identification.tables import (
    DiscreteTable, NotADistributionError, PositivityError, PositivityWarning,
)
from workbench.identification.docalculus import RuleCheck, rule1, rule2, rule3
from workbench.identification.criteria import (
    CriterionCheck, backdoor_estimand, backdoor_sets, check_backdoor, check_frontdoor,
    frontdoor_effect, frontdoor_estimand, minimal_backdoor_set,
)
from workbench.identification.fixtures import FIXTURES, Fixture, random_admg, random_query
from workbench.identification.truth import DiscreteCPTModel, random_discrete_model
from workbench.identification.truth_check import TruthComparison, TruthWorld
from workbench.identification import exercises  # noqa: E402  (checkers for notebook 03)

__all__ = [
    "TruthWorld", "TruthComparison",
    "DiscreteTable", "NotADistributionError", "PositivityError", "PositivityWarning", "Expression", "Probability", "DoProbability", "Product", "Sum",
    "Fraction", "ONE", "marginalize", "product", "conditional", "identify",
    "Identification", "Hedge", "HedgeError", "Derivation", "Step",
    "OverlappingVariablesError", "RuleCheck", "rule1", "rule2", "rule3", "CriterionCheck",
    "check_backdoor", "backdoor_sets", "minimal_backdoor_set", "backdoor_estimand",
    "check_frontdoor", "frontdoor_estimand", "frontdoor_effect", "FIXTURES", "Fixture",
    "random_admg", "random_query", "DiscreteCPTModel", "random_discrete_model", "exercises",
]
