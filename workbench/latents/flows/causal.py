"""Causal normalizing flows (Javaloy, Sanchez-Martin & Valera, NeurIPS 2023).

One autoregressive flow ``u = T(x)`` over all the variables of a causal graph, whose
networks are masked by the graph's adjacency: ``u_i`` may read ``x_i`` and its parents
only (and, with several layers, its ancestors). Fitted by maximum likelihood on
observational data, ``T`` is then an SCM in its own right, with exact abduction:

* **abduction**: ``u = T(x)``;
* **do(x_i = a)**: fix ``x_i = a``, replace ``u_i`` by the noise that reproduces ``a``
  given ``x_i``'s parents, ``T(x)_i``, keep every other ``u_j``, and map back with
  ``T^{-1}``: the descendants of ``x_i`` are recomputed with their own noise, the rest
  stay as they were. Several interventions are applied one by one in causal order;
* **counterfactual**: the same, starting from a unit's abducted noise;
* **interventional samples**: the same, starting from fresh draws of ``u``.

Variables are kept in a topological order of the graph, the order of the columns of
every tensor here; mappings ``{variable: values}`` are accepted too.

Examples
--------
>>> import torch, workbench as wb
>>> wb.seed_everything(0)
>>> flow = CausalFlow(["x", "y"], [("x", "y")], hidden=(16,))
>>> x = torch.randn(500); data = {"x": x, "y": 2 * x + 0.1 * torch.randn(500)}
>>> _ = flow.fit(data, steps=200, lr=1e-2, progress=False)
>>> cf = flow.counterfactual({"x": torch.tensor([0.0]), "y": torch.tensor([0.1])}, {"x": 1.0})
>>> round(float(cf[0, 1]), 1)          # y moves by about 2 with x
2.1
>>> flow.adjacency.int().tolist()      # row: child, column: parent
[[1, 0], [1, 1]]
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
from torch import nn

from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.graphs import dag, topological_order
from workbench.latents.checkpoint import load_checkpoint, save_checkpoint
from workbench.latents.flows.conditional import ConditionalFlow, check_finite_data
from workbench.latents.training import TrainResult, train
from workbench.runtime import device as runtime_device

__all__ = ["CausalFlow", "save_causal_flow", "load_causal_flow"]


class CausalFlow(nn.Module):
    """A causal normalizing flow over the variables of a DAG.

    Parameters
    ----------
    variables : sequence of str
        The variables (kept in a topological order of the graph).
    edges : sequence of (parent, child)
        The causal graph.
    flow : {"maf", "nsf"}
        Affine layers (Javaloy et al.'s default) or spline layers.
    transforms, hidden, bins : see :class:`~workbench.latents.flows.ConditionalFlow`
        The paper's setting is one layer with hidden widths (32, 32, 32).

    Examples
    --------
    >>> flow = CausalFlow(["y", "x"], [("x", "y")], hidden=(8,))
    >>> flow.variables, flow.parents("y"), flow.descendants("x")   # kept in causal order
    (['x', 'y'], ['x'], ['y'])
    >>> flow.sample(3).shape
    torch.Size([3, 2])
    """

    kind = "causal_flow"

    def __init__(self, variables: Sequence[str], edges: Sequence[Sequence[str]] = (), *, flow: str = "maf",
                 transforms: int = 1, hidden: Sequence[int] = (32, 32, 32), bins: int = 8, device=None):
        super().__init__()
        if isinstance(variables, str) or len(set(variables)) != len(variables):
            raise WorkbenchInputError(f"variables must be a list of distinct names, like ['x1', 'x2'], "
                                      f"got {variables!r}.")
        graph = dag([tuple(e) for e in edges], nodes=list(variables))
        for v in graph:
            if v not in variables:
                raise UnknownVariableError(v, variables)  # an edge names a variable not listed
        if len(variables) < 2:
            raise WorkbenchInputError("A causal flow needs at least two variables.")
        self.variables = list(topological_order(graph))
        self.edges = [[p, c] for p, c in sorted(graph.edges, key=lambda e: (self.variables.index(e[1]),
                                                                             self.variables.index(e[0])))]
        index = {v: i for i, v in enumerate(self.variables)}
        adjacency = torch.eye(len(self.variables), dtype=torch.bool)
        for p, c in self.edges:
            adjacency[index[c], index[p]] = True
        self.net = ConditionalFlow(len(self.variables), 0, flow=flow, transforms=transforms, hidden=hidden,
                                   bins=bins, adjacency=adjacency, device=runtime_device(device))

    @property
    def adjacency(self) -> torch.Tensor:
        """``adjacency[i, j]``: whether ``variables[i]`` reads ``variables[j]`` (diagonal true)."""
        return self.net.adjacency

    @property
    def device(self) -> torch.device:
        """The device the weights are on."""
        return self.net.device

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this flow: its graph and its network's settings."""
        n = self.net
        return {"kind": self.kind, "variables": list(self.variables), "edges": [list(e) for e in self.edges],
                "flow": n.flow_kind, "transforms": n.transforms, "hidden": list(n.hidden), "bins": n.bins}

    def parents(self, variable: str) -> list[str]:
        """The parents of ``variable`` in the flow's graph, in edge order."""
        return [p for p, c in self.edges if c == self._name(variable)]

    def descendants(self, variable: str) -> list[str]:
        """The variables downstream of ``variable`` (in order), those a ``do`` on it recomputes."""
        out, frontier = set(), {self._name(variable)}
        while frontier:
            frontier = {c for p, c in self.edges if p in frontier} - out
            out |= frontier
        return [v for v in self.variables if v in out]

    def _name(self, v: str) -> str:
        if v not in self.variables:
            raise UnknownVariableError(v, self.variables)
        return v

    # ------------------------------------------------------------ data in and out
    def as_tensor(self, data) -> torch.Tensor:
        """``data`` as ``(n, d)`` in :attr:`variables` order (from a tensor or a mapping)."""
        if isinstance(data, Mapping):
            for v in data:
                self._name(v)
            missing = [v for v in self.variables if v not in data]
            if missing:
                raise ShapeError(f"data lacks the variable(s) {missing}; a causal flow needs every variable.")
            cols = [torch.as_tensor(data[v], dtype=torch.get_default_dtype()) for v in self.variables]
            if any(c.dim() != 1 or c.shape != cols[0].shape for c in cols):
                raise ShapeError("Every variable's data must be a 1-D tensor, all of one length.")
            x = torch.stack(cols, dim=-1)
        else:
            x = torch.as_tensor(data, dtype=torch.get_default_dtype())
        if x.dim() != 2 or x.shape[1] != len(self.variables):
            raise ShapeError(f"data must be (n, {len(self.variables)}) with columns {self.variables}, "
                             f"got shape {tuple(x.shape)}.")
        check_finite_data("data", x)
        return x.to(self.device)

    def as_dict(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The columns of ``x`` by variable name."""
        return {v: x[:, i] for i, v in enumerate(self.variables)}

    # ------------------------------------------------------------ the flow
    def fit(self, data, *, steps: int = 1000, batch_size: int = 512, lr: float = 3e-3, seed: int = 0,
            checkpoint_dir=None, progress: bool = True, robust: bool = False, **options) -> TrainResult:
        """Maximum likelihood on observational ``data`` with :func:`workbench.latents.train`.

        The data are standardised first (mean and sd, as Javaloy et al.; ``robust=True``:
        median and interquartile range, see :meth:`ConditionalFlow.standardize`). Use the
        robust one for heavy tails: the diamond graph's x4 has a pole, and its sd (78,
        from a few units near it) leaves the bulk (spread 0.1) near the smallest scale one
        affine layer can reach (1e-3)."""
        x = self.as_tensor(data)
        self.net.standardize(x, robust=robust)
        result = train(self.net, x, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                       checkpoint_dir=checkpoint_dir, progress=progress, **options)
        self.net.eval()
        return result

    def log_prob(self, data) -> torch.Tensor:
        """``log q(x)`` per unit, in the data's units."""
        return self.net.log_prob(self.as_tensor(data))

    def abduct(self, data) -> torch.Tensor:
        """The noise ``u = T(x)`` of each unit, ``(n, d)``: exact inversion."""
        return self.net.transform()(self.as_tensor(data))

    def generate(self, u: torch.Tensor) -> torch.Tensor:
        """``x = T^{-1}(u)``."""
        u = torch.as_tensor(u, dtype=torch.get_default_dtype(), device=self.device)
        if u.dim() != 2 or u.shape[1] != len(self.variables):
            raise ShapeError(f"u must be (n, {len(self.variables)}), got shape {tuple(u.shape)}.")
        check_finite_data("u", u)
        return self.net.transform().inv(u)

    def sample(self, n: int, generator=None) -> torch.Tensor:
        """``n`` observational draws, ``(n, d)``."""
        return self.net.sample(n=n, generator=generator)

    # ------------------------------------------------------------ interventions
    def _actions(self, do: Mapping, n: int) -> list[tuple[int, torch.Tensor]]:
        if not isinstance(do, Mapping) or not do:
            raise WorkbenchInputError("do must name at least one intervention, e.g. do={'x1': 0.5}.")
        out = []
        for v, a in do.items():
            try:
                value = torch.as_tensor(a, dtype=torch.get_default_dtype(), device=self.device)
            except (TypeError, ValueError, RuntimeError):
                raise WorkbenchInputError(f"do({v}=...) must be a number or a tensor of numbers, "
                                          f"got {a!r}.") from None
            if value.dim() > 1 or (value.dim() == 1 and value.shape[0] not in (1, n)):
                raise ShapeError(f"do({v}=...) needs a number or one value per unit ({n}), got shape "
                                 f"{tuple(value.shape)}.")
            check_finite_data(f"do({v}=...)", value.reshape(-1))
            out.append((self.variables.index(self._name(v)), value.expand(n)))
        return sorted(out, key=lambda t: t[0])

    @torch.no_grad()
    def counterfactual(self, factual, do: Mapping) -> torch.Tensor:
        """Each unit's values had ``do`` been applied, ``(n, d)``.

        Abduction ``u = T(x)``; then, one intervened variable at a time in causal order,
        its value is fixed, its noise becomes ``T(x)_i`` (the noise that yields the fixed
        value from its parents) and ``x = T^{-1}(u)`` recomputes its descendants.
        """
        factual = x = self.as_tensor(factual)
        transform = self.net.transform()
        u = transform(x)
        fixed = torch.zeros(x.shape[1], dtype=torch.bool, device=self.device)
        changed = fixed.clone()
        done = []
        for i, value in self._actions(do, x.shape[0]):
            x = x.clone()
            x[:, i] = value
            fixed[i] = True
            u = torch.where(fixed, transform(x), u)
            x = transform.inv(u)
            done.append((i, value))
            for j, v in done:  # exactly the set values (T^-1(T(a)) = a only up to float rounding)
                x[:, j] = v
            changed[[i, *[self.variables.index(d) for d in self.descendants(self.variables[i])]]] = True
        # the rest are upstream or beside every intervention: exactly their factual values
        return torch.where(changed, x, factual)

    @torch.no_grad()
    def intervene(self, do: Mapping, n: int, generator=None) -> torch.Tensor:
        """``n`` draws from the interventional distribution ``P(x | do)``, ``(n, d)``."""
        return self.counterfactual(self.sample(n, generator=generator), do)

    @torch.no_grad()
    def ate(self, variable: str, a: float, b: float, n: int = 10_000, generator=None) -> torch.Tensor:
        """``E[x | do(variable = a)] - E[x | do(variable = b)]`` over the other variables.

        As in Javaloy et al.'s code (``compute_ate``): a vector of one entry per other variable.
        """
        keep = [j for j, v in enumerate(self.variables) if v != self._name(variable)]
        mean = lambda value: self.intervene({variable: value}, n, generator)[:, keep].mean(0)  # noqa: E731
        return mean(a) - mean(b)


# ------------------------------------------------------------------ save / load
def save_causal_flow(flow: CausalFlow, directory) -> str:
    """Save ``flow`` as a checkpoint folder: safetensors weights plus a SHA-256 manifest.

    Examples
    --------
    >>> import tempfile, torch
    >>> flow = CausalFlow(["x", "y"], [("x", "y")], hidden=(8,))
    >>> folder = save_causal_flow(flow, tempfile.mkdtemp())
    >>> again = load_causal_flow(folder)
    >>> x = torch.randn(4, 2)
    >>> bool(torch.equal(again.log_prob(x), flow.log_prob(x)))
    True
    """
    path = save_checkpoint(directory, {"model": flow.state_dict()}, {"step": 0, "model": flow.config})
    return str(path.parent)


def load_causal_flow(directory, device=None) -> CausalFlow:
    """The flow saved by :func:`save_causal_flow` in ``directory``, hash-verified.

    Examples
    --------
    >>> import tempfile
    >>> folder = save_causal_flow(CausalFlow(["a", "b"], [("a", "b")], hidden=(8,)), tempfile.mkdtemp())
    >>> load_causal_flow(folder).edges
    [['a', 'b']]
    """
    groups, state = load_checkpoint(directory)
    config = dict(state.get("model") or {})
    if config.pop("kind", None) != CausalFlow.kind:
        raise WorkbenchInputError(f"{directory} does not hold a causal flow (it holds {state.get('model')}).")
    flow = CausalFlow(config.pop("variables"), config.pop("edges"), **config, device=device)
    flow.load_state_dict(groups["model"])
    return flow.eval()

