"""VAE family: objective terms against torch.distributions, a short run learns, pretrained weights."""

import shutil

import pytest
import torch

import workbench as wb
from workbench.datasets import Sprites
from workbench.errors import CheckpointError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents import (BetaTCVAE, BetaVAE, VAE, build_model, latent_activity, list_pretrained,
                               load_pretrained, reconstruction_report, train, traversal_grid, traverse)
from workbench.latents.objectives import bernoulli_log_likelihood, gaussian_kl, tc_decomposition

D = torch.distributions


def test_objective_terms_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = D.Normal(mean, (0.5 * logvar).exp())
    p = D.Normal(torch.zeros(3), torch.ones(3))
    assert torch.allclose(gaussian_kl(mean, logvar), D.kl_divergence(q, p).sum(1), atol=1e-5)
    logits, x = torch.randn(4, 1, 8, 8, generator=g), torch.rand(4, 1, 8, 8, generator=g).round()
    expected = D.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(bernoulli_log_likelihood(logits, x), expected, atol=1e-4)


def test_tc_terms_sum_to_the_kl_estimate():
    g = torch.Generator().manual_seed(1)
    mean, logvar = torch.randn(64, 4, generator=g), torch.randn(64, 4, generator=g) * 0.3
    z = mean + torch.randn(64, 4, generator=g) * (0.5 * logvar).exp()
    mi, tc, dwkl = tc_decomposition(z, mean, logvar, dataset_size=10_000)
    q = D.Normal(mean, (0.5 * logvar).exp()).log_prob(z).sum(1)
    p = D.Normal(0.0, 1.0).log_prob(z).sum(1)
    assert torch.isclose(mi + tc + dwkl, (q - p).mean(), atol=1e-4)
    # duplicating a latent creates total correlation
    z2, m2, l2 = (torch.cat([t[:, :1], t[:, :1]], 1) for t in (z, mean, logvar))
    zi, mi_, li = z[:, :2], mean[:, :2], logvar[:, :2]
    assert tc_decomposition(z2, m2, l2, 10_000)[1] > tc_decomposition(zi, mi_, li, 10_000)[1]


