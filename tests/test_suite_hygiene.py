"""The test suite never times the machine: no assertion bounds a measured duration.

Timing assertions pass alone and fail under load (``test_each_update_is_fast`` measured
0.37-0.56 s against its 0.3 s bound while other work ran), and one flaky test blocks
every submission. Speed is reported by ``benchmarks/`` instead (issue 11).
"""

from pathlib import Path

import pytest

from workbench.devtools.timing_asserts import timing_assertions

TESTS = Path(__file__).resolve().parent

# the timing assertions this suite used to have, verbatim in shape
OFFENDERS = [
    """
def test_each_update_is_fast(p):
    times = []
    for v in [0.0, 1.0]:
        start = time.perf_counter()
        p.set_intervention("x3", v)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.3, times
""",
    """
def test_one_interaction_under_a_second(napkin):
    start = time.perf_counter()
    napkin.outcomes = ("y",)
    assert (time.perf_counter() - start) / 3 < 1.0
""",
    """
def test_ten_thousand_images_take_seconds(name, limit):
    start = time.perf_counter()
    images, _ = ds.sample(10_000, generator=0)
    assert images.shape[0] == 10_000
    assert time.perf_counter() - start < limit
""",
    """
def test_seconds_budget_stops(tmp_path):
    result = train(model, data, seconds=0.5)
    assert 1 <= result.step and result.seconds < 5
""",
    """
def test_elapsed(clock):
    t0 = time.monotonic()
    run()
    elapsed = time.monotonic() - t0
    assert 2.0 > elapsed
""",
]

ALLOWED = [
    "def test_a(run):\n    assert run.wall_s > 0\n",                       # positivity cannot fail on load
    "def test_b(r):\n    assert r.step >= 1 and len(r.history) == 3\n",
    "def test_c():\n    deadline = time.time() + 60\n    while time.time() < deadline:\n        pass\n",
    "def test_d(fake):\n    assert result.seconds == pytest.approx(0.5)\n",  # a fake clock's exact value
    "def test_e(x):\n    y = x.repeat(3)\n    assert y.max() < 5\n",
]


@pytest.mark.parametrize("source", OFFENDERS)
def test_the_checker_finds_timing_assertions(source):
    assert len(timing_assertions(source)) == 1


@pytest.mark.parametrize("source", ALLOWED)
def test_the_checker_allows_what_load_cannot_break(source):
    assert timing_assertions(source) == []


def test_no_test_asserts_a_wall_clock_duration():
    found = {path.name: timing_assertions(path.read_text())
             for path in sorted(TESTS.glob("*.py"))}
    found = {name: f for name, f in found.items() if f}
    assert not found, ("Timing assertions fail on a busy machine; move them into benchmarks/: "
                       + "; ".join(f"{name}:{x.line} {x.code}" for name, xs in found.items() for x in xs))
