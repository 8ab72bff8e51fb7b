"""Train the small pretrained models shipped in workbench/pretrained/, from a fixed seed.

Usage (from the repository root; about a few minutes on one CPU core)::

    .venv/bin/python scripts/train_pretrained.py            # all models
    .venv/bin/python scripts/train_pretrained.py --only beta_vae_sprites --steps 200
    .venv/bin/python scripts/train_pretrained.py --family diffusion   # see pretrained_diffusion.py

Each model is trained on freshly rendered sprites (workbench.datasets.Sprites) with
workbench.latents.train, on the CPU with one thread (so the run is reproducible), then
evaluated on 2,000 held-out sprites, and saved with workbench.latents.save_pretrained,
which writes <name>.safetensors and records its SHA-256, configuration, training
settings and scores in workbench/pretrained/manifest.json.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

import workbench as wb
from workbench.datasets import Sprites
from workbench.latents import (BetaTCVAE, BetaVAE, VAE, latent_activity, reconstruction_report,
                               save_pretrained, train)
from workbench.latents.pretrained import PRETRAINED_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent))      # the family modules beside this script
import pretrained_ddim  # noqa: E402
import pretrained_deepscm  # noqa: E402
import pretrained_diffusion  # noqa: E402
import pretrained_flow  # noqa: E402
import pretrained_pendulum  # noqa: E402
import pretrained_predictors  # noqa: E402

SPECS = {
    "vae_sprites": (VAE, {"beta": 1.0}),
    "beta_vae_sprites": (BetaVAE, {"beta": 4.0}),
    "beta_tcvae_sprites": (BetaTCVAE, {"beta": 6.0}),
}
SEED, BATCH, LR, LATENTS, WARMUP = 0, 64, 1e-3, 10, 300


def train_one(name: str, steps: int, directory) -> dict:
    cls, options = SPECS[name]
    wb.seed_everything(SEED)
    model = cls(image_shape=(1, 64, 64), latent_dim=LATENTS, device="cpu", **options)
    data = Sprites()
    result = train(model, data, steps=steps, batch_size=BATCH, lr=LR, seed=SEED, kl_warmup=WARMUP,
                   progress=True)
    held_out, _ = data.sample(2000, generator=12345)
    report = reconstruction_report(model, held_out)
    activity = latent_activity(model, held_out)
    info = {
        "dataset": "sprites",
        "command": f"python scripts/train_pretrained.py --only {name} --steps {steps}",
        "training": {"steps": steps, "batch_size": BATCH, "lr": LR, "seed": SEED, "kl_warmup": WARMUP,
                     "seconds": round(result.seconds, 1), "final_loss": round(result.losses[-1], 2),
                     "torch": torch.__version__, "python": platform.python_version()},
        "evaluation": {"held_out_images": 2000, "held_out_seed": 12345,
                       **{k: round(v, 5) for k, v in report.items()},
                       "active_latents": int(activity.active.sum())},
    }
    return save_pretrained(model, name, info, directory)


def train_crl_family(steps: int, seeds: int, directory, workdir: str, first_seed: int = 0) -> None:
    """CausalVAE on the pendulum (seeds first_seed..seeds-1; seed 0's weights shipped) and its reader.

    With ``first_seed > 0`` only the extra seeds are trained: their learned graphs are
    added to the shipped model's manifest entry (its weights, and so its hash, unchanged).
    """
    from workbench.crl import pendulum
    from workbench.latents import list_pretrained, load_pretrained

    start = time.perf_counter()
    if first_seed == 0:
        reader, r = pendulum.train_factor_reader(checkpoint_dir=f"{workdir}/reader", progress=True)
        save_pretrained(reader, "factor_reader_pendulum", {
            "dataset": "pendulum", "command": "python scripts/train_pretrained.py --family crl",
            "training": {"steps": r.step, "seconds": round(r.seconds, 1), "final_loss": round(r.losses[-1], 4)}},
            directory)
    graphs = {}
    for seed in range(first_seed, seeds):
        model, r = pendulum.train_causal_vae(seed, steps, checkpoint_dir=f"{workdir}/seed{seed}", progress=True)
        graphs[str(seed)] = {"edges": sorted(map(list, model.graph().edges)), "matches": pendulum.graph_matches(model),
                             "adjacency": [[round(v, 3) for v in row] for row in model.prior.adjacency.tolist()],
                             "steps": r.step, "final": {k: round(v, 3) for k, v in r.history[-1].items()}}
        print(f"seed {seed}: {graphs[str(seed)]}", flush=True)
        if seed == 0:
            shipped = model
    if first_seed == 0:
        info = {"dataset": "pendulum", "command": f"python scripts/train_pretrained.py --family crl --steps {steps}",
                "training": {"steps": steps, "batch_size": 64, "lr": 1e-3, "kl_warmup": 1000,
                             "torch": torch.__version__}, "seeds": {}}
    else:
        shipped = load_pretrained("causal_vae_pendulum", device="cpu", directory=directory)
        info = {k: v for k, v in list_pretrained(directory)["causal_vae_pendulum"].items()
                if k not in ("file", "sha256", "bytes", "config")}
    info["seeds"] = {**info.get("seeds", {}), **graphs}
    info["seconds_" + ("total" if first_seed == 0 else f"seeds_{first_seed}_up")] = round(time.perf_counter() - start, 1)
    save_pretrained(shipped, "causal_vae_pendulum", info, directory)


def train_domaincf_family(directory, workdir: str, seed: int = 1, restarts: int = 24) -> None:
    """Sparse and dense domain models (Zhou et al.) on the 2-domain generator of ``seed``.

    24 starts in the two rounds of ``fit_domain_model``'s default (exploration, refinement;
    not the benchmark's four-round ``BENCHMARK_ROUNDS``), from ``init="identity"``: the
    settings the shipped weights were fitted with; both models get the same settings.
    """
    from workbench.latents.domain_counterfactuals import (
        all_counterfactuals, domain_counterfactual_error, fit_domain_model, identity_counterfactuals,
        simulate, true_counterfactuals)

    data = simulate(2, [seed])
    truth = true_counterfactuals(data.scms, data.test_noise)
    baseline = float(domain_counterfactual_error(identity_counterfactuals(data.test_x), truth)[0])
    for kind in ("sparse", "dense"):
        start = time.perf_counter()
        # init="identity": the starts the shipped weights were fitted from (the default is now "whitened")
        model = fit_domain_model(data, kind=kind, restarts=restarts, init="identity",
                                 checkpoint_dir=f"{workdir}/{kind}", progress=True, device="cpu")
        error = float(domain_counterfactual_error(all_counterfactuals(model, data.test_x), truth)[0])
        info = {"dataset": "domain_counterfactuals",
                "command": "python scripts/train_pretrained.py --family domaincf",
                "generator": {"n_domains": 2, "latent_dim": 6, "seed": seed},
                "training": {"restarts": restarts, "explore_steps": 2000, "steps": 3000, "batch_size": 500,
                             "seconds": round(time.perf_counter() - start, 1), "torch": torch.__version__},
                "evaluation": {"test_per_domain": 1000, "counterfactual_error": round(error, 5),
                               "identity_error": round(baseline, 5),
                               "validation_nll": round(float(model.validation_nll[0]), 5)}}
        entry = save_pretrained(model, f"domain_{kind}_2domains", info, directory)
        print(f"domain_{kind}_2domains: {entry['evaluation']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SPECS) + sorted(pretrained_diffusion.SPECS)
                        + sorted(pretrained_predictors.SPECS) + sorted(pretrained_deepscm.SPECS)
                        + sorted(pretrained_flow.SPECS) + sorted(pretrained_ddim.SPECS)
                        + sorted(pretrained_pendulum.SPECS), action="append",
                        help="train only this model (repeatable)")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps per model (default 1000; the diffusion family has its own)")
    parser.add_argument("--out", default=str(PRETRAINED_DIR), help="output folder")
    parser.add_argument("--family", choices=["sprites", "crl", "domaincf", "diffusion"], default="sprites",
                        help="crl: the pendulum CausalVAE (5 seeds, --steps each) and its factor reader")
    parser.add_argument("--seeds", type=int, default=5, help="crl family: seeds to train")
    parser.add_argument("--first-seed", type=int, default=0, help="crl family: train only seeds from this one")
    parser.add_argument("--workdir", default="benchmarks/results/crl_training", help="crl checkpoints")
    args = parser.parse_args()
    torch.set_num_threads(1)
    families = {name: family for family in (pretrained_predictors, pretrained_deepscm, pretrained_flow,
                                            pretrained_ddim, pretrained_pendulum) for name in family.SPECS}
    own = [n for n in args.only or [] if n in families]
    for name in own:
        entry = families[name].train_one(name, args.steps, args.out)
        print(f"{name}: sha256 {entry['sha256'][:12]}..., evaluation {entry.get('evaluation')}")
    if own and len(own) == len(args.only):
        return None
    diffusion = [n for n in args.only or [] if n in pretrained_diffusion.SPECS]
    if args.family == "diffusion" or diffusion:
        for name in diffusion or list(pretrained_diffusion.SPECS):
            entry = pretrained_diffusion.train_one(name, args.steps, args.out)
            print(f"{name}: sha256 {entry['sha256'][:12]}..., evaluation {entry['evaluation']}")
        return None
    args.steps = 1000 if args.steps is None else args.steps
    if args.family == "crl":
        return train_crl_family(args.steps, args.seeds, args.out, args.workdir, args.first_seed)
    if args.family == "domaincf":
        return train_domaincf_family(args.out, "benchmarks/results/domaincf_training")
    for name in args.only or list(SPECS):
        start = time.perf_counter()
        entry = train_one(name, args.steps, args.out)
        print(f"{name}: {time.perf_counter() - start:.0f} s, sha256 {entry['sha256'][:12]}..., "
              f"evaluation {entry['evaluation']}")


if __name__ == "__main__":
    main()
