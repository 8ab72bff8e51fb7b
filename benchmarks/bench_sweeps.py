"""Sweeps and threads: Dask vs serial, the cost of bookkeeping, small metrics under load.

Rows:

- ``dask vs serial``: 16 short training runs (a VAE and a beta-VAE x 8 seeds, 16x16
  sprites), run by the serial executor and by a ``LocalCluster`` of 2 worker processes
  x 1 thread, each in a fresh sweep folder. ``ratio`` is the throughput ratio (serial
  time / Dask time, start-up included); ``agree``: the two tables are identical (keys,
  losses, scores, weight hashes). Separate rows give the cluster's start-up and the
  overhead per task: Dask's wall time (without start-up) x workers minus the runs' own
  time, over the number of runs. Goals (issue 18): ratio >= 1.7, start-up <= 2 s,
  overhead <= 0.5 s a task.
- ``bookkeeping``: 100 tiny runs (5 training steps, MIG and MCC on 200 codes) on the
  serial executor, one of them made to fail (beta = -1). ``ours_s`` is the sweep's wall time, ``peer_s`` the sum of the runs' own
  times (each run times itself); goal: ``ratio`` >= 0.95 (the sweep costs at most 5 %
  more than its runs). ``agree``: 99 finished rows and one recorded error.
- ``under load``: MIG and SAP on 10k codes and a 10-node linear SCM drawing 10k units,
  each in a fresh process while two busy loops compete for the cores, with the
  workbench's thread settings (threads from the available CPUs, ``OMP_WAIT_POLICY=PASSIVE``).
  ``peer_s`` is the same call on a quiet machine with one thread; goal: ``ratio`` >= 0.5
  (within 2x). The notes give the loaded time with torch imported *before* the
  workbench, so OpenMP starts without the passive policy (the behaviour this replaces).

The machine is shared (2 cores, other people's work): times are best of a few repeats.

    python benchmarks/bench_sweeps.py [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _row(benchmark, case, ours_s, peer, peer_s, agree, notes, ratio=None):
    if ratio is None and peer_s and ours_s:
        ratio = peer_s / ours_s
    return {"benchmark": benchmark, "case": case, "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
            "ratio": ratio, "agree": bool(agree), "notes": notes}


def _short_sweep(seeds: int, steps: int):
    from workbench.sweeps import Sweep

    return Sweep(models={"vae": {}, "beta_vae": {"beta": [8]}}, seeds=list(range(seeds)),
                 metrics=["mig", "mcc"], training={"steps": steps, "batch_size": 32},
                 data={"n_train": 256, "n_eval": 500})


def _comparable(root):
    from workbench.sweeps import wide_table

    wide = wide_table(root)
    cols = ["key", "final_loss", "weights_sha256"] + sorted(c for c in wide if c.startswith("score."))
    return wide[cols].sort_values("key").reset_index(drop=True)


def _fresh_run(sweep, executor) -> tuple[float, str]:
    root = tempfile.mkdtemp(prefix="bench_sweeps_")
    begin = time.perf_counter()
    sweep.run(root, executor=executor, progress=False)
    return time.perf_counter() - begin, root


def dask_rows(quick: bool) -> list[dict]:
    import shutil

    from distributed import Client, LocalCluster

    from workbench.sweeps import ResultStore
    from workbench.sweeps.executors import WORKER_ENV, _import_the_workbench

    sweep = _short_sweep(4 if quick else 8, 40)
    n = len(sweep.runs())
    shutil.rmtree(_fresh_run(sweep, "serial")[1])          # warm: imports and caches
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, env=dict(WORKER_ENV))
    client = Client(cluster)
    client.run(_import_the_workbench)                    # as DaskExecutor does
    startup_s = time.perf_counter() - start
    serial, dask, roots = [], [], []
    try:
        for _ in range(1 if quick else 2):               # interleaved, best of each: the machine is shared
            serial.append(_fresh_run(sweep, "serial"))
            dask.append(_fresh_run(sweep, client))
    finally:
        client.close()
        cluster.close()
    (serial_s, serial_root), (run_s, dask_root) = min(serial), min(dask)
    own = sum(r["seconds"] for r in ResultStore(dask_root).rows())
    agree = _comparable(serial_root).equals(_comparable(dask_root))
    for _, root in serial + dask:
        shutil.rmtree(root, ignore_errors=True)
    dask_s = startup_s + run_s
    overhead = (run_s * 2 - own) / n
    return [
        _row("dask vs serial", f"{n} short runs, 2 workers x 1 thread", dask_s, "serial executor",
             serial_s, agree, f"throughput ratio, start-up included; without start-up "
             f"{serial_s / run_s:.2f}x; best of {len(serial)} interleaved; goal >= 1.7x"),
        _row("dask vs serial", "LocalCluster start-up", startup_s, None, None, True,
             "2 worker processes, each importing the workbench; goal <= 2 s"),
        _row("dask vs serial", "overhead per task", overhead, None, None, True,
             f"(wall without start-up x 2 workers - runs' own {own:.1f} s) / {n}; goal <= 0.5 s"),
    ]


def bookkeeping_rows(quick: bool) -> list[dict]:
    from workbench.sweeps import ResultStore, Sweep

    seeds = 19 if quick else 99
    ok = Sweep(models={"vae": {}}, seeds=list(range(seeds)), metrics=["mig", "mcc"],
               training={"steps": 5, "batch_size": 16}, data={"n_train": 64, "n_eval": 200})
    bad = Sweep(models={"beta_vae": {"beta": [-1]}}, seeds=[0], metrics=["mig", "mcc"],
                training=ok.training, data=ok.data)

    class Both:                     # one grid: the 99 runs and the failing one, in one sweep
        def runs(self):
            return ok.runs()[: seeds // 2] + bad.runs() + ok.runs()[seeds // 2:]

    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        from workbench.sweeps import run_sweep
        report = run_sweep(Both(), root, executor="serial", progress=False)
        wall = time.perf_counter() - start
        rows = ResultStore(root).rows()
    own = sum(r["seconds"] for r in rows)
    good = sum(r["status"] == "ok" for r in rows)
    failed = [r for r in rows if r["status"] == "error"]
    agree = good == seeds and len(failed) == 1 and report.failed == 1
    return [_row("bookkeeping", f"{seeds + 1} tiny runs, 1 forced failure, serial", wall,
                 "the runs' own time", own, agree,
                 f"{good} rows + {len(failed)} error ({failed[0]['error'][:40] if failed else ''}...); "
                 "goal ratio >= 0.95")]


CHILD = r"""
import json, sys, time
if sys.argv[1] == "torch-first":
    import torch
