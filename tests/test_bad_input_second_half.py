"""Hostile input to the newer public API: flows, diffusion, the latent SCM prior and the
causal VAE, the counterfactual-image modules, sweeps and their widgets.

Each case once gave a silent wrong answer (a NaN, a truncated or broadcast value, a
silent no-op) or a bare torch/Python exception from deep inside; each must now raise a
typed error from :mod:`workbench.errors` (all ``ValueError``) whose message says what
to fix. The valid-input numbers of these functions are pinned by their own tests.
"""

from __future__ import annotations

import pandas as pd
import pytest
import torch

import workbench.latents.diffusion as wd
from workbench import sweeps
from workbench.errors import (NonFiniteValueError, ShapeError, UnknownVariableError, WidgetValueError,
                              WorkbenchInputError)
from workbench.latents import CausalVAE, LatentSCM, flows
from workbench.latents.diffusion.model import DiffusionAutoencoder
from workbench.scm import SCM, LinearGaussian
from workbench.sweeps import SweepConfigError

NAN = float("nan")


def raises(error, match: str):
    return pytest.raises(error, match=match)


# ----------------------------------------------------------------------------- flows
@pytest.fixture(scope="module")
def mech_y():
    data = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 2.0}, noise_scale=0.5)}).sample(200, seed=1)
    mech = flows.FlowMechanism(["x"], flow="maf", transforms=1, hidden=(8,))
    mech.fit(data, "y", steps=3, progress=False)
    return mech


def test_conditional_flow_hidden_as_an_int_names_the_tuple_form():
    with raises(WorkbenchInputError, r"like \(16,\)"):
        flows.ConditionalFlow(features=2, context=0, hidden=16)


def test_flow_mechanism_parents_as_a_string_is_not_read_letter_by_letter():
    with raises(WorkbenchInputError, r"like \['tar'\]"):
        flows.FlowMechanism("tar")


def test_flow_mechanism_fit_on_no_rows():
    mech = flows.FlowMechanism(["x"], transforms=1, hidden=(8,))
    with raises(ShapeError, "at least one row"):
        mech.fit({"x": torch.zeros(0), "y": torch.zeros(0)}, "y", steps=1, progress=False)


@pytest.mark.parametrize("method", ["abduct", "__call__"])
def test_flow_mechanism_batch_mismatch(mech_y, method):
    pa = torch.zeros(3, 1)
    with raises(ShapeError, r"pass one .* per row of pa"):
        getattr(mech_y, method)(*((torch.zeros(5), pa) if method == "abduct" else (pa, torch.zeros(5))))


def test_flow_mechanism_abduct_nan_value(mech_y):
    with raises(NonFiniteValueError, "NaN"):
        mech_y.abduct(torch.tensor([NAN, 1.0]), torch.zeros(2, 1))


def test_flow_mechanism_valid_broadcast_still_works(mech_y):
    pa = torch.tensor([[0.0], [1.0]])
    u = mech_y.abduct(torch.tensor([0.3, -0.2]), pa)
    assert torch.allclose(mech_y(pa, u), torch.tensor([0.3, -0.2]), atol=1e-5)


@pytest.mark.parametrize("variables, edges, error, match", [
    (["x1", "x2"], [("x1", "q")], UnknownVariableError, "Unknown variable 'q'"),
    (["a", "a", "b"], [], WorkbenchInputError, "distinct names"),
])
def test_causal_flow_graph_must_match_its_variables(variables, edges, error, match):
    with raises(error, match):
        flows.CausalFlow(variables, edges, hidden=(8,))


def test_causal_flow_intervention_value_not_a_number():
    flow = flows.CausalFlow(["x", "y"], [("x", "y")], hidden=(8,))
    with raises(WorkbenchInputError, r"do\(x=...\) must be a number"):
        flow.intervene({"x": "one"}, 4)


@pytest.mark.parametrize("n", [0, -1])
def test_two_moons_needs_a_positive_count(n):
    with raises(WorkbenchInputError, "positive integer"):
        flows.two_moons(n)


@pytest.mark.parametrize("x, y, error", [
    (torch.zeros(0, 2), torch.zeros(0, 2), ShapeError),
    (torch.full((3, 2), NAN), torch.zeros(3, 2), NonFiniteValueError),
])
def test_mmd_rejects_inputs_that_gave_nan(x, y, error):
    with pytest.raises(error):
        flows.mmd(x, y)


