"""The intervention-response view: a code that *is* the causal variables shows exactly the
graph's reachability; a code that ignores a variable shows a zero column."""

from __future__ import annotations

import torch

from workbench.datasets import Pendulum
from workbench.metrics.interventional import intervention_response


class FactorsAsImages:
    """The pendulum's SCM, but each 'image' is the vector of its four factor values."""

    def __init__(self):
        self.scm = Pendulum(size=32).scm
        self.graph = self.scm.graph

    def sample_noise(self, n, generator=None):
        return self.scm.sample_noise(n, generator=generator)

    def counterfactual(self, noise, interventions):
        values = self.scm.counterfactual(noise, interventions)[1]
        return torch.stack([values[v].float() for v in values], 1), values


def test_the_true_variables_show_the_reachability_of_the_graph():
    r = intervention_response(lambda x: x, FactorsAsImages(), n=200, generator=1)
    assert r.variables == ("theta", "phi", "shadow_length", "shadow_position")
    assert torch.equal(r.matrix > 1e-6, r.descendants)
    assert torch.allclose(r.normalised().max(1).values, torch.ones(4))


def test_a_code_blind_to_a_variable_has_a_zero_column():
    r = intervention_response(lambda x: x[:, [0, 2, 3]], FactorsAsImages(), n=200, generator=1)
    assert float(r.matrix[1, 0]) == 0.0          # do(phi) never moves the theta latent
    shadow_length = r.matrix[2]                   # columns: theta, shadow_length, shadow_position
    assert float(shadow_length[1]) > 0 and float(shadow_length[0]) == 0 and float(shadow_length[2]) == 0
