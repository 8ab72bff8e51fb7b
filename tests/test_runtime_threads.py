"""Thread count from the CPUs actually available (affinity, cgroup quotas), less one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench import runtime, threads
from workbench.errors import WorkbenchInputError

ROOT = Path(__file__).resolve().parents[1]


def _cgroup(tmp_path, files: dict) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.fixture
def no_own_cgroup(monkeypatch):
    monkeypatch.setattr(threads, "_own_cgroup_paths", lambda: {})


@pytest.mark.parametrize("files, limit", [
    ({"cpu.max": "100000 100000\n"}, 1.0),                       # Binder: one CPU
    ({"cpu.max": "250000 100000\n"}, 2.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
    ({"cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_cgroup_quota_is_read_from_v1_and_v2_files(tmp_path, no_own_cgroup, files, limit):
    assert threads.cgroup_cpu_limit(_cgroup(tmp_path, files)) == limit


def test_the_process_own_cgroup_folder_is_preferred(tmp_path, monkeypatch):
    root = _cgroup(tmp_path, {"cpu.max": "max 100000", "kubepods/pod7/cpu.max": "200000 100000"})
    monkeypatch.setattr(threads, "_own_cgroup_paths", lambda: {"": ["kubepods/pod7"]})
    assert threads.cgroup_cpu_limit(root) == 2.0


@pytest.mark.parametrize("affinity, quota, expected", [
    (8, "100000 100000", 1),     # many cores visible, one CPU of quota (Binder)
    (8, "150000 100000", 1),     # a fraction rounds down
    (8, "50000 100000", 1),      # never below one
    (2, "400000 100000", 2),     # affinity is the tighter limit
    (3, "max 100000", 3),
])
def test_available_cpus_is_the_tighter_of_affinity_and_quota(tmp_path, monkeypatch, no_own_cgroup,
                                                             affinity, quota, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
    assert threads.available_cpus(_cgroup(tmp_path, {"cpu.max": quota})) == expected


def test_thread_count_prefers_our_variable_then_openmps(monkeypatch):
    monkeypatch.setenv("WORKBENCH_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert runtime.thread_count() == 3
    monkeypatch.delenv("WORKBENCH_THREADS")
    assert runtime.thread_count() == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert runtime.thread_count() == threads.default_threads()


@pytest.mark.parametrize("affinity, quota, torch_default, expected", [
    (1, "max 100000", 1, 1),         # one CPU: one thread
    (2, "max 100000", 2, 1),         # two CPUs (this machine): one left to the rest
    (8, "100000 100000", 8, 1),      # Binder: many cores shown, a quota of one CPU
    (8, "250000 100000", 8, 1),      # 2.5 CPUs of quota: 2 CPUs, 1 thread
    (8, "400000 100000", 8, 3),      # the quota is the tighter limit
    (4, "max 100000", 8, 3),         # the affinity is the tighter limit
    (16, "max 100000", 8, 8),        # no more than torch's physical cores
])
def test_the_default_thread_count_leaves_one_available_cpu(tmp_path, monkeypatch, no_own_cgroup,
                                                           affinity, quota, torch_default, expected):
    for name in ("WORKBENCH_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
    monkeypatch.setattr(threads, "CGROUP_ROOT", str(_cgroup(tmp_path, {"cpu.max": quota})))
    monkeypatch.setattr(threads, "_TORCH_DEFAULT_THREADS", torch_default)
    assert threads.thread_count() == expected
    previous = torch.get_num_threads()
    try:
        assert threads.configure_threads() == expected == torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_variable_is_a_typed_error(monkeypatch, bad):
    monkeypatch.setenv("WORKBENCH_THREADS", bad)
    with pytest.raises(WorkbenchInputError, match="WORKBENCH_THREADS must be a positive integer"):
        runtime.thread_count()
    with pytest.raises(WorkbenchInputError, match="CPU count must be a positive integer"):
        threads.default_threads(0)


def test_using_threads_restores_the_count():
    before = torch.get_num_threads()
    with runtime.using_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(WorkbenchInputError):
        runtime.configure_threads(0)


def _fresh_import(env: dict, preexec=None) -> list[str]:
    code = ("import os, torch, workbench; "
            "print(torch.get_num_threads(), os.environ.get('OMP_WAIT_POLICY'), "
            "workbench.runtime.default_threads())")
    base = {k: v for k, v in os.environ.items()
            if k not in ("WORKBENCH_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=ROOT,
                         env={**base, "PYTHONPATH": str(ROOT), **env}, preexec_fn=preexec,
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.split() + [out.stderr]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux affinity")
def test_a_kernel_pinned_to_one_cpu_uses_one_thread_and_passive_waits():
    count, policy, _, _ = _fresh_import({}, preexec=lambda: os.sched_setaffinity(0, {0}))
    assert (count, policy) == ("1", "PASSIVE")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux affinity and two CPUs")
def test_a_script_on_two_cpus_leaves_one_to_the_rest():
    two = set(sorted(os.sched_getaffinity(0))[:2])
    count, policy, default, _ = _fresh_import({}, preexec=lambda: os.sched_setaffinity(0, two))
    assert (count, policy, default) == ("1", "PASSIVE", "1")


def test_an_explicit_openmp_policy_is_kept_and_a_bad_variable_only_warns():
    assert _fresh_import({"OMP_WAIT_POLICY": "ACTIVE"})[1] == "ACTIVE"
    count, _, default, stderr = _fresh_import({"WORKBENCH_THREADS": "lots"})
    assert count == default and "WORKBENCH_THREADS" in stderr
