"""Saving and loading SCMs (workbench.scm.spec): the loaded model is the same model.

"The same" is checked where it shows: from the same seed, the loaded model draws
bit-identical samples, interventional samples and counterfactuals; its spec is the
spec it was loaded from; and the file is valid JSON that ``json.loads`` reads.
"""

import json
import os

import pyro
import pyro.distributions as dist
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import CycleError, WorkbenchInputError
from workbench.scm import (
    SCM, AdditiveNoise, DiscreteCPT, FunctionMechanism, LinearGaussian, Shift, Transform, asia,
    backdoor_example, discrete_scm, mlp, random_discrete_scm, random_linear_scm,
    random_nonlinear_scm, smoking_front_door,
)
from workbench.scm.files import load_scm, save_scm
from workbench.scm.spec import FORMAT, NotSerialisableError, SpecError, scm_from_spec, scm_to_spec

ZOO = {
    "smoking_front_door": smoking_front_door,
    "backdoor_example": backdoor_example,
    "asia": asia,
    "random_linear": lambda: random_linear_scm(8, edge_prob=0.5, seed=3),
    "random_nonlinear": lambda: random_nonlinear_scm(8, edge_prob=0.5, seed=4),
    "random_discrete": lambda: random_discrete_scm(6, n_latent=2, n_categories=3, seed=5),
}


def via_json(m: SCM) -> SCM:
    """The model after a trip through JSON text (what a file holds)."""
    return scm_from_spec(json.loads(json.dumps(scm_to_spec(m), allow_nan=False)))


def assert_same_dict(a: dict, b: dict):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k


def assert_same_model(m: SCM, again: SCM, n: int = 300):
    """Same structure, and the same samples, interventions and counterfactuals bit for bit."""
    assert again.variables == m.variables and again.latent == m.latent and again.name == m.name
    assert list(again.graph.edges) == list(m.graph.edges)
    assert_same_dict(again.sample(n, seed=7, include_latent=True), m.sample(n, seed=7, include_latent=True))
    target = m.observed[0]
    value = 1 if m.mechanisms[target].cardinality else 0.5
    assert_same_dict(again.do({target: value}).sample(n, seed=8), m.do({target: value}).sample(n, seed=8))
    factual = m.sample(40, seed=9)
    results = []
    for model in (m, again):
        pyro.set_rng_seed(10)  # discrete abduction and unobserved latents draw random numbers
        results.append(model.counterfactual(factual, {target: value}, particles=200))
    for part in ("factual", "counterfactual", "noise"):
        assert_same_dict(getattr(results[0], part), getattr(results[1], part))


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_models_round_trip_bit_identically(name):
    m = ZOO[name]()
    spec = scm_to_spec(m)
    text = json.dumps(spec, allow_nan=False)
    assert json.loads(text) == spec                      # plain JSON types only
    again = scm_from_spec(json.loads(text))
    assert scm_to_spec(again) == spec                    # the spec is a fixed point
    assert_same_model(m, again)


@pytest.mark.parametrize("name", list(ZOO))
def test_save_and_load_a_file(name, tmp_path):
    m = ZOO[name]()
    path = tmp_path / f"{name}.json"
    assert save_scm(m, path) == str(path)
    assert json.loads(path.read_text()) == scm_to_spec(m) and scm_to_spec(m)["format"] == FORMAT
    assert os.listdir(tmp_path) == [f"{name}.json"]      # no temporary file left behind
    assert_same_model(m, load_scm(path))


kinds = st.sampled_from(["linear", "nonlinear", "discrete"])


@settings(max_examples=20, deadline=None)
@given(kinds, st.integers(2, 7), st.integers(0, 10_000), st.integers(1, 3))
def test_random_models_round_trip_bit_identically(kind, n, seed, k):
    if kind == "linear":
        m = random_linear_scm(n, edge_prob=0.5, seed=seed)
    elif kind == "nonlinear":
        m = random_nonlinear_scm(n, edge_prob=0.5, seed=seed, hidden=k + 2)
    else:
        m = random_discrete_scm(n, n_latent=k - 1, n_categories=k + 1, seed=seed)
    again = via_json(m)
    for v in m.variables:  # the parameters themselves, not just what they produce
        a, b = m.mechanisms[v], again.mechanisms[v]
        assert type(a) is type(b) and a.parents == b.parents
        if kind == "discrete":
            assert torch.equal(a.table, b.table)
        elif kind == "nonlinear":
            assert all(torch.equal(getattr(a.f, w), getattr(b.f, w)) for w in ("w1", "b1", "w2"))
        else:
            assert a.weights == b.weights and a.bias == b.bias and a.noise_scale == b.noise_scale
    assert_same_model(m, again, n=100)


