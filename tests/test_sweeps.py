"""Sweeps on the serial executor: keys, the results file, resume, failures, kills."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import workbench
from tests.sweeps_fixtures import comparable, tiny_sweep
from workbench import sweeps
from workbench.sweeps import ResultStore, Sweep, SweepConfigError, run_key

ROOT = Path(__file__).resolve().parents[1]


def test_run_key_is_the_sha256_of_canonical_json_and_version():
    config = tiny_sweep().runs()[0]
    text = json.dumps({"config": config, "workbench": workbench.__version__},
                      sort_keys=True, separators=(",", ":"))
    assert run_key(config) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert run_key(config, version="0.0.0") != run_key(config)


def test_run_keys_are_the_same_in_processes_with_other_hash_seeds():
    code = ("from tests.sweeps_fixtures import tiny_sweep; "
            "print(','.join(tiny_sweep().keys()))")
    keys = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                             capture_output=True, check=True, timeout=120)
        keys.add(out.stdout.strip())
    assert keys == {",".join(tiny_sweep().keys())}


def test_keys_differ_by_setting_and_ints_equal_floats():
    a = Sweep(models={"beta_vae": {"beta": [4, 8]}}).keys()
    b = Sweep(models={"beta_vae": {"beta": [4.0, 8.0]}}).keys()
    assert a == b and len(set(a)) == 2


@pytest.mark.parametrize("bad, match", [
    ({"models": {"vea": {}}}, "Unknown model kind 'vea'"),
    ({"models": {"causal_vae": {}}}, "need labels"),
    ({"metrics": ["migg"]}, "Unknown metric 'migg'"),
    ({"seeds": [-1]}, "non-negative"),
    ({"seeds": []}, "seeds is empty"),
    ({"models": {"beta_vae": {"beta": [float("nan")]}}}, "finite number"),
    ({"training": {"step": 3}}, "Unknown training setting"),
    ({"datasets": ["mnist"]}, "Unknown data set 'mnist'"),
    ({"training": {"steps": 0}}, r"training\['steps'\] must be a whole number >= 1, got 0"),
    ({"training": {"steps": 2.5}}, r"training\['steps'\] must be a whole number"),
    ({"training": {"batch_size": True}}, r"training\['batch_size'\] must be a whole number"),
    ({"training": {"lr": -1e-3}}, r"training\['lr'\] must be a positive finite number"),
    ({"training": {"lr": float("inf")}}, r"training\['lr'\] must be a positive finite number"),
    ({"data": {"n_train": 0}}, r"data\['n_train'\] must be a whole number >= 1"),
    ({"data": {"seed": -1}}, r"data\['seed'\] must be a whole number >= 0"),
    ({"data": {"image_size": 15}}, "power of two"),                 # was pooled to 16 silently
    ({"data": {"image_size": 8}}, "power of two"),
    ({"datasets": ["digits"], "data": {"image_size": 64}}, "larger than digits's 32-pixel"),
])
def test_bad_grids_are_typed_errors(bad, match):
    with pytest.raises(SweepConfigError, match=match):
        Sweep(**bad).runs()


@pytest.mark.parametrize("bad, hint", [
    ({"models": {"vea": {}}}, "(did you mean 'vae'?)"),
    ({"metrics": ["mgi"]}, "(did you mean 'mig'?)"),
    ({"datasets": ["sprite"]}, "(did you mean 'sprites'?)"),
    ({"training": {"stpes": 3}}, "(did you mean 'steps'?)"),
])
def test_a_near_miss_gets_the_name_it_probably_meant(bad, hint):
    with pytest.raises(SweepConfigError) as caught:
        Sweep(**bad)
    assert hint in str(caught.value)


def test_a_far_miss_gets_no_guess():
    with pytest.raises(SweepConfigError) as caught:
        Sweep(metrics=["zzzz"])
    assert "did you mean" not in str(caught.value) and "use one of" in str(caught.value)


def test_sweep_writes_rows_artefacts_and_a_rerun_skips_them(tmp_path):
    sweep = tiny_sweep(seeds=(0,))
    first = sweep.run(tmp_path, executor="serial", progress=False)
    assert (first.ran, first.failed, first.skipped) == (2, 0, 0)
    for key in sweep.keys():
        folder = tmp_path / "runs" / key
        manifest = json.loads((folder / "manifest.json").read_text())["models"]["model"]
        weights = (folder / "model.safetensors").read_bytes()
        assert manifest["sha256"] == hashlib.sha256(weights).hexdigest()
        assert manifest["row"]["weights_sha256"] == manifest["sha256"] and manifest["row"]["key"] == key
    loaded = workbench.latents.load_pretrained("model", directory=tmp_path / "runs" / sweep.keys()[0])
    assert loaded.kind == "vae"
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    second = sweep.run(tmp_path, executor="serial", progress=False)
    assert (second.ran, second.skipped) == (0, 2)
    assert (tmp_path / "results.jsonl").read_text().splitlines() == lines
    in_flight = tmp_path / "in_flight"
    assert not in_flight.exists() or not any(in_flight.iterdir())


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path):
    sweep = tiny_sweep(seeds=(0,), vae={}, beta_vae={"beta": [-1.0, 8.0]})
    report = sweep.run(tmp_path, executor="serial", progress=False)
    assert (report.ran, report.failed) == (3, 1)
    failed = sweeps.failures(tmp_path)
    assert failed["model"].tolist() == ["beta_vae"]
    assert "WorkbenchInputError" in failed["error"][0] and "beta" in failed["error"][0]
    assert sorted(sweeps.results_table(tmp_path)["setting"].unique()) == ["beta_vae (beta=8)", "vae"]
    retry = sweep.run(tmp_path, executor="serial", progress=False)
    assert (retry.ran, retry.failed, retry.skipped) == (1, 1, 2)
    assert sweep.run(tmp_path, executor="serial", progress=False, retry_failed=False).ran == 0


def test_same_numbers_as_calling_the_training_loop_by_hand(tmp_path):
    from workbench.sweeps.task import train_and_score

    sweep = tiny_sweep(seeds=(1,), beta_vae={"beta": [8]})
    sweep.run(tmp_path, executor="serial", progress=False)
    row = sweeps.wide_table(tmp_path).iloc[0]
    model, result, scores = train_and_score(sweep.runs()[0])
    assert result.losses[-1] == row["final_loss"]
    assert scores["mig"].score == row["score.mig"] and scores["mcc"].score == row["score.mcc"]


def test_a_torn_last_line_is_skipped_and_its_run_repeated(tmp_path):
    sweep = tiny_sweep(seeds=(0,))
    sweep.run(tmp_path, executor="serial", progress=False)
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])   # killed mid-write
    with pytest.warns(UserWarning, match="not whole rows"):
        report = sweep.run(tmp_path, executor="serial", progress=False)
    assert report.recovered == 1 and report.ran == 0      # its artefacts were complete
    with pytest.warns(UserWarning, match="not whole rows"):
        assert sorted(ResultStore(tmp_path).finished_keys()) == sorted(sweep.keys())


def test_artefacts_without_a_row_are_recovered_not_retrained(tmp_path):
    sweep = tiny_sweep(seeds=(0,))
    sweep.run(tmp_path, executor="serial", progress=False)
    before = comparable(sweeps.wide_table(tmp_path))
    (tmp_path / "results.jsonl").unlink()
    report = sweep.run(tmp_path, executor="serial", progress=False)
    assert (report.recovered, report.ran) == (2, 0)
    pd.testing.assert_frame_equal(comparable(sweeps.wide_table(tmp_path)), before)


def test_a_run_stopped_mid_training_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    from workbench.sweeps import task

    monkeypatch.setattr(task, "CHECKPOINT_FROM_STEPS", 2)
    sweep = tiny_sweep(seeds=(0,), beta_vae={"beta": [8]})
    reference = tmp_path / "reference"
    sweep.run(reference, executor="serial", progress=False)
    config = sweep.runs()[0]
    stopped = tmp_path / "stopped"
    key = run_key(config)
    half = {**config, "training": {**config["training"], "steps": 2}}
    task.train_and_score(half, stopped / "in_flight" / key)     # as if killed after step 2
    assert (stopped / "in_flight" / key / "manifest.json").exists()
    row = task.run_one(config, stopped)
    assert row["status"] == "ok" and not (stopped / "in_flight" / key).exists()
    assert row["weights_sha256"] == ResultStore(reference).rows()[0]["weights_sha256"]


def test_run_one_told_not_to_look_runs_again_and_writes_the_same_folder(tmp_path):
    from workbench.sweeps import task

    config = tiny_sweep(seeds=(0,), vae={}).runs()[0]
    first = task.run_one(config, tmp_path)
    folder = tmp_path / "runs" / first["key"]
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert task.run_one(config, tmp_path)["recovered"] is True          # it looks by default
    again = task.run_one(config, tmp_path, look_for_finished=False)     # as run_sweep calls it
    assert "recovered" not in again and again["weights_sha256"] == first["weights_sha256"]
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert after.keys() == before.keys()
    assert after["model.safetensors"] == before["model.safetensors"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [first["key"]]


def test_artefacts_that_fail_their_hash_are_run_again(tmp_path):
    sweep = tiny_sweep(seeds=(0,), vae={})
    sweep.run(tmp_path, executor="serial", progress=False)
    key = sweep.keys()[0]
    weights = tmp_path / "runs" / key / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])                 # truncated on disk
    (tmp_path / "results.jsonl").unlink()
    report = sweep.run(tmp_path, executor="serial", progress=False)
    assert (report.recovered, report.ran) == (0, 1)


KILLED_SWEEP = textwrap.dedent("""
    import os, signal, sys
    import workbench.latents
    from workbench.sweeps import task
    from tests.sweeps_fixtures import tiny_sweep

    root, where = sys.argv[1], sys.argv[2]
    calls = {"train": 0, "save": 0}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def wrap(name, module, attribute):
        real = getattr(module, attribute)
        def wrapped(*args, **kwargs):
            out = real(*args, **kwargs)
            calls[name] += 1
            if where == name and calls[name] == 4:
                die()
            return out
        setattr(module, attribute, wrapped)

    wrap("train", workbench.latents, "train")           # trained, nothing written yet
    wrap("save", task, "_save_artefacts")               # artefacts written, row not yet
    on_row = (lambda row: die() if len(open(root + "/results.jsonl").readlines()) == 3
              else None) if where == "row" else None    # between two runs
    tiny_sweep(seeds=(0, 1, 2)).run(root, executor="serial", progress=False, on_row=on_row)