def test_flow_layers_widget_needs_points():
    from workbench.widgets.flows import FlowLayers
    with raises(WorkbenchInputError, "n_points"):
        FlowLayers(flows.two_moons_flow(steps=0, transforms=1), n_points=0)


# ----------------------------------------------------------------------------- diffusion
SCHEDULE = wd.NoiseSchedule.linear(100)
X0 = torch.zeros(2, 1, 4, 4)


@pytest.mark.parametrize("t", [2.5, torch.tensor([3.5, 3.0]), torch.tensor([True, False])])
def test_q_sample_does_not_truncate_fractional_timesteps(t):
    with raises(WorkbenchInputError, "whole numbers"):
        wd.q_sample(SCHEDULE, X0, t, torch.zeros_like(X0))


def test_q_sample_whole_float_timesteps_still_work():
    noise = torch.randn(X0.shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(wd.q_sample(SCHEDULE, X0, torch.tensor([3.0, 7.0]), noise),
                       wd.q_sample(SCHEDULE, X0, torch.tensor([3, 7]), noise))


@pytest.mark.parametrize("t, match", [(100, "0..99"), (-1, "0..99"), (2.5, "whole numbers")])
def test_iterated_noising_checks_its_timestep(t, match):
    with raises(WorkbenchInputError, match):
        wd.iterated_noising(SCHEDULE, torch.zeros(5), t)


TOY = wd.GaussianToyModel(mean=0.4, std=0.15, image_shape=(1, 1, 1), num_steps=100)


def test_sample_ddim_n_and_x_T_disagree():
    with raises(ShapeError, "n=3 but x_T holds 4"):
        wd.sample_ddim(TOY, 3, x_T=torch.zeros(4, 1, 1, 1), steps=5)


def test_sample_ddim_nan_start():
    with raises(NonFiniteValueError, "x_T"):
        wd.sample_ddim(TOY, x_T=torch.full((2, 1, 1, 1), NAN), steps=5)


@pytest.fixture(scope="module")
def tiny_autoencoder():
    torch.manual_seed(0)
    return DiffusionAutoencoder((1, 8, 8), channels=4, semantic_dim=2, num_steps=50, device="cpu").eval()


@pytest.mark.parametrize("images, error, match", [
    (torch.rand(0, 1, 8, 8), ShapeError, "0 images"),
    (torch.rand(1, 1, 8, 8) * 255, WorkbenchInputError, "divide 0-255 images by 255"),
])
def test_images_empty_or_on_the_0_255_scale(tiny_autoencoder, images, error, match):
    with raises(error, match):
        wd.inversion_mse(tiny_autoencoder, images, steps=2)


def test_h_space_codes_fractional_timestep(tiny_autoencoder):
    with raises(WorkbenchInputError, "whole numbers"):
        wd.h_space_codes(tiny_autoencoder, torch.rand(2, 1, 8, 8), t=2.5)


@pytest.mark.parametrize("delta, amount, error", [
    (torch.zeros(3), 1.0, ShapeError),
    (torch.zeros(2), NAN, NonFiniteValueError),
])
def test_edit_direction_shape_and_amount(tiny_autoencoder, delta, amount, error):
    z_sem, x_T = wd.encode(tiny_autoencoder, torch.rand(2, 1, 8, 8), steps=2)
    with pytest.raises(error):
        wd.edit(tiny_autoencoder, z_sem, x_T, delta, amount, steps=2)


CODES = torch.randn(50, 8, generator=torch.Generator().manual_seed(0))


def test_principal_directions_k_as_float():
    with raises(WorkbenchInputError, "k must be between 1 and 8"):
        wd.principal_directions(CODES, k=2.0)


def test_principal_scores_of_codes_of_another_width():
    with raises(ShapeError, "8 columns"):
        wd.principal_directions(CODES, k=2).scores(torch.zeros(3, 5))


def test_factor_correlations_row_mismatch():
    with raises(ShapeError, "40 and 50 rows"):
        wd.factor_correlations(CODES[:40], torch.randn(50, 2))


def test_fit_probes_negative_ridge():
    with raises(WorkbenchInputError, "ridge"):
        wd.fit_probes(CODES, CODES[:, :1], ["a"], ridge=-1.0)


# ----------------------------------------------------------------------------- diffusion widgets
def test_diffusion_widgets_reject_bad_settings(tiny_autoencoder):
    from workbench.widgets.diffusion import DenoisingScrubber, InversionViewer
    _, path = wd.sample_ddim(tiny_autoencoder, x_T=torch.randn(1, 1, 8, 8), steps=3, trajectory=True)
    with raises(WidgetValueError, r"index = 5 is outside 0..0"):
        DenoisingScrubber(path, index=5)
    with raises(WidgetValueError, "steps = 7 is not one of"):
        InversionViewer(tiny_autoencoder, torch.rand(2, 1, 8, 8), steps=7)


@pytest.mark.parametrize("limit", [0, -1.0, NAN])
def test_semantic_edit_slider_limit(limit):
    from workbench.widgets.diffusion import SemanticEditSlider
    with raises(WidgetValueError, "limit"):    # checked before any decoding
        SemanticEditSlider(None, None, torch.rand(1, 8, 8), torch.zeros(2), limit=limit)


# ----------------------------------------------------------------------------- latent SCM prior, causal VAE
@pytest.fixture(scope="module")
def prior():
    torch.manual_seed(0)
    return LatentSCM(3)


@pytest.mark.parametrize("n", [0, -1, 2.5])
def test_prior_sample_count(prior, n):
    with raises(WorkbenchInputError, "n must be a positive integer"):
        prior.sample(n)


@pytest.mark.parametrize("value, error", [
    (NAN, NonFiniteValueError), ("a", WorkbenchInputError), (torch.zeros(5), ShapeError),
])
def test_prior_intervention_values(prior, value, error):
    with raises(error, r"do\(z_0 = ...\)"):
        prior.sample(3, interventions={0: value})


@pytest.mark.parametrize("z, error", [(torch.zeros(4, 2), ShapeError), (torch.full((4, 3), NAN), NonFiniteValueError)])
def test_prior_counterfactual_of_bad_concepts(prior, z, error):
    with pytest.raises(error):
        prior.counterfactual(z, {0: 1.0})


@pytest.mark.parametrize("threshold, names, error", [
    (0.1, ["a", "b"], ShapeError), (-1.0, None, WorkbenchInputError), (NAN, None, WorkbenchInputError),
])
def test_prior_graph_names_and_threshold(prior, threshold, names, error):
    with pytest.raises(error):
        prior.graph(threshold, names)


@pytest.fixture(scope="module")
def causal_vae():
    torch.manual_seed(0)
    return CausalVAE(image_shape=(3, 16, 16), factor_names=("theta", "phi"), hidden=8).eval()


@pytest.mark.parametrize("value", [NAN, "a", torch.zeros(5)])
def test_causal_vae_intervention_value(causal_vae, value):
    with raises(WorkbenchInputError, r"do\(phi = ...\) must be one finite number"):
        causal_vae.intervene(torch.rand(2, 3, 16, 16), {"phi": value})


def test_causal_vae_factor_names_as_a_string():
    with raises(WorkbenchInputError, "distinct names"):
        CausalVAE(image_shape=(3, 16, 16), factor_names="ab")


def test_causal_vae_to_concepts_width(causal_vae):
    with raises(ShapeError, "factors must be"):
        causal_vae.to_concepts(torch.zeros(2, 3))


# ----------------------------------------------------------------------------- counterfactual images
@pytest.fixture(scope="module")
def digits():
    from workbench.deepscm.evaluation import evaluation_digits
    return evaluation_digits(6, seed=0)


def test_intensity_scaling_abduct_parents_of_other_length(digits):
    from workbench.deepscm import IntensityScaling
    images, parents = digits
    with raises(ShapeError, "one value per image"):
        IntensityScaling().abduct(images, {k: v[:3] for k, v in parents.items()})


def test_compare_counterfactuals_intervention_not_a_number(digits):
    from workbench.deepscm import IntensityScaling
    from workbench.deepscm.comparison import compare_counterfactuals
    with raises(WorkbenchInputError, r"do\(thickness = ...\) must be a number"):
        compare_counterfactuals({"toy": IntensityScaling()}, *digits, {"thickness": "4"})


def test_compare_counterfactuals_generator_returning_too_few_images(digits):
    from workbench.deepscm.comparison import compare_counterfactuals
    with raises(ShapeError, "one image per input"):
        compare_counterfactuals({"bad": lambda x, pa, do: x[:2]}, *digits, {"thickness": 4.0})


def test_region_scores_of_images_of_other_sizes():
    from workbench.datasets.pendulum import render_pendulum
    from workbench.deepscm.pendulum_evaluation import held_out_pendulums, region_scores
    photos = render_pendulum(held_out_pendulums(4, seed=1), 32)
    with raises(ShapeError, "one image per input"):
        region_scores(photos, photos[:2], photos, photos)


# ----------------------------------------------------------------------------- sweeps
TINY = {"training": {"steps": 2}, "data": {"n_train": 64, "n_eval": 256}}


@pytest.mark.parametrize("settings, match", [
    ({"latent_dim": 2.5}, "latent_dim must be a positive integer"),
    ({"latent_dim": 0}, "latent_dim must be a positive integer"),
    ({"latent_dim": True}, "latent_dim must be a positive integer"),
    ({"seeds": [0, 0]}, "seeds repeat 0"),
    ({"metrics": ["mig", "mig"]}, "metrics repeat 'mig'"),
    ({"models": {"beta_vae": {"bta": [8]}}}, "did you mean 'beta'"),
    ({"models": {"beta_vae": {"beta": [4, 4.0]}}}, "repeat 4.0"),
    ({"models": ["vae"]}, "models must be a dict"),
])
def test_sweep_config_rejected_up_front(settings, match):
    with raises(SweepConfigError, match):
        sweeps.Sweep(**{**TINY, **settings})


def test_sweep_metrics_as_one_string_is_one_metric():
    assert sweeps.Sweep(metrics="mig", **TINY).runs()[0]["metrics"] == ["mig"]


def test_sweep_bad_hyperparameter_value_is_still_a_recorded_failure():
    assert sweeps.Sweep(models={"beta_vae": {"beta": [-1]}}, **TINY).runs()[0]["hyper"] == {"beta": -1.0}


@pytest.mark.parametrize("read", [sweeps.results_table, sweeps.failures, sweeps.wide_table])
def test_sweep_tables_of_a_missing_folder(tmp_path, read):
    missing = tmp_path / "no_such_sweep"
    with raises(SweepConfigError, "no sweep folder"):
        read(missing)
    assert not missing.exists()          # reading created nothing


def test_sweep_tables_of_an_empty_folder_are_empty(tmp_path):
    assert sweeps.results_table(tmp_path).empty


def test_sweep_explorer_of_a_table_that_is_not_tidy():
    from workbench.widgets.sweeps import SweepExplorer
    with raises(SweepConfigError, "missing columns"):
        SweepExplorer(pd.DataFrame())


# ----------------------------------------------------------------------------- second pass
def test_linear_schedule_betas_out_of_order_are_not_clamped():
    with raises(WorkbenchInputError, "beta_start < beta_end < 1"):
        wd.NoiseSchedule.linear(10, beta_end=1.5)


def test_latent_scm_needs_hidden_units():
    with raises(WorkbenchInputError, "hidden must be a positive integer"):
        LatentSCM(3, hidden=0)


def test_causal_vae_intervene_on_0_255_float_images(causal_vae):
    with raises(WorkbenchInputError, "divide 0-255 float images by 255"):
        causal_vae.intervene(torch.rand(2, 3, 16, 16) * 255, {"phi": 1.0})


def test_renderer_scm_intervention_not_a_number():
    from workbench.deepscm.pendulum_evaluation import held_out_pendulums, true_counterfactual
    with raises(WorkbenchInputError, "must be a number"):
        true_counterfactual(held_out_pendulums(4, seed=1), {"phi": "2.1"})


@pytest.mark.parametrize("n", [0, -1])
def test_domain_scm_sample_count(n):
    from workbench.latents.domain_counterfactuals import LatentDomainSCM
    with raises(WorkbenchInputError, "n_per_domain must be a positive integer"):
        LatentDomainSCM(n_domains=2, latent_dim=3, scale_samples=100).sample(n)


@pytest.mark.parametrize("x, error", [(torch.zeros(3, 6), ShapeError), (torch.full((1, 2, 3, 6), NAN), NonFiniteValueError)])
def test_domain_counterfactual_layouts(x, error):
    from workbench.latents.domain_counterfactuals import identity_counterfactuals
    with pytest.raises(error):
        identity_counterfactuals(x)


def test_causal_flow_generate_from_nan_noise():
    flow = flows.CausalFlow(["x", "y"], [("x", "y")], hidden=(8,))
    with raises(NonFiniteValueError, "u has"):
        flow.generate(torch.full((2, 2), NAN))


def test_reconstruct_condition_misspelt(tiny_autoencoder):
    with raises(WorkbenchInputError, "condition must be 'semantic'"):
        wd.reconstruct(tiny_autoencoder, torch.rand(1, 1, 8, 8), steps=2, condition="semantc")
