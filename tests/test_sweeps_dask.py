"""Sweeps on Dask: same table as the serial executor, and a worker killed mid-way.

All tests here share one small LocalCluster (2 worker processes x 1 thread) and run in
one xdist group, so they never compete with each other for the cores.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from tests.sweeps_fixtures import comparable, tiny_sweep
from workbench import sweeps
from workbench.sweeps import DaskExecutor, ResultStore

distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.xdist_group("dask"), pytest.mark.timeout(600)]

GRID = dict(seeds=(0, 1, 2))


@pytest.fixture(scope="module")
def client():
    cluster = sweeps.executors.start_local_cluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        env=dict(sweeps.executors.WORKER_ENV), death_timeout=120)
    client = distributed.Client(cluster, timeout="120s")
    try:
        yield client
    finally:
        client.close(timeout=60)
        cluster.close(timeout=60)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("serial")
    tiny_sweep(**GRID).run(root, executor="serial", progress=False)
    return comparable(sweeps.wide_table(root))


def test_worker_processes_run_without_the_profiler_or_malloc_trimming_and_warm_up_fully(client):
    profiled = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    assert list(profiled.values()) == [False, False]
    trim = client.run(lambda: __import__("os").environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(trim.values()) == [os.environ.get("MALLOC_TRIM_THRESHOLD_")] * 2   # glibc's default
    tick = client.run(lambda: __import__("dask").config.get("distributed.admin.tick.interval"))
    assert list(tick.values()) == ["1s", "1s"]
    if sweeps.executors.start_method() == "fork":     # forked: born with the run's modules
        born = client.run(lambda: "torch._dynamo" in __import__("sys").modules)
        assert list(born.values()) == [True, True]
    assert list(client.run(sweeps.executors.warm_worker).values()) == [1, 1]
    assert list(client.run(lambda: __import__("torch").get_num_threads()).values()) == [1, 1]
    imported = client.run(lambda: sorted({"torch._dynamo", "workbench.metrics"} & set(__import__("sys").modules)))
    assert list(imported.values()) == [["torch._dynamo", "workbench.metrics"]] * 2


def test_dask_and_serial_give_identical_tables(client, reference, tmp_path):
    report = tiny_sweep(**GRID).run(tmp_path, executor=client, progress=False)
    assert (report.ran, report.failed) == (6, 0) and report.executor.startswith("dask")
    pd.testing.assert_frame_equal(comparable(sweeps.wide_table(tmp_path)), reference)


def test_killing_a_worker_half_way_then_resuming_loses_nothing(client, reference, tmp_path):
    killed = []

    def kill_a_worker_at_half(row):
        if len(ResultStore(tmp_path).rows()) == 3 and not killed:
            pids = client.run(os.getpid)
            address, pid = sorted(pids.items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(address)

    first = tiny_sweep(**GRID).run(tmp_path, executor=client, progress=False,
                                   on_row=kill_a_worker_at_half)
    assert killed, "a worker was killed after half the runs"
    assert first.ran == 6                       # Dask re-ran the killed worker's run elsewhere
    resumed = tiny_sweep(**GRID).run(tmp_path, executor=client, progress=False)
    assert resumed.ran == resumed.failed         # only failed runs (if any) are retried
    latest = ResultStore(tmp_path).latest()
    assert sorted(r["key"] for r in latest) == sorted(tiny_sweep(**GRID).keys())
    assert all(r["status"] == "ok" for r in latest)
    ok_rows = [r["key"] for r in ResultStore(tmp_path).rows() if r["status"] == "ok"]
    assert len(ok_rows) == len(set(ok_rows)) == 6, "every run finished exactly once"
    pd.testing.assert_frame_equal(comparable(sweeps.wide_table(tmp_path)), reference)


def test_a_failing_run_on_a_worker_is_a_row(client, tmp_path):
    sweep = tiny_sweep(seeds=(0,), beta_vae={"beta": [-1.0, 8.0]})
    report = sweep.run(tmp_path, executor=DaskExecutor(client=client), progress=False)
    assert (report.ran, report.failed) == (2, 1)
    assert "beta" in sweeps.failures(tmp_path)["error"][0]


def test_an_unreachable_scheduler_is_a_typed_error(tmp_path):
    with pytest.raises(sweeps.ExecutorError, match="Cannot reach a Dask scheduler"):
        DaskExecutor(address="tcp://127.0.0.1:9")


def test_a_local_cluster_started_from_a_jupyter_kernel_gives_the_serial_table(reference, tmp_path):
    """``executor="local"`` inside a real kernel: its workers are forked from a process with
    the kernel's own threads (heartbeat, IOPub) running, and must still run every run."""
    from jupyter_client.manager import start_new_kernel

    code = f"""
from tests.sweeps_fixtures import tiny_sweep
from workbench.sweeps.executors import start_method
report = tiny_sweep(seeds={GRID['seeds']!r}).run(r"{tmp_path}", executor="local", progress=True)
print(start_method(), report.ran, report.failed, report.executor)
"""
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(Path(__file__).resolve().parents[1]))
    try:
        reply = kc.execute_interactive(code, timeout=300, output_hook=_collect(printed := []))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    method, ran, failed, executor = "".join(printed).split()[-4:]
    assert (ran, failed, executor) == ("6", "0", "dask") and method in ("fork", "spawn")
    pd.testing.assert_frame_equal(comparable(sweeps.wide_table(tmp_path)), reference)


def _collect(printed: list):
    def hook(message):
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            printed.append(message["content"]["text"])
    return hook
