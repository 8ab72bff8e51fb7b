"""Every exercise of the curriculum: a blank is rejected without raising, plausible wrong
answers are rejected with a hint, and the reference solution, executed as the learner
would type it, is accepted."""

from __future__ import annotations

import math
import re
from functools import lru_cache

import pytest
import torch

import workbench as wb
from workbench.errors import WorkbenchInputError
from workbench.exercises import SUCCESS_PREFIX, all_exercises, check, exercise, solution

EXERCISES = all_exercises()
IDS = [f"{e.notebook}-{e.number}" for e in EXERCISES]


@lru_cache(maxsize=None)
def _notebook_state(notebook: str) -> dict:
    """The notebook variables that reference solutions and checkers use."""
    if notebook == "01":
        from workbench.scm import discrete_scm
        return {"discrete_scm": discrete_scm}
    if notebook == "03":
        import workbench.estimation as we
        import workbench.identification as wi
        from workbench.graphs import admg
        smoking = admg([("x", "z"), ("z", "y")], bidirected=[("x", "y")])
        model = wi.random_discrete_model(smoking, seed=1, concentration=0.5)
        samples = model.sample(5000, generator=torch.Generator().manual_seed(0))
        return {"wi": wi, "we": we, "samples_fd": samples}
    if notebook == "04":
        import workbench.diagrams as wd
        m = wd.smoking_example()
        return {"wd": wd, "m": m, "joint": wd.interpret(wd.diagram_of(m), m.tables)}
    if notebook == "06":
        import workbench.datasets as wds
        import workbench.latents as wl
        held_out, _ = wds.Sprites().sample(300, generator=7)
        return {"wl": wl, "sprites": wds.Sprites(), "device": wb.device(), "held_out": held_out,
                "tcvae": wl.load_pretrained("beta_tcvae_sprites"),
                "beta_vae": wl.load_pretrained("beta_vae_sprites")}
    if notebook == "07":
        from workbench.latents.domain_counterfactuals.demo import load_demo
        demo = load_demo()
        return {"generator": demo.scm, "x_obs": demo.x[1500]}
    if notebook == "09":
        codes = {kind: wb.metrics.constructed_codes(kind, n_points=2000, seed=0)
                 for kind in ("mixed", "disentangled")}
        return {"codes": codes, "rho": 0.6}
    if notebook == "12":
        import pandas as pd
        sweep = wb.sweeps.Sweep(models={"vae": {}, "beta_vae": {"beta": [8]}}, seeds=[0, 1])
        scores = {"a": [0.1, 0.1, 0.9], "b": [0.3, 0.3, 0.3], "c": [0.2, 0.2, 0.2]}
        table = pd.DataFrame([{"key": f"{s}{i}", "setting": s, "seed": i, "metric": m, "score": v}
                              for s, vs in scores.items() for i, v in enumerate(vs)
                              for m in ("mig", "sap")])
        return {"sweep": sweep, "table": table}
    return {}


def _namespace(ex) -> dict:
    ns = {"wb": wb, "torch": torch, "math": math, **_notebook_state(ex.notebook)}
    if ex.notebook == "09" and ex.number in (1, 2):
        ns["z"], ns["v"] = ns["codes"]["mixed" if ex.number == 1 else "disentangled"]
    return ns


def _context(ex, ns) -> dict:
    return {name: ns[name] for name in ex.context}


def _solved(ex) -> tuple[dict, tuple]:
    ns = _namespace(ex)
    exec(ex.solution, ns)  # the reference exactly as the notebook shows it
    return ns, tuple(ns[name] for name in ex.answers)


