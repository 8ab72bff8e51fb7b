"""Normalizing flows: invertible mechanisms with exact abduction, and causal flows.

* :class:`ConditionalFlow` (:mod:`~workbench.latents.flows.conditional`): a zuko MAF or
  NSF with the data's standardisation built in, trained by the one training loop.
* :class:`FlowMechanism` (:mod:`~workbench.latents.flows.mechanism`): a flow as an SCM
  mechanism, a Pyro sample site through :func:`flow_distribution`; abduction is inversion.
* :class:`CausalFlow` (:mod:`~workbench.latents.flows.causal`): one autoregressive flow
  masked by a causal graph (Javaloy et al. 2023), with ``do``, counterfactuals and ATEs;
  :func:`evaluate_causal_flow` scores it against the generating SCM.
* :func:`fit_digit_parents` (:mod:`~workbench.latents.flows.deep_scm`): thickness ->
  intensity of the morpho-style digits as flows, against the true log-likelihood.
* :class:`StackedFlows` and :func:`fit_flow_scm` (:mod:`~workbench.latents.flows.stacked`): the
  speed path, every mechanism of a flow SCM evaluated and trained as one batched network.
* :func:`flow_stages` (:mod:`~workbench.latents.flows.layers`): a 2-D flow layer by layer.
"""

from workbench.latents.flows.conditional import FLOW_KINDS, ConditionalFlow, build_flow
from workbench.latents.flows.mechanism import FlowMechanism, flow_distribution
from workbench.latents.flows.causal import CausalFlow, load_causal_flow, save_causal_flow
from workbench.latents.flows.deep_scm import DigitParentsFit, fit_digit_parents
from workbench.latents.flows.evaluation import evaluate_causal_flow, mmd
from workbench.latents.flows.stacked import StackedFlows, fit_flow_scm
from workbench.latents.flows.layers import FlowStages, flow_stages, two_moons, two_moons_flow

__all__ = ["ConditionalFlow", "FLOW_KINDS", "build_flow", "FlowMechanism", "flow_distribution",
           "CausalFlow", "save_causal_flow", "load_causal_flow", "DigitParentsFit", "fit_digit_parents",
           "evaluate_causal_flow", "mmd", "FlowStages", "flow_stages", "two_moons", "two_moons_flow",
           "StackedFlows", "fit_flow_scm"]
