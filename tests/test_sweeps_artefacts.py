"""A run folder written in one pass holds what save_pretrained and safetensors would write."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from workbench.latents import build_model, load_pretrained, save_pretrained
from workbench.sweeps.artefacts import (MANIFEST_FILE, WEIGHTS_FILE, read_run_folder, safetensors_parts,
                                        write_run_folder)
from workbench.sweeps.config import sweepable_models


def _model(kind: str):
    torch.manual_seed(0)
    return build_model({"kind": kind, "image_shape": [1, 16, 16], "latent_dim": 4})


@pytest.mark.parametrize("kind", sweepable_models())
def test_the_weights_are_the_bytes_safetensors_writes(kind):
    tensors = _model(kind).state_dict()
    assert b"".join(safetensors_parts(tensors)) == save_safetensors(
        {k: v.contiguous() for k, v in tensors.items()})


@pytest.mark.parametrize("tensors", [
    {"w": torch.randn(3, 5), "é": torch.randn(2), "a.b": torch.randn(1, 1, 7), "empty": torch.zeros(0)},
    {"w": torch.randn(4).double(), "b": torch.tensor([True, False, True])},       # two dtypes
    {"i": torch.arange(5), "h": torch.arange(3)},                                  # int64 only
    {"t": torch.randn(3, 4).T},                                                    # not contiguous
    {"bf": torch.randn(3).bfloat16()},                                             # no numpy view
])
def test_every_layout_matches_safetensors_and_loads_back(tensors):
    data = b"".join(safetensors_parts(tensors))
    assert data == save_safetensors({k: v.contiguous() for k, v in tensors.items()})
    loaded = load_safetensors(data)
    assert all(torch.equal(loaded[k], v) for k, v in tensors.items())


def test_shared_memory_is_refused_as_safetensors_refuses_it():
    weight = torch.randn(4)
    with pytest.raises(RuntimeError):
        save_safetensors({"a": weight, "b": weight})
    with pytest.raises(RuntimeError):
        safetensors_parts({"a": weight, "b": weight})


def test_a_run_folder_is_what_save_pretrained_writes_and_loads_verified(tmp_path):
    model = _model("beta_vae")
    row = {"key": "abc", "status": "ok", "score.mig": 0.5}
    sha = write_run_folder(tmp_path / "runs" / "abc", model, row)
    save_pretrained(model, "model", {"run": "abc", "row": {**row, "weights_sha256": sha}},
                    directory=tmp_path / "reference", durable=False)
    folder, reference = tmp_path / "runs" / "abc", tmp_path / "reference"
    assert (folder / WEIGHTS_FILE).read_bytes() == (reference / WEIGHTS_FILE).read_bytes()
    # the same manifest, on one line (json's C encoder; save_pretrained indents it)
    written, expected = ((f / MANIFEST_FILE).read_text() for f in (folder, reference))
    assert json.loads(written) == json.loads(expected) and "\n" not in written
    assert read_run_folder(folder) == {**row, "weights_sha256": sha}
    loaded = load_pretrained("model", directory=folder)         # checks the SHA-256 first
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(),
                                                 model.state_dict().values()))
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["abc"]   # no partial left


def test_a_leftover_partial_and_a_stale_folder_are_replaced(tmp_path):
    model = _model("vae")
    partial = tmp_path / ".k.partial"
    partial.mkdir()
    (partial / WEIGHTS_FILE).write_bytes(b"half a file")
    stale = tmp_path / "k"
    stale.mkdir()
    (stale / "old.txt").write_text("stale")
    write_run_folder(stale, model, {"key": "k"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]
    assert sorted(p.name for p in stale.iterdir()) == [MANIFEST_FILE, WEIGHTS_FILE]


def test_a_failed_write_leaves_no_partial_folder(tmp_path, monkeypatch):
    import workbench.sweeps.artefacts as artefacts

    calls = []

    def fail_on_the_manifest(path, parts):
        calls.append(path.name)
        if path.name == "manifest.json":
            raise OSError("disk full")
        return original(path, parts)

    original = artefacts._write_new
    monkeypatch.setattr(artefacts, "_write_new", fail_on_the_manifest)
    with pytest.raises(OSError, match="disk full"):
        write_run_folder(tmp_path / "k", _model("vae"), {"key": "k"})
    assert calls == [WEIGHTS_FILE, "manifest.json"] and list(tmp_path.iterdir()) == []


def test_short_writes_still_write_every_byte(tmp_path, monkeypatch):
    import os

    import workbench.sweeps.artefacts as artefacts

    real_writev, calls = os.writev, []

    def at_most_1000_bytes(fd, buffers):       # a disk that takes a little at a time
        calls.append(len(buffers))
        taken, left = [], 1000
        for buffer in buffers:
            piece = memoryview(buffer)[:left]
            taken.append(piece)
            left -= len(piece)
            if not left:
                break
        return real_writev(fd, taken)

    monkeypatch.setattr(artefacts.os, "writev", at_most_1000_bytes)
    model = _model("vae")
    write_run_folder(tmp_path / "k", model, {"key": "k"})
    assert len(calls) > 100
    assert (tmp_path / "k" / WEIGHTS_FILE).read_bytes() == save_safetensors(
        {k: v.contiguous() for k, v in model.state_dict().items()})


def test_a_stale_file_in_the_folder_s_place_is_replaced(tmp_path):
    (tmp_path / "k").write_text("not a folder")
    write_run_folder(tmp_path / "k", _model("vae"), {"key": "k", "status": "ok"})
    assert read_run_folder(tmp_path / "k")["key"] == "k"


@pytest.mark.parametrize("damage", ["no manifest", "no row", "row disagrees", "not json", "no weights"])
def test_a_damaged_folder_reads_as_none(tmp_path, damage):
    folder = tmp_path / "k"
    write_run_folder(folder, _model("vae"), {"key": "k", "status": "ok"})
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    entry = manifest["models"]["model"]
    if damage == "no manifest":
        (folder / MANIFEST_FILE).unlink()
    elif damage == "no weights":
        (folder / WEIGHTS_FILE).unlink()
    elif damage == "not json":
        (folder / MANIFEST_FILE).write_text("{")
    else:
        if damage == "no row":
            del entry["row"]
        else:
            entry["row"]["weights_sha256"] = "0" * 64
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert read_run_folder(folder) is None
