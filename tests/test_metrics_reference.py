"""Our metrics against independent, straightforward implementations of the published
algorithms (disentanglement_lib's, written here with numpy, scipy and sklearn loops)."""

import numpy as np
import pytest
import scipy.stats
import torch
from sklearn.metrics import mutual_info_score

from workbench import metrics
from workbench.metrics.dci import disentanglement_completeness
from workbench.metrics.synthetic import constructed_codes


# --- reference implementations (disentanglement_lib's algorithms, loops and all) -------

def ref_discretize(mus, num_bins):
    """mus: (n_codes, n_points); np.histogram edges, np.digitize."""
    out = np.zeros_like(mus)
    for i in range(mus.shape[0]):
        out[i, :] = np.digitize(mus[i, :], np.histogram(mus[i, :], num_bins)[1][:-1])
    return out


def ref_mutual_info(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = mutual_info_score(ys[j, :], mus[i, :])
    return m


def ref_mig(codes, factors, num_bins=20):
    mus, ys = codes.T, factors.T
    m = ref_mutual_info(ref_discretize(mus, num_bins), ys)
    h = np.array([mutual_info_score(ys[j], ys[j]) for j in range(ys.shape[0])])
    sorted_m = np.sort(m, axis=0)[::-1]
    return np.mean((sorted_m[0, :] - sorted_m[1, :]) / h)


def ref_modularity(codes, factors, num_bins=20):
    mi = ref_mutual_info(ref_discretize(codes.T, num_bins), factors.T)
    sq = np.square(mi)
    mx = np.max(sq, axis=1)
    score = 1.0 - (np.sum(sq, axis=1) - mx) / (mx * (sq.shape[1] - 1.0))
    score[mx == 0.0] = 0.0
    return np.mean(score)


def ref_irs(codes, factors, q=0.99):
    ys = ref_discretize(factors.T.astype(np.float64), 20).T
    z = codes[:, codes.var(axis=0) > 0]
    max_dev = np.max(np.abs(z - z.mean(axis=0)), axis=0)
    cum = np.zeros([z.shape[1], ys.shape[1]])
    for i in range(ys.shape[1]):
        values = np.unique(ys[:, i])
        for v in values:
            match = ys[:, i] == v
            cum[:, i] += np.quantile(np.abs(z[match] - z[match].mean(axis=0)), q=q, axis=0)
        cum[:, i] /= len(values)
    best = (1.0 - cum / max_dev[:, None]).max(axis=1)
    return np.average(best, weights=max_dev)


def ref_sap_continuous(codes, factors):
    matrix = np.zeros([codes.shape[1], factors.shape[1]])
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            cov = np.cov(codes[:, i], factors[:, j], ddof=1)
            matrix[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]) if cov[0, 0] > 1e-12 else 0.0
    s = np.sort(matrix, axis=0)
    return np.mean(s[-1, :] - s[-2, :])


def ref_dci_dc(importance):
    per_code = 1.0 - scipy.stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    code_w = importance.sum(axis=1) / importance.sum()
    per_factor = 1.0 - scipy.stats.entropy(importance + 1e-11, base=importance.shape[0])
    factor_w = importance.sum(axis=0) / importance.sum()
    return np.sum(per_code * code_w), np.sum(per_factor * factor_w)


CASES = [(kind, seed) for kind in ("disentangled", "rotated", "mixed", "redundant")
         for seed in (0, 1)]


# --- MIG: the acceptance criterion, equality to 1e-6 ------------------------------------

@pytest.mark.parametrize("kind,seed", CASES)
def test_mig_equals_disentanglement_lib_algorithm(kind, seed):
    codes, factors = constructed_codes(kind, n_points=10_000, seed=seed)
    ours = metrics.mig(codes, factors).score
    assert ours == pytest.approx(ref_mig(codes.numpy(), factors.numpy()), abs=1e-6)


@pytest.mark.parametrize("bins", [2, 7, 20, 50])
def test_mig_matches_reference_for_other_bins_and_float32_codes(bins):
    codes, factors = constructed_codes("mixed", n_points=3000, seed=3)
    codes32 = codes.to(torch.float32)
    # the reference discretises the same float64 values our function computes on
    ref = ref_mig(codes32.to(torch.float64).numpy(), factors.numpy(), bins)
    assert metrics.mig(codes32, factors, bins=bins).score == pytest.approx(ref, abs=1e-6)


def test_histogram_discretize_equals_numpy_digitize_with_ties_and_extremes():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(500, 3)), np.round(rng.normal(size=(500, 3)), 1)])
    x[:, 2] = 5.0  # a constant column: numpy widens its range by 0.5
    ours = metrics.histogram_discretize(torch.from_numpy(x), 20).numpy()
    assert np.array_equal(ours + 1, ref_discretize(x.T, 20).T)


