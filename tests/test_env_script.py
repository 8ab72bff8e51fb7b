"""scripts/env.sh's torch switch (WORKBENCH_TORCH): what pip is asked, and what it picks.

No CUDA build is downloaded: the plan mode prints the pip commands, and pip's resolver
is then run with those commands (dry run, isolated from this machine's pip settings)
against a local index holding stand-in wheels named as PyTorch's index names them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = next(line.strip() for line in (ROOT / "constraints.txt").read_text().splitlines()
           if line.startswith("torch=="))
VERSION = PIN.removeprefix("torch==")


def plan(torch_choice: str | None, extra_env: dict | None = None) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_TORCH", "TORCH_INDEX_URL")}
    env.update({"WORKBENCH_ENV_PLAN": "1", **(extra_env or {})})
    if torch_choice is not None:
        env["WORKBENCH_TORCH"] = torch_choice
    out = subprocess.run(["bash", "scripts/env.sh", "test"], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True, timeout=60)
    steps = dict(line.split(":", 1) for line in out.stdout.splitlines())
    return {name: shlex.split(command) for name, command in steps.items()}


@pytest.mark.parametrize("choice, index", [
    (None, None),
    ("cpu", "https://download.pytorch.org/whl/cpu"),
    ("cu128", "https://download.pytorch.org/whl/cu128"),
    ("cu126", "https://download.pytorch.org/whl/cu126"),
    ("https://mirror.example/torch", "https://mirror.example/torch"),
])
def test_the_switch_picks_the_index_and_the_pin_the_version(choice, index):
    torch = plan(choice)["torch"]
    assert torch[:3] == ["-m", "pip", "install"] and torch[-1] == PIN
    assert ["-c", "constraints.txt"] == torch[4:6]
    if index is None:
        assert "--index-url" not in torch
    else:
        assert torch[torch.index("--index-url") + 1] == index
    package = plan(choice)["package"]
    assert "--index-url" not in package and package[-1] == ".[test]"


def test_the_old_variable_still_works_and_says_so():
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_TORCH"}
    out = subprocess.run(["bash", "scripts/env.sh"], cwd=ROOT, text=True, capture_output=True,
                         env={**env, "WORKBENCH_ENV_PLAN": "1",
                              "TORCH_INDEX_URL": "https://download.pytorch.org/whl/cpu"})
    assert "https://download.pytorch.org/whl/cpu" in out.stdout and "WORKBENCH_TORCH" in out.stderr


@pytest.mark.parametrize("bad", ["gpu", "cuda", "cu", "CU128"])
def test_a_value_it_cannot_read_stops_with_the_choices(bad):
    env = {**os.environ, "WORKBENCH_ENV_PLAN": "1", "WORKBENCH_TORCH": bad}
    out = subprocess.run(["bash", "scripts/env.sh"], cwd=ROOT, env=env, text=True,
                         capture_output=True, timeout=60)
    assert out.returncode == 2 and "cpu, a CUDA tag such as cu128" in out.stderr and not out.stdout


def _stand_in_wheel(folder: Path, version: str) -> None:
    name = f"torch-{version}"
    with zipfile.ZipFile(folder / f"{name}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{name}.dist-info/METADATA",
                     f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n")
        whl.writestr(f"{name}.dist-info/WHEEL",
                     "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{name}.dist-info/RECORD", "")


@pytest.mark.parametrize("build", ["cu128", "cpu"])
def test_pip_resolves_the_planned_command_to_that_build_of_the_pinned_version(tmp_path, build):
    index = tmp_path / "simple" / "torch"
    index.mkdir(parents=True)
    versions = (f"{VERSION}+{build}", f"2.99.0+{build}", VERSION.rsplit(".", 1)[0] + ".99")
    for version in versions:
        _stand_in_wheel(index, version)
    links = "".join(f'<a href="torch-{v}-py3-none-any.whl">torch-{v}</a>' for v in versions)
    (index / "index.html").write_text(f"<html><body>{links}</body></html>")   # PEP 503
    command = plan(build)["torch"]
    where = command.index("--index-url") + 1
    assert command[where] == f"https://download.pytorch.org/whl/{build}"
    command[where] = (tmp_path / "simple").as_uri()          # the same index, held locally
    report = tmp_path / "report.json"
    # No pip settings of this machine (its find-links hold a real torch); and, with
    # --ignore-installed, as in the fresh (or emptied, see env.sh) venv env.sh installs into.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    subprocess.run([sys.executable, *command, "--dry-run", "--no-deps", "--ignore-installed",
                    "--report", str(report)], cwd=ROOT, check=True, timeout=120,
                   capture_output=True, text=True, env=env)
    chosen = [item["metadata"]["version"] for item in json.loads(report.read_text())["install"]]
    assert chosen == [f"{VERSION}+{build}"]


def test_readme_constraints_and_script_agree():
    readme = (ROOT / "README.md").read_text()
    script = (ROOT / "scripts" / "env.sh").read_text()
    assert re.search(r"^torch==\d+\.\d+\.\d+$", PIN)
    assert not re.search(r"torch==\d", script), "env.sh takes the version from constraints.txt"
    for needed in ("WORKBENCH_TORCH=cu128", "WORKBENCH_TORCH=cpu", "torch.version.cuda",
                   "scripts/gpu_check.py"):
        assert needed in readme, needed
    assert "remove the pin" not in readme and "TORCH_INDEX_URL" not in readme
