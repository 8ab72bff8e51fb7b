"""A learned mechanism ``v := T^{-1}(u; parents)``: a conditional flow as an SCM mechanism.

A flow mechanism is invertible in its noise by construction, so abduction is exact:
``u = T(v; parents)``, the flow's forward map, never an approximation. Its noise is the
flow's base, ``u ~ N(0, 1)``, and its conditional distribution ``P(v | parents)`` is a
Pyro ``TransformedDistribution`` of that base through ``T^{-1}``
(:func:`flow_distribution`), so a flow is an ordinary Pyro sample site: ChiRho's ``do``,
its twin and multi-world counterfactuals, soft interventions (``SCM.replace``) and
conditioning all work unchanged. :meth:`FlowMechanism.fit` trains it by maximum
likelihood with the one training loop, :func:`workbench.latents.train`.

An SCM built from flow mechanisms saves and loads with
:func:`workbench.scm.save_scm` / :func:`~workbench.scm.load_scm`: the mechanism kind
``"flow"`` is registered with :mod:`workbench.scm.spec` on import, and its weights are
stored exactly, as the spec's nested lists of float32 numbers.

Examples
--------
>>> import torch, workbench as wb
>>> from workbench.scm import SCM
>>> wb.seed_everything(0)
>>> t = torch.randn(400); data = {"t": t, "y": torch.tanh(2 * t) + 0.1 * torch.randn(400)}
>>> y = FlowMechanism(["t"], flow="maf", transforms=1, hidden=(16,))
>>> _ = y.fit(data, "y", steps=5, progress=False)
>>> m = SCM({"t": FlowMechanism(flow="maf", transforms=1).fit_(data, "t", steps=5), "y": y})
>>> sorted(m.do(t=1.0).sample(3, seed=0))
['t', 'y']
>>> u = y.abduct(data["y"][:2], data["t"][:2, None])      # exact inversion
>>> bool(torch.allclose(y(data["t"][:2, None], u), data["y"][:2], atol=1e-5))
True
"""

from __future__ import annotations

import copy
from typing import Mapping, Sequence

import pyro.distributions as dist
import torch
from torch.distributions.transforms import ReshapeTransform

from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents.flows.conditional import ConditionalFlow, build_flow, check_finite_data
from workbench.latents.training import TrainResult, train
from workbench.scm import fast as scm_fast
from workbench.scm import spec as scm_spec
from workbench.scm.mechanisms import Mechanism

__all__ = ["FlowMechanism", "flow_distribution"]


def flow_distribution(flow: ConditionalFlow, pa: torch.Tensor) -> dist.TransformedDistribution:
    """``P(v | pa)`` of a one-feature flow, as a Pyro distribution over scalar ``v``.

    ``pyro.sample`` refuses a zuko distribution, so the zuko transform is handed to Pyro's
    ``TransformedDistribution``: base ``N(0, 1)`` with batch shape ``pa.shape[:-1]``,
    pushed through ``T^{-1}(. ; pa)``, with reshapes between scalars and zuko's one-feature events.

    Examples
    --------
    >>> import torch
    >>> from workbench.latents.flows import ConditionalFlow
    >>> flow = ConditionalFlow(1, 1, flow="maf", transforms=1, hidden=(8,))
    >>> d = flow_distribution(flow, torch.tensor([[0.0], [1.0]]))   # P(v | pa) for two units
    >>> d.batch_shape, d.event_shape, d.sample().shape
    (torch.Size([2]), torch.Size([]), torch.Size([2]))
    >>> v = torch.tensor([0.3, -0.2])
    >>> bool(torch.allclose(d.log_prob(v), flow.log_prob(v[:, None], torch.tensor([[0.0], [1.0]])), atol=1e-5))
    True
    """
    context = pa if flow.context else None
    base = dist.Normal(torch.zeros((), device=flow.device), 1.0).expand(pa.shape[:-1])
    return dist.TransformedDistribution(
        base, [ReshapeTransform((), (1,)), flow.transform(context).inv, ReshapeTransform((1,), ())])