def test_mutual_information_matrix_equals_sklearn_pairwise():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 7, size=(800, 4))
    b = np.stack([a[:, 0] // 2, rng.integers(0, 3, 800), (a[:, 1] + a[:, 2]) % 5], 1)
    ours = metrics.mutual_information(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert np.allclose(ours, ref_mutual_info(a.T, b.T), atol=1e-12)


# --- the other table metrics -------------------------------------------------------------

@pytest.mark.parametrize("kind,seed", CASES[::2])
def test_modularity_irs_sap_match_their_references(kind, seed):
    codes, factors = constructed_codes(kind, n_points=4000, seed=seed)
    z, f = codes.numpy(), factors.numpy()
    assert metrics.modularity(codes, factors).score == pytest.approx(ref_modularity(z, f), abs=1e-9)
    assert metrics.irs(codes, factors).score == pytest.approx(ref_irs(z, f), abs=1e-9)
    sap = metrics.sap(codes, factors, continuous_factors=True)
    n = sap.choices["num_train_used"]
    assert sap.score == pytest.approx(ref_sap_continuous(z[:n], f[:n].astype(float)), abs=1e-9)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_dci_disentanglement_completeness_match_scipy_entropy_formula():
    rng = np.random.default_rng(2)
    for shape in [(5, 5), (10, 3), (1, 4), (4, 1)]:
        importance = rng.random(shape) ** 3
        d, c = disentanglement_completeness(torch.from_numpy(importance))
        ref_d, ref_c = ref_dci_dc(importance)
        # the reference gives NaN for a base-1 entropy; we define that score as 1
        assert d == pytest.approx(1.0 if shape[1] == 1 else ref_d, abs=1e-9)
        assert c == pytest.approx(1.0 if shape[0] == 1 else ref_c, abs=1e-9)


def test_dci_fast_mode_is_within_seed_spread_of_exact_gradient_boosting():
    codes, factors = constructed_codes("mixed", n_points=900, seed=0)
    options = dict(num_train=600, num_test=300, max_iter=25)
    exact = [metrics.dci(codes, factors, mode="exact", seed=s, **options) for s in (0, 1)]
    fast = metrics.dci(codes, factors, mode="fast", **options)
    assert fast.mode == "fast" and all(e.mode == "exact" for e in exact)
    for key in ("disentanglement", "completeness"):
        mean_exact = np.mean([e.scores[key] for e in exact])
        assert abs(fast.scores[key] - mean_exact) < 0.02, key
    assert abs(fast.scores["informativeness_test"] - exact[0].scores["informativeness_test"]) < 0.05
    diff = (fast.details["importance"] - exact[0].details["importance"]).abs().max()
    assert diff < 0.05


def ref_infomec(codes, factors, seed=0):
    """Hsu et al.'s InfoMEC for continuous latents: per-pair k-NN MI, written out."""
    import warnings

    from sklearn.feature_selection import mutual_info_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import LabelEncoder, StandardScaler

    y = np.stack([LabelEncoder().fit_transform(f) for f in factors.T], 1)
    z = StandardScaler().fit_transform(codes)
    nmi = np.empty((y.shape[1], z.shape[1]))
    for i in range(y.shape[1]):
        for j in range(z.shape[1]):
            nmi[i, j] = mutual_info_classif(z[:, j:j + 1], y[:, i], discrete_features=False,
                                            n_neighbors=10, random_state=seed)[0]
        nmi[i] /= mutual_info_score(y[:, i], y[:, i])
    ranges = codes.max(0) - codes.min(0)
    pruned = nmi[:, ranges > ranges.max() / 20]
    k, l_active = y.shape[1], pruned.shape[1]
    infom = (np.mean(pruned.max(0) / pruned.sum(0)) - 1 / k) / (1 - 1 / k)
    infoc = (np.mean(pruned.max(1) / pruned.sum(1)) - 1 / l_active) / (1 - 1 / l_active)

    def ce(x, t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = LogisticRegression(C=np.inf, class_weight="balanced", max_iter=100).fit(x, t)
        return log_loss(t, m.predict_proba(x))

    infoe = np.mean([(ce(np.zeros_like(z), y[:, i]) - ce(z, y[:, i])) / ce(np.zeros_like(z), y[:, i])
                     for i in range(y.shape[1])])
    return infom, infoe, infoc


def test_infomec_exact_matches_the_authors_algorithm_written_out():
    codes, factors = constructed_codes("mixed", n_points=1200, seed=4)
    codes = torch.cat([codes, 0.01 * codes[:, :1]], 1)  # an inactive latent, pruned
    ours = metrics.infomec(codes, factors, mode="exact")
    assert ours.choices["num_active"] == 5
    ref = ref_infomec(codes.numpy(), factors.numpy())
    got = (ours.scores["infom"], ours.scores["infoe"], ours.scores["infoc"])
    assert got == pytest.approx(ref, abs=1e-6)
