"""Causal graphs: DAGs, ADMGs, surgery and d-separation (pure functions)."""

from workbench.graphs.core import ADMG, admg, as_admg, check_nodes, dag, nodes_of, validate
from workbench.graphs.traversal import (
    ancestors, children, descendants, mutilate, parents, topological_order, would_create_cycle,
)
from workbench.graphs.projection import latent_projection
from workbench.graphs.separation import d_separated

__all__ = [
    "ADMG", "admg", "ancestors", "as_admg", "check_nodes", "children", "dag",
    "descendants", "d_separated", "latent_projection", "mutilate",
    "nodes_of", "parents", "topological_order", "validate", "would_create_cycle",
]
