"""The shipped pendulum CausalVAE and factor reader: graph, interventions against exact renders."""

import pytest
import torch

from workbench.crl import pendulum
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents import load_pretrained


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return load_pretrained("causal_vae_pendulum", device="cpu"), load_pretrained("factor_reader_pendulum", device="cpu")


def test_training_set_is_the_scm_and_labels_are_a_fraction():
    images, labels, noise = pendulum.training_set(n=20, seed=3)
    ds = pendulum.dataset()
    world = ds.scm.solve(noise)
    assert torch.equal(labels[:, 2], world["shadow_length"]) and labels[:, 2].min() >= 3.0
    assert torch.equal(images, (ds.scm.render(world) * 255).round().to(torch.uint8))
    mask = pendulum.labelled_rows(1000, 0.1, seed=1)
    assert mask.sum() == 100 and not torch.equal(mask, pendulum.labelled_rows(1000, 0.1, seed=2))
    with pytest.raises(WorkbenchInputError, match="fraction"):
        pendulum.labelled_rows(10, 1.5)


def test_shipped_model_learned_the_true_graph(models):
    model, _ = models
    assert set(model.graph().edges) == set(pendulum.TRUE_GRAPH.edges)
    assert pendulum.graph_matches(model)


def test_reader_reads_ground_truth(models):
    _, reader = models
    images, labels, _ = pendulum.training_set(n=300, seed=99)               # unseen draws
    span = labels.max(0).values - labels.min(0).values
    assert ((reader.read(images) - labels).abs().mean(0) / span < 0.03).all()


def test_do_light_moves_the_shadow_not_the_pendulum(models):
    model, reader = models
    check = pendulum.check_intervention(model, reader, "phi", 1.2, n=128)
    assert check.true_moved["theta"] == 0.0 and check.moved["theta"] < 0.05
    assert check.error["shadow_length"] < 0.10 and check.error["shadow_position"] < 0.10
    assert check.moved["shadow_position"] > 0.1                              # the shadow did move


def test_do_shadow_length_moves_neither_angle(models):
    model, reader = models
    check = pendulum.check_intervention(model, reader, "shadow_length", 8.0, n=128)
    assert check.moved["theta"] < 0.05 and check.moved["phi"] < 0.05
    assert check.moved["shadow_length"] > 0.1
    with pytest.raises(UnknownVariableError):
        pendulum.check_intervention(model, reader, "sun", 1.0)


def test_training_labels_are_the_training_sets_factors():
    _, labels, _ = pendulum.training_set(n=50, seed=4)
    assert torch.equal(pendulum.training_labels(n=50, seed=4), labels)
