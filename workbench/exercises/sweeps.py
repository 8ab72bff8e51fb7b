"""Exercises of notebook 12 (scale: sweeps on Dask, the same code on a GPU).

Examples
--------
>>> from workbench.exercises import check
>>> check("12", 1, 20)
Not yet: 20 = 4 settings x 5 seeds: the grid also runs over both data sets.
>>> check("12", 1, 40)
Correct: 40 runs = 2 data sets x 4 settings x 5 seeds.
"""

from __future__ import annotations

import dataclasses

from workbench.exercises._answers import number
from workbench.exercises.registry import Wrong, register

__all__ = ["EXERCISE_1_GRID"]

EXERCISE_1_GRID = {"datasets": ["sprites", "digits"],
                   "models": {"vae": {}, "beta_vae": {"beta": [2, 4, 8]}},
                   "seeds": [0, 1, 2, 3, 4]}


@register("12", 1, answers=("n_runs",),
          solution='n_runs = len(wb.sweeps.Sweep(datasets=["sprites", "digits"],\n'
                   '                              models={"vae": {}, "beta_vae": {"beta": [2, 4, 8]}},\n'
                   '                              seeds=[0, 1, 2, 3, 4]).runs())',
          blank="set n_runs to the number of runs of that grid (an integer).")
def _grid_size(n_runs):
    from workbench.sweeps import Sweep

    n = number(n_runs, "n_runs")
    right = len(Sweep(**EXERCISE_1_GRID).runs())
    settings = 1 + len(EXERCISE_1_GRID["models"]["beta_vae"]["beta"])
    seeds, datasets = len(EXERCISE_1_GRID["seeds"]), len(EXERCISE_1_GRID["datasets"])
    if n == settings * seeds:
        raise Wrong(f"{int(n)} = {settings} settings x {seeds} seeds: the grid also runs over both data sets.")
    if n == 2 * seeds:
        raise Wrong("beta_vae is one model but three settings: each beta is a run of its own.")
    if n != right:
        raise Wrong("multiply: data sets x (settings of every model) x seeds.")
    return f"{right} runs = {datasets} data sets x {settings} settings x {seeds} seeds."


@register("12", 2, answers=("skipped",), context=("sweep",),
          solution="import dataclasses\n"
                   'shorter = dataclasses.replace(sweep, training={**sweep.training, "steps": 100})\n'
                   "skipped = len(set(sweep.keys()) & set(shorter.keys()))",
          blank="set skipped to how many finished runs a rerun with 100 steps would skip.")
def _rerun_after_a_change(skipped, *, sweep):
    n = number(skipped, "skipped")
    shorter = dataclasses.replace(sweep, training={**sweep.training, "steps": 100})
    right = len(set(sweep.keys()) & set(shorter.keys()))
    if n == len(sweep.runs()):
        raise Wrong("the number of steps is part of every run's configuration, and so of its key.")
    if n != right:
        raise Wrong("compare the keys: sweep.keys() before and after the change.")
    return (f"{right}: a run's key hashes its whole configuration, so every run with other "
            "settings is a new run; the old rows stay in the table under their own keys.")


@register("12", 3, answers=("best",), context=("table",),
          solution='best = table[table["metric"] == "mig"].groupby("setting")["score"].median().idxmax()',
          blank='set best to the name of a setting, e.g. "vae".')
def _best_setting(best, *, table):
    mig = table[table["metric"] == "mig"]
    medians = mig.groupby("setting")["score"].median()
    if not isinstance(best, str) or best not in medians.index:
        raise Wrong(f"best should be one of the settings {sorted(medians.index)}, not {best!r}.")
    right = medians.idxmax()
    if best != right:
        means = mig.groupby("setting")["score"].mean()
        if best == means.idxmax():
            raise Wrong("that is the best mean; the exercise asks for the median over seeds.")
        raise Wrong(f"{best} has median MIG {medians[best]:.3f}; another setting has more.")
    return f"{right}, median MIG {medians[right]:.3f} over {int((mig['setting'] == right).sum())} seeds."
