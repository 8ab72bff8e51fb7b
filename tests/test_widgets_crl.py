"""CRL widgets: state in traitlets, values checked, callbacks drawing from the library."""

import networkx as nx
import pytest
import torch

from workbench.crl import fit_polynomial_autoencoder, interventional_scores, make_interventional_data, pendulum
from workbench.errors import WidgetValueError
from workbench.latents import load_pretrained
from workbench.widgets.crl import GraphView, IdentifiabilityExplorer, InterventionExplorer


@pytest.fixture(scope="module")
def models():
    return load_pretrained("causal_vae_pendulum", device="cpu"), load_pretrained("factor_reader_pendulum", device="cpu")


def test_intervention_explorer_shows_model_and_truth(models):
    model, reader = models
    ranges = pendulum.factor_ranges()
    view = InterventionExplorer(model, reader, ranges)
    assert view.target == "phi" and view.value_slider.value == view.value
    view.value = 1.2
    expected = pendulum.compare_unit(model, reader, 0, "phi", 1.2)
    assert view.result["true_values"] == expected["true_values"]
    assert torch.equal(view.result["generated"], expected["generated"])
    assert view.result["true_values"]["theta"] == view.result["factual_values"]["theta"]
    assert "read off the model" in view.table.value and "phi (set)" in view.table.value
    before = view.images[1].value
    view.unit_slider.value = 3                      # the slider drives the trait
    assert view.unit == 3 and view.images[1].value != before
    view.target_picker.value = "shadow_length"
    low, high = ranges["shadow_length"]
    assert view.target == "shadow_length" and low <= view.value <= high
    with pytest.raises(WidgetValueError, match="outside"):
        view.value = 100.0
    with pytest.raises(WidgetValueError, match="not a concept"):
        view.target = "sun"


def test_graph_view_threshold(models):
    model, _ = models
    view = GraphView(model.prior, pendulum.TRUE_GRAPH, names=list(model.factor_names))
    assert set(view.learned.edges) == set(pendulum.TRUE_GRAPH.edges)
    assert view.summary.value.startswith("<b>equal to")
    view.slider.value = 1.0                          # only the strong shadow-length edges remain
    assert set(view.learned.edges) == {("theta", "shadow_length"), ("phi", "shadow_length")}
    assert "differs" in view.summary.value
    with pytest.raises(WidgetValueError):
        view.threshold = -1.0


def test_identifiability_explorer_matches_the_library():
    data = make_interventional_data(latent_dim=2, degree=2, data_dim=20, n_obs=1000, n_int=300, seed=0)
    model = fit_polynomial_autoencoder(data, steps=40)
    view = IdentifiabilityExplorer(model, data)
    assert view.num_intervened == 1 and view.num_samples == 100
    view.k_slider.value = 1
    view.n_slider.value = 100
    expected = interventional_scores(model, data, num_intervened=1, num_samples=100)["interventional"]
    assert view.scores == pytest.approx(expected)
    with pytest.raises(WidgetValueError):
        view.num_intervened = 3
    with pytest.raises(WidgetValueError):
        view.num_samples = 7
