"""A sweep's grid: data sets x models x hyperparameters x seeds, one configuration per run.

A :class:`Sweep` is a grid: data sets x models (each with lists of hyperparameters)
x seeds, plus the training settings and the metrics to score. :meth:`Sweep.runs`
expands it into one plain, JSON-able configuration per run, in a fixed order.

Each run is named by :func:`~workbench.sweeps.keys.run_key` (:mod:`.keys`): the
SHA-256 of its canonical JSON and the workbench version, the same in every process.
Running a sweep is :mod:`.runner`'s job; :meth:`Sweep.run` reaches it only when
called, and the runner never imports this module, so the two do not import each other.

Examples
--------
>>> sweep = Sweep(models={"vae": {}, "beta_vae": {"beta": [4, 8]}}, seeds=[0, 1])
>>> len(sweep.runs())
6
>>> run = sweep.runs()[0]
>>> run["model"], run["seed"], run["hyper"]
('vae', 0, {})
>>> run_key(run) == run_key(dict(reversed(list(run.items()))))
True
>>> len(run_key(run))
16
"""

from __future__ import annotations

import inspect
import itertools
import math
from dataclasses import dataclass, field

from workbench.errors import did_you_mean
from workbench.latents.vae import MODELS
from workbench.metrics.suite import TABLE_METRICS
from workbench.sweeps.errors import SweepConfigError
from workbench.sweeps.keys import run_key

__all__ = ["Sweep", "sweepable_models", "DEFAULT_TRAINING", "DEFAULT_DATA"]

DEFAULT_TRAINING = {"steps": 60, "batch_size": 32, "lr": 1e-3, "kl_warmup": 20}
DEFAULT_DATA = {"image_size": 16, "n_train": 512, "n_eval": 512, "seed": 0}


def sweepable_models() -> list[str]:
    """Model kinds a sweep can train: those of :data:`MODELS` built from a ``latent_dim``.

    Examples
    --------
    >>> sweepable_models()
    ['beta_tcvae', 'beta_vae', 'vae']
    >>> "causal_vae" in sweepable_models()      # needs labels: not trained by a sweep
    False
    """
    return sorted(kind for kind, cls in MODELS.items()
                  if "latent_dim" in inspect.signature(cls).parameters)


