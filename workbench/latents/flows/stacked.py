"""All the flow mechanisms of an SCM as one batched network (the speed path of a flow SCM).

A flow SCM holds one small conditional flow per variable
(:class:`~workbench.latents.flows.FlowMechanism`); training them one by one, or one
after the other in a step, pays torch's per-operation overhead once per variable, and
at minibatch sizes that overhead is most of the time. :class:`StackedFlows` copies the
mechanisms' weights into stacked tensors (one leading axis over variables and layers;
a parent list shorter than the longest is padded with zero inputs, whose weights get
zero gradients and stay zero), so one batched matrix product evaluates every
variable's network, and one call every variable's spline. It is the *same* model: the
same parameters, the same functions (pinned by ``tests/test_flows_stacked.py``: log
densities, training steps and counterfactuals equal the mechanisms' own), and
:meth:`StackedFlows.write_back` returns the weights to the mechanisms.

:func:`fit_flow_scm` trains a whole flow SCM this way through
:func:`workbench.latents.train` (same minibatches as ``FlowMechanism.fit`` with the
same seed: the per-variable fits and the stacked fit agree weight for weight).

Examples
--------
>>> import torch, workbench as wb
>>> from workbench.scm import SCM
>>> wb.seed_everything(0)
>>> t = torch.randn(300); data = {"t": t, "y": torch.tanh(2 * t) + 0.1 * torch.randn(300)}
>>> mechs = {"t": FlowMechanism(transforms=1, hidden=(8,)), "y": FlowMechanism(["t"], transforms=1, hidden=(8,))}
>>> _ = fit_flow_scm(mechs, data, steps=5, progress=False)
>>> stacked = StackedFlows(mechs)
>>> x = torch.stack([data["t"], data["y"]], -1)[:4]
>>> by_hand = mechs["t"].log_prob(x[:, 0], x[:, :0]) + mechs["y"].log_prob(x[:, 1], x[:, :1])
>>> bool(torch.allclose(stacked.log_prob(x).sum(-1), by_hand, atol=1e-5))
True
"""

from __future__ import annotations

import math
from typing import Mapping

import torch
from torch import nn

from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.flows.mechanism import FlowMechanism
from workbench.latents.flows.splines import UNIVARIATE
from workbench.latents.training import TrainResult, train