def test_weights_that_float32_cannot_hold_survive_exactly():
    # 1/3 and 0.1 are Python (float64) numbers; the mechanism keeps them as given
    m = SCM({"x": LinearGaussian(bias=0.1, noise_scale=1 / 3), "y": LinearGaussian({"x": 1 / 3}, bias=0.1)})
    again = via_json(m)
    assert again.mechanisms["y"].weights == {"x": 1 / 3}
    assert again.mechanisms["x"].bias == 0.1 and again.mechanisms["x"].noise_scale == 1 / 3
    assert_same_model(m, again)


@pytest.mark.parametrize("noise", [
    dist.Normal(0.5, 2.0), dist.Laplace(0.0, 0.3), dist.Gumbel(-1.0, 0.7), dist.Uniform(-1.0, 2.0),
    dist.StudentT(3.0, 0.0, 0.5),
    dist.Normal(torch.tensor(0.1, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)),
])
def test_every_noise_family_round_trips(noise):
    m = SCM({"x": LinearGaussian(), "y": AdditiveNoise(["x"], mlp(1, 4, seed=2), noise=noise)})
    again = via_json(m)
    new = again.mechanisms["y"].noise()
    assert type(new) is type(noise) and new.mean.dtype == noise.mean.dtype
    assert_same_model(m, again)


def test_interventions_and_observations_are_saved():
    base = random_linear_scm(5, edge_prob=0.6, seed=1)
    per_unit = torch.linspace(-1, 1, 50)
    for m in (base.do(x1=2.0), base.do(x0=Shift(-0.5), x2=per_unit)):
        again = via_json(m)
        assert list(again.interventions) == list(m.interventions)
        assert_same_dict(again.sample(50, seed=1), m.sample(50, seed=1))
    d = smoking_front_door().do(tar=1)
    assert via_json(d).interventions["tar"].dtype == torch.int64
    assert_same_dict(via_json(d).sample(500, seed=2), d.sample(500, seed=2))
    c = backdoor_example().condition(y=1.0)
    again = via_json(c)
    assert_same_dict(again.sample(200, seed=3, particles=2000), c.sample(200, seed=3, particles=2000))


def test_the_spec_reads_like_the_model():
    spec = scm_to_spec(asia())
    assert spec["variables"][:2] == ["asia", "smoke"] and spec["latent"] == []
    tub = spec["mechanisms"]["tub"]
    assert tub["kind"] == "discrete_cpt" and tub["parents"] == ["asia"]
    assert tub["table"]["shape"] == [2, 2] and tub["noise"] == {"kind": "gumbel_max", "categories": 2}
    torch.testing.assert_close(torch.tensor(tub["table"]["data"]), torch.tensor([[0.99, 0.01], [0.95, 0.05]]))
    assert ["tub", "either"] in spec["graph"]["edges"]
    mlp_spec = scm_to_spec(random_nonlinear_scm(3, seed=0))["mechanisms"]["x0"]
    assert mlp_spec["kind"] == "additive_noise" and mlp_spec["f"]["w1"]["shape"] == [0, 8]
    assert mlp_spec["noise"] == {"kind": "normal", "dtype": "float32", "loc": 0.0, "scale": 0.5}


# ---------------------------------------------------------------- code cannot be saved
def test_user_functions_cannot_be_saved_and_the_error_names_the_variable(tmp_path):
    fm = FunctionMechanism(["x"], lambda pa, u: pa[..., 0] * u, dist.Normal(0.0, 1.0))
    for mech in (fm, AdditiveNoise(["x"], lambda pa: pa[..., 0] ** 2)):
        m = SCM({"x": LinearGaussian(), "effect": mech})
        with pytest.raises(NotSerialisableError, match="'effect'.*code, not data"):
            scm_to_spec(m)
    with pytest.raises(NotSerialisableError, match="intervention on 'x'.*Transform"):
        scm_to_spec(backdoor_example().do(x=Transform(torch.sin)))
    odd = SCM({"x": AdditiveNoise([], mlp(0), noise=dist.Exponential(1.0).expand([]))})
    with pytest.raises(NotSerialisableError, match="'x'.*noise"):
        scm_to_spec(odd)
    assert issubclass(NotSerialisableError, WorkbenchInputError)


