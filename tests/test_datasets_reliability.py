"""Image SCMs refuse interventions they cannot draw, and grid indices are never truncated.

Reproducers from issue 11 ("no silent wrong answers").
"""

import math

import numpy as np
import pytest
import torch

import workbench.datasets as wd
from workbench.datasets.scm import InterventionRangeError
from workbench.errors import WorkbenchInputError


def test_sprites_shape_seven_is_refused():
    """Before: sample(3, interventions={"shape": 7.0}) drew hearts and reported shape 7."""
    ds = wd.load("sprites")
    with pytest.raises(InterventionRangeError, match=r"shape takes a category, a whole number in 0..2"):
        ds.scm.sample(3, generator=0, interventions={"shape": 7.0})
    with pytest.raises(InterventionRangeError):
        ds.scm.sample(3, generator=0, interventions={"shape": 1.5})
    with pytest.raises(InterventionRangeError, match=r"scale takes a value in \[0.5, 1\]"):
        ds.scm.sample(3, generator=0, interventions={"scale": 2.0})
    images, values = ds.scm.sample(3, generator=0, interventions={"shape": 2.0, "scale": 1.0})
    assert values["shape"].tolist() == [2.0, 2.0, 2.0]
    assert torch.equal(images, ds.scm.render(values))


@pytest.mark.parametrize("name, variable, bad, good", [
    ("sprites", "pos_x", 1.5, 1.0),
    ("shapes2d", "shape", 4.0, 3.0),
    ("shapes2d", "object_hue", -0.1, 0.9),
    ("digits", "digit", 10.0, 9.0),
    ("digits", "intensity", 300.0, 200.0),
    ("pendulum", "phi", 0.0, 1.5),
    ("pendulum", "shadow_length", -1.0, 5.0),
])
def test_every_data_set_range_checks_its_interventions(name, variable, bad, good):
    ds = wd.load(name)
    with pytest.raises(InterventionRangeError, match=variable):
        ds.scm.sample(2, generator=0, interventions={variable: bad})
    noise = ds.scm.sample_noise(2, generator=0)
    with pytest.raises(InterventionRangeError):
        ds.scm.counterfactual(noise, {variable: torch.tensor([good, bad])})
    _, values = ds.scm.counterfactual(noise, {variable: good})
    assert values[variable].tolist() == pytest.approx([good, good])


def test_the_whole_grid_is_inside_the_ranges():
    for name in wd.DATASETS:
        ds = wd.load(name)
        corners = torch.tensor([[0] * ds.num_factors, [s - 1 for s in ds.factor_sizes]])
        assert ds.render(corners).shape[0] == 2


@pytest.mark.parametrize("bad", [2.7, 1.0, True, "1", np.float64(1.0)])
def test_value_index_must_be_a_whole_number(bad):
    """Before: value_index=2.7 was truncated to 2."""
    ds = wd.load("sprites")
    with pytest.raises(WorkbenchInputError, match="value_index"):
        ds.sample_fixed_factor("shape", 2, generator=0, value_index=bad)
    _, factors = ds.sample_fixed_factor("shape", 2, generator=0, value_index=np.int64(2))
    assert factors[:, 0].tolist() == [2, 2]


def test_fractional_grid_indices_are_refused():
    ds = wd.load("sprites")
    with pytest.raises(WorkbenchInputError, match="whole numbers"):
        ds.render(torch.tensor([[0.7, 0, 0, 0, 0]]))
    with pytest.raises(WorkbenchInputError, match="whole numbers"):
        ds.index_to_factors([math.nan])
    with pytest.raises(WorkbenchInputError, match="whole numbers"):
        ds.images([1.5])
    assert ds.factors_to_index(torch.tensor([[1.0, 0, 0, 0, 0]])).tolist() == [6 * 40 * 32 * 32]
