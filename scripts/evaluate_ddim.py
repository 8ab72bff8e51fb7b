"""Measure the DDIM image mechanism (ddim_digits) on held-out digits; optionally record it.

Usage (from the repository root, one thread)::

    python scripts/evaluate_ddim.py --grid 10:0 20:0 20:2 50:0 --n 64 --cycles-n 32
    python scripts/evaluate_ddim.py --grid 20:2 --n 200 --record       # into the manifest

Each setting ``S:k`` is S DDIM steps each way and k fixed-point refinements of every
inversion step (the teaching solver); ``S:k:tol`` the Anderson solver, at most k iterations a
step, stopped at the residual ``tol`` (``workbench.deepscm.ddim_anderson``). Per setting, on held-out digits of the SCM (seed 12345), through
``DigitsDeepSCM(mechanism)`` (the digits' exact parent mechanisms, so intensity follows
thickness):

* composition: the null intervention 1 and 10 times, L1 to the input (0-255);
* effectiveness of do(thickness = t*), t* the held-out thicknesses shuffled: the
  thickness measured by ``digit_morphometrics`` within 10% of t*, the slope of the measured
  change on the wanted one (1: all of it), and the digit kept (read by the
  ``predictors_digits`` classifier), and the slant kept (the slant, on a 0.025 grid, whose
  exact render is nearest the counterfactual, against the factual slant: slant is image noise);
* ground truth: pixel L1 to the exact counterfactual render beside the factual image's;
* counterfactuals a second on this process's threads (a batch of 64).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from workbench.deepscm import DigitsDeepSCM
from workbench.latents import load_pretrained, save_pretrained
from workbench.latents.pretrained import PRETRAINED_DIR, list_pretrained
from workbench.metrics.soundness import DigitsGroundTruth, composition, digit_morphometrics, ground_truth_error

HELD_OUT_SEED = 12345


def best_fitting_slant(images, parents, truth, candidates=torch.linspace(-0.3, 0.3, 25)):
    """The slant whose exact render (same digit, thickness, intensity) is nearest each image."""
    errors = torch.stack([(truth.scm.render({**parents, "slant": torch.full_like(parents["slant"], float(s))})
                           - images).abs().flatten(1).mean(1) for s in candidates])
    return candidates[errors.argmin(0)]


def apply_setting(mech, setting: str) -> dict:
    """Set ``S:k`` (teaching fixed-point solver) or ``S:k:tol`` (Anderson) on the mechanism."""
    parts = setting.split(":")
    mech.steps, mech.iterations = int(parts[0]), int(parts[1])
    mech.solver = "anderson" if len(parts) == 3 else "fixed_point"
    mech.tolerance = float(parts[2]) if len(parts) == 3 else mech.tolerance
    return {"steps": mech.steps, "iterations": mech.iterations, "solver": mech.solver,
            **({"tolerance": mech.tolerance} if len(parts) == 3 else {})}


def unet_passes(mech, images, parents) -> float:
    """UNet passes per counterfactual (inversion plus decoding), counted on these images."""
    count = [0]
    hook = mech.diffusion.unet.register_forward_pre_hook(
        lambda net, args: count.__setitem__(0, count[0] + len(args[0])))
    try:
        mech.counterfactual(images, parents, parents)
    finally:
        hook.remove()
    return count[0] / len(images)


def evaluate(mech, setting: str, n: int, cycles_n: int, classifier) -> dict:
    truth = DigitsGroundTruth()
    images, parents = truth.sample(n, generator=HELD_OUT_SEED)
    row = {**apply_setting(mech, setting), "images": n}
    scm = DigitsDeepSCM(mech)
    row["unet_passes"] = round(unet_passes(mech, images[:16], {k: v[:16] for k, v in parents.items()}), 1)
    comp = composition(scm, images[:cycles_n], {k: v[:cycles_n] for k, v in parents.items()}, cycles=(1, 10))
    row.update({f"composition_l1_{k}": round(v, 3) for k, v in comp.scores.items()}, composition_images=cycles_n)
    target = parents["thickness"][torch.randperm(n, generator=torch.Generator().manual_seed(1))]
    do = {"thickness": target}
    start = time.perf_counter()
    cf = scm(images, parents, do)
    seconds = time.perf_counter() - start
    measured = digit_morphometrics(truth.dataset)["thickness"](cf, parents)
    within = ((measured - target).abs() <= 0.1 * target).float()
    wanted, moved = target - parents["thickness"], measured - parents["thickness"]
    slope = float((wanted * moved).sum() / (wanted * wanted).sum())     # 1: the full change, 0: none
    slant_error = (best_fitting_slant(cf, truth.parents_after(parents, do), truth) - parents["slant"]).abs()
    kept = (classifier.predict(cf)["digit"] == parents["digit"]).float()
    gt = ground_truth_error(scm, images, parents, do, truth)
    row.update(thickness_within_10pct=round(float(within.mean()), 3), digit_kept=round(float(kept.mean()), 3),
               thickness_abs_error=round(float((measured - target).abs().mean()), 3),
               thickness_response_slope=round(slope, 3),
               slant_abs_error=round(float(slant_error.mean()), 4),
               ground_truth_l1=round(gt.scores["pixel_l1"], 3), factual_l1=round(gt.scores["factual_l1"], 3),
               counterfactuals_per_second=round(n / seconds, 2), threads=torch.get_num_threads())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="ddim_digits")
    parser.add_argument("--directory", default=str(PRETRAINED_DIR), help="folder with the weights' manifest")
    parser.add_argument("--classifier-directory", default=str(PRETRAINED_DIR), help="where predictors_digits is")
    parser.add_argument("--grid", nargs="+", default=["20:2"],
                        help="settings S:k or S:k:tol ('none': only --record)")
    parser.add_argument("--n", type=int, default=64, help="held-out digits for effectiveness and ground truth")
    parser.add_argument("--cycles-n", type=int, default=32, help="held-out digits for composition")
    parser.add_argument("--record", action="store_true", help="write the rows into the manifest's evaluation")
    parser.add_argument("--default", default="20:2", help="with --record: the shipped default S:k or S:k:tol")
    parser.add_argument("--record-from", default=None,
                        help="with --record: also the rows of this JSON-lines file (--out of earlier runs)")
    parser.add_argument("--why", default="", help="with --record: why that default")
    parser.add_argument("--keep-rows", action="store_true",
                        help="with --record: keep the rows already in the manifest's evaluation, add these")
    parser.add_argument("--out", default=None, help="also append the rows to this JSON-lines file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    mech = load_pretrained(args.name, device="cpu", directory=args.directory)
    classifier = load_pretrained("predictors_digits", device="cpu", directory=args.classifier_directory)
    rows = []
    for setting in [] if args.grid == ["none"] else args.grid:
        rows.append(evaluate(mech, setting, args.n, args.cycles_n, classifier))
        print(json.dumps(rows[-1]), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps({"name": args.name, "directory": args.directory, **rows[-1]}) + "\n")
    if args.record:
        record(args, rows)


def record(args, rows) -> None:
    """Write the rows (and, with --record-from, every row of that JSON-lines file) into the manifest."""
    entry = list_pretrained(args.directory)[args.name]
    info = {k: v for k, v in entry.items() if k not in ("file", "sha256", "bytes", "config")}
    kept = info.get("evaluation", {}) if args.keep_rows else {}
    rows, intermediate = kept.get("rows", []) + rows, list(kept.get("intermediate_checkpoint_rows", []))
    if args.record_from:
        logged = [json.loads(line) for line in Path(args.record_from).read_text().splitlines() if line.strip()]
        rows = rows + [{k: v for k, v in r.items() if k not in ("name", "directory")} for r in logged
                       if Path(r["directory"]).resolve() == Path(args.directory).resolve()]
        for r in logged:
            if Path(r["directory"]).resolve() != Path(args.directory).resolve():
                steps = list_pretrained(r["directory"])[args.name]["training"]["steps"]
                intermediate.append({"training_steps": steps, **{k: v for k, v in r.items()
                                                                 if k not in ("name", "directory")}})
    command = ["python scripts/evaluate_ddim.py --grid", *args.grid, "--n", args.n, "--cycles-n", args.cycles_n,
               "--default", args.default, "--record"]
    command += (["--record-from", args.record_from] if args.record_from else []) + (["--keep-rows"] if args.keep_rows else [])
    info["evaluation"] = {"held_out_seed": HELD_OUT_SEED, "command": " ".join(map(str, command)),
                          "default": args.default, "why": args.why, "rows": rows,
                          "intermediate_checkpoint_rows": intermediate}
    mech = load_pretrained(args.name, device="cpu", directory=args.directory)
    apply_setting(mech, args.default)
    save_pretrained(mech, args.name, info, Path(args.directory))

if __name__ == "__main__":
    main()
