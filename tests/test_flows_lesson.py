"""Notebook 07's library parts: the digits' parents as flows and a 2-D flow's stages."""

import torch

from workbench.datasets import Digits
from workbench.latents.flows import fit_digit_parents, flow_stages, two_moons, two_moons_flow
from workbench.latents.flows.deep_scm import PUBLISHED, digit_parent_data, true_parent_log_density


def test_true_parent_density_is_the_generator_and_integrates_to_one():
    data = digit_parent_data(2000, seed=3)
    noise = Digits().scm.sample_noise(2000, generator=3)
    assert torch.allclose(data["thickness"], 0.5 + noise["thickness"])        # the same draws
    t = torch.full((4000,), 2.2)
    i = torch.linspace(64.0 + 1e-3, 255.0 - 1e-3, 4000)
    p = true_parent_log_density({"thickness": t, "intensity": i})["intensity"].exp()
    assert abs(float(torch.trapezoid(p, i)) - 1.0) < 1e-3
    ts = torch.linspace(0.5 + 1e-4, 8.0, 4000)
    pt = true_parent_log_density({"thickness": ts, "intensity": torch.full((4000,), 100.0)})["thickness"].exp()
    assert abs(float(torch.trapezoid(pt, ts)) - 1.0) < 1e-3


def test_fitted_parents_approach_the_true_log_likelihood():
    fit = fit_digit_parents(n_train=2000, n_test=2000, steps=200, progress=False)
    for v, scores in fit.log_likelihood.items():
        assert scores["published"] == PUBLISHED[v]
        assert -0.05 < scores["gap"] < 0.15, (v, scores)   # cannot beat the truth beyond noise
    assert abs(fit.log_likelihood["thickness"]["true"] - PUBLISHED["thickness"]) < 0.05
    do = fit.scm.do(thickness=3.5).sample(4000, seed=0)["intensity"].mean()
    low = fit.scm.do(thickness=1.5).sample(4000, seed=0)["intensity"].mean()
    assert float(do - low) > 50                               # thicker strokes are brighter


def test_stages_log_det_is_the_change_of_variables():
    flow = two_moons_flow(steps=60)
    s = flow_stages(flow, n_points=300, grid_lines=5, points_per_line=10)
    base = torch.distributions.Normal(0.0, 1.0).log_prob(s.points[0]).sum(-1)
    assert torch.allclose(base - s.log_det[-1], flow.log_prob(s.points[-1].clone()).detach(), atol=1e-4)
    assert torch.allclose(flow.transform()(s.points[-1].clone()), s.points[0], atol=1e-4)
    assert two_moons(10, seed=1).shape == (10, 2)
