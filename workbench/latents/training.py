"""One training loop for every latent model: budget, progress bar, checkpoints, resume.

:func:`train` runs Adam on ``model.loss`` for a budget of steps and/or seconds, shows a
``tqdm.auto`` progress bar (a widget in Jupyter), and, given a ``checkpoint_dir``,
saves a checkpoint (see :mod:`workbench.latents.checkpoint`) every
``checkpoint_every`` steps, at the end, and when interrupted.

Interrupting is safe. While training, the Jupyter stop button (SIGINT) only sets a
flag; the loop finishes the step it is in, saves a checkpoint and then raises
``KeyboardInterrupt`` (press twice to stop at once). Calling :func:`train` again with
the same arguments resumes from the checkpoint.

Resuming gives the *same* weights, bit for bit on the CPU, as a run that was never
interrupted, because nothing random depends on history: the minibatch of step ``k``
and its reparameterisation noise are drawn from generators seeded by ``(seed, k)``,
and the checkpoint holds the weights, Adam's moments and step counts, torch's global
random state and the loss history.

Examples
--------
>>> import torch
>>> from workbench.latents import VAE
>>> data = (torch.rand(64, 1, 32, 32) > 0.5).float()
>>> result = train(VAE((1, 32, 32), latent_dim=2), data, steps=3, batch_size=8, progress=False)
>>> result.step, len(result.history)
(3, 3)
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from workbench.errors import CheckpointError, NonFiniteValueError, ShapeError, WorkbenchInputError
from workbench.latents.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from workbench.latents.fingerprint import data_fingerprint, describe_data

__all__ = ["train", "TrainResult", "batch_for_step"]


@dataclass
class TrainResult:
    """What :func:`train` returns: the model (trained in place) and its record.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> r = train(VAE((1, 32, 32), latent_dim=2), torch.rand(8, 1, 32, 32), steps=2, batch_size=4, progress=False)
    >>> r.step, len(r.losses)
    (2, 2)
    """

    model: torch.nn.Module
    step: int
    history: list = field(default_factory=list)
    seconds: float = 0.0
    checkpoint: Path | None = None

    @property
    def losses(self) -> list[float]:
        """The training loss at every step so far."""
        return [row["loss"] for row in self.history]


def _step_seed(seed: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, step]).generate_state(1, np.uint64)[0] >> 1)


def batch_for_step(data, step: int, batch_size: int, seed: int):
    """The minibatch of step ``step``: a pure function of ``(seed, step)``.

    ``data`` may be a tuple of tensors of one length (e.g. images and their labels):
    the same rows of each are taken, and a tuple comes back.

    Examples
    --------
    >>> import torch
    >>> data = torch.arange(10)
    >>> bool(torch.equal(batch_for_step(data, 3, 4, seed=0), batch_for_step(data, 3, 4, seed=0)))
    True
    """
    rng = np.random.default_rng([seed, step])
    if isinstance(data, torch.Tensor):
        return data[torch.as_tensor(rng.integers(0, len(data), batch_size))]
    if isinstance(data, tuple) and data and all(isinstance(t, torch.Tensor) for t in data):
        if len({len(t) for t in data}) != 1:
            raise WorkbenchInputError(f"The tensors in data have different lengths {[len(t) for t in data]}; "
                                      "give one row per image in each.")
        index = torch.as_tensor(rng.integers(0, len(data[0]), batch_size))
        return tuple(t[index] for t in data)
    if hasattr(data, "sample"):
        return data.sample(batch_size, generator=rng)[0]
    raise WorkbenchInputError(
        f"data must be an image tensor (n, C, H, W) or a workbench data set, got {type(data).__name__}."
    )


class _InterruptGuard:
    """Turn the first SIGINT into a request to stop after the current step."""

    def __enter__(self):
        self.requested = False
        self._active = threading.current_thread() is threading.main_thread()
        if self._active:
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:                      # a second press stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._active:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.SIG_DFL)
        return False


def _optimizer_groups(optimizer) -> tuple[dict, dict]:
    sd = optimizer.state_dict()
    tensors = {f"{pid}.{k}": v for pid, st in sd["state"].items() for k, v in st.items()
               if torch.is_tensor(v)}
    scalars = {f"{pid}.{k}": v for pid, st in sd["state"].items() for k, v in st.items()
               if not torch.is_tensor(v)}
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optimizer(optimizer, tensors: dict, meta: dict) -> None:
    state: dict = {}
    for key, value in list(tensors.items()) + list(meta["scalars"].items()):
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _save(directory, model, optimizer, step, history, settings, data_id) -> Path:
    opt_tensors, opt_meta = _optimizer_groups(optimizer)
    rng = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["torch_cuda"] = torch.cuda.get_rng_state()
    state = {"step": step, "model": model.config, "settings": settings, "data": data_id,
             "optimizer": opt_meta, "history": history}
    return save_checkpoint(directory, {"model": model.state_dict(), "optimizer": opt_tensors,
                                       "rng": rng}, state)


def _resume(directory, model, optimizer, settings, data_id):
    groups, state = load_checkpoint(directory)
    made_from = state.get("data") or {}
    if made_from.get("sha256") != data_id["sha256"]:
        was = (f"{made_from.get('description')} (SHA-256 {str(made_from.get('sha256'))[:12]}...)"
               if made_from else "data it did not record (an older checkpoint)")
        raise CheckpointError(
            f"The checkpoint in {directory} was trained on {was}, not on this data, "
            f"{data_id['description']} (SHA-256 {data_id['sha256'][:12]}...). Resuming would "
            "continue that run on different data. Pass the data it was made from, or start "
            "fresh with resume=False or another checkpoint_dir."
        )
    if state.get("model") != model.config:
        raise CheckpointError(
            f"The checkpoint in {directory} is for a different model ({state.get('model')}); "
            f"this one is {model.config}. Use another checkpoint_dir or resume=False."
        )
    if state.get("settings") != settings:
        raise CheckpointError(
            f"The checkpoint in {directory} was trained with {state.get('settings')}, not "
            f"{settings}; resuming would not reproduce that run. Use the same settings, "
            "another checkpoint_dir, or resume=False."
        )
    try:
        model.load_state_dict(groups["model"])
        _restore_optimizer(optimizer, groups["optimizer"], state["optimizer"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint in {directory} does not fit this model: {exc}") from exc
    torch.set_rng_state(groups["rng"]["torch_cpu"])
    if "torch_cuda" in groups["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state(groups["rng"]["torch_cuda"])
    return int(state["step"]), list(state["history"])


def _whole(value, name: str, smallest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < smallest:
        kind = "a positive" if smallest == 1 else "a non-negative"
        raise WorkbenchInputError(f"{name} must be {kind} integer, got {value!r}.")
    return int(value)


def _check_budget(steps, seconds):
    if steps is None and seconds is None:
        raise WorkbenchInputError("Give a budget: steps=N (total optimizer steps) and/or seconds=S.")
    if steps is not None:
        _whole(steps, "steps", 0)
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                or not 0 < seconds < float("inf")):
        raise WorkbenchInputError(f"seconds must be a positive finite number, got {seconds!r}.")


def _check_settings(model, data, batch_size, lr, seed, checkpoint_every, kl_warmup) -> dict:
    """Validate the training settings up front; return the ones a resumed run must share."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise WorkbenchInputError(f"lr must be a positive finite number, got {lr!r}.")
    _whole(checkpoint_every, "checkpoint_every", 1)
    if isinstance(data, tuple):                  # (images, labels, ...): one row per item in each
        if not data or not all(isinstance(t, torch.Tensor) for t in data):
            raise WorkbenchInputError("A tuple of data must hold tensors only, e.g. (images, labels).")
        if len({len(t) for t in data}) != 1:
            raise WorkbenchInputError(f"The tensors in data have different lengths {[len(t) for t in data]}; "
                                      "give one row per item in each.")
        for part in data[1:]:
            if part.is_floating_point() and not bool(torch.isfinite(part).all()):
                raise NonFiniteValueError("A tensor in the data tuple contains NaN or infinite values.")
        data = data[0]                           # the first is checked as the model's input below
    if isinstance(data, torch.Tensor):
        # images (n, C, H, W) by default; a model of other data (a flow's rows) states its data_shape
        rows = getattr(model, "data_shape", None)
        shape = tuple(rows if rows is not None else getattr(model, "image_shape", data.shape[1:]))
        dims = 1 + len(shape) if rows is not None else 4
        what = "tensor" if rows is not None else "image tensor"
        if data.dim() != dims or len(data) == 0 or tuple(data.shape[1:]) != shape:
            raise ShapeError(f"data must be a non-empty {what} (n, {', '.join(map(str, shape))}) "
                             f"for this model, got shape {tuple(data.shape)}.")
        if not bool(torch.isfinite(data).all()):
            raise NonFiniteValueError(f"data contains NaN or infinite values; pass finite {'data' if rows else 'images'}.")
    elif not hasattr(data, "sample"):
        raise WorkbenchInputError(
            f"data must be an image tensor (n, C, H, W) or a workbench data set, got {type(data).__name__}.")
    return {"batch_size": _whole(batch_size, "batch_size", 1), "lr": float(lr),
            "seed": _whole(seed, "seed", 0), "kl_warmup": _whole(kl_warmup, "kl_warmup", 0)}