def _as_list(value, what: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise SweepConfigError(f"{what} is empty: give at least one value.")
    return values


def _hyper_value(name: str, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SweepConfigError(f"Hyperparameter {name}={value!r} must be a finite number.")
    return float(value)          # 4 and 4.0 are the same setting, and get the same key


def _hyperparameters(kind: str) -> list[str]:
    """The keyword arguments of a model kind that a sweep may vary (not the ones it sets itself)."""
    return sorted(set(inspect.signature(MODELS[kind]).parameters) - {"image_shape", "latent_dim", "device"})


def _distinct(values: list, what: str) -> list:
    repeated = sorted({repr(v) for v in values if values.count(v) > 1})
    if repeated:
        raise SweepConfigError(f"{what} repeat {', '.join(repeated)}: each would run the same configuration "
                               "twice; list each value once.")
    return values


_AT_LEAST = {"steps": 1, "batch_size": 1, "kl_warmup": 0, "n_train": 1, "n_eval": 2,
             "seed": 0}   # the other whole-number settings and their smallest sensible value


def _check_setting(group: str, key: str, value) -> None:
    """A typed error now, rather than a failed row for every run, for a bad setting value.

    Examples
    --------
    >>> _check_setting("training", "steps", 0)
    Traceback (most recent call last):
    ...
    workbench.sweeps.errors.SweepConfigError: training['steps'] must be a whole number >= 1, got 0.
    """
    if key == "lr":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise SweepConfigError(f"{group}['lr'] must be a positive finite number (e.g. 1e-3), got {value!r}.")
    elif key == "image_size":
        if isinstance(value, bool) or not isinstance(value, int) or value < 16 or value & (value - 1):
            raise SweepConfigError(f"data['image_size'] must be a power of two from 16 (the models' "
                                   f"smallest input) up to the data set's own size, got {value!r}.")
    elif isinstance(value, bool) or not isinstance(value, int) or value < _AT_LEAST[key]:
        raise SweepConfigError(f"{group}[{key!r}] must be a whole number >= {_AT_LEAST[key]}, got {value!r}.")


def _guess(name, known) -> str:
    """`` (did you mean 'mig'?)`` for a near miss of a known name, else nothing.

    Examples
    --------
    >>> _guess("mgi", ["mig", "sap"]), _guess("zzz", ["mig", "sap"])
    (" (did you mean 'mig'?)", '')
    """
    guess = did_you_mean(str(name), [str(k) for k in known])
    return f" (did you mean {guess!r}?)" if guess is not None else ""


@dataclass
class Sweep:
    """A grid of runs: data sets x models x hyperparameters x seeds, and the metrics.

    Parameters
    ----------
    models : dict
        ``{model kind: {hyperparameter: list of values}}``, kinds from
        :func:`sweepable_models` (``{"vae": {}}`` trains the defaults).
    seeds : list of int
        One run per seed: it seeds the weights, the minibatches and the noise.
    datasets : list of str
        Names for :func:`workbench.datasets.load`.
    metrics : list of str
        Names from :data:`workbench.metrics.TABLE_METRICS`.
    metric_options : dict
        Per-metric keyword arguments, e.g. ``{"dci": {"mode": "fast"}}``.
    latent_dim : int
    training : dict
        ``steps``, ``batch_size``, ``lr``, ``kl_warmup`` for
        :func:`workbench.latents.train` (defaults in :data:`DEFAULT_TRAINING`).
    data : dict
        ``image_size`` (images are average-pooled to it), ``n_train``, ``n_eval``, and
        the ``seed`` that draws both image sets (:data:`DEFAULT_DATA`).

    Examples
    --------
    >>> sweep = Sweep(models={"vae": {}, "beta_vae": {"beta": [4, 8]}}, seeds=[0, 1, 2])
    >>> len(sweep.runs()), len(set(sweep.keys()))
    (9, 9)
    >>> sweep.runs()[3]["hyper"], sweep.runs()[3]["training"]["steps"]
    ({'beta': 4.0}, 60)
    >>> Sweep(models={"vea": {}})
    Traceback (most recent call last):
    ...
    workbench.sweeps.errors.SweepConfigError: Unknown model kind 'vea' (did you mean 'vae'?) for a sweep: use one of ['beta_tcvae', 'beta_vae', 'vae'] (models built from a latent_dim; others, such as causal_vae, need labels).
    """

    models: dict = field(default_factory=lambda: {"vae": {}})
    seeds: list = field(default_factory=lambda: [0])
    datasets: list = field(default_factory=lambda: ["sprites"])
    metrics: list = field(default_factory=lambda: ["mig", "sap"])
    metric_options: dict = field(default_factory=dict)
    latent_dim: int = 4
    training: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        from workbench.datasets import DATASETS

        if not isinstance(self.models, dict):
            raise SweepConfigError(f"models must be a dict {{model kind: {{hyperparameter: values}}}}, like "
                                   f"{{'vae': {{}}, 'beta_vae': {{'beta': [4, 8]}}}}; got {self.models!r}.")
        for kind, grid in self.models.items():
            if kind not in sweepable_models():
                raise SweepConfigError(
                    f"Unknown model kind {kind!r}{_guess(kind, sweepable_models())} for a sweep: use one "
                    f"of {sorted(sweepable_models())} (models built from a latent_dim; others, such as "
                    "causal_vae, need labels).")
            if not isinstance(grid, dict):
                raise SweepConfigError(f"models[{kind!r}] must be a dict of hyperparameter lists.")
            for name in grid:
                if name not in _hyperparameters(kind):
                    raise SweepConfigError(f"{kind} has no hyperparameter {name!r}"
                                           f"{_guess(name, _hyperparameters(kind))}: use one of "
                                           f"{_hyperparameters(kind)}.")
                _distinct([_hyper_value(name, v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                           else v for v in _as_list(grid[name], f"models[{kind!r}][{name!r}]")],
                          f"models[{kind!r}][{name!r}]")
        if isinstance(self.latent_dim, bool) or not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise SweepConfigError(f"latent_dim must be a positive integer, got {self.latent_dim!r}.")
        _distinct(_as_list(self.seeds, "seeds"), "seeds")
        _distinct(_as_list(self.metrics, "metrics"), "metrics")
        for name in _as_list(self.datasets, "datasets"):
            if name not in DATASETS:
                raise SweepConfigError(f"Unknown data set {name!r}{_guess(name, DATASETS)}: use one of "
                                       f"{sorted(DATASETS)}.")
        for name in list(_as_list(self.metrics, "metrics")) + list(self.metric_options):
            if name not in TABLE_METRICS:
                raise SweepConfigError(f"Unknown metric {name!r}{_guess(name, TABLE_METRICS)}: use one of "
                                       f"{sorted(TABLE_METRICS)}.")
        for seed in _as_list(self.seeds, "seeds"):
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise SweepConfigError(f"Seeds must be non-negative integers, got {seed!r}.")
        for name, given, known in [("training", self.training, DEFAULT_TRAINING),
                                   ("data", self.data, DEFAULT_DATA)]:
            unknown = sorted(set(given) - set(known))
            if unknown:
                raise SweepConfigError(f"Unknown {name} setting(s) {unknown}{_guess(unknown[0], known)}: "
                                       f"use {sorted(known)}.")
            for key, value in given.items():
                _check_setting(name, key, value)
        size = {**DEFAULT_DATA, **self.data}["image_size"]
        for name in _as_list(self.datasets, "datasets"):
            side = DATASETS[name]().image_shape[-1]
            if size > side:      # the images would stay at their own size, not the one asked for
                raise SweepConfigError(f"data['image_size'] = {size} is larger than {name}'s {side}-pixel "
                                       f"images: use a power of two from 16 to {side}.")

    def runs(self) -> list[dict]:
        """One configuration per run: data set, then model, hyperparameters, then seed."""
        out = []
        if not self.models:
            raise SweepConfigError("models is empty: give at least one model kind.")
        for dataset in _as_list(self.datasets, "datasets"):
            for kind, grid in self.models.items():
                names = sorted(grid)
                values = [[_hyper_value(n, v) for v in _as_list(grid[n], f"models[{kind!r}][{n!r}]")]
                          for n in names]
                for combo in itertools.product(*values):
                    for seed in _as_list(self.seeds, "seeds"):
                        out.append({
                            "dataset": dataset, "model": kind, "hyper": dict(zip(names, combo)),
                            "latent_dim": int(self.latent_dim), "seed": int(seed),
                            "training": {**DEFAULT_TRAINING, **self.training},
                            "data": {**DEFAULT_DATA, **self.data},
                            "metrics": list(_as_list(self.metrics, "metrics")),
                            "metric_options": dict(self.metric_options),
                        })
        return out

    def run(self, root, **options):
        """Run the sweep into folder ``root``: :func:`workbench.sweeps.run_sweep`."""
        from workbench.sweeps.runner import run_sweep

        return run_sweep(self, root, **options)

    def keys(self) -> list[str]:
        """The :func:`run_key` of every run, in :meth:`runs` order."""
        return [run_key(run) for run in self.runs()]
