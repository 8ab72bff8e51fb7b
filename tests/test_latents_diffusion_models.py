"""Diffusion models as trainable, saveable objects: loss, resume, weights, regressors, directions."""

import pytest
import torch

import workbench as wb
from workbench.datasets import Digits
from workbench.errors import CheckpointError, ShapeError, WorkbenchInputError
from workbench.latents import list_pretrained, load_pretrained, save_pretrained, train
from workbench.latents.diffusion import DiffusionAutoencoder, DiffusionModel, build_diffusion
from workbench.latents.diffusion.autoencoder import counterfactual, decode, encode
from workbench.latents.diffusion.directions import (edit_direction, factor_correlations, fit_probes,
                                                    principal_directions)
from workbench.latents.diffusion.regressors import FactorRegressor


def _tiny(**kw):
    wb.seed_everything(0)
    return DiffusionAutoencoder((1, 32, 32), channels=4, semantic_dim=3, condition_dropout=0.3,
                                device="cpu", **kw)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_resume_is_bit_identical(tmp_path):
    settings = dict(steps=6, batch_size=8, lr=1e-3, seed=2, checkpoint_every=2, progress=False)
    whole = train(_tiny(), Digits(), checkpoint_dir=tmp_path / "a", **settings).model
    stop = lambda step, terms: (_ for _ in ()).throw(KeyboardInterrupt) if step == 3 else None  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        train(_tiny(), Digits(), checkpoint_dir=tmp_path / "b", callback=stop, **settings)
    resumed = train(_tiny(), Digits(), checkpoint_dir=tmp_path / "b", **settings)
    assert resumed.step == 6 and _same(whole, resumed.model)


def test_loss_is_the_simple_objective_and_training_lowers_it():
    model = _tiny()
    x = Digits().sample(16, generator=0)[0]
    g = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    loss, _ = model.loss(x, generator=g())
    # the same draws by hand: t, then eps, then the dropout coin
    gen = g()
    t = torch.randint(0, 1000, (16,), generator=gen)
    eps = torch.randn(x.shape, generator=gen)
    a = model.schedule.alpha_bar.float()[t].view(-1, 1, 1, 1)
    x_t = a.sqrt() * (2 * x - 1) + (1 - a).sqrt() * eps
    drop = torch.rand(16, generator=gen) < 0.3
    c = torch.where(drop[:, None], model.null_condition.expand(16, -1), model.encode(x))
    assert torch.allclose(loss, (model.unet(x_t, t, c) - eps).pow(2).mean(), atol=1e-6)
    result = train(model, Digits(), steps=40, batch_size=16, lr=3e-3, progress=False)
    assert sum(result.losses[-10:]) < sum(result.losses[:10])