def _wrong_answers(ex, ns, right):
    """Plausible mistakes a learner makes, exercise by exercise."""
    import workbench.identification as wi

    key = (ex.notebook, ex.number)
    if key == ("04", 3):
        import workbench.diagrams as wd
        w = wd.Wire("w", 3)
        return [(wd.copy(w),), (wd.copy(w) >> (wd.discard([w]) @ wd.discard([w])),)]
    if key == ("04", 4):
        return [(right[0], "a"), (ns["m"], "b")]
    if key == ("09", 1):
        z = ns["z"]
        return [(z.clone(),), (z * 2.0 + 3.0,), (z[:, [4, 2, 0, 3, 1]] + 3.0,)]
    if key == ("09", 2):
        z = ns["z"]
        return [(right[0], "modularity"), (torch.cat([z, z[:, :1]], 1), "mig")]
    if key == ("09", 3):
        return [(torch.randn(100_000, 2, dtype=torch.float64),), (torch.randn(1000, 2),)]
    return {
        ("00", 1): lambda: [(1.0,), (-0.5,), ("zero",)],
        ("00", 2): lambda: [(0.5,), (0.0,)],
        ("01", 1): lambda: [(9.0,), (12.5,), (float("nan"),)],
        ("01", 2): lambda: [(right[0], 0.5), (_flipped_coin(), 0.41), ({"c": [0.7, 0.3]}, 0.41)],
        ("01", 3): lambda: [(("a", "c"),), (("a", "b"),), ("ca",)],
        ("02", 1): lambda: [(5.0, 5.0), (3.0, 1.0), (3.0, 6.0)],
        ("02", 2): lambda: [(2.0,), (1.5,)],
        ("02", 3): lambda: [(set(),), ({"x"},), ({"x", "y", "z"},), ("xy",)],
        ("03", 1): lambda: [(set(),), ({"a"},), ({"c"},), ({"q"},)],
        ("03", 2): lambda: [(True,), ("no",)],
        ("03", 3): lambda: [(wi.Probability(["y"], ["x"]),), ("P(y|x)",)],
        ("03", 4): lambda: [(_naive_difference(ns), False), (right[0], not right[1]), (0.5, False),
                            (right[0], "no")],
        ("04", 1): lambda: [(_naive_answer(ns),), (0.5,)],
        ("04", 2): lambda: [([True] * 4,), ([True, False, True, True],), ("TFTF",)],
        ("05", 1): lambda: [(0.0,), (-2.0,)],
        ("05", 2): lambda: [(0.2,), (0.6,), (1.0,)],
        ("05", 3): lambda: [(1.0, "b"), (-1.0, "a"), (-1.0, "c"), (-1.0, "e")],
        ("06", 1): lambda: [([],), (_active(ns),), (list(reversed(right[0])),)],
        ("06", 2): lambda: [((right[0] + 1) % 10,), (1.5,)],
        ("06", 3): lambda: [(right[1], right[0]), (right[0], 0.0), (1.0, right[1])],
        ("07", 1): lambda: [(right[0] + math.log(2),), (right[0] + 2 * math.log(2),), ("-1.85",)],
        ("07", 2): lambda: [(0.0,), (4.0,), (1.5,)],
        ("07", 3): lambda: [(["x1", "x3"],), (["x1", "x2"],), ([],), ("x1",)],
        ("07", 4): lambda: [(ns["x_obs"],), (ns["generator"].counterfactual(ns["x_obs"][None], 0, 1)[0],),
                            (ns["generator"].unobserve(ns["x_obs"][None])[0],), (right[0][:3],), ("x'",)],
        ("10", 1): lambda: [(1.0,), (0.5,), (0.0,), ("high",)],
        ("10", 2): lambda: [(1,), (0,), (3,)],
        ("10", 3): lambda: [({"theta", "phi"},), ({"theta", "phi", "shadow_position", "shadow_length"},),
                            (set(),), ("theta",)],
        ("11", 1): lambda: [(200.0,), (64 + 191 / (1 + math.exp(-1.0)),), (right[0] + 5.0,), ("bright",)],
        ("11", 2): lambda: [("a",), ("c",), ("d",), ("e",), (2,)],
        ("11", 3): lambda: [(0.0,), (1.0,), (right[0] + 0.05,), (100 * right[0],), ("some",)],
        ("11", 4): lambda: [(11.1,), (6.0839,), (right[0] + 0.5,), ("left",)],
        ("12", 1): lambda: [(20,), (10,), (16,), ("forty",)],
        ("12", 2): lambda: [(4,), (2,), (-1,)],
        ("12", 3): lambda: [("a",), ("c",), ("mig",), (3,)],
    }[key]()


