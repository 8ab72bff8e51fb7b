"""Disentanglement metrics on one CPU thread: ours vs the reference algorithms.

Every row times our function and a straightforward implementation of the
disentanglement_lib protocol (numpy / sklearn loops, as in that library) on the same
latents, in the same run, with torch, BLAS and OpenMP limited to one thread:

- ``mig``: 10,000 points, 10 latents, dSprites-sized factors (3, 6, 40, 32, 32); ours
  (one ``bincount`` per factor) vs ``np.histogram``/``np.digitize`` and sklearn
  ``mutual_info_score`` in a double loop. ``agree``: equal to 1e-6.
- ``irs`` and ``modularity``: the same latents; batched torch vs the reference loops.
  ``agree``: equal to 1e-9.
- ``dci``: our fast mode (sklearn's boosting algorithm on presorted latents, every
  threshold, compiled with numba) vs exact mode (sklearn ``GradientBoostingClassifier``
  with its defaults, the published estimator) on the same latents at 10,000 / 5,000
  points (quick: 1,000 / 500 and smaller factors). Fast is timed as the best of 2
  calls after a tiny call that loads the compiled loops (the first call's time is in
  the notes); exact once (it takes minutes). ``agree``: D and C both within 0.02.
- ``factor_vae`` and ``beta_vae``: end to end on a synthetic data set (factors ->
  64-d observations through a fixed random map) with a small MLP encoder, at the
  published sizes (quick: 3,000 / 1,500); ours (batched sampling and encoding) vs the
  reference loop (one sampler and encoder call per training point). ``agree``: scores
  within 0.03 (quick: 0.08), as the two draw different random batches (at 3,000 points
  the BetaVAE score itself moves by up to 0.13 between seeds, on both sides). Both
  sides are timed as the best of 5 (quick: 3). The notes give the *shared floor*:
  sampling, observing and encoding the same number of observations in large batches
  and nothing else, which both sides must do; ``peer_s / floor`` bounds the ratio any
  implementation of the protocol can reach. With image rendering and a convolutional
  encoder both sides spend most of their time there, and the ratio shrinks.

    python benchmarks/bench_metrics.py [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
import torch  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import mutual_info_score  # noqa: E402

from workbench import metrics  # noqa: E402
from workbench.metrics.synthetic import SyntheticProcess  # noqa: E402
from workbench.devtools.timing import best_of as _best, one_thread  # noqa: E402

DSPRITES = (3, 6, 40, 32, 32)


def _row(benchmark, case, ours_s, peer, peer_s, agree, notes):
    return {"benchmark": benchmark, "case": case, "ours_s": ours_s, "peer": peer,
            "peer_s": peer_s, "ratio": peer_s / ours_s if ours_s else None,
            "agree": bool(agree), "notes": notes}




def vae_like_codes(n, factor_sizes=DSPRITES, seed=0):
    """10 latents: 5 nonlinearly mixed factor latents and 5 noise latents."""
    codes, factors = metrics.constructed_codes("mixed", n, seed, 0.05, factor_sizes)
    g = torch.Generator().manual_seed(seed + 1)
    noise = 0.3 * torch.randn(n, 5, generator=g, dtype=torch.float64)
    return torch.cat([torch.tanh(1.5 * codes), noise], 1), factors


# --- reference algorithms (disentanglement_lib's loops) ------------------------------------

def ref_discretize(mus, bins=20):
    out = np.zeros_like(mus)
    for i in range(mus.shape[0]):
        out[i] = np.digitize(mus[i], np.histogram(mus[i], bins)[1][:-1])
    return out


def ref_mi(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = mutual_info_score(ys[j], mus[i])
    return m


def ref_mig(codes, factors):
    m = ref_mi(ref_discretize(codes.T), factors.T)
    h = np.array([mutual_info_score(y, y) for y in factors.T])
    s = np.sort(m, axis=0)[::-1]
    return float(np.mean((s[0] - s[1]) / h))


def ref_modularity(codes, factors):
    sq = np.square(ref_mi(ref_discretize(codes.T), factors.T))
    mx = sq.max(1)
    score = 1.0 - (sq.sum(1) - mx) / (mx * (sq.shape[1] - 1.0))
    score[mx == 0] = 0.0
    return float(np.mean(score))


def ref_irs(codes, factors, q=0.99):
    ys = ref_discretize(factors.T.astype(float)).T
    z = codes
    max_dev = np.max(np.abs(z - z.mean(0)), axis=0)
    cum = np.zeros([z.shape[1], ys.shape[1]])
    for i in range(ys.shape[1]):
        values = np.unique(ys[:, i])
        for v in values:
            match = ys[:, i] == v
            cum[:, i] += np.quantile(np.abs(z[match] - z[match].mean(0)), q=q, axis=0)
        cum[:, i] /= len(values)
    return float(np.average((1.0 - cum / max_dev[:, None]).max(1), weights=max_dev))


class ImageLikeProcess(SyntheticProcess):
    """Factors -> 64-d float32 observations: a fixed random linear map, noise, tanh."""

    def __init__(self, kind="mixed", factor_sizes=DSPRITES):
        super().__init__(kind, factor_sizes, noise=0.05)
        g = torch.Generator().manual_seed(7)
        self.render_map = torch.randn(self.mixing.shape[0], 64, generator=g)
        self.scale = 1.0 / torch.tensor([s - 1 for s in factor_sizes], dtype=torch.float32)
        self.mix32 = self.mixing.T.float()

    def observe(self, factors, generator=None):
        z = (factors.float() * self.scale) @ self.mix32
        z = z + self.noise * torch.randn(z.shape, generator=generator)
        return torch.tanh(z @ self.render_map)


def mlp_encoder(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    net.eval()
    return lambda x: net(x)


def ref_factor_vae(process, encode, batch, num_train, num_eval, num_var, seed=0):
    rs = np.random.RandomState(seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        gv = np.var(encode(process.observe(process.sample_factors(num_var, g), g)).numpy(),
                    axis=0, ddof=1)
        active = np.sqrt(gv) >= 0.05

        def votes(n):
            v = np.zeros((process.num_factors, gv.shape[0]), dtype=np.int64)
            for _ in range(n):
                k = rs.randint(process.num_factors)
                f = process.sample_factors(batch, g)
                f[:, k] = f[0, k]
                local = np.var(encode(process.observe(f, g)).numpy(), axis=0, ddof=1)
                v[k, np.argmin(local[active] / gv[active])] += 1
            return v

        train = votes(num_train)
        cls = np.argmax(train, axis=0)
        ev = votes(num_eval)
    return float(np.sum(ev[cls, np.arange(ev.shape[1])]) / np.sum(ev))


def ref_beta_vae(process, encode, batch, num_train, num_eval, seed=0):
    rs = np.random.RandomState(seed)
    g = torch.Generator().manual_seed(seed)

    def points(n):
        xs, ys = [], []
        with torch.no_grad():
            for _ in range(n):
                k = rs.randint(process.num_factors)
                f1, f2 = process.sample_factors(batch, g), process.sample_factors(batch, g)
                f2[:, k] = f1[:, k]
                z1 = encode(process.observe(f1, g)).numpy()
                z2 = encode(process.observe(f2, g)).numpy()
                xs.append(np.mean(np.abs(z1 - z2), axis=0))
                ys.append(k)
        return np.array(xs), np.array(ys)

    xt, yt = points(num_train)
    xe, ye = points(num_eval)
    return float(LogisticRegression(random_state=seed).fit(xt, yt).score(xe, ye))


def ref_dci(codes, factors, n_train, n_test):
    z, y = codes.numpy(), factors.numpy()
    imp = np.zeros((z.shape[1], y.shape[1]))
    for k in range(y.shape[1]):
        model = GradientBoostingClassifier(random_state=0).fit(z[:n_train], y[:n_train, k])
        imp[:, k] = np.abs(model.feature_importances_)
    return metrics.disentanglement_completeness(torch.from_numpy(imp))


# --- rows ------------------------------------------------------------------------------------

def table_rows(quick):
    codes, factors = vae_like_codes(10_000)
    z, f = codes.numpy(), factors.numpy()
    rows = []
    for name, ours, ref, tol in [
        ("mig", lambda: metrics.mig(codes, factors).score, lambda: ref_mig(z, f), 1e-6),
        ("modularity", lambda: metrics.modularity(codes, factors).score,
         lambda: ref_modularity(z, f), 1e-9),
        ("irs", lambda: metrics.irs(codes, factors).score, lambda: ref_irs(z, f), 1e-9),
    ]:
        t_ours, s_ours = _best(ours, 10 if quick else 20)  # best of many: the machine is shared
        t_ref, s_ref = _best(ref, 3 if quick else 5)
        rows.append(_row(name, "10k points, 10 latents, factors 3x6x40x32x32", t_ours,
                         "disentanglement_lib algorithm (numpy/sklearn loops)", t_ref,
                         abs(s_ours - s_ref) < tol,
                         f"ours {s_ours:.6f}, reference {s_ref:.6f}"))
    return rows


def dci_rows(quick):
    if quick:
        sizes, n_train, n_test = (3, 6, 10, 8, 8), 1000, 500
    else:
        sizes, n_train, n_test = DSPRITES, 10_000, 5_000
    codes, factors = vae_like_codes(n_train + n_test, sizes)
    split = {"num_train": n_train, "num_test": n_test}
    t0 = time.perf_counter()
    metrics.dci(codes[:300], factors[:300], mode="fast", max_iter=1, num_train=200, num_test=100)
    t_load = time.perf_counter() - t0  # numba compiles once, or loads its on-disk cache
    t_fast, fast = _best(lambda: metrics.dci(codes, factors, mode="fast", **split), 2)
    t0 = time.perf_counter()
    exact = metrics.dci(codes, factors, mode="exact", **split)
    t_exact = time.perf_counter() - t0
    d, c = fast.scores["disentanglement"], fast.scores["completeness"]
    de, ce = exact.scores["disentanglement"], exact.scores["completeness"]
    return [_row("dci", f"fast vs exact, {n_train}/{n_test} points, factors "
                 f"{'x'.join(map(str, sizes))}", t_fast,
                 "exact mode: sklearn GradientBoostingClassifier defaults (published)", t_exact,
                 abs(d - de) <= 0.02 and abs(c - ce) <= 0.02,
                 f"D {d:.4f} vs {de:.4f} (diff {d - de:+.4f}), C {c:.4f} vs {ce:.4f} "
                 f"(diff {c - ce:+.4f}), I_test {fast.scores['informativeness_test']:.3f} vs "
                 f"{exact.scores['informativeness_test']:.3f}; compiled loops loaded in "
                 f"{t_load:.1f} s before timing")]


def shared_floor(process, encode, n_observations, chunk=4096):
    """Seconds to sample, observe and encode ``n_observations``, in large batches, and
    nothing else: the work any implementation of the protocol has to do."""
    g = torch.Generator().manual_seed(0)

    def work():
        with torch.no_grad():
            for start in range(0, n_observations, chunk):
                m = min(chunk, n_observations - start)
                encode(process.observe(process.sample_factors(m, g), g))

    return _best(work, 3)[0]


def protocol_rows(quick):
    n_train, n_eval = (3000, 1500) if quick else (10_000, 5_000)
    n_var = 3000 if quick else 10_000
    repeats = 3 if quick else 5
    # the two draw different batches; at 3,000 points the published BetaVAE estimator
    # (an unscaled, 100-iteration logistic regression) moves by up to 0.13 between seeds
    tol = 0.08 if quick else 0.03
    setups = [("MLP encoder on 64-d observations", ImageLikeProcess(), mlp_encoder()),
              ("codes observed directly (protocol cost only)",
               SyntheticProcess("mixed", DSPRITES, noise=0.05), lambda x: x)]
    rows = []
    for label, process, encode in setups:
        floor = shared_floor(process, encode, 64 * (n_train + n_eval) + n_var)
        t_ours, ours = _best(lambda: metrics.factor_vae_score(
            process, encode, num_train=n_train, num_eval=n_eval,
            num_variance_estimate=n_var, seed=0).score, repeats)
        t_ref, ref = _best(lambda: ref_factor_vae(process, encode, 64, n_train, n_eval,
                                                  n_var), repeats)
        rows.append(_row("factor_vae", f"end to end, batch 64, {n_train}/{n_eval} votes, "
                         f"{label}", t_ours, "disentanglement_lib protocol, per-vote loop",
                         t_ref, abs(ours - ref) < tol,
                         f"ours {ours:.4f}, reference {ref:.4f}; shared floor {floor:.3f} s "
                         f"(peer_s / floor {t_ref / floor:.1f})"))
        floor = shared_floor(process, encode, 2 * 64 * (n_train + n_eval))
        t_ours, ours = _best(lambda: metrics.beta_vae_score(
            process, encode, num_train=n_train, num_eval=n_eval, seed=0).score, repeats)
        t_ref, ref = _best(lambda: ref_beta_vae(process, encode, 64, n_train, n_eval), repeats)
        rows.append(_row("beta_vae", f"end to end, 64 pairs, {n_train}/{n_eval} points, "
                         f"{label}", t_ours, "disentanglement_lib protocol, per-point loop",
                         t_ref, abs(ours - ref) < tol,
                         f"ours {ours:.4f}, reference {ref:.4f}; shared floor {floor:.3f} s "
                         f"(peer_s / floor {t_ref / floor:.1f})"))
    return rows


def run(quick: bool = False) -> list[dict]:
    with one_thread(), threadpoolctl.threadpool_limits(1):
        return table_rows(quick) + dci_rows(quick) + protocol_rows(quick)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row, flush=True)
