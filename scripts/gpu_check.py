"""Check that every model, sampler and metric runs on a GPU, as fast as it should, agreeing with the CPU.

Usage (from the repository root)::

    .venv/bin/python scripts/gpu_check.py             # on CUDA: the table, exit 1 on disagreement
    .venv/bin/python scripts/gpu_check.py --dry-run   # the same checks CPU against CPU (CI)

Each model is built twice with one set of weights, on the CPU and on the device, and the
two results are compared (largest absolute difference); its training steps through the
one training loop are timed (throughput; the loss must stay finite). The checks live in
``scripts/gpu_checks/``, one module per family:

* ``models``: every kind in ``workbench.latents.MODELS`` (the VAE family, CausalVAE, the
  factor reader): encoder and decoder, or the forward map, within 2e-3 (TF32
  convolutions on recent GPUs); training steps where it trains on images alone.
* ``flows``: ``FlowMechanism`` (generate, abduct, log-density) and ``CausalFlow``
  (log-density, abduction, a counterfactual), within 1e-4; training steps.
* ``diffusion``: DDPM and the diffusion autoencoder: the training loss's UNet call on the
  same draws (2e-3), the DDIM sampler and DDIM inversion from the same noise (1e-3,
  compared in full float32: a chain of calls amplifies TF32's rounding); training steps;
  ``FastUNet`` (the traced, frozen, channels-last forward of the DDIM counterfactual
  table) on the device against the teaching UNet on the CPU (2e-3).
* ``deepscm``: every image mechanism ``workbench.deepscm`` exports: a counterfactual
  (abduction, then prediction under new parents), within 1e-3; training steps.
* ``data``: samplers (linear, nonlinear and discrete SCMs, an intervention: sample means
  within 5 standard errors, as the devices draw different random numbers; sprites
  rendered and moved: identical) and every metric of ``workbench.metrics.TABLE_METRICS``
  plus the BetaVAE and FactorVAE protocols: scores within 1e-4.

A check that raises becomes a failing row with its error; the others still run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import workbench as wb  # noqa: E402
from gpu_checks.data import metric_checks, sampler_checks  # noqa: E402
from gpu_checks.deepscm import deepscm_checks  # noqa: E402
from gpu_checks.diffusion import diffusion_checks  # noqa: E402
from gpu_checks.flows import flow_checks  # noqa: E402
from gpu_checks.models import model_checks  # noqa: E402

FAMILIES = (model_checks, flow_checks, diffusion_checks, deepscm_checks, sampler_checks, metric_checks)


def print_table(rows) -> None:
    print(f"\n{'area':<9} {'check':<58} {'cpu s':>9} {'device s':>9} {'speed-up':>8}  "
          f"{'agreement':>10} {'within':>8}  unit")
    for r in rows:
        speed = f"{r.cpu_s / r.device_s:.2f}x" if r.device_s > 0 else ""
        print(f"{r.area:<9} {r.name:<58} {r.cpu_s:>9.4f} {r.device_s:>9.4f} {speed:>8}  "
              f"{r.agreement:>10.2e} {r.tolerance:>8.0e}  {r.unit}{'' if r.ok else '  DISAGREES'}"
              + (f"\n          ERROR {r.error}" if r.error else ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="run every check with the CPU standing in for the GPU (for CI)")
    parser.add_argument("--device", default="cuda", help="the device to check (default cuda)")
    parser.add_argument("--quick", action="store_true", help="small sizes (implied by --dry-run)")
    args = parser.parse_args(argv)
    if args.dry_run:
        device, quick = torch.device("cpu"), True
    elif not torch.cuda.is_available() and args.device.startswith("cuda"):
        print(f"No CUDA GPU is visible (torch {torch.__version__}, built with CUDA "
              f"{torch.version.cuda}). See README, 'Using a GPU'; --dry-run checks on the CPU.")
        return 2
    else:
        device, quick = wb.device(args.device), args.quick
    torch.set_num_threads(wb.runtime.thread_count())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (dry run)"
    print(f"device: {device} = {name}; torch {torch.__version__}; CPU threads "
          f"{torch.get_num_threads()}; sizes {'quick' if quick else 'full'}")
    rows = [row for family in FAMILIES for row in family(device, quick)]
    print_table(rows)
    bad = [r.name for r in rows if not r.ok]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} checks agree" + (f"; disagree: {bad}" if bad else "."))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
