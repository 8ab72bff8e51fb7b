"""Sweeps and threads: Dask vs serial, the cost of bookkeeping, small metrics under load.

Rows:

- ``machine``: the ceiling for any 2-process executor on this machine: the same fixed
  torch workload in 2 plain processes at once against 1 alone (2.0 on two free cores).
  On a shared machine it is well below 2, and so is Dask's ratio.
- ``dask vs serial``: 16 short training runs (a VAE and a beta-VAE x 8 seeds, 16x16
  sprites, 250 Adam steps of 64 images each, MIG and MCC on 1,000 codes: about 2 s a
  run on one quiet core), run by the serial executor and by a ``LocalCluster`` of 2
  worker processes x 1 thread, each in a fresh sweep folder. ``ratio`` is the
  throughput ratio: serial time / Dask time, with the cluster already started and
  warmed (start-up is a row of its own, as in the issue; the notes give the ratio with
  start-up included). ``agree``: the two tables are identical (keys, losses, scores,
  weight hashes). Further rows: the cluster's start-up (workers forked from this
  process, which has run a sweep, then warmed; the notes add a fresh process's start-up
  with fork and with spawn) and the overhead per task, Dask's wall time x workers minus
  the runs' own time, over the runs. Goals (issue 18): ratio >= 1.7, start-up <= 2 s,
  overhead <= 0.5 s a task.
- ``bookkeeping``: 100 tiny runs (5 training steps, MIG and MCC on 200 codes) on the
  serial executor, one of them made to fail (beta = -1). ``ours_s`` is the sweep's wall
  time, ``peer_s`` the sum of the runs' own times (each run times its data, training and
  scoring); goal: ``ratio`` >= 0.95 (keys, results rows, run folders with their SHA-256
  manifest, the executor: at most 5 % more than the runs). ``agree``: 99 finished rows
  and one recorded error. Best of 2 in full mode. The sweep folder is on the disk (the
  temporary folder), whose price for creating a file the notes give as measured just
  before: this machine's ext4 has no journal, and then the kernel looks at every inode
  freed in the last minute or so whenever it creates one, so the price depends on what
  was deleted nearby just before. The notes add the same sweep with its folder in memory
  (``/dev/shm``), and this script deletes its sweep folders only when it ends.
- ``threads``: the same fixed workload on 1 thread (the default on 2 CPUs, see
  :func:`workbench.threads.default_threads`) and on 2, on the machine as it is: what
  leaving a CPU to the rest costs a training step when nothing else runs.
- ``under load``: MIG and SAP on 10k codes and a 10-node linear SCM drawing 10k units,
  each in a fresh process while two busy loops compete for the cores, with the
  workbench's thread settings (the available CPUs less one, ``OMP_WAIT_POLICY=PASSIVE``).
  ``peer_s`` is the same call on a quiet machine with one thread; goal: ``ratio`` >= 0.5
  (within 2x). The notes give the loaded time on 2 threads (the default before, a thread
  per available CPU) and on 2 threads with torch imported *before* the workbench, so
  OpenMP starts without the passive policy (spinning: the behaviour before both).

Ratios of a shared machine measure other people's work as much as ours: the script
prints the load average before and after and says whether the machine was busy (load
above 1 before it started, or a ceiling below 1.8). On a quiet 2-core machine the full
mode takes about 2 minutes:

    .venv/bin/python benchmarks/bench_sweeps.py [--quick]
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUSY_LOAD = 1.0        # a 1-minute load average above this before we start: a core was busy
FULL_CEILING = 1.8     # two plain processes below this: the two cores are not both ours


def _row(benchmark, case, ours_s, peer, peer_s, agree, notes, ratio=None):
    if ratio is None and peer_s and ours_s:
        ratio = peer_s / ours_s
    return {"benchmark": benchmark, "case": case, "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
            "ratio": ratio, "agree": bool(agree), "notes": notes}


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


WORKLOAD = r"""
import sys, time, torch
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 4, 2, 1), torch.nn.ReLU(), torch.nn.Flatten(),
                          torch.nn.Linear(32 * 8 * 8, 10))
x = torch.randn(64, 1, 16, 16)
net(x).sum().backward()
start = time.perf_counter()
for _ in range(int(sys.argv[1])):
    net(x).sum().backward()
