"""The training loop: budgets, checkpoints, bit-identical resume, refusal of bad files."""

import hashlib
import json
import os
import signal
import time
from pathlib import Path

import pytest
import torch

import workbench as wb
from workbench.datasets import Digits
from workbench.errors import CheckpointError, WorkbenchInputError
from workbench.latents import BetaTCVAE, VAE, load_checkpoint, load_weights_file, train
from workbench.latents.checkpoint import MANIFEST, save_checkpoint

STEPS, BATCH = 12, 16


def _model(cls=VAE):
    wb.seed_everything(0)
    return cls(image_shape=(1, 32, 32), latent_dim=3, device="cpu")


def _run(folder, cls=VAE, steps=STEPS, callback=None, **kw):
    return train(_model(cls) if "model" not in kw else kw.pop("model"), Digits(), steps=steps,
                 batch_size=BATCH, lr=3e-3, seed=5, checkpoint_dir=folder, checkpoint_every=4,
                 progress=False, callback=callback, **kw)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _stop_at(k, how="raise"):
    def callback(step, terms):
        if step == k:
            if how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)     # what the Jupyter stop button sends
    return callback


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted runs, one per model class."""
    runs = {}
    for cls in (VAE, BetaTCVAE):
        runs[cls] = _run(tmp_path_factory.mktemp(cls.__name__), cls)
    return runs


@pytest.mark.parametrize("cls", [VAE, BetaTCVAE])
@pytest.mark.parametrize("k,how", [(5, "raise"), (8, "signal")])
def test_interrupt_then_resume_is_bit_identical(tmp_path, reference, cls, k, how):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, cls, callback=_stop_at(k, how))
    _, state = load_checkpoint(tmp_path)
    assert state["step"] == k                      # saved at the interrupt, after a whole step
    resumed = _run(tmp_path, cls)                  # a fresh model object, restored from disk
    expected = reference[cls]
    assert resumed.step == STEPS
    assert _same_weights(resumed.model, expected.model)
    assert resumed.history == expected.history
    assert resumed.losses != sorted(resumed.losses)  # (the history is real, not constant)


def test_resume_restores_optimizer_and_rng_state(tmp_path, reference):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, callback=_stop_at(6))
    groups, state = load_checkpoint(tmp_path)
    assert set(groups) == {"model", "optimizer", "rng"}
    assert any(k.endswith("exp_avg_sq") for k in groups["optimizer"])
    assert groups["optimizer"]["0.step"].item() == 6
    saved_rng = groups["rng"]["torch_cpu"]
    torch.manual_seed(123)                          # disturb the global generator
    assert not torch.equal(torch.get_rng_state(), saved_rng)
    resumed = _run(tmp_path)
    assert torch.equal(torch.get_rng_state(), saved_rng)   # restored from the checkpoint
    assert _same_weights(resumed.model, reference[VAE].model)


def test_seconds_budget_stops(monkeypatch):
    """The seconds budget is checked before each step, on a fake clock (0.1 s a reading)."""
    import workbench.latents.training as training

    readings = iter(0.1 * k for k in range(1000))
    monkeypatch.setattr(training.time, "perf_counter", lambda: next(readings))
    result = train(_model(), Digits(), seconds=0.35, batch_size=8, progress=False)
    # readings: start 0.0; checks at 0.1, 0.2, 0.3 run a step each; 0.4 stops; 0.5 is the end
    assert result.step == 3 and len(result.history) == 3
    assert result.seconds == pytest.approx(0.5)


def test_checkpoint_files_and_hashes(tmp_path):
    _run(tmp_path, steps=8)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([MANIFEST] + [e["file"] for e in manifest["files"].values()])  # old files gone
    for entry in manifest["files"].values():
        data = (tmp_path / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
        assert entry["file"].endswith("-00000008.safetensors")


def test_tampered_checkpoint_is_refused(tmp_path):
    _run(tmp_path, steps=4)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    path = tmp_path / manifest["files"]["model"]["file"]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="hash check"):
        _run(tmp_path, steps=8)


def test_truncated_and_garbled_checkpoints_are_refused(tmp_path):
    _run(tmp_path, steps=4)
    manifest_path = tmp_path / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    opt = tmp_path / manifest["files"]["optimizer"]["file"]
    opt.write_bytes(opt.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="hash check"):
        load_checkpoint(tmp_path)
    manifest_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path)
    manifest["files"]["optimizer"]["file"] = "../../etc/passwd"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="not a .safetensors"):
        load_checkpoint(tmp_path)


def test_resume_with_other_settings_or_model_is_refused(tmp_path):
    _run(tmp_path, steps=4)
    with pytest.raises(CheckpointError, match="settings"):
        train(_model(), Digits(), steps=8, batch_size=BATCH + 1, lr=3e-3, seed=5,
              checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="different model"):
        _run(tmp_path, BetaTCVAE, steps=8)


class _Payload:
    """Unpickling this calls Path.touch on a marker file: code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_malicious_pickle_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "weights.pt"
    torch.save({"w": torch.ones(1), "evil": _Payload(marker)}, evil)
    with pytest.raises(CheckpointError, match="weights_only"):
        load_weights_file(evil)
    assert not marker.exists()
    torch.load(evil, weights_only=False)             # the unsafe way really runs the payload
    assert marker.exists()
    good = tmp_path / "good.pt"
    torch.save({"w": torch.arange(3.0)}, good)
    assert load_weights_file(good)["w"].tolist() == [0.0, 1.0, 2.0]


