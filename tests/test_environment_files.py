"""pyproject.toml, environment.yml and binder/ must list the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI distribution names
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch"}
NOT_DEPENDENCIES = {"python", "pip"}


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _conda_names(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    names = set()
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            name = _name(item)
            names.add(CONDA_TO_PYPI.get(name, name))
    return names - NOT_DEPENDENCIES


def test_binder_lists_the_runtime_dependencies():
    runtime = {_name(r) for r in _pyproject()["dependencies"]}
    assert _conda_names(ROOT / "binder" / "environment.yml") == runtime


def test_environment_yml_lists_runtime_and_test_dependencies():
    project = _pyproject()
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["test"]}
    assert _conda_names(ROOT / "environment.yml") == wanted


def test_binder_uses_cpu_torch_and_installs_the_package():
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    assert any(str(d).startswith("pytorch-cpu") for d in env["dependencies"])
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build


def test_constraints_pin_the_cpu_torch_build():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    assert "torch==2.13.0" in [line.strip() for line in lines]


@pytest.mark.parametrize("script", ["scripts/lab.sh", "scripts/test.sh"])
def test_readme_gives_the_two_commands(script):
    readme = (ROOT / "README.md").read_text()
    assert f"bash {script}" in readme


def test_ci_runs_the_readme_test_command():
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_lab_script_serves_the_repository_so_the_voila_apps_are_reachable():
    # README: inside the JupyterLab of scripts/lab.sh, /voila/render/apps/<app>.ipynb opens an
    # app; with a notebook path alone Jupyter would serve only notebooks/.
    assert "--ServerApp.root_dir=." in (ROOT / "scripts" / "lab.sh").read_text()