print(time.perf_counter() - start)
"""


def _workloads(count: int, steps: int, threads: int = 1) -> list[float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}   # as the workbench
    procs = [subprocess.Popen([sys.executable, "-c", WORKLOAD, str(steps), str(threads)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(count)]
    return [float(p.communicate(timeout=300)[0]) for p in procs]


def threads_row(quick: bool) -> dict:
    """What the default of one thread on 2 CPUs costs a training step on a quiet machine."""
    steps = 150 if quick else 400
    one, two = _workloads(1, steps, 1)[0], _workloads(1, steps, 2)[0]
    return _row("threads", "training steps, the default 1 thread vs 2 (fixed torch workload)", one,
                "2 threads", two, True, f"2 threads (passive waits) take {two / one:.2f}x the 1-thread "
                f"time; load average {_load()}")


def machine_row(quick: bool) -> dict:
    """Two plain processes against one: what any 2-process executor can reach here."""
    steps = 150 if quick else 400
    alone = _workloads(1, steps)[0]
    pair = _workloads(2, steps)
    ceiling = 2 * alone / max(pair)
    return _row("machine", "2 plain processes vs 1 (fixed torch workload)", max(pair), "1 process",
                alone, ceiling > 0, f"ceiling for 2 workers {ceiling:.2f}x (2.0 on two free cores); "
                f"load average {_load()}", ratio=ceiling)


def _short_sweep(seeds: int, steps: int, batch: int, n_train: int, n_eval: int):
    from workbench.sweeps import Sweep

    return Sweep(models={"vae": {}, "beta_vae": {"beta": [8]}}, seeds=list(range(seeds)),
                 metrics=["mig", "mcc"], training={"steps": steps, "batch_size": batch},
                 data={"n_train": n_train, "n_eval": n_eval})


def _comparable(root):
    from workbench.sweeps import wide_table

    wide = wide_table(root)
    cols = ["key", "final_loss", "weights_sha256"] + sorted(c for c in wide if c.startswith("score."))
    return wide[cols].sort_values("key").reset_index(drop=True)


_SCRATCH: dict = {}    # {where: this run's folder there}; every sweep goes in one, removed at the end


def _new_root(where: str | None = None) -> str:
    """A new sweep folder under ``where`` (default: the temporary folder), kept until
    :func:`_remove_scratch`: deleting folders between rows would make the next row pay for
    it (on a disk without a journal, ext4 looks at every inode freed in the last minute
    whenever it creates a file; see the bookkeeping row)."""
    if where not in _SCRATCH:
        _SCRATCH[where] = tempfile.mkdtemp(prefix="bench_sweeps_", dir=where)
    return tempfile.mkdtemp(dir=_SCRATCH[where])


def _remove_scratch() -> None:
    import shutil

    while _SCRATCH:
        shutil.rmtree(_SCRATCH.popitem()[1], ignore_errors=True)


def _fresh_run(sweep, executor) -> tuple[float, str]:
    root = _new_root()
    begin = time.perf_counter()
    sweep.run(root, executor=executor, progress=False)
    return time.perf_counter() - begin, root


def _warm_this_process() -> None:
    """One tiny run here: imports, torch's first optimizer, allocator (as warm_worker does there)."""
    _fresh_run(_short_sweep(1, 2, 16, 32, 64), "serial")


def dask_rows(quick: bool) -> list[dict]:
    from distributed import Client

    from workbench.sweeps import ResultStore
    from workbench.sweeps.executors import WORKER_ENV, start_local_cluster, start_method, warm_worker

    seeds, steps, batch, n_train, n_eval = (4, 60, 32, 512, 500) if quick else (8, 250, 64, 1024, 1000)
    sweep = _short_sweep(seeds, steps, batch, n_train, n_eval)
    n = len(sweep.runs())
    _warm_this_process()
    serial_s, serial_root = _fresh_run(sweep, "serial")
    start = time.perf_counter()
    cluster = start_local_cluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, env=dict(WORKER_ENV))
    client = Client(cluster)
    started = time.perf_counter()
    client.run(warm_worker)                              # as DaskExecutor does
    startup_s = time.perf_counter() - start
    fresh = {method: _fresh_startup(method) for method in ("fork", "spawn")}
    parts = (f"{start_method()}: workers up {started - start:.2f} s, warm-up {start + startup_s - started:.2f} s; "
             f"from a fresh process after `import workbench`: fork {fresh['fork']['total']:.2f} s (of which "
             f"importing what a run needs here {fresh['fork']['imports']:.2f} s), spawn "
             f"{fresh['spawn']['total']:.2f} s (workers import it themselves)")
    try:
        run_s, dask_root = _fresh_run(sweep, client)
    finally:
        client.close()
        cluster.close()
    own = sum(r["seconds"] for r in ResultStore(dask_root).rows())
    serial_own = sum(r["seconds"] for r in ResultStore(serial_root).rows())
    agree = _comparable(serial_root).equals(_comparable(dask_root))
    overhead = (run_s * 2 - own) / n
    return [
        _row("dask vs serial", f"{n} short runs ({steps} steps, {serial_own / n:.2f} s each serially), "
             "2 workers x 1 thread", run_s, "serial executor", serial_s, agree,
             f"throughput ratio, cluster started and warmed; start-up included "
             f"{serial_s / (run_s + startup_s):.2f}x; goal >= 1.7x"),
        _row("dask vs serial", "LocalCluster start-up", startup_s, None, None, True,
             f"2 worker processes, warmed, this process having run a sweep: {parts}; goal <= 2 s"),
        _row("dask vs serial", "overhead per task", overhead, None, None, True,
             f"(wall x 2 workers - runs' own {own:.1f} s) / {n}; goal <= 0.5 s"),
    ]