def test_a_pickle_renamed_safetensors_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    fake = tmp_path / "model.safetensors"
    torch.save({"evil": _Payload(marker)}, fake)
    with pytest.raises(CheckpointError):
        load_weights_file(fake)
    assert not marker.exists()


def test_bad_budgets_raise():
    with pytest.raises(WorkbenchInputError, match="budget"):
        train(_model(), Digits(), progress=False)
    with pytest.raises(WorkbenchInputError):
        train(_model(), Digits(), steps=-1, progress=False)
    with pytest.raises(WorkbenchInputError):
        train(_model(), [1, 2, 3], steps=1, progress=False)


def test_save_checkpoint_roundtrip_and_no_temp_files(tmp_path):
    save_checkpoint(tmp_path, {"a": {"x": torch.arange(4)}}, {"step": 1, "note": "hi"})
    save_checkpoint(tmp_path, {"a": {"x": torch.arange(5)}}, {"step": 2})
    groups, state = load_checkpoint(tmp_path)
    assert groups["a"]["x"].tolist() == [0, 1, 2, 3, 4] and state == {"step": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-00000002.safetensors", MANIFEST]


def test_the_jupyter_stop_button_saves_and_resume_matches(tmp_path):
    """A real kernel, interrupted the way JupyterLab's stop button does it."""
    from jupyter_client.manager import start_new_kernel

    marker = tmp_path / "running"
    code = f"""
import time, torch, workbench as wb
from workbench.datasets import Digits
from workbench.latents import VAE, train
torch.set_num_threads(1)
wb.seed_everything(0)
def slowly(step, terms):
    if step == 3:
        open(r"{marker}", "w").close()
    time.sleep(0.05)
train(VAE((1, 32, 32), latent_dim=3, device="cpu"), Digits(), steps=10_000, batch_size={BATCH},
      lr=3e-3, seed=5, checkpoint_dir=r"{tmp_path / 'ckpt'}", checkpoint_every=10_000,
      progress=False, callback=slowly)
"""
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        msg_id = kc.execute(code)
        deadline = time.time() + 120
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "training did not start in the kernel"
        km.interrupt_kernel()
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    _, state = load_checkpoint(tmp_path / "ckpt")
    k = state["step"]
    assert 3 <= k < 10_000
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        resumed = _run(tmp_path / "ckpt", steps=k + 2)
        straight = _run(tmp_path / "straight", steps=k + 2)
    finally:
        torch.set_num_threads(threads)
    assert _same_weights(resumed.model, straight.model)
    assert resumed.history == straight.history
