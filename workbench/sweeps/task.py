"""One run of a sweep: draw the data, train, score, save the artefacts atomically.

:func:`run_one` is what every executor calls, in the sweep's own process or in a
Dask worker. It never raises for a failed run: the error is returned as the run's
row (``status="error"``) so the other runs go on. Its result is a pure function of
the configuration on the CPU: it seeds everything from the run's seed, computes on
one thread (thread counts change the order of floating-point sums), and holds a
process-wide lock, so two runs sharing a process (a Dask worker with several
threads) never interleave their use of the global random state.

Artefacts go to ``<root>/runs/<key>/``: ``model.safetensors`` and ``manifest.json``
(SHA-256 of the weights, in :func:`workbench.latents.save_pretrained`'s format, with
the row). They are written in a partial folder that is renamed into
place as the last step, so the folder is either complete or absent
(:mod:`workbench.sweeps.artefacts`). Training keeps
its checkpoint in ``<root>/in_flight/<key>/`` meanwhile, so a run killed mid-way
resumes from its last checkpoint, to the same weights, when the sweep is run again
(runs shorter than ``CHECKPOINT_FROM_STEPS`` steps keep none: they simply run again).
A finished run is recognised by its manifest's row *and* weights whose SHA-256 matches it.
"""

from __future__ import annotations

import shutil
import threading
import time
import traceback
from pathlib import Path

import torch

from workbench.runtime import device as runtime_device
from workbench.runtime import seed_everything, using_threads
from workbench.sweeps.artefacts import read_run_folder, write_run_folder
from workbench.sweeps.keys import canonical_json, run_key

__all__ = ["run_one", "load_images", "train_and_score"]

CHECKPOINT_FROM_STEPS = 100   # runs this long keep a training checkpoint while they run
_RUN_LOCK = threading.Lock()


def load_images(config: dict):
    """``(train images, eval images, eval factors)`` for a run, pooled to ``image_size``.

    The images are a pure function of the data set and the ``data`` settings, which
    all runs of a sweep share: each process draws them once and keeps the last set
    (runs get copies, so none can change another's data).

    Examples
    --------
    >>> from workbench.sweeps import Sweep
    >>> config = Sweep(data={"n_train": 8, "n_eval": 4}).runs()[0]
    >>> train, evaluation, factors = load_images(config)
    >>> tuple(train.shape), tuple(evaluation.shape), tuple(factors.shape)
    ((8, 1, 16, 16), (4, 1, 16, 16), (4, 5))
    >>> bool((load_images(config)[0] == train).all()) and load_images(config)[0] is not train
    True
    """
    key = canonical_json([config["dataset"], config["data"]])
    drawn = _DRAWN.get(key)
    if drawn is None:
        drawn = _draw_images(config["dataset"], config["data"])
        _DRAWN.clear()
        _DRAWN[key] = drawn
    return tuple(t.clone() for t in drawn)


_DRAWN: dict[str, tuple] = {}      # this process's last drawn data: {canonical settings: tensors}