def _naive_difference(ns):
    seen = {k: v.double() for k, v in ns["samples_fd"].items()}
    return float(seen["y"][seen["x"] == 1].mean() - seen["y"][seen["x"] == 0].mean())


def _flipped_coin():
    from workbench.scm import discrete_scm
    return discrete_scm({"c": ([], [0.3, 0.7]), "l": (["c"], [[0.8, 0.2], [0.1, 0.9]])})


def _naive_answer(ns):
    return float(ns["joint"].marginal(["smoking", "cancer"]).disintegrate(["smoking"]).table[0, 1])


def _active(ns):
    act = wb.latents.latent_activity(ns["tcvae"], ns["held_out"])
    return act.active.nonzero().flatten().tolist()


def test_every_notebook_with_exercises_has_them_registered():
    by_notebook = {}
    for ex in EXERCISES:
        by_notebook.setdefault(ex.notebook, []).append(ex.number)
    assert by_notebook == {"00": [1, 2], "01": [1, 2, 3], "02": [1, 2, 3], "03": [1, 2, 3, 4],
                           "04": [1, 2, 3, 4], "05": [1, 2, 3], "06": [1, 2, 3], "07": [1, 2, 3, 4],
                           "09": [1, 2, 3], "10": [1, 2, 3], "11": [1, 2, 3, 4],
                           "12": [1, 2, 3]}


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_blank_is_rejected_without_raising(ex):
    ns = _namespace(ex)
    verdict = check(ex.notebook, ex.number, *[None] * len(ex.answers), **_context(ex, ns))
    assert not verdict and repr(verdict).startswith("No answer yet: ")


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_wrong_answers_are_rejected_with_a_hint(ex):
    ns, right = _solved(ex)
    for wrong in _wrong_answers(ex, ns, right):
        verdict = check(ex.notebook, ex.number, *wrong, **_context(ex, ns))
        assert not verdict, f"{wrong!r} was accepted"
        assert verdict.message.startswith("Not yet: ") and len(verdict.message) > 30, verdict.message


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_reference_solution_is_accepted(ex):
    ns, right = _solved(ex)
    verdict = check(ex.notebook, ex.number, *right, **_context(ex, ns))
    assert verdict, verdict.message
    assert verdict.message.startswith(f"{SUCCESS_PREFIX}: ")


def test_solution_prints_the_reference(capsys):
    solution("02", 3)
    assert capsys.readouterr().out.strip() == 'unchanged_answer = {"x", "y"}'


def test_unknown_exercise_and_wrong_arity_are_typed_errors():
    with pytest.raises(WorkbenchInputError, match="exercises are"):
        exercise("02", 9)
    with pytest.raises(WorkbenchInputError, match="takes 2 answer"):
        check("02", 1, 3.0)


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_notebook_holds_the_check_cell_and_the_folded_solution(ex):
    import nbformat

    from .conftest import ROOT

    path = next((ROOT / "notebooks").glob(f"{ex.notebook}_*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    folded = [c.source for c in nb.cells if c.cell_type == "markdown" and "<details>" in c.source]
    assert ex.check_call() in code, f"{path.name} lacks the check cell {ex.check_call()}"
    assert any(f"```python\n{ex.solution}\n```" in block for block in folded), (
        f"{path.name}: the folded solution of exercise {ex.number} differs from the registry's")
    for name in ex.answers:
        assert any(re.search(rf"^{name}\s*=\s*None", c, re.M) or
                   re.search(rf"^[\w, ]*\b{name}\b[\w, ]*=\s*None, None", c, re.M) for c in code), (
            f"{path.name}: exercise {ex.number} has no empty answer slot for {name}")
