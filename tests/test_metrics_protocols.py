"""BetaVAE and FactorVAE scores through the factor-sampler interface, against
straightforward per-point loops of the disentanglement_lib protocols."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from workbench import metrics
from workbench.errors import NonFiniteValueError
from workbench.metrics import MetricInputError, SamplerError
from workbench.metrics.synthetic import SyntheticProcess

SMALL = dict(num_train=800, num_eval=400)


def identity(x):
    return x


# --- reference loops: one sampler call and one encoder call per training point ----------

def ref_beta_vae(process, encode, batch_size, num_train, num_eval, seed):
    g = torch.Generator().manual_seed(seed + 1000)

    def points(n):
        xs, ys = [], []
        for _ in range(n):
            k = int(torch.randint(process.num_factors, (1,), generator=g))
            f1 = process.sample_factors(batch_size, g)
            f2 = process.sample_factors(batch_size, g)
            f2[:, k] = f1[:, k]
            z1, z2 = encode(process.observe(f1, g)), encode(process.observe(f2, g))
            xs.append(np.mean(np.abs((z1 - z2).numpy()), axis=0))
            ys.append(k)
        return np.array(xs), np.array(ys)

    x_train, y_train = points(num_train)
    x_eval, y_eval = points(num_eval)
    return LogisticRegression(random_state=seed).fit(x_train, y_train).score(x_eval, y_eval)


def ref_factor_vae(process, encode, batch_size, num_train, num_eval, num_var, threshold, seed):
    g = torch.Generator().manual_seed(seed + 1000)
    global_var = np.var(encode(process.observe(process.sample_factors(num_var, g), g)).numpy(),
                        axis=0, ddof=1)
    active = np.sqrt(global_var) >= threshold

    def votes(n):
        v = np.zeros((process.num_factors, global_var.shape[0]), dtype=np.int64)
        for _ in range(n):
            k = int(torch.randint(process.num_factors, (1,), generator=g))
            f = process.sample_factors(batch_size, g)
            f[:, k] = f[0, k]
            local = np.var(encode(process.observe(f, g)).numpy(), axis=0, ddof=1)
            v[k, np.argmin(local[active] / global_var[active])] += 1
        return v

    train = votes(num_train)
    classifier = np.argmax(train, axis=0)
    ev = votes(num_eval)
    return np.sum(ev[classifier, np.arange(ev.shape[1])]) / np.sum(ev)


# --- agreement with the reference protocols ---------------------------------------------------

# the two draw different random batches: compare within about 3 standard errors
AGREE = dict(num_train=2000, num_eval=1500)


@pytest.mark.parametrize("kind", ["disentangled", "rotated"])
def test_beta_vae_score_agrees_with_reference_loop(kind):
    process = SyntheticProcess(kind, noise=0.05, seed=3)
    ours = metrics.beta_vae_score(process, identity, batch_size=16, seed=0, **AGREE)
    ref = ref_beta_vae(process, identity, 16, seed=0, **AGREE)
    assert ours.score == pytest.approx(ref, abs=0.05)


@pytest.mark.parametrize("kind", ["disentangled", "rotated"])
def test_factor_vae_score_agrees_with_reference_loop(kind):
    process = SyntheticProcess(kind, noise=0.05, seed=3)
    ours = metrics.factor_vae_score(process, identity, batch_size=16, num_variance_estimate=2000,
                                    seed=0, **AGREE)
    ref = ref_factor_vae(process, identity, 16, num_var=2000, threshold=0.05, seed=0, **AGREE)
    assert ours.score == pytest.approx(ref, abs=0.05)


# --- behaviour ----------------------------------------------------------------------------------

def test_perfect_code_scores_one_and_rotated_scores_lower():
    good, rotated = SyntheticProcess("disentangled", noise=0.01), SyntheticProcess("rotated", seed=3)
    for score in (metrics.beta_vae_score, metrics.factor_vae_score):
        best = score(good, identity, seed=0, **SMALL).score
        assert best >= 0.99
        assert score(rotated, identity, seed=0, **SMALL).score < best - 0.03


def test_factor_vae_invariant_to_permuting_and_rescaling_latents():
    process = SyntheticProcess("mixed", noise=0.05)
    base = metrics.factor_vae_score(process, identity, seed=1, **SMALL)
    perm = torch.tensor([2, 4, 0, 1, 3])
    scale = torch.tensor([3.0, 1.5, 2.0, 8.0, 1.0], dtype=torch.float64)
    changed = metrics.factor_vae_score(process, lambda x: x[:, perm] * scale, seed=1, **SMALL)
    assert changed.score == base.score


def test_factor_vae_all_latents_collapsed_scores_zero_as_documented():
    process = SyntheticProcess("disentangled", noise=0.0)
    r = metrics.factor_vae_score(process, lambda x: 1e-3 * x, seed=0, **SMALL)
    assert r.score == 0.0 and r.choices["num_active"] == 0


def test_results_record_protocol_choices():
    process = SyntheticProcess("disentangled")
    r = metrics.beta_vae_score(process, identity, seed=0, **SMALL)
    assert r.mode == "exact" and r.choices["batch_size"] == 64
    assert sorted(r.with_choices_differing()) == ["num_eval", "num_train"]
    assert "train_accuracy" in r.scores


def test_sample_fixed_holds_one_factor_and_nothing_else():
    process = SyntheticProcess()
    g = torch.Generator().manual_seed(0)
    _, factors = metrics.sample_fixed(process, 3, 200, g)
    assert factors[:, 3].unique().numel() == 1
    assert all(factors[:, k].unique().numel() > 1 for k in (0, 1, 2, 4))


def test_bad_samplers_and_encoders_raise_typed_errors():
    with pytest.raises(SamplerError, match="sample_factors"):
        metrics.beta_vae_score(object(), identity)
    with pytest.raises(SamplerError, match="callable"):
        metrics.factor_vae_score(SyntheticProcess(), "encoder")
    with pytest.raises(MetricInputError, match="at least 2 factors"):
        metrics.beta_vae_score(SyntheticProcess(factor_sizes=(4,)), identity)

    def diverged(x):
        z = x.clone()
        z[0, 1] = float("nan")
        return z

    with pytest.raises(NonFiniteValueError):
        metrics.factor_vae_score(SyntheticProcess(), diverged, **SMALL)


def test_works_with_workbench_datasets_and_caps_observations_per_call():
    from workbench.datasets import Sprites

    sprites = Sprites()
    seen = []

    def encode(images):  # a fixed "encoder": mean brightness in a 4x4 grid of patches
        seen.append(tuple(images.shape))
        return images.reshape(len(images), 4, 16, 4, 16).mean((2, 4)).reshape(len(images), 16)

    kwargs = dict(batch_size=8, num_train=40, num_eval=20, num_variance_estimate=100,
                  seed=3, max_batch=64)
    first = metrics.factor_vae_score(sprites, encode, **kwargs)
    assert all(shape[0] <= 64 and shape[1:] == (1, 64, 64) for shape in seen)
    assert metrics.factor_vae_score(sprites, encode, **kwargs).score == first.score
    assert 0.0 <= first.score <= 1.0 and first.choices["max_batch"] == 64


def test_encoder_calls_are_sized_by_observation_entries():
    from workbench.metrics.protocols import ENCODE_NUMBERS, encode_in_batches

    seen = []

    def encode(x):
        seen.append(x.shape[0])
        return x.reshape(len(x), -1)[:, :3]

    codes = encode_in_batches(encode, torch.ones(5000, 64))
    assert seen == [5000] and codes.dtype == torch.float64  # small observations: one call
    seen.clear()
    encode_in_batches(encode, torch.ones(300, 1, 64, 64))
    assert seen == [128, 128, 44] and ENCODE_NUMBERS == 128 * 64 * 64  # images: 128 a call
    seen.clear()
    encode_in_batches(encode, torch.ones(10, 64), batch_size=4)
    assert seen == [4, 4, 2]


@pytest.mark.parametrize("score", [metrics.beta_vae_score, metrics.factor_vae_score])
def test_nan_or_infinite_codes_raise_in_both_protocols(score):
    def diverged(x):
        z = x.clone()
        z[5, 0] = float("inf")
        return z

    with pytest.raises(NonFiniteValueError, match="NaN or infinite"):
        score(SyntheticProcess(), diverged, num_train=50, num_eval=20)


def test_raw_codes_keep_float32_and_widen_other_dtypes():
    from workbench.metrics.protocols import encode_in_batches

    obs = torch.ones(6, 4)
    assert encode_in_batches(lambda x: x, obs, raw=True).dtype == torch.float32
    assert encode_in_batches(lambda x: x.half(), obs, raw=True).dtype == torch.float64
    assert encode_in_batches(lambda x: x.long(), obs).dtype == torch.float64
