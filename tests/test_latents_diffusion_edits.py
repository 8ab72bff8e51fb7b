"""Supervised edits: null-space directions, the response Jacobian, the calibrated step."""

import pytest
import torch

from workbench.datasets import Digits
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.diffusion import DiffusionAutoencoder, FactorRegressor
from workbench.latents.diffusion.autoencoder import decode, encode
from workbench.latents.diffusion.directions import LinearProbe, edit_direction, fit_probes
from workbench.latents.diffusion.edits import calibrate_direction, decode_with_grad, response_jacobian
from workbench.latents.diffusion.evaluation import edit_effect


class _Brightness:
    """A stand-in regressor: each image's mean grey level and its top half's."""

    factor_names = ["mean", "top"]
    factor_range = torch.tensor([1.0, 1.0])

    def measure(self, x):
        return torch.stack([x.mean(dim=(1, 2, 3)), x[:, :, : x.shape[2] // 2].mean(dim=(1, 2, 3))], 1)

    def predict(self, x):
        return self.measure(x).detach().cpu()


def _model():
    torch.manual_seed(0)
    return DiffusionAutoencoder((1, 16, 16), channels=4, semantic_dim=3, num_steps=50, device="cpu").eval()


def _images(n=4, seed=0):
    return torch.rand(n, 1, 16, 16, generator=torch.Generator().manual_seed(seed))


def test_edit_direction_is_the_null_space_projection_and_silent_on_the_kept_rows():
    g = torch.Generator().manual_seed(3)
    w = torch.randn(4, 6, generator=g, dtype=torch.float64)
    probes = [LinearProbe(n, w[k], 0.0, 1.0) for k, n in enumerate("abcd")]
    delta = edit_direction(probes, "b")
    others = w[[0, 2, 3]]
    projector = torch.eye(6, dtype=torch.float64) - torch.linalg.pinv(others) @ others
    by_hand = projector @ w[1] / (w[1] @ projector @ w[1])
    assert torch.allclose(delta, by_hand, atol=1e-12)
    assert torch.allclose(w @ delta, torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-12)
    causal = edit_direction(probes, "b", follow={"d": 2.5})
    assert torch.allclose(w @ causal, torch.tensor([0.0, 1.0, 0.0, 2.5], dtype=torch.float64), atol=1e-12)
    free = edit_direction(probes, "b", keep=["a"])           # c and d unconstrained: a shorter move
    assert float(w[0] @ free) == pytest.approx(0.0, abs=1e-12) and free.norm() < delta.norm()
    with pytest.raises(UnknownVariableError):
        edit_direction(probes, "b", follow={"e": 1.0})
    with pytest.raises(WorkbenchInputError, match="overlap"):
        edit_direction(probes, "b", keep=["a", "d"], follow={"d": 1.0})


def test_edit_direction_on_fitted_probes_moves_only_its_factor():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(300, 5, generator=g)
    mix = torch.randn(5, 3, generator=g)
    probes = fit_probes(z, z @ mix, ["a", "b", "c"])
    delta = edit_direction(probes, "c", follow={"a": -0.5})
    moved = [float(p.predict(z[:1] + 2.0 * delta) - p.predict(z[:1])) for p in probes]
    assert moved == pytest.approx([-1.0, 0.0, 2.0], abs=1e-6)


def test_decode_with_grad_is_decode():
    model, images = _model(), _images()
    z, x_T = encode(model, images, steps=5)
    assert torch.allclose(decode_with_grad(model, z, x_T, steps=5), decode(model, z, x_T, steps=5), atol=1e-6)


def test_response_jacobian_matches_finite_differences():
    model, images = _model(), _images()
    probes = response_jacobian(model, _Brightness(), images, steps=5, batch=3)   # two batches
    z, x_T = encode(model, images, steps=5)
    h, numeric = 1e-3, []
    for j in range(3):
        step = torch.zeros(3)
        step[j] = h
        up = _Brightness().predict(decode(model, z + step, x_T, steps=5)).double()
        down = _Brightness().predict(decode(model, z - step, x_T, steps=5)).double()
        numeric.append(((up - down) / (2 * h)).mean(0))
    numeric = torch.stack(numeric, 1)                     # (factors, d)
    analytic = torch.stack([p.weight for p in probes])
    assert torch.allclose(analytic, numeric, rtol=0.02, atol=2e-4)
    assert all(0 < p.r2 < 1 for p in probes)
    same = response_jacobian(model, _Brightness(), images[:1].expand(3, -1, -1, -1), steps=5)
    assert all(p.r2 == pytest.approx(1.0, abs=1e-9) for p in same)   # identical images respond alike


def test_calibration_reproduces_the_intended_step_on_the_calibration_set():
    model, images = _model(), _images(6)
    [mean, top] = response_jacobian(model, _Brightness(), images, steps=5)
    delta = edit_direction([mean, top], "mean", keep=[])    # per unit of mean grey, to first order
    for amount in (0.01, -0.005):
        c = calibrate_direction(model, _Brightness(), images, delta, "mean", amount=amount, steps=5,
                                tolerance=0.01)
        assert c.converged and c.relative_error <= 0.01
        again = edit_effect(model, _Brightness(), images, c.direction.float(), amount, "mean", steps=5)
        assert again["achieved"] == pytest.approx(c.achieved, rel=1e-4)
        assert again["achieved"] == pytest.approx(amount, rel=0.01)
        assert torch.allclose(c.direction, c.scale * delta)


def test_calibration_refuses_a_direction_that_moves_nothing_and_bad_settings():
    model, images = _model(), _images(2)
    with pytest.raises(WorkbenchInputError, match="does not move"):
        calibrate_direction(model, _Brightness(), images, torch.zeros(3), "mean", amount=0.01, steps=3)
    with pytest.raises(UnknownVariableError):
        calibrate_direction(model, _Brightness(), images, torch.ones(3), "thickness", steps=3)
    with pytest.raises(WorkbenchInputError):
        calibrate_direction(model, _Brightness(), images, torch.ones(3), "mean", amount=0.0, steps=3)
    with pytest.raises(WorkbenchInputError):
        response_jacobian(model, _Brightness(), images, steps=3, batch=0)


def test_factor_regressor_measure_is_predict_with_gradients():
    torch.manual_seed(0)
    reg = FactorRegressor.for_dataset(Digits(), channels=4, device="cpu")
    x = torch.rand(3, 1, 32, 32, requires_grad=True)
    values = reg.measure(x)
    assert torch.allclose(values.detach(), reg.predict(x.detach()), atol=1e-6)
    (grad,) = torch.autograd.grad(values[:, 1].sum(), x)
    assert grad.abs().sum() > 0
