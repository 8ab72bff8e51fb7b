"""Run every benchmark and write benchmarks/results/report.md.

    python benchmarks/run.py            # full run
    python benchmarks/run.py --quick    # smaller sizes, about a minute per area
    python benchmarks/run.py --only metrics --no-notebooks

Two parts:

1. Notebooks: each notebook in notebooks/ executed in a fresh kernel pinned to one CPU
   with one thread (as on Binder), its wall time and peak memory set against the budgets
   of docs/DESIGN.md (5 minutes and 1 GB each; 30 minutes for the whole curriculum).
2. Areas: every ``benchmarks/bench_<area>.py`` module's ``run(quick)`` rows, each timing
   our implementation and its peer in the same run and reporting the ratio.

Benchmarks report; they never fail on time. A benchmark that raises is reported as such.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from workbench.devtools.notebooks import (  # noqa: E402
    BUDGET_MB, BUDGET_SECONDS, find_notebooks, run_notebook,
)

CURRICULUM_BUDGET_S = 30 * 60
COLUMNS = ["benchmark", "case", "ours_s", "peer", "peer_s", "ratio", "agree", "notes"]


def notebook_rows() -> list[dict]:
    rows = []
    for path in find_notebooks(ROOT / "notebooks"):
        print(f"notebook {path.name} ...", flush=True)
        run = run_notebook(path, pin_one_cpu=True)
        rows.append(run.as_dict())
        print(f"  {run.wall_s:.1f} s, {run.peak_mb:.0f} MB, ok={run.ok}", flush=True)
    return rows


def area_modules(only: list[str] | None) -> list[Path]:
    mods = sorted(HERE.glob("bench_*.py"))
    if only:
        mods = [m for m in mods if m.stem.removeprefix("bench_") in only]
    return mods


def run_area(path: Path, quick: bool) -> tuple[list[dict], str]:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        return list(module.run(quick=quick)), ""
    except Exception:  # noqa: BLE001 - a broken benchmark is reported, not fatal
        return [], traceback.format_exc(limit=5)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value).replace("|", "\\|")


def write_report(notebooks: list[dict], areas: dict[str, tuple[list[dict], str]],
                 quick: bool, out: Path) -> str:
    import torch

    lines = [
        "# Benchmark report",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; mode: {'quick' if quick else 'full'}",
        f"- machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
        f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}",
        "",
    ]
    if notebooks:
        total = sum(r["wall_s"] for r in notebooks)
        lines += [
            "## Notebooks (fresh kernel, one CPU core, one thread)",
            "",
            f"Budgets (docs/DESIGN.md): {BUDGET_SECONDS} s and {BUDGET_MB} MB per notebook; "
            f"{CURRICULUM_BUDGET_S} s for the whole curriculum.",
            "",
            "| notebook | wall s | peak MB | ran | within budget |",
            "|---|---|---|---|---|",
        ]
        for r in notebooks:
            within = r["wall_s"] <= BUDGET_SECONDS and r["peak_mb"] <= BUDGET_MB
            lines.append(f"| {r['notebook']} | {r['wall_s']:.1f} | {r['peak_mb']:.0f} | "
                         f"{'yes' if r['ok'] else 'FAILED'} | {'yes' if within else 'NO'} |")
        lines += ["", f"Whole curriculum: {total:.0f} s of {CURRICULUM_BUDGET_S} s "
                      f"({'within' if total <= CURRICULUM_BUDGET_S else 'OVER'} budget).", ""]
    for area, (rows, error) in areas.items():
        lines += [f"## {area}", ""]
        if error:
            lines += ["The benchmark raised:", "", "```", error.strip(), "```", ""]
            continue
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for row in rows:
            lines.append("| " + " | ".join(_fmt(row.get(c)) for c in COLUMNS) + " |")
        lines.append("")
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    (out.parent / "report.json").write_text(json.dumps(
        {"notebooks": notebooks, "areas": {k: v[0] for k, v in areas.items()}}, indent=1,
        default=lambda o: o.item() if hasattr(o, "item") else str(o)))  # numpy/torch scalars
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", nargs="*", help="areas to run, e.g. metrics scm")
    parser.add_argument("--no-notebooks", action="store_true", help="skip the notebook timings")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "report.md")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    notebooks = [] if args.no_notebooks else notebook_rows()
    areas = {}
    for path in area_modules(args.only):
        area = path.stem.removeprefix("bench_")
        print(f"area {area} ...", flush=True)
        areas[area] = run_area(path, args.quick)
    text = write_report(notebooks, areas, args.quick, args.out)
    print(text)
    print(f"\nwrote {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
