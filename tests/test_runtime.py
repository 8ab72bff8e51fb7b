"""Device choice, seeding, and the error hierarchy."""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import pytest
import torch

import workbench as wb
from workbench import errors, runtime


def test_cpu_is_always_available():
    assert runtime.device("cpu") == torch.device("cpu")


def test_default_device_follows_cuda_availability(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.device().type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_says_so():
    with pytest.raises(errors.DeviceUnavailableError, match="no CUDA GPU"):
        runtime.device("cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_environment_variable_asking_for_cuda_fails_clearly(monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEVICE", "cuda")
    with pytest.raises(errors.DeviceUnavailableError, match="WORKBENCH_DEVICE"):
        runtime.device()


def test_environment_variable_override(monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEVICE", "cpu")
    assert runtime.device() == torch.device("cpu")


def test_nonsense_device_is_a_typed_error():
    with pytest.raises(errors.WorkbenchInputError, match="Cannot understand device"):
        runtime.device("gpu-please")


def test_set_device_and_context_restore():
    try:
        runtime.set_device("cpu")
        with runtime.using_device("cpu"):
            assert runtime.device().type == "cpu"
        assert runtime.device().type == "cpu"
    finally:
        runtime.set_device(None)


def test_seed_everything_reproduces_torch_numpy_python_and_pyro():
    import random

    import numpy as np

    def draw():
        return (torch.rand(3), np.random.rand(3), random.random(),
                pyro.sample("x", dist.Normal(0.0, 1.0)))

    wb.seed_everything(7)
    pyro.param("w", torch.tensor(1.0))
    first = draw()
    wb.seed_everything(7)
    assert "w" not in pyro.get_param_store(), "seeding clears Pyro's parameter store"
    second = draw()
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert torch.equal(first[3], second[3])


def test_seed_everything_draws_as_pyro_s_own_seeding_and_takes_64_bit_seeds():
    import random

    import numpy as np

    def draw():
        return (torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random(),
                float(pyro.sample("x", dist.Normal(0.0, 1.0))))

    pyro.set_rng_seed(12345)
    theirs = draw()
    wb.seed_everything(12345)
    assert draw() == theirs
    wb.seed_everything(2**40 + 3)                # NumPy alone cannot take it: reduced for NumPy
    big = draw()
    wb.seed_everything(2**40 + 3)
    assert draw() == big and big[1] == (np.random.seed(3) or np.random.rand(3).tolist())


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True, 2**64])
def test_bad_seed_is_rejected(bad):
    with pytest.raises(errors.WorkbenchInputError, match="seed"):
        wb.seed_everything(bad)


def test_every_input_error_is_a_value_error():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, errors.WorkbenchInputError):
            assert issubclass(obj, ValueError), name


def test_unknown_variable_suggests_a_name():
    err = errors.UnknownVariableError("tarr", ["smoking", "tar", "cancer"])
    assert "Did you mean 'tar'?" in str(err)


def test_describe_reports_versions_and_device():
    info = runtime.describe()
    assert info["torch"].startswith("2.")
    assert info["device"] in {"cpu", "cuda"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_asked_as_an_argument_does_not_blame_the_environment(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    with pytest.raises(errors.DeviceUnavailableError) as info:
        runtime.device("cuda")
    assert "as an argument" in str(info.value) and "WORKBENCH_DEVICE" not in str(info.value)


def test_nonsense_in_the_environment_variable_names_it(monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEVICE", "gpu")
    with pytest.raises(errors.WorkbenchInputError, match="WORKBENCH_DEVICE"):
        runtime.device()