def train(model, data, *, steps: int | None = None, seconds: float | None = None,
          batch_size: int = 64, lr: float = 1e-3, seed: int = 0, checkpoint_dir=None,
          checkpoint_every: int = 200, resume: bool = True, progress: bool = True,
          callback=None, kl_warmup: int = 0) -> TrainResult:
    """Train ``model`` on ``data`` until ``steps`` total steps or ``seconds`` have passed.

    Parameters
    ----------
    model : VAE (or any module with ``loss(x, generator)`` and ``config``)
        A model of data other than images (a flow) gives its rows' shape as ``data_shape``.
    data : Tensor ``(n, C, H, W)`` (``(n, *model.data_shape)``), a tuple of tensors with one
        row per item (passed to ``model.loss(*batch)``, e.g. images and labels), or a
        :class:`workbench.datasets.FactorImageDataset`
    steps : int, optional
        Total number of optimizer steps to reach (counting resumed ones).
    seconds : float, optional
        Wall-clock budget for this call (not reproducible across machines).
    batch_size, lr, seed : training settings; a resumed run must use the same ones.
    checkpoint_dir : path, optional
        Where to keep the checkpoint; ``None`` keeps nothing on disk.
    checkpoint_every : int
        Save every this many steps (and always at the end and on interrupt).
    resume : bool
        Continue from ``checkpoint_dir``'s checkpoint when there is one. The checkpoint
        records a fingerprint of ``data`` (:mod:`workbench.latents.fingerprint`), the
        model's configuration and the settings; resuming with any of them different
        raises :class:`~workbench.errors.CheckpointError`.
    progress : bool
        Show a progress bar.
    callback : callable, optional
        ``callback(step, terms)`` after every step (e.g. to plot live).
    kl_warmup : int
        Ramp the weight of the KL terms linearly from 0 to 1 over this many steps
        (Bowman et al. 2016). Without it a VAE on small sprites can collapse to the
        mean image before its latents learn anything.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.vae import VAE
    >>> result = train(VAE((1, 32, 32), latent_dim=2), torch.rand(8, 1, 32, 32), steps=3, batch_size=4,
    ...                progress=False)
    >>> result.step
    3
    """
    _check_budget(steps, seconds)
    settings = _check_settings(model, data, batch_size, lr, seed, checkpoint_every, kl_warmup)
    data_id = None
    if checkpoint_dir is not None:
        data_id = {"sha256": data_fingerprint(data), "description": describe_data(data)}
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    step, history = 0, []
    if checkpoint_dir is not None and resume and has_checkpoint(checkpoint_dir):
        step, history = _resume(checkpoint_dir, model, optimizer, settings, data_id)
    model.train()
    started, saved = time.perf_counter(), None
    bar = tqdm(total=steps, initial=step, disable=not progress, desc=f"training {model.kind}")
    in_step = False
    try:
        with _InterruptGuard() as guard:
            while (steps is None or step < steps) and (
                    seconds is None or time.perf_counter() - started < seconds):
                in_step = True
                model.kl_scale = min(1.0, (step + 1) / kl_warmup) if kl_warmup > 0 else 1.0
                batch = batch_for_step(data, step, batch_size, seed)
                batch = tuple(t.to(model.device) for t in (batch if isinstance(batch, tuple) else (batch,)))
                generator = torch.Generator(device=model.device).manual_seed(_step_seed(seed, step))
                loss, terms = model.loss(*batch, generator=generator)
                if not torch.isfinite(loss):
                    raise NonFiniteValueError(
                        f"The loss became {float(loss)} at step {step}: training diverged. "
                        "Lower the learning rate or beta."
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                history.append({"step": step, **terms})
                in_step = False
                bar.update(1)
                bar.set_postfix(loss=f"{terms['loss']:.4g}", refresh=False)
                if checkpoint_dir is not None and step % checkpoint_every == 0:
                    saved = _save(checkpoint_dir, model, optimizer, step, history, settings, data_id)
                if callback is not None:
                    callback(step, terms)
                if guard.requested:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        if checkpoint_dir is not None and not in_step:
            _save(checkpoint_dir, model, optimizer, step, history, settings, data_id)
            print(f"Interrupted after step {step}; checkpoint saved in {checkpoint_dir}. "
                  "Run train(...) again with the same arguments to resume.")
        elif checkpoint_dir is not None:
            print(f"Interrupted inside step {step + 1}; the last checkpoint in {checkpoint_dir} "
                  "is intact. Run train(...) again to resume from it.")
        raise
    finally:
        bar.close()
        model.kl_scale = 1.0
    if checkpoint_dir is not None:
        saved = _save(checkpoint_dir, model, optimizer, step, history, settings, data_id)
    model.eval()
    return TrainResult(model, step, history, time.perf_counter() - started, saved)
