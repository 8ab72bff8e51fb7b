"""Procedural data sets: grids, samplers, determinism, causal mechanisms, speed."""

import math

import numpy as np
import pytest
import torch

import workbench as wb
from workbench import datasets as wd
from workbench.datasets.digits import intensity_mechanism
from workbench.datasets.pendulum import SHADOW_STRIP, WORLD_X, WORLD_Y, shadow_equations
from workbench.datasets.raster import hue_to_rgb
from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError

ALL = ["sprites", "pendulum", "digits", "shapes2d"]


@pytest.fixture(scope="module", params=ALL)
def ds(request):
    return wd.load(request.param)


def test_grid_is_complete_and_balanced(ds):
    index = torch.arange(len(ds))
    factors = ds.index_to_factors(index)
    assert len(ds) == math.prod(ds.factor_sizes)
    assert torch.equal(ds.factors_to_index(factors), index)  # a bijection onto the grid
    for k, size in enumerate(ds.factor_sizes):
        counts = torch.bincount(factors[:, k], minlength=size)
        assert counts.tolist() == [len(ds) // size] * size


def test_known_grid_sizes():
    assert wd.Sprites().factor_sizes == (3, 6, 40, 32, 32)
    assert len(wd.Sprites()) == 737_280
    assert wd.Shapes2D().factor_sizes == (10, 10, 10, 8, 4, 15)
    assert wd.Pendulum().factor_sizes == (84, 87)
    assert len(wd.Pendulum()) == 7_308                      # CausalVAE's 7,308 images


def test_pendulum_grid_skips_the_overhead_light():
    phi_steps = torch.round(wd.Pendulum().factor_values("phi") * 200 / math.pi).long().tolist()
    assert phi_steps == [j for j in range(60, 148) if j != 100]   # j = 100 is phi = pi / 2


def test_items_match_batch_render(ds):
    image, factors = ds[len(ds) // 3]
    assert image.shape == ds.image_shape
    batch = ds.render(factors.view(1, -1))
    assert torch.equal(batch[0], image)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=False)
    images, f = next(iter(loader))
    assert torch.equal(images, ds.images(torch.arange(4)))
    assert torch.equal(f, ds.index_to_factors(torch.arange(4)))


@pytest.mark.parametrize("which", [0, -1])
def test_fixed_factor_sampler_fixes_exactly_that_factor(ds, which):
    k = which % ds.num_factors
    images, factors = ds.sample_fixed_factor(k, 64, generator=1)
    assert factors[:, k].unique().numel() == 1
    for j, size in enumerate(ds.factor_sizes):
        if j != k:
            assert factors[:, j].unique().numel() > 1   # the others still vary
    assert torch.equal(images, ds.render(factors))
    by_name, f2 = ds.sample_fixed_factor(ds.factor_names[k], 64, generator=1)
    assert torch.equal(f2, factors) and torch.equal(by_name, images)
    _, f3 = ds.sample_fixed_factor(k, 8, generator=2, value_index=0)
    assert (f3[:, k] == 0).all()


def test_rendering_is_deterministic(ds):
    a, fa = ds.sample(32, generator=7)
    b, fb = ds.sample(32, generator=7)
    c, fc = ds.sample(32, generator=8)
    assert torch.equal(a, b) and torch.equal(fa, fb)
    assert not torch.equal(fa, fc)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(ds.sample(8, generator=g1)[0], ds.sample(8, generator=g2)[0])
    wb.seed_everything(11)
    x = ds.sample(8)[1]
    wb.seed_everything(11)
    assert torch.equal(x, ds.sample(8)[1])


def test_images_are_in_unit_range_and_not_blank(ds):
    images, _ = ds.sample(64, generator=0)
    assert images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    assert images.flatten(1).std(dim=0).max() > 0.1   # images differ from one another


def test_bad_input_raises(ds):
    with pytest.raises(UnknownVariableError, match="Known factors"):
        ds.sample_fixed_factor("colour", 4)
    with pytest.raises(WorkbenchInputError):
        ds.sample_fixed_factor(ds.num_factors, 4)
    with pytest.raises(ShapeError):
        ds.render(torch.zeros(3, ds.num_factors + 1, dtype=torch.long))
    with pytest.raises(WorkbenchInputError):
        ds.render(torch.full((1, ds.num_factors), 10_000))
    with pytest.raises(WorkbenchInputError):
        ds.sample(0)
    with pytest.raises(UnknownVariableError):
        ds.scm.sample(2, generator=0, interventions={"not_a_variable": 1.0})


def _shadow_extent(image):
    """World-x extent of the grey shadow, read back from the pixels of one image."""
    size = image.shape[-1]
    row = int((WORLD_Y[1] - 0.5 * sum(SHADOW_STRIP)) / 22 * size)  # a row inside the strip
    grey = (image[:, row, :] - 0.4).abs().amax(dim=0) < 1e-6
    cols = torch.nonzero(grey).flatten()
    pixel = (WORLD_X[1] - WORLD_X[0]) / size
    return WORLD_X[0] + cols.min().item() * pixel, WORLD_X[0] + (cols.max().item() + 1) * pixel


def test_pendulum_shadow_follows_its_equations():
    ds = wd.Pendulum()
    factors = ds.sample_factors(40, generator=3)
    values = ds.factor_values_of(factors)
    length, position = shadow_equations(values["theta"], values["phi"])
    # closed form, written independently of the module
    cot = 1 / np.tan(values["phi"].numpy())
    s = 9.5 * (np.sin(values["theta"].numpy()) + np.cos(values["theta"].numpy()) * cot)
    np.testing.assert_allclose(length.numpy(), np.maximum(3, np.abs(s)), rtol=1e-5)
    np.testing.assert_allclose(position.numpy(), 10 - 11 * cot + s / 2, rtol=1e-5, atol=1e-5)
    images = ds.render(factors)
    pixel = 22 / 64
    checked = 0
    for img, ell, pos in zip(images, length.tolist(), position.tolist()):
        left, right = pos - ell / 2, pos + ell / 2
        if left < WORLD_X[0] + 1 or right > WORLD_X[1] - 1:
            continue                                  # shadow leaves the picture
        seen_left, seen_right = _shadow_extent(img)
        assert abs(seen_left - left) <= pixel and abs(seen_right - right) <= pixel
        checked += 1
    assert checked >= 20


def test_pendulum_scm_noise_and_counterfactual():
    ds = wd.Pendulum(noise_std=0.5)
    noise = ds.scm.sample_noise(200, generator=0)
    world = ds.scm.solve(noise)
    length, position = shadow_equations(world["theta"], world["phi"])
    # the length noise enters before the max(3, .) clamp (CausalVAE): never below 3
    cot = torch.cos(world["phi"]) / torch.sin(world["phi"])
    s = 9.5 * (torch.sin(world["theta"]) + torch.cos(world["theta"]) * cot)
    assert torch.allclose(world["shadow_length"], torch.clamp(s.abs() + noise["shadow_length"], min=3.0),
                          atol=1e-5)
    assert world["shadow_length"].min() >= 3.0
    clamped = s.abs() + noise["shadow_length"] < 3.0
    assert 0 < int(clamped.sum()) < 200                     # the clamp matters for some draws
    unclamped = ~clamped
    assert torch.allclose((world["shadow_length"] - length)[unclamped & (s.abs() > 3)],
                          noise["shadow_length"][unclamped & (s.abs() > 3)], atol=1e-5)
    assert torch.allclose(world["shadow_position"] - position, noise["shadow_position"], atol=1e-5)
    # twin world: same noise, the pendulum set upright; the light (a root) is unchanged
    images, twin = ds.scm.counterfactual(noise, {"theta": 0.0})
    assert torch.equal(twin["phi"], world["phi"])
    cot = torch.cos(world["phi"]) / torch.sin(world["phi"])
    expected = torch.clamp((9.5 * cot).abs() + noise["shadow_length"], min=3.0)
    assert torch.allclose(twin["shadow_length"], expected, atol=1e-5)
    assert torch.equal(images, ds.scm.render(twin))
    # intervening on the shadow does not move the pendulum (no effect on causes)
    _, cut = ds.scm.counterfactual(noise, {"shadow_length": 5.0})
    assert torch.equal(cut["theta"], world["theta"]) and (cut["shadow_length"] == 5.0).all()


def test_digits_thickness_causes_intensity():
    ds = wd.Digits()
    _, obs = ds.scm.sample(4000, generator=0)
    assert abs(obs["thickness"].mean().item() - 2.5) < 0.05     # 0.5 + Gamma(10, 5) mean 2.5
    r = np.corrcoef(obs["thickness"], obs["intensity"])[0, 1]
    assert r > 0.6
    _, do = ds.scm.sample(4000, generator=0, interventions={"intensity": 200.0})
    assert torch.equal(do["thickness"], obs["thickness"])  # same seed, same noise: causes untouched
    noise = ds.scm.sample_noise(50, generator=1)
    _, twin = ds.scm.counterfactual(noise, {"thickness": 4.0})
    assert torch.allclose(twin["intensity"], intensity_mechanism(torch.tensor(4.0), noise["intensity"]))


def test_digit_brightness_equals_intensity():
    ds = wd.Digits()
    factors = ds.sample_factors(50, generator=4)
    images = ds.render(factors)
    intensity = ds.factor_values_of(factors)["intensity"] / 255
    assert torch.allclose(images.flatten(1).amax(dim=1), intensity, atol=1e-6)
    thick, thin = factors.clone(), factors.clone()
    thick[:, 1], thin[:, 1] = 5, 0
    assert (ds.render(thick).sum(dim=(1, 2, 3)) > ds.render(thin).sum(dim=(1, 2, 3))).all()


def test_sprite_area_scales_with_square_of_scale():
    ds = wd.Sprites()
    f = ds.sample_factors(30, generator=5)
    small, big = f.clone(), f.clone()
    small[:, 1], big[:, 1] = 0, 5                            # scale 0.5 and 1.0
    ratio = ds.render(big).sum() / ds.render(small).sum()
    assert abs(ratio.item() - 4.0) < 0.4


def test_shapes2d_colours_are_the_factor_hues():
    ds = wd.Shapes2D()
    f = ds.sample_factors(20, generator=6)
    images, values = ds.render(f), ds.factor_values_of(f)
    assert torch.allclose(images[:, :, 0, 0], hue_to_rgb(values["wall_hue"], 0.6, 0.95), atol=1e-6)
    assert torch.allclose(images[:, :, -1, 0], hue_to_rgb(values["floor_hue"], 0.8, 0.7), atol=1e-6)
    centre = images[:, :, int((1 - 0.34) * 64), 32]
    assert torch.allclose(centre, hue_to_rgb(values["object_hue"]), atol=1e-6)


@pytest.mark.parametrize("name", ["sprites", "pendulum"])
def test_batches_larger_than_a_render_chunk_render_the_same(name, monkeypatch):
    """Rendering in chunks of ``render_batch`` gives the images one by one would.

    (Its speed, 10,000 images, is reported by benchmarks/bench_datasets.py.)
    """
    ds = wd.load(name)
    factors = ds.sample_factors(11, generator=0)
    monkeypatch.setattr(ds, "render_batch", 4)
    chunked = ds.render(factors)
    singles = torch.cat([ds.render(factors[i:i + 1]) for i in range(len(factors))])
    assert chunked.shape[0] == 11 and torch.equal(chunked, singles)