def test_pretrained_round_trip_and_tampered_weights_refused(tmp_path):
    model = _tiny()
    save_pretrained(model, "tiny", {"dataset": "digits"}, tmp_path)
    again = load_pretrained("tiny", device="cpu", directory=tmp_path)
    assert isinstance(again, DiffusionAutoencoder) and _same(model, again)
    data = bytearray((tmp_path / "tiny.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (tmp_path / "tiny.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="hash"):
        load_pretrained("tiny", directory=tmp_path)


@pytest.mark.parametrize("name", ["diffae_digits", "diffae_pendulum", "regressor_digits",
                                  "regressor_pendulum"])
def test_shipped_weights_load_and_are_small(name):
    entry = list_pretrained()[name]
    assert entry["bytes"] < 2_000_000
    model = load_pretrained(name, device="cpu")
    assert model.config == entry["config"]


def test_shipped_digits_autoencoder_reconstructs_and_edits():
    model = load_pretrained("diffae_digits", device="cpu")
    images, _ = Digits().sample(6, generator=11)
    z_sem, x_T = encode(model, images, steps=20)
    assert float((decode(model, z_sem, x_T, steps=20) - images).pow(2).mean()) < 0.003
    # counterfactual with the same condition is the reconstruction
    same = counterfactual(model, images, z_sem, z_sem, steps=20)
    assert torch.allclose(same, decode(model, z_sem, x_T, steps=20), atol=1e-5)


def test_regressor_trains_on_labelled_images_through_the_shared_loop():
    data = Digits()
    reg = FactorRegressor.for_dataset(data, channels=8, device="cpu")
    result = train(reg, data.sample(512, generator=0), steps=60, batch_size=32, lr=3e-3, progress=False)
    assert sum(result.losses[-10:]) < 0.5 * sum(result.losses[:10])
    images, factors = data.sample(8, generator=1)
    assert reg.predict(images).shape == (8, 4)
    assert torch.allclose(reg.factor_range, torch.tensor([9.0, 2.5, 0.6, 191.0]))


def test_principal_directions_find_the_dominant_axis_and_correlate_with_it():
    g = torch.Generator().manual_seed(0)
    factor = torch.randn(400, 1, generator=g)
    codes = factor * torch.tensor([[3.0, 4.0, 0.0]]) / 5 * 3 + 0.1 * torch.randn(400, 3, generator=g)
    pcs = principal_directions(codes, k=2)
    assert torch.allclose(pcs.components[0].abs(), torch.tensor([0.6, 0.8, 0.0], dtype=torch.float64), atol=0.02)
    assert float(pcs.explained[0]) > 0.95
    assert float(factor_correlations(pcs.scores(codes), factor)[0, 0]) > 0.99
    with pytest.raises(WorkbenchInputError):
        principal_directions(codes, k=4)


def test_probe_edit_moves_only_the_chosen_factor():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(300, 5, generator=g)
    mix = torch.randn(5, 3, generator=g)
    probes = fit_probes(z, z @ mix + 0.5, ["a", "b", "c"])
    delta = edit_direction(probes, "b")
    moved = [float(p.predict(z[:1] + 2.0 * delta) - p.predict(z[:1])) for p in probes]
    assert moved == pytest.approx([0.0, 2.0, 0.0], abs=1e-6)
    with pytest.raises(WorkbenchInputError):
        edit_direction(probes, "thickness")


def test_bad_settings_and_conditions_raise():
    with pytest.raises(WorkbenchInputError):
        DiffusionAutoencoder((1, 32, 32), semantic_dim=0)
    with pytest.raises(WorkbenchInputError):
        DiffusionModel((1, 32, 32), schedule="quadratic")
    with pytest.raises(WorkbenchInputError):
        build_diffusion({"kind": "gan"})
    conditional = DiffusionModel((1, 16, 16), channels=4, condition_dim=2, device="cpu")
    with pytest.raises(ShapeError):
        conditional.predict_noise(torch.zeros(3, 1, 16, 16), 5, torch.zeros(3, 4))
    with pytest.raises(WorkbenchInputError, match="condition"):
        conditional.loss(torch.rand(2, 1, 16, 16))
    loss, _ = conditional.loss(torch.rand(2, 1, 16, 16), condition=torch.ones(2, 2),
                               generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(loss)


class _Brightness:
    """A stand-in regressor: each image's mean and its top half's mean."""

    factor_names = ["mean", "top"]

    def predict(self, x):
        return torch.stack([x.mean(dim=(1, 2, 3)), x[:, :, : x.shape[2] // 2].mean(dim=(1, 2, 3))], 1).cpu()


def test_response_probes_predict_the_decoders_change_to_first_order():
    from workbench.latents.diffusion.directions import response_probes
    model = DiffusionAutoencoder((1, 16, 16), channels=4, semantic_dim=3, num_steps=50, device="cpu").eval()
    images = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    probes = response_probes(model, _Brightness(), images, steps=5, moves=12, size=0.05)
    assert all(p.r2 > 0.9 for p in probes)
    z, x_T = encode(model, images, steps=5)
    move = 0.05 * z.std(0) * torch.tensor([1.0, -0.5, 0.7])
    base = _Brightness().predict(decode(model, z, x_T, steps=5)).mean(0)
    actual = _Brightness().predict(decode(model, z + move, x_T, steps=5)).mean(0) - base
    predicted = torch.stack([p.predict(move[None].double())[0] for p in probes]).float()
    assert torch.allclose(predicted, actual, rtol=0.2, atol=1e-4)


def test_sampling_from_fresh_noise_given_z_sem_needs_clipping():
    """Notebook 08's denoising scrubber: clipped DDIM from new noise, given an image's z_sem,
    lands near that image and its guess of x_0 is close half-way; unclipped, this model's
    first guesses fall far below the data range and a faint digit fades to black."""
    from workbench.latents.diffusion import sample_ddim

    model = load_pretrained("diffae_digits", device="cpu")
    images, _ = Digits().sample(300, generator=1)        # the notebook's images
    start = torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(4))
    faint, bright = images[1:2], images[3:4]              # a five at 0.25, a nine at 1.0
    assert float(faint.max()) < 0.3 and float(bright.max()) == 1.0
    for image in (faint, bright):
        out, path = sample_ddim(model, x_T=start, steps=50, condition=model.encode(image),
                                clip=True, trajectory=True)
        black = float(image.abs().mean())                 # the error of an all-black guess
        assert float((out - image).abs().mean()) < 0.4 * black
        assert float((path.x0_hat[25] - image).abs().mean()) < 0.6 * black    # t = 480
    unclipped = sample_ddim(model, x_T=start, steps=50, condition=model.encode(faint))
    assert float(unclipped.max()) < 0.01
