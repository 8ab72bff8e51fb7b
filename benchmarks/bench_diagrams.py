"""String-diagram surgery vs other ways to get the same interventional distribution.

Every row computes ``P(y | do(x))`` for the front-door shape (hidden ``h -> x, h -> y``,
``x -> z -> y``) or a fully observed DAG, by our route and by a peer, in this run:

- comb disintegration of the observational joint (``from_observational``) vs the
  front-door formula written as one NumPy ``einsum`` (the baseline a reader would write);
- the same for a *batch* of joints at once (our kernels carry batch axes) vs a Python loop
  of the NumPy formula over the batch;
- comb disintegration vs the do-calculus estimand of ``workbench.identification``
  (ID algorithm + evaluation on the same joint table);
- surgery on the generating model vs ChiRho ``do`` on the Pyro SCM, enumerated exactly
  (``workbench.diagrams.compare.pyro_do_kernel``).

- interpreting a diagram (with and without surgery) vs DiscoPy 1.2: our diagram is
  translated to a ``discopy.markov.Diagram`` (the translation is not timed), surgery is
  a ``discopy.markov.Functor`` on the syntax and evaluation a ``markov.Functor`` into
  ``tensor.Tensor[float]`` (timed). DiscoPy is not a dependency of the workbench; these
  rows are skipped when it is not installed. Note: DiscoPy's default ``tensor.Tensor``
  category is ``Tensor[int]`` and silently truncates probabilities to integers.

``agree`` is a max absolute difference below 1e-6. Torch runs on one thread; times are the
best of several repeats (the machine is shared, so a median mostly measures other people's
load). pgmpy was not tried (it pulls a large stack).

    python benchmarks/bench_diagrams.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.diagrams import Kernel, Wire, from_observational, random_front_door  # noqa: E402
from workbench.diagrams.compare import do_calculus_kernel, pyro_do_kernel  # noqa: E402
from workbench.scm import random_discrete_scm  # noqa: E402
from workbench.diagrams import diagram_of, from_scm, interventional_kernel, joint_kernel  # noqa: E402
from workbench.devtools.timing import best_of as _time, one_thread  # noqa: E402




def front_door_numpy(p: np.ndarray) -> np.ndarray:
    """sum_z P(z|x) sum_x' P(x') P(y|x',z) for a joint p[x, z, y]."""
    p_x = p.sum((1, 2))
    p_z_x = p.sum(2) / p_x[:, None]
    p_y_xz = p / p.sum(2, keepdims=True)
    return np.einsum("xz,a,azy->xy", p_z_x, p_x, p_y_xz)


def _row(case, ours_s, peer, peer_s, diff, notes=""):
    return dict(benchmark="diagrams", case=case, ours_s=ours_s, peer=peer, peer_s=peer_s,
                ratio=peer_s / ours_s, agree=bool(diff < 1e-6), notes=f"max diff {diff:.1e}" + notes)


def _front_door_rows(sizes_list, repeats):
    rows = []
    for sizes in sizes_list:
        m = random_front_door(0, sizes=sizes)
        joint = joint_kernel(m)
        label = "x{x} z{z} y{y} h{h}".format(**sizes)
        ours_s, ours = _time(lambda: from_observational(m.graph, joint, "x", outcome=["y"]), repeats)
        p = joint.table.cpu().numpy()
        peer_s, theirs = _time(lambda: front_door_numpy(p), repeats)
        rows.append(_row(f"comb vs front-door formula, {label}", ours_s, "numpy einsum", peer_s,
                         float(np.abs(ours.table.cpu().numpy() - theirs).max())))
        peer_s, theirs = _time(lambda: do_calculus_kernel(m, "x", ["y"], joint=joint), repeats)
        rows.append(_row(f"comb vs do-calculus estimand, {label}", ours_s,
                         "workbench.identification (ID + evaluate)", peer_s,
                         float((ours.table - theirs.table).abs().max())))
        truth = interventional_kernel(m, "x", ["y"])
        rows[-1]["notes"] += f"; vs truth {float((ours.table - truth.table).abs().max()):.1e}"
    return rows


def _batch_row(batch, repeats):
    m = random_front_door(0, sizes={"h": 3, "x": 4, "z": 5, "y": 4})
    g = torch.Generator().manual_seed(0)
    e = -torch.log1p(-torch.rand(batch, 4 * 5 * 4, generator=g, dtype=torch.float64))
    tables = (e / e.sum(-1, keepdim=True)).reshape(batch, 4, 5, 4)
    joint = Kernel(tables, [], [Wire("x", 4), Wire("z", 5), Wire("y", 4)])
    ours_s, ours = _time(lambda: from_observational(m.graph, joint, "x", outcome=["y"]), repeats)
    arrays = tables.numpy()
    peer_s, theirs = _time(lambda: np.stack([front_door_numpy(p) for p in arrays]), repeats)
    return _row(f"batch of {batch} joints (x4 z5 y4)", ours_s, "numpy einsum in a loop", peer_s,
                float(np.abs(ours.table.numpy() - theirs).max()))


def _pyro_rows(repeats, quick):
    rows = []
    m = random_front_door(1, sizes={"h": 2, "x": 3, "z": 3, "y": 3})
    ours_s, ours = _time(lambda: interventional_kernel(m, "x", ["y"]), repeats)
    peer_s, theirs = _time(lambda: pyro_do_kernel(m, "x", ["y"]), max(1, repeats // 3))
    rows.append(_row("surgery on the generating model (front door)", ours_s,
                     "ChiRho do on the Pyro SCM, exact enumeration", peer_s,
                     float((ours.table - theirs.table).abs().max())))
    n = 5 if quick else 7
    scm = random_discrete_scm(n, n_latent=0, seed=2, edge_prob=0.5)
    model = from_scm(scm)
    x = model.observed[1]
    ours_s, ours = _time(lambda: from_observational(model.graph, joint_kernel(model), x), repeats)
    peer_s, theirs = _time(lambda: pyro_do_kernel(model, x, ours.output_names, scm=scm),
                           max(1, repeats // 3))
    rows.append(_row(f"no hidden variables, {n} binary nodes, P(all | do({x}))", ours_s,
                     "ChiRho do on the Pyro SCM, exact enumeration", peer_s,
                     float((ours.table - theirs.table).abs().max()),
                     "; peer uses float32 tables"))
    return rows


def to_discopy(diagram):
    """Our :class:`Diagram` as a ``discopy.markov.Diagram`` (and its boxes by name)."""
    from discopy import markov

    def ty(wires):
        return markov.Ty(*[w.name for w in wires]) if wires else markov.Ty()

    boxes, out = {}, markov.Id(ty(diagram.dom))
    for layer in diagram.layers:
        b = layer.box
        if b.kind == "copy":
            gen = markov.Copy(ty(b.dom))
        elif b.kind == "discard":
            gen = markov.Discard(ty(b.dom))
        elif b.kind == "permute":
            gen = markov.Diagram.permutation(list(b.data), ty(b.dom))
        else:
            gen = boxes.setdefault(b.name, markov.Box(b.name, ty(b.dom), ty(b.cod)))
        out = out >> markov.Id(ty(layer.left)) @ gen @ markov.Id(ty(layer.right))
    return out, boxes


def _discopy_rows(repeats):
    try:
        from discopy import markov, tensor
    except ImportError:
        return [dict(benchmark="diagrams", case="interpret vs DiscoPy", ours_s=float("nan"),
                     peer="discopy", peer_s=float("nan"), ratio=float("nan"), agree=False,
                     notes="skipped: discopy is not installed")]
    from workbench.diagrams import cut, interpret, smoking_example

    rows = []
    for name, m, x in [("smoking", smoking_example(), "smoking"),
                       ("front door + extras, sizes 3-4",
                        random_front_door(2, extra=True, sizes={"h": 3, "x": 4, "z": 3, "z2": 3,
                                                                "y": 4, "w": 3}), "x")]:
        d = diagram_of(m)
        syntax, boxes = to_discopy(d)
        dims = {markov.Ty(v): tensor.Dim(n) for v, n in m.sizes.items()}
        arrays = {boxes[v]: m.tables[v].numpy() for v in boxes}
        evaluate = markov.Functor(ob=dims, ar=arrays,
                                  cod=markov.Category(tensor.Dim, tensor.Tensor[float]))
        ours_s, ours = _time(lambda: interpret(d, m.tables), repeats)
        peer_s, theirs = _time(lambda: evaluate(syntax), min(repeats, 3))
        diff = float(abs(theirs.array.reshape(ours.table.shape) - ours.table.numpy()).max())
        rows.append(_row(f"interpret the {name} diagram", ours_s, "DiscoPy 1.2 markov -> tensor",
                         peer_s, diff))
        xw = markov.Ty(x)
        parents = boxes[x].dom
        do_box = markov.Box(f"do({x})", markov.Ty(), xw)
        cut_box = markov.Id(parents)
        for i in range(len(parents)):
            cut_box = cut_box >> markov.Discard(parents[i]) @ markov.Id(parents[i + 1:])
        surgery = markov.Functor(ob={t: t for t in dims},
                                 ar={b: (cut_box >> do_box if n == x else b) for n, b in boxes.items()})
        uniform = {**arrays, do_box: np.full(m.sizes[x], 1.0 / m.sizes[x])}
        uniform.pop(boxes[x])
        evaluate_cut = markov.Functor(ob=dims, ar=uniform,
                                      cod=markov.Category(tensor.Dim, tensor.Tensor[float]))
        kept = {v: t for v, t in m.tables.items() if v != x}
        ours_s, ours = _time(lambda: interpret(cut(d, x), kept), repeats)
        peer_s, theirs = _time(lambda: evaluate_cut(surgery(syntax)), min(repeats, 3))
        diff = float(abs(theirs.array.reshape(ours.table.shape) - ours.table.numpy()).max())
        rows.append(_row(f"surgery cut({x}) + interpret, {name}", ours_s,
                         "DiscoPy 1.2 surgery functor + tensor functor", peer_s, diff))
    return rows


def run(quick: bool = False) -> list[dict]:
    with one_thread():  # as on Binder; steadier on a shared machine
        return _run(quick)


def _run(quick: bool) -> list[dict]:
    repeats = 5 if quick else 20
    sizes = [{"h": 2, "x": 2, "z": 2, "y": 2}, {"h": 4, "x": 8, "z": 8, "y": 8}]
    if not quick:
        sizes.append({"h": 8, "x": 30, "z": 30, "y": 30})
    rows = _front_door_rows(sizes, repeats)
    rows.append(_batch_row(64 if quick else 1024, repeats))
    rows += _pyro_rows(repeats, quick)
    rows += _discopy_rows(repeats)
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