def test_a_failed_save_leaves_the_old_file_alone(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    save_scm(backdoor_example(), path)
    before = path.read_text()
    bad = SCM({"x": FunctionMechanism([], lambda pa, u: u, dist.Normal(0.0, 1.0))})
    with pytest.raises(NotSerialisableError):
        save_scm(bad, path)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_scm(asia(), path)
    assert path.read_text() == before and os.listdir(tmp_path) == ["m.json"]


# ---------------------------------------------------------------- bad specs
def edited(edit):
    spec = json.loads(json.dumps(scm_to_spec(random_nonlinear_scm(3, edge_prob=1.0, seed=0))))
    edit(spec)
    return spec


@pytest.mark.parametrize("edit, error, message", [
    (lambda s: s.update(format="workbench.scm/2"), SpecError, "Unknown spec format 'workbench.scm/2'"),
    (lambda s: s.pop("format"), SpecError, r"missing the field\(s\) \['format'\]"),
    (lambda s: s.pop("mechanisms"), SpecError, "'mechanisms'"),
    (lambda s: s.update(interventionz={}), SpecError, r"unknown field\(s\) \['interventionz'\]"),
    (lambda s: s["mechanisms"].pop("x2"), SpecError, "'x2'"),
    (lambda s: s["mechanisms"]["x1"].pop("noise"), SpecError, r"mechanisms\['x1'\].*'noise'"),
    (lambda s: s["mechanisms"]["x1"].update(kind="neural_ode"), SpecError, "unknown mechanism kind 'neural_ode'"),
    (lambda s: s["mechanisms"]["x1"]["noise"].update(kind="cauchy"), SpecError, "unknown noise kind 'cauchy'"),
    (lambda s: s["mechanisms"]["x1"]["f"].update(kind="resnet"), SpecError, "function kind 'resnet'"),
    (lambda s: s["mechanisms"]["x1"]["f"]["w1"].update(shape=[3, 8]), SpecError, "shape says"),
    (lambda s: s["mechanisms"]["x1"]["f"]["w2"].update(data=[1.0, [2.0]]), SpecError, "rectangular"),
    (lambda s: s["mechanisms"]["x1"]["f"]["w2"].update(dtype="float16"), SpecError, "unknown dtype"),
    (lambda s: s["graph"]["edges"].pop(), SpecError, "disagree"),
    (lambda s: s.update(interventions={"x0": {"kind": "wiggle"}}), SpecError, "intervention kind 'wiggle'"),
    (lambda s: s.update(interventions={"x9": {"kind": "shift", "delta": 1.0}}), WorkbenchInputError, "x9"),
])
def test_bad_specs_raise_typed_errors_saying_what_is_wrong(edit, error, message):
    with pytest.raises(error, match=message):
        scm_from_spec(edited(edit))


def test_a_cycle_is_named():
    def cycle(s):  # x0 -> x1 -> x2 already; add x2 -> x0
        s["mechanisms"]["x0"]["parents"] = ["x2"]
        s["mechanisms"]["x0"]["f"]["w1"] = {"dtype": "float32", "shape": [1, 8], "data": [[0.0] * 8]}
        s["graph"]["edges"].append(["x2", "x0"])
    with pytest.raises(CycleError, match="cycle"):
        scm_from_spec(edited(cycle))


def test_a_discrete_table_that_is_not_a_distribution_is_refused():
    spec = scm_to_spec(discrete_scm({"coin": ([], [0.5, 0.5])}))
    spec["mechanisms"]["coin"]["table"]["data"] = [0.5, 0.6]
    with pytest.raises(WorkbenchInputError, match="sum to 1"):
        scm_from_spec(spec)


def test_files_that_are_not_specs(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "workbench.scm/1", ')
    with pytest.raises(SpecError, match="not valid JSON"):
        load_scm(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(SpecError, match="JSON object"):
        load_scm(listed)
    with pytest.raises(WorkbenchInputError, match="needs a workbench SCM"):
        scm_to_spec({"x": LinearGaussian()})


def test_discrete_cpt_round_trips_in_float64_too():
    m = SCM({"a": DiscreteCPT([], torch.tensor([0.25, 0.75])),
             "b": DiscreteCPT(["a"], torch.tensor([[0.1, 0.9], [0.6, 0.4]]))})
    assert_same_model(m, via_json(m))
    with torch.random.fork_rng():
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            m64 = SCM({"a": DiscreteCPT([], torch.tensor([1 / 3, 2 / 3]))})
            spec = scm_to_spec(m64)
            assert spec["mechanisms"]["a"]["table"]["dtype"] == "float64"
            assert torch.equal(scm_from_spec(spec).mechanisms["a"].table, m64.mechanisms["a"].table)
        finally:
            torch.set_default_dtype(old)