class FlowMechanism(Mechanism):
    """``v := T^{-1}(u; parents)`` with ``u ~ N(0, 1)`` and ``T`` a conditional zuko flow.

    Parameters
    ----------
    parents : sequence of str
        The parents, in the order of the last axis of ``pa``.
    flow, transforms, hidden, bins : see :class:`~workbench.latents.flows.ConditionalFlow`
        ``"nsf"`` (splines, any shape of noise) or ``"maf"`` (affine in the noise: a
        heteroscedastic Gaussian given the parents).
    net : ConditionalFlow, optional
        An existing flow (one feature, one context column per parent) instead of a new one.

    Examples
    --------
    >>> import torch
    >>> mech = FlowMechanism(["t"], flow="maf", transforms=1, hidden=(8,))
    >>> mech
    FlowMechanism(t; maf x 1, hidden [8])
    >>> pa, u = torch.tensor([[0.5], [2.0]]), torch.tensor([0.1, -1.0])
    >>> v = mech(pa, u)                        # v = T^{-1}(u; t)
    >>> bool(torch.allclose(mech.abduct(v, pa), u, atol=1e-5))   # and back, exactly
    True
    >>> mech.log_prob(v, pa).shape
    torch.Size([2])
    """

    invertible = True

    def __init__(self, parents: Sequence[str] = (), *, flow: str = "nsf", transforms: int = 3,
                 hidden: Sequence[int] = (32, 32), bins: int = 8, net: ConditionalFlow | None = None,
                 device=None):
        if isinstance(parents, str):
            raise WorkbenchInputError(f"parents must be a list of names, like [{parents!r}], not the string "
                                      f"{parents!r} (a string would be read letter by letter).")
        self.parents = tuple(parents)
        if len(set(self.parents)) != len(self.parents):
            raise WorkbenchInputError(f"Parents {self.parents} repeat a name; list each once.")
        if net is None:
            net = ConditionalFlow(1, len(self.parents), flow=flow, transforms=transforms,
                                  hidden=hidden, bins=bins, device=device)
        if not isinstance(net, ConditionalFlow) or net.features != 1 or net.context != len(self.parents):
            raise ShapeError(f"A flow mechanism with {len(self.parents)} parent(s) needs a ConditionalFlow "
                             f"of 1 feature and {len(self.parents)} context column(s).")
        self.net = net.eval()

    # ------------------------------------------------------------ the contract
    def noise(self) -> dist.Distribution:
        """The exogenous noise: a standard normal, the flow's base distribution."""
        return dist.Normal(torch.zeros((), device=self.net.device), 1.0)

    def _context(self, pa: torch.Tensor):
        pa = torch.as_tensor(pa, dtype=torch.get_default_dtype(), device=self.net.device)
        if pa.dim() == 0 or pa.shape[-1] != len(self.parents):
            raise ShapeError(f"pa must have a last axis of {len(self.parents)} parent value(s) "
                             f"({', '.join(self.parents) or 'none'}), got shape {tuple(pa.shape)}.")
        return pa if self.parents else None

    def _batch(self, name: str, value: torch.Tensor, pa: torch.Tensor) -> torch.Tensor:
        value = torch.as_tensor(value, dtype=torch.get_default_dtype(), device=self.net.device)
        pa_shape = torch.as_tensor(pa).shape[:-1]
        try:
            torch.broadcast_shapes(value.shape, pa_shape)
        except RuntimeError:
            raise ShapeError(f"{name} has shape {tuple(value.shape)} but pa has {tuple(pa_shape)} unit(s); "
                             f"pass one {name} per row of pa.") from None
        return value

    def __call__(self, pa: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """``v = T^{-1}(u; pa)``."""
        u = self._batch("u", u, pa)
        return self.net.transform(self._context(pa)).inv(u.unsqueeze(-1)).squeeze(-1)

    def abduct(self, value: torch.Tensor, pa: torch.Tensor) -> torch.Tensor:
        """Exact abduction: ``u = T(value; pa)``."""
        value = self._batch("value", value, pa)
        check_finite_data("value", value)
        return self.net.transform(self._context(pa))(value.unsqueeze(-1)).squeeze(-1)

    def distribution(self, pa: torch.Tensor) -> dist.TransformedDistribution:
        """``p(x | pa)``: the base normal pushed through the flow conditioned on ``pa``."""
        self._context(pa)
        return flow_distribution(self.net, torch.as_tensor(pa, dtype=torch.get_default_dtype(),
                                                           device=self.net.device))

    def log_prob(self, value: torch.Tensor, pa: torch.Tensor) -> torch.Tensor:
        """``log p(value | pa)`` under the flow, one number per unit."""
        value = torch.as_tensor(value, dtype=torch.get_default_dtype(), device=self.net.device)
        return self.net.log_prob(value.unsqueeze(-1), self._context(pa))

    def to(self, device) -> "FlowMechanism":
        """A copy on ``device`` (the same weights, shared when the device does not change)."""
        new = copy.copy(self)
        if torch.device(device) != self.net.device:
            new.net = copy.deepcopy(self.net).to(device)
        return new

    # ------------------------------------------------------------ training
    def training_data(self, data: Mapping[str, torch.Tensor], variable: str) -> torch.Tensor:
        """The batch layout of the training loop: ``[v, parents...]``, shape ``(n, 1 + k)``."""
        for name in (variable, *self.parents):
            if name not in data:
                raise UnknownVariableError(name, list(data), what="data column")
        cols = [torch.as_tensor(data[name], dtype=torch.get_default_dtype()) for name in (variable, *self.parents)]
        if any(c.dim() != 1 or c.shape != cols[0].shape for c in cols):
            raise ShapeError("Every data column must be a 1-D tensor with one value per unit, all of one length.")
        return torch.stack(cols, dim=-1).to(self.net.device)

    def fit(self, data: Mapping[str, torch.Tensor], variable: str, *, steps: int = 500,
            batch_size: int = 256, lr: float = 3e-3, seed: int = 0, checkpoint_dir=None,
            progress: bool = True, **options) -> TrainResult:
        """Maximum likelihood on ``data[variable]`` given the parents' columns; trains in place.

        Runs :func:`workbench.latents.train` (progress bar, checkpoints in
        ``checkpoint_dir``, bit-identical resume); ``options`` go to it. The flow's
        standardisation is set from the data first.
        """
        batch = self.training_data(data, variable)
        check = self.net.split(batch)
        self.net.standardize(*check)
        result = train(self.net, batch, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                       checkpoint_dir=checkpoint_dir, progress=progress, **options)
        self.net.eval()
        return result

    def fit_(self, data, variable: str, **options) -> "FlowMechanism":
        """:meth:`fit`, returning the mechanism itself (for building models inline)."""
        self.fit(data, variable, **options)
        return self

    def __repr__(self):
        n = self.net
        return (f"FlowMechanism({', '.join(self.parents) or 'no parents'}; {n.flow_kind} x {n.transforms}, "
                f"hidden {list(n.hidden)})")


# ------------------------------------------------------------------ save / load as spec data
def _to_spec(m: FlowMechanism) -> dict:
    config = {k: v for k, v in m.net.config.items() if k != "kind"}
    return {"flow": config,
            "state": {k: scm_spec.tensor_to_spec(t) for k, t in m.net.state_dict().items()},
            "noise": {"kind": "normal", "dtype": "float32", "loc": 0.0, "scale": 1.0}}


def _from_spec(d: dict, parents: list, where: str) -> FlowMechanism:
    if not isinstance(d.get("flow"), dict) or not isinstance(d.get("state"), dict):
        raise scm_spec.SpecError(f"{where}: a flow mechanism needs 'flow' (its settings) and 'state' (its weights).")
    try:
        net = build_flow({"kind": ConditionalFlow.kind, **d["flow"]})
        state = {k: scm_spec.tensor_from_spec(t, f"{where}.state.{k}") for k, t in d["state"].items()}
        net.load_state_dict(state)
        return FlowMechanism(parents, net=net)
    except (WorkbenchInputError, RuntimeError) as exc:
        if isinstance(exc, scm_spec.SpecError):
            raise
        raise scm_spec.SpecError(f"{where}: the flow's settings or weights do not fit ({exc}).") from exc


scm_spec.register_mechanism_kind("flow", FlowMechanism, _to_spec, _from_spec)


@scm_fast.counterfactual_columns.register
def _one_step_counterfactual(mech: FlowMechanism, value, factual_columns, cf_columns, changes=None):
    """Abduction and prediction at once for fully observed units (the SCM's bare route):
    ``T^{-1}(T(value; factual parents); counterfactual parents)``; no parent changed, no work."""
    value = value.to(torch.get_default_dtype())
    if all(cf is fact for cf, fact in zip(cf_columns, factual_columns)):
        return value.clone()
    stack, net = scm_fast.stack_columns, mech.net   # the SCM checked the units: no checks again
    fact = stack(factual_columns, value.shape, value.device) if mech.parents else None
    cf = stack(cf_columns, value.shape, value.device) if mech.parents else None
    u = net._transform(fact)(value.unsqueeze(-1))
    return net._transform(cf).inv(u).squeeze(-1)
