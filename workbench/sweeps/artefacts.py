"""A finished run's folder, written in one pass: weights, their SHA-256 manifest, the row.

``<root>/runs/<key>/`` holds ``model.safetensors``, ``manifest.json`` (the format of
:func:`workbench.latents.save_pretrained`, so :func:`~workbench.latents.load_pretrained`
reads it and checks the hash) and ``run.json`` (the run's row, with the weights'
SHA-256). The three files are written in a partial folder that is renamed into place
as the last step: the folder is either complete or absent, whenever the process is
killed. Inside that folder a plain write is enough (the rename is the commit point),
so no file gets a temporary name of its own.

The weights are not first serialised into one ``bytes`` object (two copies of every
tensor) and then hashed and written: :func:`safetensors_parts` gives the header and a
view of each tensor's memory, and each view is hashed and written as it is. The bytes
on disk are those of ``safetensors.torch.save`` (tests compare them); whatever the
fast path does not cover (tensors of several dtypes, shared memory, bfloat16, a
big-endian machine) goes through ``safetensors.torch.save`` itself. Measured on the
sweep benchmark's tiny VAE (669 kB of weights, one loaded core): 1.6 ms a folder
instead of 3.2 ms; what is left is mostly SHA-256 itself, computed on a second thread
while the weights are written (both release the GIL).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from workbench.latents import build_model, load_pretrained
>>> model = build_model({"kind": "vae", "image_shape": [1, 16, 16], "latent_dim": 2})
>>> folder = Path(tempfile.mkdtemp()) / "runs" / "k1"
>>> sha = write_run_folder(folder, model, {"key": "k1", "status": "ok"})
>>> sorted(p.name for p in folder.iterdir())
['manifest.json', 'model.safetensors', 'run.json']
>>> load_pretrained("model", directory=folder).latent_dim
2
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
from pathlib import Path

import torch

__all__ = ["safetensors_parts", "write_run_folder", "RUN_FILE", "WEIGHTS_FILE"]

RUN_FILE = "run.json"
WEIGHTS_FILE = "model.safetensors"
# dtypes whose memory numpy can view, with safetensors' names for them
_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.int64: "I64",
           torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL"}


def safetensors_parts(tensors: dict) -> list:
    """The bytes ``safetensors.torch.save(tensors)`` makes, as a list of buffers.

    For tensors of one dtype (a model's weights, usually): an 8-byte length, the JSON
    header (padded with spaces to a multiple of 8), then a memory view of each tensor in
    name order, as safetensors lays them out, and none of them copied. Anything else is
    one buffer from ``safetensors.torch.save`` itself.

    Examples
    --------
    >>> from safetensors.torch import save
    >>> tensors = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.zeros(3)}
    >>> b"".join(safetensors_parts(tensors)) == save(tensors)
    True
    >>> len(safetensors_parts({"w": torch.ones(2), "step": torch.tensor(3)}))   # two dtypes
    1
    """
    from safetensors.torch import save

    tensors = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    dtypes = {t.dtype for t in tensors.values()}
    pointers = {t.untyped_storage().data_ptr() for t in tensors.values()}
    if (len(dtypes) != 1 or next(iter(dtypes)) not in _DTYPES or len(pointers) < len(tensors)
            or sys.byteorder != "little"):
        return [save(tensors)]
    header, views, offset = {}, [], 0
    for name in sorted(tensors):
        tensor = tensors[name]
        view = memoryview(tensor.numpy()).cast("B") if tensor.numel() else memoryview(b"")
        header[name] = {"dtype": _DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(view)]}
        offset += len(view)
        views.append(view)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return [len(text).to_bytes(8, "little"), text, *views]


def _write_new(path: Path, parts) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for part in parts:
            view = memoryview(part)
            while view:
                view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_run_folder(final, model, row: dict) -> str:
    """Write ``final`` (weights, manifest, ``run.json``) atomically; return the weights' SHA-256.

    ``row`` gets ``weights_sha256``. A leftover partial folder of the same key (a run
    killed mid-write) is removed first; an existing ``final`` (a stale run of the same
    key) is replaced.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.latents import build_model
    >>> model = build_model({"kind": "vae", "image_shape": [1, 16, 16], "latent_dim": 2})
    >>> folder = Path(tempfile.mkdtemp()) / "k2"
    >>> row = {"key": "k2"}
    >>> write_run_folder(folder, model, row) == row["weights_sha256"]
    True
    >>> json.loads((folder / RUN_FILE).read_text())["weights_sha256"] == row["weights_sha256"]
    True
    """
    from workbench.latents.pretrained import FORMAT

    final = Path(final)
    parts = safetensors_parts(model.state_dict())
    digest = hashlib.sha256()
    # hashing and writing both release the GIL: hash on a second core while the file is written
    hashing = threading.Thread(target=lambda: [digest.update(part) for part in parts], daemon=True)
    # One partial folder per key (a key runs in one place at a time): a leftover from a
    # run killed mid-write is found by one stat, not by listing the runs folder.
    partial = final.parent / f".{final.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        hashing.start()
        try:
            _write_new(partial / WEIGHTS_FILE, parts)
        finally:
            hashing.join()
        sha = row["weights_sha256"] = digest.hexdigest()
        entry = {"file": WEIGHTS_FILE, "sha256": sha, "bytes": sum(len(memoryview(p)) for p in parts),
                 "config": model.config, "run": row["key"]}
        manifest = {"format": FORMAT, "models": {"model": entry}}
        _write_new(partial / "manifest.json", [json.dumps(manifest, indent=1, sort_keys=True).encode()])
        _write_new(partial / RUN_FILE, [json.dumps(row, indent=1, sort_keys=True).encode()])
        if final.exists():                     # an incomplete leftover cannot exist; a stale one may
            shutil.rmtree(final)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return sha