__all__ = ["StackedFlows", "fit_flow_scm"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _layers(mech: FlowMechanism):
    return list(mech.net.net.transform.transforms)


def _linears(layer) -> list:
    """The linear maps of a layer's network (zuko's own ``Linear``, not torch's)."""
    return [mod for mod in layer.hyper if getattr(mod, "weight", None) is not None]


class StackedFlows(nn.Module):
    """The flow mechanisms ``{variable: FlowMechanism}`` (in causal order) as one network.

    Every mechanism must share the flow kind, the number of layers and the hidden widths.

    Examples
    --------
    >>> mechs = {"a": FlowMechanism(transforms=2, hidden=(8,)), "b": FlowMechanism(["a"], transforms=2, hidden=(8,))}
    >>> s = StackedFlows(mechs)
    >>> s.variables, s.log_prob(torch.zeros(3, 2)).shape     # one log-density per unit and variable
    (['a', 'b'], torch.Size([3, 2]))
    """

    kind = "stacked_flows"

    def __init__(self, mechanisms: Mapping[str, FlowMechanism]):
        super().__init__()
        self.mechanisms = dict(mechanisms)
        self.variables = list(self.mechanisms)
        nets = [m.net for m in self.mechanisms.values()]
        if not nets or any(not isinstance(m, FlowMechanism) for m in self.mechanisms.values()):
            raise WorkbenchInputError("StackedFlows needs a non-empty {variable: FlowMechanism} mapping.")
        first = nets[0]
        if any((n.flow_kind, n.transforms, n.hidden, n.bins) != (first.flow_kind, first.transforms, first.hidden,
                                                                 first.bins) for n in nets):
            raise WorkbenchInputError("Stacked mechanisms must share flow kind, transforms, hidden widths and bins.")
        self.flow_kind, self.layers, self.hidden = first.flow_kind, first.transforms, first.hidden
        index = {v: i for i, v in enumerate(self.variables)}
        for v, m in self.mechanisms.items():
            for p in m.parents:
                if index.get(p, len(self.variables)) >= index[v]:
                    raise UnknownVariableError(p, self.variables[:index[v]], what=f"earlier parent of {v!r}")
        self.root_columns = [i for i, v in enumerate(self.variables) if not self.mechanisms[v].parents]
        self.child_columns = [i for i, v in enumerate(self.variables) if self.mechanisms[v].parents]
        width = max([len(self.mechanisms[self.variables[i]].parents) for i in self.child_columns], default=0)
        rows = [[index[p] for p in self.mechanisms[self.variables[i]].parents] for i in self.child_columns]
        self.register_buffer("parent_index", torch.tensor([r + [0] * (width - len(r)) for r in rows],
                                                          dtype=torch.long).reshape(len(rows), width))
        self.register_buffer("parent_mask", torch.tensor([[1.0] * len(r) + [0.0] * (width - len(r)) for r in rows])
                             .reshape(len(rows), width))
        self.stack_order = self.root_columns + self.child_columns
        self.register_buffer("variable_order", torch.tensor(self.stack_order).argsort())
        self.register_buffer("x_loc", torch.cat([n.x_loc for n in nets]))
        self.register_buffer("x_scale", torch.cat([n.x_scale for n in nets]))
        self.register_buffer("c_loc", self._pad([nets[i].c_loc for i in self.child_columns], width, 0.0))
        self.register_buffer("c_scale", self._pad([nets[i].c_scale for i in self.child_columns], width, 1.0))
        self._copy_in(width)
        self.to(first.device)

    @staticmethod
    def _pad(rows, width, fill):
        out = torch.full((len(rows), width), fill)
        for r, t in enumerate(rows):
            out[r, :len(t)] = t.detach().cpu()
        return out

    def _copy_in(self, width: int) -> None:
        """Stack the mechanisms' weights into one flat parameter vector, read through views:
        the roots' parameters ``(roots, layers, total)``; the children's networks as
        ``(children * layers, in, out)`` matrices and ``(children * layers, 1, out)`` biases,
        one pair per linear layer. (One tensor: Adam's step is one update, not one per tensor.)"""
        with torch.no_grad():
            roots = [[torch.cat([p.detach().reshape(-1) for p in layer.phi]) for layer in _layers(m)]
                     for m in (self.mechanisms[self.variables[i]] for i in self.root_columns)]
            parts = [torch.stack([torch.stack(r) for r in roots]).cpu()]
            linears = [[_linears(layer) for layer in _layers(m)]
                       for m in (self.mechanisms[self.variables[i]] for i in self.child_columns)]
            for k in range(len(linears[0][0]) if linears else 0):
                mats = []
                for var in linears:
                    for layer in var:
                        w = layer[k].weight.detach().T
                        rows = width if k == 0 else w.shape[0]
                        mats.append(torch.cat([w, w.new_zeros(rows - w.shape[0], w.shape[1])]))
                parts.append(torch.stack(mats).cpu())
                parts.append(torch.stack([layer[k].bias.detach().cpu() for var in linears for layer in var]).unsqueeze(1))
            self._shapes = [p.shape for p in parts]
            self.flat = nn.Parameter(torch.cat([p.reshape(-1) for p in parts]))

    def _views(self):
        """``(root_phi, weights, biases)``: views into :attr:`flat`."""
        pieces = self.flat.split([math.prod(shape) for shape in self._shapes])
        views = [piece.view(shape) for piece, shape in zip(pieces, self._shapes)]
        return views[0], views[1::2], views[2::2]

    def _root_phi(self):
        return self.flat[:math.prod(self._shapes[0])].view(self._shapes[0])

    @torch.no_grad()
    def write_back(self) -> None:
        """Copy the stacked weights back into the mechanisms (after training)."""
        root_phi, weights, biases = self._views()
        for r, i in enumerate(self.root_columns):
            for t, layer in enumerate(_layers(self.mechanisms[self.variables[i]])):
                flat, start = root_phi[r, t], 0
                for p in layer.phi:
                    p.copy_(flat[start:start + p.numel()].reshape(p.shape))
                    start += p.numel()
        for c, i in enumerate(self.child_columns):
            for t, layer in enumerate(_layers(self.mechanisms[self.variables[i]])):
                for k, lin in enumerate(_linears(layer)):
                    g = c * self.layers + t
                    lin.weight.copy_(weights[k][g, :lin.in_features].T)
                    lin.bias.copy_(biases[k][g, 0])

    # ------------------------------------------------------------ evaluation
    @property
    def device(self) -> torch.device:
        """The device the stacked parameters are on."""
        return self.x_loc.device

    @property
    def config(self) -> dict:
        """The variables and each mechanism's parents and network settings, to rebuild it."""
        return {"kind": self.kind, "variables": self.variables,
                "mechanisms": {v: [list(m.parents), m.net.config] for v, m in self.mechanisms.items()}}

    @property
    def data_shape(self) -> tuple:
        """``(number of variables,)``: the shape of one row the training loop feeds in."""
        return (len(self.variables),)

    def _select(self, which=None) -> dict:
        """The children ``which`` (indices; all when ``None``): their parents, standardisation,
        network weights and columns, read once for :meth:`parameters_of` and :meth:`generate`."""
        _, weights, biases = self._views()
        if which is None:                     # every network: the stacked weights as they are
            return {"index": self.parent_index, "mask": self.parent_mask, "loc": self.c_loc, "scale": self.c_scale,
                    "weights": weights, "biases": biases, "cols": self.child_columns}
        groups = (which[:, None] * self.layers + torch.arange(self.layers, device=self.device)).reshape(-1)
        return {"index": self.parent_index[which], "mask": self.parent_mask[which], "loc": self.c_loc[which],
                "scale": self.c_scale[which], "weights": [w[groups] for w in weights],
                "biases": [b[groups] for b in biases], "cols": [self.child_columns[i] for i in which.tolist()]}

    def parameters_of(self, x: torch.Tensor, which=None, selected=None) -> torch.Tensor:
        """The children's univariate parameters for the units ``x (n, V)``: ``(C, layers, n, total)``.

        ``which`` (indices into the children) restricts the networks evaluated (or ``selected``,
        what :meth:`_select` returned for them)."""
        n, sel = x.shape[0], selected or self._select(which)
        ctx = ((x[:, sel["index"]] - sel["loc"]) / sel["scale"] * sel["mask"]).transpose(0, 1)   # (C, n, width)
        h = ctx.unsqueeze(1).expand(-1, self.layers, -1, -1).reshape(len(sel["index"]) * self.layers, n, -1)
        for k, (w, b) in enumerate(zip(sel["weights"], sel["biases"])):
            h = torch.baddbmm(b, h, w)
            if k < len(sel["weights"]) - 1:
                h = h.relu_()
        return h.reshape(len(sel["index"]), self.layers, n, -1)

    def _forward(self, x: torch.Tensor, cols, phi, with_ladj: bool = True):
        """``u`` and ``log |du/dx|`` (``None`` unless ``with_ladj``) of the columns ``cols`` of ``x``,
        both ``(len(cols), n)``."""
        f = UNIVARIATE[self.flow_kind]
        z = ((x[:, cols] - self.x_loc[cols]) / self.x_scale[cols]).T
        ladj = -self.x_scale[cols].log().unsqueeze(-1).expand_as(z) if with_ladj else None
        for t in range(self.layers):
            z, step = f(z, phi[:, t], with_ladj=with_ladj)
            ladj = ladj + step if with_ladj else None
        return z, ladj

    def _stacked_noise(self, x: torch.Tensor):
        """``u`` and ``log |du/dx|`` in the stacked order (roots, then children), ``(V, n)`` each:
        one spline call for every variable at once."""
        phi = self.parameters_of(x)
        if self.root_columns:
            phi = torch.cat([self._root_phi().unsqueeze(2).expand(-1, -1, x.shape[0], -1), phi])
        return self._forward(x, self.stack_order, phi)

    def abduct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every variable's noise ``u = T(x; parents)`` and ``log |du/dx|``, both ``(n, V)``."""
        u, ladj = self._stacked_noise(x)
        return u[self.variable_order].T, ladj[self.variable_order].T

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x_v | parents)`` of every unit and variable, ``(n, V)``."""
        u, ladj = self.abduct(x)
        return -0.5 * u ** 2 - _HALF_LOG_2PI + ladj

    def generate(self, u: torch.Tensor, x: torch.Tensor, which=None, selected=None) -> torch.Tensor:
        """``T^{-1}(u; parents)`` for the children ``which`` (indices; or ``selected``, what
        :meth:`_select` returned for them), their parents read from ``x``: ``(n, len(which))``."""
        sel = selected or self._select(which)
        phi, f, cols = self.parameters_of(x, selected=sel), UNIVARIATE[self.flow_kind], sel["cols"]
        v = u[:, cols].T
        for t in reversed(range(self.layers)):
            v, _ = f(v, phi[:, t], inverse=True, with_ladj=False)
        return (v.T * self.x_scale[cols] + self.x_loc[cols])

    def _generations(self, do) -> list:
        """The intervened variables' descendants, grouped by *generation* (1 + the latest
        changed parent's): ``[(child indices, their selection), ...]`` in order (see :meth:`_select`)."""
        level = {v: 0 for v in do}
        for i in self.child_columns:
            v = self.variables[i]
            changed = [level[p] for p in self.mechanisms[v].parents if p in level]
            if v not in do and changed:
                level[v] = 1 + max(changed)
        out = []
        for generation in sorted(set(level.values()) - {0}):
            cols = [i for i, v in enumerate(self.variables) if level.get(v) == generation]
            which = torch.tensor([self.child_columns.index(i) for i in cols], device=self.device)
            out.append((which, self._select(which)))
        return out

    #: units per batch in :meth:`counterfactual`: the intermediate tensors then stay in the CPU's cache
    chunk = 2048

    @torch.inference_mode()
    def counterfactual(self, units: Mapping[str, torch.Tensor], do: Mapping[str, float]) -> dict:
        """Each unit's values had ``do`` been applied (fully observed units, exact abduction).

        As the SCM's one-step route: only the intervened variables' descendants change, so
        only their noise is abducted (one batched call), and they are recomputed one
        *generation* at a time (all whose changed parents are done), each generation in one
        batched call; the units go through in batches of :attr:`chunk`.
        """
        x = torch.stack([torch.as_tensor(units[v], dtype=torch.get_default_dtype()) for v in self.variables],
                        -1).to(self.device)
        unknown = [v for v in do if v not in self.variables]
        if unknown:
            raise UnknownVariableError(unknown[0], self.variables, what="intervened variable")
        generations = self._generations(do)
        cf = x.clone()
        for v, a in do.items():
            cf[:, self.variables.index(v)] = torch.as_tensor(a, dtype=cf.dtype, device=self.device)
        if generations:
            needed = self._select(torch.cat([which for which, _ in generations]))
            for start in range(0, len(x), self.chunk):
                part, changed = x[start:start + self.chunk], cf[start:start + self.chunk]   # views
                u = torch.zeros_like(part)
                phi = self.parameters_of(part, selected=needed)
                u[:, needed["cols"]] = self._forward(part, needed["cols"], phi, with_ladj=False)[0].T
                for _, sel in generations:
                    changed[:, sel["cols"]] = self.generate(u, changed, selected=sel)
        return {v: cf[:, i] for i, v in enumerate(self.variables)}

    def loss(self, batch: torch.Tensor, generator=None):
        """Negative log-likelihood of the SCM: the sum over variables of each one's mean."""
        u, ladj = self._stacked_noise(batch)        # the order of the sum does not matter
        total = (0.5 * u ** 2 + _HALF_LOG_2PI - ladj).sum() / batch.shape[0]
        return total, {"loss": float(total.detach())}


