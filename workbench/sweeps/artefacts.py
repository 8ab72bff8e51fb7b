"""A finished run's folder, written in one pass: weights, their SHA-256 manifest, the row.

``<root>/runs/<key>/`` holds ``model.safetensors`` and ``manifest.json``: the format of
:func:`workbench.latents.save_pretrained` (so :func:`~workbench.latents.load_pretrained`
reads it and checks the hash), whose entry also holds the run's row under ``"row"``
(with the weights' SHA-256, as in ``results.jsonl``); the manifest is on one line. The
two files are written in a partial folder that is renamed into place as the last step:
the folder is either complete or absent, whenever the process is killed. Inside that folder a plain write
is enough (the rename is the commit point), so no file gets a temporary name of its
own. :func:`read_run_folder` gives the row back only if the weights still match.

The weights are not first serialised into one ``bytes`` object (two copies of every
tensor) and then hashed and written: :func:`safetensors_parts` gives the header and a
view of each tensor's memory; SHA-256 reads the views and one ``writev`` call writes
them. The bytes on disk are those of ``safetensors.torch.save`` (tests compare them);
whatever the fast path does not cover (tensors of several dtypes, shared memory,
bfloat16, a big-endian machine) goes through ``safetensors.torch.save`` itself.

Each file-system call costs here about as much as hashing 100 kB, so the folder is
written with as few as the guarantees allow: a ``mkdir``, two creations, one
``rename``; a leftover partial folder or a stale final one is only looked for when
``mkdir`` or ``rename`` fails. Measured on the sweep benchmark's tiny VAE (669 kB of
weights, ``benchmarks/bench_sweeps.py``): see ``benchmarks/REPORT.md``.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from workbench.latents import build_model, load_pretrained
>>> model = build_model({"kind": "vae", "image_shape": [1, 16, 16], "latent_dim": 2})
>>> folder = Path(tempfile.mkdtemp()) / "runs" / "k1"
>>> sha = write_run_folder(folder, model, {"key": "k1", "status": "ok"})
>>> sorted(p.name for p in folder.iterdir())
['manifest.json', 'model.safetensors']
>>> read_run_folder(folder)['status']
'ok'
>>> load_pretrained("model", directory=folder).latent_dim
2
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import torch

__all__ = ["safetensors_parts", "write_run_folder", "read_run_folder", "MANIFEST_FILE", "WEIGHTS_FILE"]

MANIFEST_FILE = "manifest.json"
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

    tensors = {name: _plain(t) for name, t in tensors.items()}
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


def _plain(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` on the CPU, contiguous, without autograd (itself if it already is: a state dict's)."""
    if tensor.device.type == "cpu" and not tensor.requires_grad and tensor.is_contiguous():
        return tensor
    return tensor.detach().cpu().contiguous()


_MOST_BUFFERS = 1024                   # IOV_MAX on Linux: buffers one writev call takes


def _write_new(path: Path, parts) -> None:
    """Create ``path`` (it must not exist) holding the bytes of ``parts``, written with ``writev``."""
    views = [memoryview(part).cast("B") for part in parts]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        while views:
            written = os.writev(fd, views[:_MOST_BUFFERS])
            while views and written >= len(views[0]):       # drop the buffers written whole
                written -= len(views[0])
                views.pop(0)
            if views:
                views[0] = views[0][written:]               # and the written start of the next
    finally:
        os.close(fd)


def _new_folder(folder: Path) -> None:
    """Create ``folder`` empty: a leftover of a run killed mid-write is removed first."""
    try:
        folder.mkdir()
    except FileExistsError:
        shutil.rmtree(folder)
        folder.mkdir()
    except FileNotFoundError:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()


def _move_into_place(partial: Path, final: Path) -> None:
    """Rename the complete ``partial`` folder to ``final``, replacing a stale ``final``."""
    try:
        os.replace(partial, final)         # onto nothing, or onto an empty folder
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise
        if final.is_dir():
            shutil.rmtree(final)
        else:
            final.unlink()
        os.replace(partial, final)


def _manifest_json(manifest: dict) -> bytes:
    """The manifest on one line: json's C encoder writes that (``indent`` falls back to
    its pure-Python encoder, which cost 0.1 ms a run here); any JSON reader reads it."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def write_run_folder(final, model, row: dict) -> str:
    """Write ``final`` (weights; manifest with ``row``) atomically; return the weights' SHA-256.

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
    >>> json.loads((folder / MANIFEST_FILE).read_text())["models"]["model"]["row"] == row
    True
    """
    from workbench.latents.pretrained import FORMAT

    final = Path(final)
    parts = safetensors_parts(model.state_dict())
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    sha = row["weights_sha256"] = digest.hexdigest()
    entry = {"file": WEIGHTS_FILE, "sha256": sha, "bytes": sum(len(memoryview(p).cast("B")) for p in parts),
             "config": model.config, "run": row["key"], "row": row}
    manifest = {"format": FORMAT, "models": {"model": entry}}
    # One partial folder per key (a key runs in one place at a time): a leftover from a
    # run killed mid-write has this very name, so creating the folder finds it.
    partial = final.parent / f".{final.name}.partial"
    _new_folder(partial)
    try:
        _write_new(partial / WEIGHTS_FILE, parts)
        _write_new(partial / MANIFEST_FILE, [_manifest_json(manifest)])
        _move_into_place(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return sha


def read_run_folder(folder) -> dict | None:
    """The row saved in ``folder`` by :func:`write_run_folder`, or ``None`` if it is not intact.

    Intact: both files are there, the manifest parses and holds a row, and the weights'
    SHA-256 is the one the manifest and the row record.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.latents import build_model
    >>> model = build_model({"kind": "vae", "image_shape": [1, 16, 16], "latent_dim": 2})
    >>> folder = Path(tempfile.mkdtemp()) / "k3"
    >>> _ = write_run_folder(folder, model, {"key": "k3", "status": "ok"})
    >>> read_run_folder(folder)["key"]
    'k3'
    >>> weights = folder / WEIGHTS_FILE
    >>> _ = weights.write_bytes(weights.read_bytes()[:-1])      # a damaged file
    >>> read_run_folder(folder) is None
    True
    """
    from workbench.errors import CheckpointError
    from workbench.latents.checkpoint import verified_bytes

    folder = Path(folder)
    try:
        entry = json.loads((folder / MANIFEST_FILE).read_text())["models"]["model"]
        row, sha = entry["row"], entry["sha256"]
        verified_bytes(folder / WEIGHTS_FILE, sha, "a run folder")    # missing or altered: raises
    except (CheckpointError, OSError, ValueError, KeyError, TypeError):
        return None
    return row if isinstance(row, dict) and row.get("weights_sha256") == sha else None
