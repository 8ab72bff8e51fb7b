"""Small pretrained models shipped with the package, verified by SHA-256 on load.

The weights in ``workbench/pretrained/`` are produced by ``python
scripts/train_pretrained.py`` from a fixed seed on the CPU; ``manifest.json`` there
records each model's file, hash, configuration, training settings and measured
reconstruction quality. Nothing is ever downloaded.

Examples
--------
>>> sorted(list_pretrained())[:1]
['beta_tcvae_sprites']
>>> model = load_pretrained("beta_vae_sprites", device="cpu")
>>> model.kind, model.latent_dim
('beta_vae', 10)
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from workbench.errors import CheckpointError, UnknownVariableError
from workbench.latents.checkpoint import atomic_write, sha256_bytes, verified_bytes
from workbench.latents.diffusion.model import DIFFUSION_MODELS, build_diffusion
from workbench.latents.diffusion.regressors import FactorRegressor
from workbench.latents.vae import build_model

__all__ = ["PRETRAINED_DIR", "list_pretrained", "load_pretrained", "save_pretrained", "register_builder"]

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
FORMAT = "workbench-pretrained/1"


def _manifest(directory: Path) -> dict:
    path = directory / "manifest.json"
    if not path.is_file():
        return {"format": FORMAT, "models": {}}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} manifest.")
    return manifest


def list_pretrained(directory=PRETRAINED_DIR) -> dict[str, dict]:
    """Every shipped model's manifest entry, by name.

    Examples
    --------
    >>> "vae_sprites" in list_pretrained()
    True
    """
    return dict(_manifest(Path(directory))["models"])


def load_pretrained(name: str, device=None, directory=PRETRAINED_DIR):
    """The pretrained model ``name``, hash-verified, in eval mode on ``device``.

    Raises
    ------
    UnknownVariableError
        If there is no model of that name (the message lists those there are).
    CheckpointError
        If its file is missing or fails the SHA-256 check.

    Examples
    --------
    >>> model = load_pretrained("vae_sprites")
    >>> type(model).__name__, model.latent_dim
    ('VAE', 10)
    """
    directory = Path(directory)
    models = _manifest(directory)["models"]
    if name not in models:
        raise UnknownVariableError(name, models, what="pretrained model")
    entry = models[name]
    data = verified_bytes(directory / Path(entry["file"]).name, entry["sha256"], f"Pretrained {name!r}")
    model = _build(entry["config"], device)
    model.load_state_dict(load_safetensors_bytes(data))
    return model.eval()


#: ``kind -> builder(config, device)`` for models defined in areas above ``latents``
BUILDERS: dict = {}
#: kind prefix -> the module whose import registers those kinds' builders
REGISTERING_MODULES = {"deepscm_": "workbench.deepscm"}


def register_builder(kind: str, builder) -> None:
    """Let :func:`load_pretrained` build models of ``kind`` with ``builder(config, device)``.

    For model kinds defined in an area above ``latents`` (e.g. :mod:`workbench.deepscm`),
    which this module must not import at its top.

    Examples
    --------
    >>> register_builder("example_kind", lambda config, device: None)
    >>> "example_kind" in BUILDERS
    True
    >>> _ = BUILDERS.pop("example_kind")
    """
    BUILDERS[str(kind)] = builder


def _build(config: dict, device):
    kind = str(config.get("kind", ""))
    for prefix, module in REGISTERING_MODULES.items():
        if kind.startswith(prefix) and kind not in BUILDERS:
            importlib.import_module(module)
    if kind in BUILDERS:
        return BUILDERS[kind](config, device)
    if kind.startswith("domain_"):     # domain-counterfactual models
        from workbench.latents.domain_counterfactuals.models import build_domain_model
        return build_domain_model(config, device=device)
    if kind == FactorRegressor.kind:
        return FactorRegressor(**{k: v for k, v in config.items() if k != "kind"}, device=device)
    return (build_diffusion if kind in DIFFUSION_MODELS else build_model)(config, device=device)


def save_pretrained(model, name: str, info: dict, directory=PRETRAINED_DIR, *,
                    durable: bool = True) -> dict:
    """Write ``model``'s weights as ``<name>.safetensors`` and record it in the manifest.

    ``durable=False`` skips the ``fsync`` of each file (see :func:`atomic_write`).

    Examples
    --------
    >>> import tempfile
    >>> from workbench.latents.vae import VAE
    >>> folder = tempfile.mkdtemp()
    >>> entry = save_pretrained(VAE((1, 32, 32), latent_dim=2), "tiny", {"note": "untrained"}, directory=folder)
    >>> load_pretrained("tiny", directory=folder).latent_dim
    2
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = save_safetensors_bytes({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()})
    atomic_write(directory / f"{name}.safetensors", data, durable=durable)
    manifest = _manifest(directory)
    manifest["models"][name] = {"file": f"{name}.safetensors", "sha256": sha256_bytes(data),
                                "bytes": len(data), "config": model.config, **info}
    atomic_write(directory / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode(),
                 durable=durable)
    return manifest["models"][name]