def _draw_images(name: str, data: dict):
    from workbench.datasets import load

    dataset = load(name)
    train_images, _ = dataset.sample(int(data["n_train"]), generator=int(data["seed"]))
    eval_images, eval_factors = dataset.sample(int(data["n_eval"]), generator=int(data["seed"]) + 1)
    side = dataset.image_shape[-1]
    size = int(data["image_size"])
    if size < side:
        train_images = torch.nn.functional.avg_pool2d(train_images, side // size)
        eval_images = torch.nn.functional.avg_pool2d(eval_images, side // size)
    return train_images, eval_images, eval_factors


def train_and_score(config: dict, checkpoint_dir=None, device=None):
    """Train the run's model through :func:`workbench.latents.train`; score its codes.

    Returns ``(model, result of train, {metric: MetricResult})``. Computes on one
    thread whoever calls it, so its numbers are the same in a sweep and by hand.

    Examples
    --------
    >>> from workbench.sweeps import Sweep
    >>> config = Sweep(training={"steps": 3}, data={"n_train": 32, "n_eval": 64}).runs()[0]
    >>> model, result, scores = train_and_score(config)
    >>> result.step, sorted(scores), 0 <= scores["mig"].score <= 1
    (3, ['mig', 'sap'], True)
    """
    with using_threads(1):
        return _train_and_score(config, checkpoint_dir, device)


def _train_and_score(config: dict, checkpoint_dir, device):
    from workbench.latents import build_model, encode_batched, train
    from workbench.metrics import score_codes

    train_images, eval_images, eval_factors = load_images(config)
    seed_everything(int(config["seed"]))      # after the data, drawn or not: the same weights
    model = build_model({"kind": config["model"], "image_shape": list(train_images.shape[1:]),
                         "latent_dim": int(config["latent_dim"]), **config["hyper"]},
                        device=device)
    t = config["training"]
    steps = int(t["steps"])
    if steps < CHECKPOINT_FROM_STEPS:          # rerunning a short run costs less than saving it
        checkpoint_dir = None
    result = train(model, train_images, steps=steps, batch_size=int(t["batch_size"]),
                   lr=float(t["lr"]), seed=int(config["seed"]), kl_warmup=int(t["kl_warmup"]),
                   checkpoint_dir=checkpoint_dir, checkpoint_every=max(1, steps // 4),
                   progress=False)
    with torch.no_grad():
        codes, _ = encode_batched(model, eval_images)
    scores = score_codes(codes, eval_factors, metrics=config["metrics"],
                         options=config.get("metric_options") or None)
    return model, result, scores


def _row(config: dict, key: str) -> dict:
    return {"key": key, "dataset": config["dataset"], "model": config["model"],
            **{f"hyper.{k}": v for k, v in config["hyper"].items()}, "seed": config["seed"]}


def _save_artefacts(final: Path, model, row: dict) -> None:
    write_run_folder(final, model, row)        # one name to time it by (the benchmark)


def finished_row(root, key: str) -> dict | None:
    """The row saved with a finished run's artefacts, or ``None`` if they are not complete.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from workbench.sweeps import Sweep
    >>> config = Sweep(training={"steps": 2}, data={"n_train": 32, "n_eval": 64}).runs()[0]
    >>> root = tempfile.mkdtemp()
    >>> key = run_one(config, root)["key"]
    >>> finished_row(root, key)["status"]
    'ok'
    >>> weights = Path(root, "runs", key, "model.safetensors")
    >>> _ = weights.write_bytes(weights.read_bytes()[:-1])      # a damaged file
    >>> finished_row(root, key) is None
    True
    """
    row = read_run_folder(Path(root) / "runs" / key)
    return row if row is not None and row.get("key") == key and row.get("status") == "ok" else None


def run_one(config: dict, root, *, look_for_finished: bool = True) -> dict:
    """Run one configuration; return its row (``status`` ``"ok"`` or ``"error"``).

    A run whose artefacts are already complete in ``root`` is not trained again: its
    saved row is returned (``recovered`` is then true). :func:`~workbench.sweeps.run_sweep`
    has looked already when it hands a run out, so it passes ``look_for_finished=False``
    (a run folder that appears meanwhile, from a second sweep on the same folder, is
    replaced by an identical one).

    Examples
    --------
    >>> import tempfile
    >>> from workbench.sweeps import Sweep
    >>> sweep = Sweep(models={"vae": {}, "beta_vae": {"beta": [-1]}},
    ...               training={"steps": 2}, data={"n_train": 32, "n_eval": 64})
    >>> good, bad = sweep.runs()
    >>> root = tempfile.mkdtemp()
    >>> row = run_one(good, root)
    >>> row["status"], row["steps"], sorted(k for k in row if k.startswith("score."))
    ('ok', 2, ['score.mig', 'score.sap'])
    >>> run_one(good, root)["recovered"]
    True
    >>> failed = run_one(bad, root)
    >>> failed["status"], failed["error"].split(":")[0]
    ('error', 'WorkbenchInputError')
    """
    root = Path(root)
    key = run_key(config)
    saved = finished_row(root, key) if look_for_finished else None
    if saved is not None:
        return {**saved, "recovered": True}
    row = _row(config, key)
    started = time.perf_counter()
    try:
        with _RUN_LOCK, using_threads(1):
            device = runtime_device()
            model, result, scores = train_and_score(config, root / "in_flight" / key, device)
            row.update({"status": "ok", "device": str(device), "steps": result.step,
                        "final_loss": result.losses[-1] if result.losses else None,
                        **{f"score.{name}": float(r.score) for name, r in scores.items()},
                        "seconds": round(time.perf_counter() - started, 4)})
            _save_artefacts(root / "runs" / key, model, row)
            if int(config["training"]["steps"]) >= CHECKPOINT_FROM_STEPS:   # only these kept one
                shutil.rmtree(root / "in_flight" / key, ignore_errors=True)
    except Exception as exc:  # noqa: BLE001 - a failed run is a row, not a stopped sweep
        row.update({"status": "error", "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=4)[-2000:],
                    "seconds": round(time.perf_counter() - started, 4)})
    return row