STARTUP = r"""
import json, sys, time
import workbench
if __name__ == "__main__":
    from distributed import Client
    from workbench.sweeps import executors
    start = time.perf_counter()
    if sys.argv[1] == "fork":
        executors.import_run_modules()
    imported = time.perf_counter()
    cluster = executors.start_local_cluster(method=sys.argv[1], n_workers=2, threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            env=dict(executors.WORKER_ENV))
    client = Client(cluster)
    client.run(executors.warm_worker)
    print(json.dumps({"total": time.perf_counter() - start, "imports": imported - start}))
    client.close()
    cluster.close()
"""


def _fresh_startup(method: str) -> dict:
    """Start-up of a 2-worker LocalCluster in a new process that has only imported workbench."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "startup.py"
        script.write_text(STARTUP)
        out = subprocess.run([sys.executable, str(script), method], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _creation_us(where: str | None) -> float:
    """Median microseconds to create an empty file in a new folder under ``where``.

    What the disk charges for the three creations of each run folder at this moment: on
    ext4 without a journal (this machine's disk) the kernel skips every inode freed in
    the last minute or so, reading each, so the price depends on what anyone deleted
    nearby just before (Linux, fs/ext4/ialloc.c, ``recently_deleted``). The files stay
    until the run ends: removing them would raise the price for the next row.
    """
    folder = _new_root(where)
    times = []
    for i in range(40):
        start = time.perf_counter()
        os.close(os.open(os.path.join(folder, str(i)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e6


def _bookkeeping_sweep(quick: bool):
    from workbench.sweeps import Sweep

    seeds = 19 if quick else 99
    ok = Sweep(models={"vae": {}}, seeds=list(range(seeds)), metrics=["mig", "mcc"],
               training={"steps": 5, "batch_size": 16}, data={"n_train": 64, "n_eval": 200})
    bad = Sweep(models={"beta_vae": {"beta": [-1]}}, seeds=[0], metrics=["mig", "mcc"],
                training=ok.training, data=ok.data)

    class Both:                     # one grid: the 99 runs and the failing one, in one sweep
        def runs(self):
            return ok.runs()[: seeds // 2] + bad.runs() + ok.runs()[seeds // 2:]

    return Both(), seeds


def _best_bookkeeping(sweep, repeats: int, where: str | None = None):
    """``(wall, runs' own time, rows, report, time writing run folders)`` of the best of ``repeats``."""
    from workbench.sweeps import ResultStore, run_sweep

    best = None
    for _ in range(repeats):                     # best of 2: the machine is shared
        root = _new_root(where)
        with _timing_artefacts() as artefacts_s:
            start = time.perf_counter()
            report = run_sweep(sweep, root, executor="serial", progress=False)
            wall = time.perf_counter() - start
        rows = ResultStore(root).rows()
        own = sum(r["seconds"] for r in rows)
        if best is None or own / wall > best[1] / best[0]:
            best = (wall, own, rows, report, artefacts_s[0])
    return best


def bookkeeping_rows(quick: bool) -> list[dict]:
    sweep, seeds = _bookkeeping_sweep(quick)
    _warm_this_process()
    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None     # Linux's file system in memory
    disk_us = _creation_us(None)
    memory_us = _creation_us(memory) if memory else None
    wall, own, rows, report, artefacts_s = _best_bookkeeping(sweep, 1 if quick else 2)
    in_memory = ""
    if memory:
        m_wall, m_own, m_rows, _, _ = _best_bookkeeping(sweep, 1, where=memory)
        in_memory = (f"; the same with the sweep folder in memory ({memory}): ratio {m_own / m_wall:.3f}, "
                     f"bookkeeping {(m_wall - m_own) / len(m_rows) * 1e3:.1f} ms a run")
    good = sum(r["status"] == "ok" for r in rows)
    failed = [r for r in rows if r["status"] == "error"]
    agree = good == seeds and len(failed) == 1 and report.failed == 1
    creation = f"creating a file here took {disk_us:.0f} us just before" + (
        f" ({memory_us:.0f} us in memory)" if memory_us is not None else "")
    return [_row("bookkeeping", f"{seeds + 1} tiny runs, 1 forced failure, serial", wall,
                 "the runs' own time", own, agree,
                 f"{good} rows + {len(failed)} error ({failed[0]['error'][:40] if failed else ''}...); "
                 f"bookkeeping {(wall - own) / len(rows) * 1e3:.1f} ms a run, of which writing the run "
                 f"folder (weights, SHA-256 manifest with the row) {artefacts_s / good * 1e3:.1f} ms; "
                 f"runs {own / len(rows) * 1e3:.0f} ms each; sweep folder on the disk, {creation}"
                 f"{in_memory}; goal ratio >= 0.95")]


@contextlib.contextmanager
def _timing_artefacts():
    """Time spent writing run folders (``task._save_artefacts``), as a one-item list."""
    from workbench.sweeps import task

    spent, original = [0.0], task._save_artefacts

    def timed(*args):
        start = time.perf_counter()
        try:
            return original(*args)
        finally:
            spent[0] += time.perf_counter() - start
    task._save_artefacts = timed
    try:
        yield spent
    finally:
        task._save_artefacts = original


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
    for _ in range(int(sys.argv[3]) * (1 if name == "sap" else 6)):      # sap takes 0.1-1 s
        s = time.perf_counter(); fn(); best = min(best, time.perf_counter() - s)
    out[name] = best
out["threads"] = torch.get_num_threads()
print(json.dumps(out))
"""


def _child(order: str, threads: str, repeats: int, **extra_env) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "WORKBENCH_THREADS", "MKL_NUM_THREADS")}
    env.update(PYTHONPATH=str(ROOT), **extra_env)
    out = subprocess.run([sys.executable, "-c", CHILD, order, threads, str(repeats)], env=env,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_rows(quick: bool) -> list[dict]:
    repeats = 3 if quick else 5
    quiet = _child("workbench-first", "one-thread", repeats)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.5)
        runs = {"loaded": [], "two": [], "before": []}
        for _ in range(2):             # interleaved, best of both: other people's load comes and goes
            runs["loaded"].append(_child("workbench-first", "default", repeats))
            runs["two"].append(_child("workbench-first", "default", repeats, WORKBENCH_THREADS="2"))
            runs["before"].append(_child("torch-first", "default", repeats, WORKBENCH_THREADS="2"))
        loaded, two, before = ({k: min(r[k] for r in runs[name]) for k in runs[name][0]}
                               for name in ("loaded", "two", "before"))
    finally:
        for p in busy:
            p.kill()
            p.wait()
    rows = []
    for name in ("mig", "sap", "scm sample"):
        rows.append(_row("under load", f"{name}, 10k, 2 busy loops", loaded[name],
                         "quiet, one thread", quiet[name], True,
                         f"{loaded['threads']} thread(s) (the default here), passive waits; "
                         f"on 2 threads: {two[name]:.4f} s ({quiet[name] / two[name]:.2f}x); "
                         f"torch imported first (no passive policy, {before['threads']} thread(s)): "
                         f"{before[name]:.4f} s ({quiet[name] / before[name]:.2f}x); goal ratio >= 0.5"))
    return rows


def run(quick: bool = False) -> list[dict]:
    global VERDICT
    before = _load()
    try:
        rows = ([machine_row(quick)] + dask_rows(quick) + bookkeeping_rows(quick) + [threads_row(quick)]
                + load_rows(quick))
    finally:
        _remove_scratch()
    ceiling = rows[0]["ratio"]
    busy = float(before.split("/")[0]) > BUSY_LOAD or ceiling < FULL_CEILING
    VERDICT = (f"load average before {before}, after {_load()}; 2-process ceiling {ceiling:.2f}x: "
               + ("BUSY machine, the ratios understate ours" if busy else "quiet machine"))
    for row in rows:
        if row["benchmark"] in ("dask vs serial", "bookkeeping"):
            row["notes"] += f"; {VERDICT}"
    return rows


VERDICT = ""

if __name__ == "__main__":
    began = time.perf_counter()
    for row in run(quick="--quick" in sys.argv):
        ratio = "" if row["ratio"] is None else f"vs {row['peer']} {row['peer_s']:.4f} s, ratio {row['ratio']:.3f}"
        print(f"{row['benchmark']}: {row['case']}: {row['ours_s']:.4f} s {ratio} agree={row['agree']}\n"
              f"    {row['notes'].replace('; ' + VERDICT, '')}")
    print(f"\n{VERDICT}\n{time.perf_counter() - began:.0f} s in all")