@pytest.mark.parametrize("cls", [VAE, BetaVAE, BetaTCVAE])
def test_api_shapes_and_config_roundtrip(cls):
    wb.seed_everything(0)
    model = cls(image_shape=(3, 32, 32), latent_dim=5, device="cpu")
    x = torch.rand(6, 3, 32, 32)
    mean, logvar = model.encode(x)
    assert mean.shape == logvar.shape == (6, 5)
    images = model.decode(mean)
    assert images.shape == x.shape and images.min() >= 0 and images.max() <= 1
    clone = build_model(model.config, device="cpu")
    clone.load_state_dict(model.state_dict())
    assert torch.equal(clone.encode(x)[0], mean)
    loss, terms = model.loss(x, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and terms["reconstruction"] > 0 and terms["kl"] >= 0


def test_beta_weights_the_kl():
    wb.seed_everything(0)
    vae = VAE((1, 32, 32), 4, beta=1.0, device="cpu")
    heavy = BetaVAE((1, 32, 32), 4, beta=5.0, device="cpu")
    heavy.load_state_dict(vae.state_dict())
    x = torch.rand(8, 1, 32, 32)
    l1, t1 = vae.loss(x, generator=torch.Generator().manual_seed(3))
    l5, t5 = heavy.loss(x, generator=torch.Generator().manual_seed(3))
    assert t1["kl"] == t5["kl"] > 0 and t1["reconstruction"] == t5["reconstruction"]
    assert float(l1.detach()) == pytest.approx(t1["reconstruction"] + 1 * t1["kl"], rel=1e-6)
    assert float(l5.detach()) == pytest.approx(t5["reconstruction"] + 5 * t5["kl"], rel=1e-6)


def test_bad_inputs_raise():
    model = VAE((1, 32, 32), 3, device="cpu")
    with pytest.raises(ShapeError, match=r"\(n, 1, 32, 32\)"):
        model.encode(torch.zeros(2, 1, 64, 64))
    with pytest.raises(ShapeError):
        model.decode(torch.zeros(2, 4))
    with pytest.raises(ShapeError):
        VAE((1, 48, 48))
    with pytest.raises(WorkbenchInputError):
        VAE((1, 32, 32), latent_dim=0)
    with pytest.raises(WorkbenchInputError):
        model.encode(torch.full((1, 1, 32, 32), float("nan")))
    with pytest.raises(UnknownVariableError):
        build_model({"kind": "gan"})


def test_elbo_increases_on_a_short_run():
    wb.seed_everything(0)
    torch.set_num_threads(1)
    model = VAE((1, 64, 64), latent_dim=6, device="cpu")
    result = train(model, Sprites(), steps=60, batch_size=32, lr=2e-3, progress=False)
    elbo = [row["elbo"] for row in result.history]
    first, last = sum(elbo[:10]) / 10, sum(elbo[-10:]) / 10
    assert last > first + 0.3 * abs(first)      # loss falls by more than 30 % in 60 steps


def test_traversal_changes_only_with_its_latent():
    wb.seed_everything(0)
    model = VAE((1, 32, 32), 3, device="cpu").eval()
    z = torch.tensor([0.5, -1.0, 0.0])
    images = traverse(model, z, 1, [-1.0, 0.0, 2.0])
    assert torch.allclose(images[0], model.decode(z.view(1, -1))[0].detach(), atol=1e-6)
    grid = traversal_grid(model, z, values=torch.tensor([-1.0, 0.0, 2.0]))
    assert torch.equal(grid[1], images)
    with pytest.raises(WorkbenchInputError):
        traverse(model, z, 3, [0.0])


def test_latent_activity_marks_collapsed_latents_passive():
    wb.seed_everything(0)
    model = VAE((1, 32, 32), 2, device="cpu").eval()
    # hand-set the encoder's last layer: latent 0 follows the input, latent 1 is the prior
    last = model.encoder.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        last.weight[0] = 50.0                        # mean_0 = 50 x sum of hidden units
    x = torch.rand(64, 1, 32, 32)
    act = latent_activity(model, x)
    assert act.labels() == ["active", "passive"]
    assert act.posterior_variance[1] == pytest.approx(1.0) and act.kl[1] == pytest.approx(0.0, abs=1e-6)


# ----- pretrained weights ---------------------------------------------------------------
NAMES = ["vae_sprites", "beta_vae_sprites", "beta_tcvae_sprites"]


def test_pretrained_models_are_listed():
    assert set(NAMES) <= set(list_pretrained())


@pytest.mark.parametrize("name", NAMES)
def test_pretrained_loads_verifies_and_beats_the_mean_image(name):
    import hashlib
    from workbench.latents.pretrained import PRETRAINED_DIR

    entry = list_pretrained()[name]
    data = (PRETRAINED_DIR / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    model = load_pretrained(name, device="cpu")
    assert model.config == entry["config"]
    images, _ = Sprites().sample(500, generator=2024)   # not the training or scoring seed
    report = reconstruction_report(model, images)
    # stated margin: reconstruction error at most 60 % of the mean-image baseline's
    assert report["ratio"] < 0.6, report


def test_tampered_pretrained_file_is_refused(tmp_path):
    from workbench.latents.pretrained import PRETRAINED_DIR

    for f in PRETRAINED_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / list_pretrained()["vae_sprites"]["file"]
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01                                  # flip one bit of one weight
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="hash check"):
        load_pretrained("vae_sprites", device="cpu", directory=tmp_path)
    assert load_pretrained("beta_vae_sprites", device="cpu", directory=tmp_path) is not None
    with pytest.raises(UnknownVariableError, match="Did you mean"):
        load_pretrained("vae_sprite", directory=tmp_path)


def test_pretraining_script_is_deterministic(tmp_path):
    """The documented command, on a tiny budget, gives the same bytes twice."""
    import importlib.util

    from workbench.latents.pretrained import PRETRAINED_DIR

    path = PRETRAINED_DIR.parent.parent / "scripts" / "train_pretrained.py"
    spec = importlib.util.spec_from_file_location("train_pretrained", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    a = script.train_one("beta_tcvae_sprites", 3, tmp_path / "a")
    b = script.train_one("beta_tcvae_sprites", 3, tmp_path / "b")
    assert a["sha256"] == b["sha256"]
    assert a["config"] == list_pretrained()["beta_tcvae_sprites"]["config"]
    assert load_pretrained("beta_tcvae_sprites", directory=tmp_path / "a").kind == "beta_tcvae"
