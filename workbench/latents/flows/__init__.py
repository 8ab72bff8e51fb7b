"""Normalizing flows: invertible mechanisms with exact abduction, and causal flows.

* :class:`ConditionalFlow` (:mod:`~workbench.latents.flows.conditional`): a zuko MAF or
  NSF with the data's standardisation built in, trained by the one training loop.
* :class:`FlowMechanism` (:mod:`~workbench.latents.flows.mechanism`): a flow as an SCM
  mechanism, a Pyro sample site through :func:`flow_distribution`; abduction is inversion.
* :class:`CausalFlow` (:mod:`~workbench.latents.flows.causal`): one autoregressive flow
  masked by a causal graph (Javaloy et al. 2023), with ``do``, counterfactuals and ATEs.
"""

from workbench.latents.flows.conditional import FLOW_KINDS, ConditionalFlow, build_flow
from workbench.latents.flows.mechanism import FlowMechanism, flow_distribution
from workbench.latents.flows.causal import CausalFlow, load_causal_flow, save_causal_flow

__all__ = ["ConditionalFlow", "FLOW_KINDS", "build_flow", "FlowMechanism", "flow_distribution",
           "CausalFlow", "save_causal_flow", "load_causal_flow"]
