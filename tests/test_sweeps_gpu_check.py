"""scripts/gpu_check.py: its dry run (CPU standing in for the GPU) runs every check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench.latents import MODELS
from workbench.metrics import TABLE_METRICS

ROOT = Path(__file__).resolve().parents[1]


def _run(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "scripts/gpu_check.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_dry_run_checks_every_model_sampler_and_metric():
    out = _run("--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    for kind in MODELS:
        assert any(re.match(rf"model\s+{kind} (encode\+decode|forward)", line) for line in lines), kind
    for kind in ("vae", "beta_vae", "beta_tcvae"):
        assert any(re.match(rf"model\s+{kind} \d+ training steps", line) for line in lines), kind
    for name in [*TABLE_METRICS, "beta_vae_score", "factor_vae_score"]:
        assert any(re.match(rf"metric\s+{name}\b", line) for line in lines), name
    assert sum(line.startswith("sampler") for line in lines) == 5
    checks = sum(line.split()[0] in ("model", "sampler", "metric") for line in lines if line.strip())
    assert f"{checks} of {checks} checks agree." in out.stdout
    assert "DISAGREES" not in out.stdout and "CPU (dry run)" in out.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_without_a_gpu_it_says_so_and_points_to_the_dry_run():
    out = _run()
    assert out.returncode == 2 and "No CUDA GPU" in out.stdout and "--dry-run" in out.stdout