""")


@pytest.fixture(scope="module")
def six_run_reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    tiny_sweep(seeds=(0, 1, 2)).run(root, executor="serial", progress=False)
    return root


@pytest.mark.parametrize("where, recovered", [("row", 0), ("train", 0), ("save", 1)],
                         ids=["between-runs", "in-a-run", "after-its-artefacts"])
def test_a_sweep_killed_mid_way_resumes_to_the_uninterrupted_results(
        six_run_reference, tmp_path, where, recovered):
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", KILLED_SWEEP, str(killed), where],
                          cwd=ROOT, env=env, timeout=240)
    assert done.returncode == -signal.SIGKILL, "the sweep should die by SIGKILL half-way"
    assert len(ResultStore(killed).rows()) == 3
    report = tiny_sweep(seeds=(0, 1, 2)).run(killed, executor="serial", progress=False)
    assert (report.total, report.skipped, report.recovered, report.ran) == \
        (6, 3, recovered, 3 - recovered)
    keys = [row["key"] for row in ResultStore(killed).rows()]
    assert sorted(keys) == sorted(set(keys)) == sorted(tiny_sweep(seeds=(0, 1, 2)).keys())
    pd.testing.assert_frame_equal(comparable(sweeps.wide_table(killed)),
                                  comparable(sweeps.wide_table(six_run_reference)))


def test_rank_correlation_of_two_orderings():
    rows = [{"key": str(i), "status": "ok", "dataset": "d", "model": "vae", "seed": i,
             "score.a": float(i), "score.b": float(-i), "score.c": 1.0} for i in range(4)]
    table = sweeps.results_table(rows)
    with pytest.warns(UserWarning, match=r"\['c'\]"):
        corr = sweeps.rank_correlation(table)
    assert corr.loc["a", "b"] == pytest.approx(-1.0) and list(corr.columns) == ["a", "b"]
    with pytest.raises(SweepConfigError, match="at least 2"):
        sweeps.rank_correlation(table[table["key"] == "0"])


def test_an_unknown_executor_is_a_typed_error(tmp_path):
    with pytest.raises(sweeps.ExecutorError, match="Unknown executor"):
        tiny_sweep().run(tmp_path, executor="ray", progress=False)
