"""scripts/gpu_check.py: its dry run (CPU standing in for the GPU) runs every check of every family."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench.latents import MODELS
from workbench.latents.diffusion import DIFFUSION_MODELS
from workbench.metrics import TABLE_METRICS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from gpu_checks.core import Check, compare, guarded  # noqa: E402
from gpu_checks.deepscm import image_mechanisms  # noqa: E402


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
    for name in ("FlowMechanism (nsf) generate+abduct+log_prob", "FlowMechanism 3 training steps",
                 "CausalFlow log_prob+abduct+counterfactual", "CausalFlow 3 training steps"):
        assert any(re.match(rf"flow\s+{re.escape(name)}", line) for line in lines), name
    for kind in DIFFUSION_MODELS:
        for what in ("training forward", "DDIM sampler", "DDIM inversion", "3 training steps"):
            assert any(re.match(rf"diffusion\s+{kind} {what}", line) for line in lines), (kind, what)
    mechanisms = image_mechanisms()
    assert {"ConditionalVAE", "FlowImageMechanism"} <= set(mechanisms)
    for name in mechanisms:
        assert any(re.match(rf"deepscm\s+{name} counterfactual", line) for line in lines), name
    for name in ("ConditionalVAE", "FlowImageMechanism"):
        assert any(re.match(rf"deepscm\s+{name} 2 training steps", line) for line in lines), name
    areas = ("model", "flow", "diffusion", "deepscm", "sampler", "metric")
    checks = sum(line.split()[0] in areas for line in lines if line.strip())
    assert f"{checks} of {checks} checks agree." in out.stdout
    assert "DISAGREES" not in out.stdout and "CPU (dry run)" in out.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_without_a_gpu_it_says_so_and_points_to_the_dry_run():
    out = _run()
    assert out.returncode == 2 and "No CUDA GPU" in out.stdout and "--dry-run" in out.stdout


def test_a_check_that_raises_is_a_failing_row_and_the_others_go_on():
    def broken():
        raise RuntimeError("Expected all tensors to be on the same device")
    [row] = guarded("deepscm", "a broken mechanism", broken)
    assert not row.ok and "same device" in row.error and row.name == "a broken mechanism"
    assert guarded("x", "fine", lambda: Check("x", "fine", 1.0, 0.5, 0.0, 1e-4, "max |diff|"))[0].ok


def test_results_apart_by_more_than_the_tolerance_disagree():
    cpu = torch.device("cpu")
    near = compare("model", "near", lambda: torch.zeros(3), lambda: torch.full((3,), 1e-5), cpu, 1e-4)
    far = compare("model", "far", lambda: torch.zeros(3), lambda: torch.tensor([0.0, 0.0, 0.01]), cpu, 1e-4)
    assert near.ok and near.agreement == pytest.approx(1e-5)
    assert not far.ok and far.agreement == pytest.approx(0.01)
