"""Rendering 10,000 images of each procedural data set, against the planning estimates.

This timing used to be a test assertion (``test_ten_thousand_images_take_seconds``),
which a loaded machine could fail. Here it is reported, never failing. ``peer`` is the
rate measured while planning (docs/DESIGN.md: sprites about 60 microseconds an image,
pendulum about 2 s for 10k images at 32x32; our pendulum is 64x64 RGB, so its estimate
is scaled by the 4x pixels), ``ratio`` = estimate / our time.

    python benchmarks/bench_datasets.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import workbench.datasets as wd  # noqa: E402
from workbench.devtools.timing import best_of, one_thread  # noqa: E402

ESTIMATE_S_PER_IMAGE = {"sprites": 60e-6, "pendulum": 4 * 2.0 / 10_000,
                        "digits": None, "shapes2d": None}


def bench_render(name: str, n: int, repeats: int) -> dict:
    ds = wd.load(name)
    ours_s, (images, factors) = best_of(lambda: ds.sample(n, generator=0), repeats)
    estimate = ESTIMATE_S_PER_IMAGE[name]
    peer_s = None if estimate is None else estimate * n
    return {"benchmark": "render", "case": f"{n} {name} images {tuple(images.shape[1:])}",
            "ours_s": ours_s, "peer": "planning estimate (docs/DESIGN.md)" if peer_s else "none",
            "peer_s": peer_s, "ratio": None if peer_s is None else peer_s / ours_s,
            "agree": images.shape[0] == n and bool(((images >= 0) & (images <= 1)).all()),
            "notes": f"{n / ours_s:.0f} images/s; values in [0, 1]"}


def run(quick: bool = False) -> list[dict]:
    n, repeats = (2_000, 2) if quick else (10_000, 3)
    with one_thread():
        return [bench_render(name, n, repeats) for name in wd.DATASETS]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(" | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()))
