"""Training refuses bad settings up front and never resumes a checkpoint on other data.

Reproducers from issue 11 ("no silent wrong answers").
"""

import json

import pytest
import torch

import workbench as wb
from workbench.datasets import Digits, Pendulum
from workbench.errors import CheckpointError, NonFiniteValueError, ShapeError, WorkbenchInputError
from workbench.latents import VAE, train
from workbench.latents.checkpoint import MANIFEST
from workbench.latents.fingerprint import data_fingerprint


def _model():
    wb.seed_everything(0)
    return VAE(image_shape=(1, 32, 32), latent_dim=2, device="cpu")


def _data():
    return (torch.rand(32, 1, 32, 32, generator=torch.Generator().manual_seed(0)) > 0.5).float()


def _train(data, folder, steps, **kw):
    return train(_model(), data, steps=steps, batch_size=8, seed=1, checkpoint_dir=folder,
                 checkpoint_every=2, progress=False, **kw)


def test_resuming_on_other_data_is_refused(tmp_path):
    """Before: resuming with torch.zeros_like(data) continued silently."""
    data = _data()
    _train(data, tmp_path, steps=2)
    with pytest.raises(CheckpointError, match=r"trained on a float32 tensor of shape \(32, 1, 32, 32\)") as info:
        _train(torch.zeros_like(data), tmp_path, steps=4)
    assert "resume=False" in str(info.value)
    assert _train(data, tmp_path, steps=4).step == 4                    # its own data: fine
    fresh = _train(torch.zeros_like(data), tmp_path, steps=2, resume=False)
    assert fresh.step == 2 and len(fresh.history) == 2                  # started again


def test_resuming_on_another_data_set_is_refused(tmp_path):
    train(_model(), Digits(), steps=2, batch_size=4, checkpoint_dir=tmp_path, progress=False)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["state"]["data"]["sha256"] == data_fingerprint(Digits())
    with pytest.raises(CheckpointError, match="Digits"):
        train(_model(), _data(), steps=4, batch_size=4, checkpoint_dir=tmp_path, progress=False)


def test_old_checkpoints_without_a_fingerprint_are_refused(tmp_path):
    data = _data()
    _train(data, tmp_path, steps=2)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    del manifest["state"]["data"]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="did not record"):
        _train(data, tmp_path, steps=4)


def test_data_set_settings_change_the_fingerprint():
    assert data_fingerprint(Pendulum(noise_std=0.5)) == data_fingerprint(Pendulum(noise_std=0.5))
    assert data_fingerprint(Pendulum(noise_std=0.5)) != data_fingerprint(Pendulum(noise_std=0.1))
    assert data_fingerprint(Digits()) != data_fingerprint(Pendulum())


@pytest.mark.parametrize("kw, match", [
    (dict(checkpoint_every=0), "checkpoint_every must be a positive integer"),   # was ZeroDivisionError
    (dict(batch_size=0), "batch_size must be a positive integer"),              # was "training diverged"
    (dict(batch_size=2.5), "batch_size"),
    (dict(lr=float("nan")), "lr must be a positive finite number"),
    (dict(lr=-1.0), "lr"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(kl_warmup=1.5), "kl_warmup"),
    (dict(seconds=float("inf"), steps=None), "seconds"),
])
def test_bad_settings_are_refused_before_training(tmp_path, kw, match):
    settings = dict(steps=2, batch_size=8, progress=False, checkpoint_dir=tmp_path)
    settings.update(kw)
    with pytest.raises(WorkbenchInputError, match=match):
        train(_model(), _data(), **settings)
    assert not (tmp_path / MANIFEST).exists()


def test_bad_data_is_refused_before_training():
    with pytest.raises(ShapeError, match=r"\(n, 1, 32, 32\)"):
        train(_model(), torch.zeros(0, 1, 32, 32), steps=1, progress=False)
    with pytest.raises(ShapeError):
        train(_model(), torch.zeros(4, 3, 32, 32), steps=1, progress=False)
    bad = _data()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteValueError):
        train(_model(), bad, steps=1, progress=False)