import workbench as wb, torch
from workbench import metrics, scm
if sys.argv[2] == "one-thread":
    torch.set_num_threads(1)
codes, factors = metrics.constructed_codes("rotated", n_points=10_000, seed=0)
model = scm.random_linear_scm(10, seed=0)
calls = {"mig": lambda: metrics.mig(codes, factors),
         "sap": lambda: metrics.sap(codes, factors),
         "scm sample": lambda: model.sample(10_000, seed=0)}
out = {}
for name, fn in calls.items():
    fn()
    best = float("inf")
    for _ in range(int(sys.argv[3])):
        s = time.perf_counter(); fn(); best = min(best, time.perf_counter() - s)
    out[name] = best
out["threads"] = torch.get_num_threads()
print(json.dumps(out))
"""


def _child(order: str, threads: str, repeats: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "WORKBENCH_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", CHILD, order, threads, str(repeats)], env=env,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_rows(quick: bool) -> list[dict]:
    repeats = 3 if quick else 7
    quiet = _child("workbench-first", "one-thread", repeats)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.5)
        loaded = _child("workbench-first", "default", repeats)
        before = _child("torch-first", "default", repeats)
    finally:
        for p in busy:
            p.kill()
            p.wait()
    rows = []
    for name in ("mig", "sap", "scm sample"):
        rows.append(_row("under load", f"{name}, 10k, 2 busy loops", loaded[name],
                         "quiet, one thread", quiet[name], True,
                         f"{loaded['threads']} thread(s), passive waits; torch imported first "
                         f"(no passive policy): {before[name]:.4f} s "
                         f"({quiet[name] / before[name]:.2f}x); goal ratio >= 0.5"))
    return rows


def run(quick: bool = False) -> list[dict]:
    return dask_rows(quick) + bookkeeping_rows(quick) + load_rows(quick)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