def fit_flow_scm(mechanisms: Mapping[str, FlowMechanism], data: Mapping[str, torch.Tensor], *,
                 steps: int = 500, batch_size: int = 256, lr: float = 3e-3, seed: int = 0,
                 checkpoint_dir=None, progress: bool = True, **options) -> TrainResult:
    """Train every mechanism of a flow SCM at once (the stacked network); weights land in place.

    Each mechanism's standardisation is set from ``data`` as ``FlowMechanism.fit`` sets it,
    and the minibatches are the same rows as the per-variable fits with this ``seed``.

    Examples
    --------
    >>> import torch
    >>> data = {"a": torch.randn(200), "b": torch.randn(200)}
    >>> mechs = {"a": FlowMechanism(transforms=1, hidden=(8,)), "b": FlowMechanism(["a"], transforms=1, hidden=(8,))}
    >>> result = fit_flow_scm(mechs, data, steps=3, progress=False)
    >>> result.step
    3
    """
    mechanisms = dict(mechanisms)
    for v, m in mechanisms.items():
        m.net.standardize(*m.net.split(m.training_data(data, v)))
    stacked = StackedFlows(mechanisms)
    x = torch.stack([torch.as_tensor(data[v], dtype=torch.get_default_dtype()) for v in stacked.variables],
                    -1).to(stacked.device)
    result = train(stacked, x, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                   checkpoint_dir=checkpoint_dir, progress=progress, **options)
    stacked.write_back()
    return result
