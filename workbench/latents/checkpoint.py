"""Checkpoints: safetensors files plus a manifest of SHA-256 hashes, written atomically.

A checkpoint is a folder. Each group of tensors (``model``, ``optimizer``, ``rng``) is
one ``.safetensors`` file named with its step; ``manifest.json`` lists those files with
their SHA-256 hashes and sizes, plus the JSON-able training state. Writing is
crash-safe: every file is written to a temporary name and moved into place with
:func:`os.replace` (atomic on one file system), and the manifest, written last, is the
commit point, so a reader sees either the old checkpoint or the new one, never a mix.
Old files are removed only after the new manifest is in place.

Loading verifies every hash before reading a byte of tensor data, and refuses with a
:class:`~workbench.errors.CheckpointError` on a missing, truncated or tampered file.
Safetensors holds raw tensors only, so loading it can never run code; the only
``torch.load`` here, for legacy ``.pt`` files, passes ``weights_only=True``, which
refuses pickled objects other than tensors and plain containers.

Examples
--------
>>> import tempfile, torch
>>> folder = tempfile.mkdtemp()
>>> _ = save_checkpoint(folder, {"model": {"w": torch.ones(2)}}, {"step": 3})
>>> tensors, state = load_checkpoint(folder)
>>> tensors["model"]["w"].tolist(), state["step"]
([1.0, 1.0], 3)
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from workbench.errors import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint", "has_checkpoint", "sha256_bytes",
           "atomic_write", "load_weights_file", "MANIFEST", "FORMAT"]

MANIFEST = "manifest.json"
FORMAT = "workbench-checkpoint/1"


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Examples
    --------
    >>> sha256_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def atomic_write(path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    ``durable=False`` skips the ``fsync``: still atomic for a process that is killed,
    but a power cut may leave the file empty (for files inside a folder that is itself
    renamed into place and verified by hash later, as a sweep's run folders are).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write(path, b"abc"); path.read_bytes()
    b'abc'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)                  # mkstemp makes 0600; weights are not secrets
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _contiguous(tensors: dict) -> dict:
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}


def save_checkpoint(directory, groups: dict[str, dict[str, torch.Tensor]], state: dict) -> Path:
    """Save tensor ``groups`` and JSON-able ``state`` as a checkpoint in ``directory``.

    Returns the manifest's path. ``state`` may hold a ``step``, used in file names.

    Examples
    --------
    >>> import tempfile, torch
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_checkpoint(folder, {"model": {"w": torch.ones(2)}}, {"step": 3})
    >>> has_checkpoint(folder), load_checkpoint(folder)[1]["step"]
    (True, 3)
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    old = _read_manifest(directory) if (directory / MANIFEST).exists() else None
    step = int(state.get("step", 0))
    files = {}
    for group, tensors in groups.items():
        name = f"{group}-{step:08d}.safetensors"
        data = save_safetensors_bytes(_contiguous(tensors))
        atomic_write(directory / name, data)
        files[group] = {"file": name, "sha256": sha256_bytes(data), "bytes": len(data)}
    manifest = {"format": FORMAT, "files": files, "state": state}
    atomic_write(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    if old is not None:
        keep = {entry["file"] for entry in files.values()}
        for entry in old.get("files", {}).values():
            if entry.get("file") not in keep:
                (directory / Path(entry["file"]).name).unlink(missing_ok=True)
    return directory / MANIFEST


def has_checkpoint(directory) -> bool:
    """Whether ``directory`` holds a checkpoint manifest.

    Examples
    --------
    >>> import tempfile
    >>> has_checkpoint(tempfile.mkdtemp())
    False
    """
    return directory is not None and (Path(directory) / MANIFEST).is_file()


def _read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.is_file():
        raise CheckpointError(f"No checkpoint in {directory}: {MANIFEST} is missing.")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the checkpoint is corrupted.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
            manifest.get("files"), dict):
        raise CheckpointError(f"{path} is not a {FORMAT} manifest.")
    return manifest


def verified_bytes(path: Path, sha256: str, what: str) -> bytes:
    """The bytes of ``path`` after checking their SHA-256 against ``sha256``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.bin"; atomic_write(path, b"abc")
    >>> verified_bytes(path, sha256_bytes(b"abc"), "a test file")
    b'abc'
    """
    if not path.is_file():
        raise CheckpointError(f"{what}: file {path} is missing.")
    data = path.read_bytes()
    actual = sha256_bytes(data)
    if actual != sha256:
        raise CheckpointError(
            f"{what}: {path.name} fails its hash check (SHA-256 {actual[:16]}..., manifest "
            f"says {str(sha256)[:16]}...). The file is corrupted or was modified; delete the "
            "checkpoint folder to start again, or restore the file."
        )
    return data


def load_checkpoint(directory) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    """Load and verify a checkpoint: ``(groups of CPU tensors, state)``.

    Examples
    --------
    >>> import tempfile, torch
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_checkpoint(folder, {"model": {"w": torch.ones(2)}}, {"step": 1})
    >>> load_checkpoint(folder)[0]["model"]["w"]
    tensor([1., 1.])
    """
    directory = Path(directory)
    manifest = _read_manifest(directory)
    groups = {}
    for group, entry in manifest["files"].items():
        name = Path(str(entry.get("file", ""))).name      # never leave the folder
        if not name.endswith(".safetensors"):
            raise CheckpointError(f"Checkpoint entry {group!r} is not a .safetensors file: {name!r}.")
        data = verified_bytes(directory / name, entry.get("sha256", ""), f"Checkpoint {directory}")
        try:
            groups[group] = load_safetensors_bytes(data)
        except (SafetensorError, ValueError) as exc:
            raise CheckpointError(f"{name} is not a readable safetensors file: {exc}") from exc
    return groups, manifest.get("state", {})


def load_weights_file(path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` (preferred) or a legacy torch file.

    Legacy files go through ``torch.load(weights_only=True)``: a pickle that tries to
    run code is refused with a :class:`CheckpointError` and never executed.

    Examples
    --------
    >>> from workbench.latents.pretrained import PRETRAINED_DIR
    >>> weights = load_weights_file(PRETRAINED_DIR / "vae_sprites.safetensors")
    >>> len(weights) > 0
    True
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Weights file {path} does not exist.")
    if path.suffix == ".safetensors":
        try:
            return load_safetensors_bytes(path.read_bytes())
        except (SafetensorError, ValueError) as exc:
            raise CheckpointError(f"{path.name} is not a readable safetensors file: {exc}") from exc
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError) as exc:
        raise CheckpointError(
            f"Refused to load {path.name}: it is not a plain tensor file ({type(exc).__name__}). "
            "Only tensors are loaded (weights_only=True); never unpickle files you do not trust."
        ) from exc
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise CheckpointError(f"{path.name} does not hold a dict of tensors.")
    return loaded
