"""The top of the pendulum's deep SCM: theta, phi -> shadow_length, shadow_position.

CausalVAE's pendulum (:class:`workbench.datasets.Pendulum`) has two roots, the pendulum's
angle ``theta`` and the light's angle ``phi``, and two effects, the shadow's length and
position, each with its own additive noise (``U_l, U_p ~ N(0, 0.5^2)``). The length is
clamped: ``shadow_length := max(3, |s| + U_l)``, and about 39% of the draws sit exactly on
the floor of 3. That clamp is known structure, so the learned mechanisms keep it:

* ``shadow_position := T_p^{-1}(U_p; theta, phi)``: a conditional flow, abduction by
  inversion, exact;
* ``shadow_length := max(3, T_l^{-1}(U_l; theta, phi))``: a flow for the length *before*
  the clamp (:class:`CensoredFlow`, fitted by the censored likelihood of a Tobit model:
  ``log p(l | pa)`` above the floor, ``log P(T_l^{-1}(U) <= 3 | pa)`` on it). Above the
  floor abduction is exact inversion; on the floor only ``U_l <= T_l(3; pa)`` is known,
  and :class:`ClampedFlowMechanism` takes the median of those noises (deterministic; the
  truth is not recoverable from the data, and the report says so).

The roots are their own noise, uniform on the data's range. :func:`exact_pendulum_parents`
is the same SCM with the true equations (the same convention on the floor), so an image
mechanism can be scored with exact and with learned parents.

Examples
--------
>>> import torch
>>> from workbench.scm import counterfactual_by_hand
>>> exact = exact_pendulum_parents()
>>> unit = {"theta": torch.tensor([0.0]), "phi": torch.tensor([0.7854]),
...         "shadow_length": torch.tensor([9.7]), "shadow_position": torch.tensor([3.65])}
>>> r = counterfactual_by_hand(exact, unit, {"phi": torch.tensor([1.5708])})   # light overhead
>>> [round(float(r.counterfactual[v][0]), 2) for v in ("theta", "shadow_length", "shadow_position")]
[0.0, 3.0, 9.9]
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
from torch import nn

from workbench.datasets.pendulum import ROD, Pendulum, shadow_equations
from workbench.errors import WorkbenchInputError
from workbench.latents.flows import ConditionalFlow, FlowMechanism, build_flow
from workbench.latents.pretrained import register_builder
from workbench.runtime import device as runtime_device
from workbench.scm import SCM, FunctionMechanism
from workbench.scm import fast as scm_fast

__all__ = ["PENDULUM_VARIABLES", "ROOTS", "SHADOWS", "MIN_LENGTH", "ROOT_RANGE", "CensoredFlow",
           "ClampedFlowMechanism", "exact_pendulum_parents", "PendulumParentFlows", "pendulum_parent_data",
           "fit_pendulum_parents"]

#: the four causal variables, in causal order
PENDULUM_VARIABLES = ("theta", "phi", "shadow_length", "shadow_position")
ROOTS, SHADOWS = PENDULUM_VARIABLES[:2], PENDULUM_VARIABLES[2:]
#: the shadow is never shorter than this (the clamp of CausalVAE's generator)
MIN_LENGTH = 3.0
#: the range of each root in the data (CausalVAE's grid), the range the models were fitted on
ROOT_RANGE = {m.name: (m.low, m.high) for m in Pendulum(size=8).scm.mechanisms[:2]}


def _median_below(u_floor: torch.Tensor) -> torch.Tensor:
    """The median of a standard normal truncated to ``u <= u_floor`` (float64 inside)."""
    log_mass = torch.special.log_ndtr(u_floor.double())
    u = torch.special.ndtri(torch.exp(log_mass - math.log(2.0)))
    return torch.where(torch.isfinite(u), u, u_floor.double() - 1.0).to(u_floor.dtype)


class CensoredFlow(ConditionalFlow):
    """A one-feature :class:`ConditionalFlow` fitted to data clamped from below at ``floor``.

    The flow models the value before the clamp; a row on the floor contributes
    ``log P(x <= floor | c) = log Phi(T(floor; c))`` to the likelihood (a 1-D flow is
    increasing), a row above it ``log q(x | c)`` as usual.

    Examples
    --------
    >>> import torch
    >>> flow = CensoredFlow(context=1, floor=3.0, flow="maf", transforms=1, hidden=(8,))
    >>> batch = torch.tensor([[3.0, 0.0], [4.5, 1.0]])          # one row on the floor, one above
    >>> loss, terms = flow.loss(batch)
    >>> sorted(terms), round(terms["censored"], 2)
    (['censored', 'loss', 'nll'], 0.5)
    """

    kind = "censored_flow"

    def __init__(self, context: int = 0, *, floor: float = MIN_LENGTH, **options):
        super().__init__(1, context, **options)
        self.floor = float(floor)

    @property
    def config(self) -> dict:
        """The flow's settings and its floor."""
        return {**super().config, "kind": self.kind, "floor": self.floor}

    def loss(self, batch: torch.Tensor, generator=None):
        """Mean negative censored log-likelihood of a batch ``[x, c]``."""
        x, c = self.split(batch)
        on_floor = x <= self.floor + 1e-6
        z, ladj = self._transform(c).call_and_ladj(torch.where(on_floor, torch.full_like(x, self.floor), x))
        above = -0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi) + ladj
        ll = torch.where(on_floor[:, 0], torch.special.log_ndtr(z[:, 0]), above)
        nll = -ll.mean()
        value = float(nll.detach())
        return nll, {"loss": value, "nll": value, "censored": float(on_floor.float().mean())}


class ClampedFlowMechanism(FlowMechanism):
    """``v := max(floor, T^{-1}(u; pa))``: a flow mechanism with the pendulum's clamp.

    Abduction inverts the flow above the floor (exact); on the floor it returns the median
    of the noises that reach it, ``u <= T(floor; pa)``. Prediction with that noise is the
    floor again, so the null intervention returns every input exactly.

    Examples
    --------
    >>> import torch
    >>> mech = ClampedFlowMechanism(["t"], net=CensoredFlow(context=1, flow="maf", transforms=1, hidden=(8,)))
    >>> pa = torch.tensor([[0.0], [0.0]])
    >>> v = torch.tensor([3.0, 4.0])
    >>> bool(torch.allclose(mech(pa, mech.abduct(v, pa)), v, atol=1e-5))
    True
    """

    def __init__(self, parents=(), *, net: CensoredFlow):
        super().__init__(parents, net=net)
        self.floor = float(net.floor)

    def __call__(self, pa: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """``max(floor, T^{-1}(u; pa))``."""
        return super().__call__(pa, u).clamp_min(self.floor)

    def abduct(self, value: torch.Tensor, pa: torch.Tensor) -> torch.Tensor:
        """``T(value; pa)`` above the floor; the truncated normal's median on it."""
        value = torch.as_tensor(value, dtype=torch.get_default_dtype(), device=self.net.device)
        u = super().abduct(value.clamp_min(self.floor), pa)
        return torch.where(value <= self.floor + 1e-6, _median_below(u), u)

    def __repr__(self):
        return "Clamped" + super().__repr__()


@scm_fast.counterfactual_columns.register
def _clamped_counterfactual(mech: ClampedFlowMechanism, value, factual_columns, cf_columns, changes=None):
    """The fast route of :mod:`workbench.scm.fast` with the clamp (FlowMechanism's would drop it)."""
    shape, device = value.shape, value.device
    u = mech.abduct(value, scm_fast.stack_columns(factual_columns, shape, device))
    return mech(scm_fast.stack_columns(cf_columns, shape, device), u)


def _root(name: str) -> FunctionMechanism:
    low, high = (torch.tensor(v, device=runtime_device()) for v in ROOT_RANGE[name])
    return FunctionMechanism([], lambda pa, u: u, dist.Uniform(low, high), inverse=lambda value, pa: value)


def exact_pendulum_parents(noise_std: float = 0.5) -> SCM:
    """The pendulum's true equations as an SCM (the floor handled as :class:`ClampedFlowMechanism`).

    Examples
    --------
    >>> m = exact_pendulum_parents()
    >>> m.variables, [m.mechanisms[v].invertible for v in SHADOWS]
    (['phi', 'theta', 'shadow_length', 'shadow_position'], [True, True])
    >>> draws = m.sample(2000, seed=0)
    >>> round(float((draws["shadow_length"] == 3.0).float().mean()), 2)        # on the floor
    0.41
    """
    sigma = float(noise_std)
    noise = dist.Normal(torch.tensor(0.0, device=runtime_device()), sigma)

    def reach(pa):                                   # |s|: the length before noise and clamp
        theta, phi = pa[..., 0], pa[..., 1]
        return (ROD * (torch.sin(theta) + torch.cos(theta) * torch.cos(phi) / torch.sin(phi))).abs()

    def length_inverse(value, pa):
        u = (value - reach(pa)) / sigma
        return sigma * torch.where(value <= MIN_LENGTH + 1e-6, _median_below(u), u)

    length = FunctionMechanism(list(ROOTS), lambda pa, u: (reach(pa) + u).clamp_min(MIN_LENGTH), noise,
                               inverse=length_inverse)
    position = FunctionMechanism(list(ROOTS), lambda pa, u: shadow_equations(pa[..., 0], pa[..., 1])[1] + u,
                                 noise, inverse=lambda v, pa: v - shadow_equations(pa[..., 0], pa[..., 1])[1])
    return SCM({"theta": _root("theta"), "phi": _root("phi"), "shadow_length": length,
                "shadow_position": position}, name="pendulum_parents_exact")



class PendulumParentFlows(nn.Module):
    """The learned shadow mechanisms: a :class:`CensoredFlow` for the length, a flow for the position.

    Both take ``(theta, phi)`` as their two context columns. :meth:`scm` is the learned SCM
    over the four variables (the roots uniform on :data:`ROOT_RANGE`); the module saves and
    loads as the pretrained ``deepscm_parents_pendulum``.

    Examples
    --------
    >>> flows = PendulumParentFlows.new(flow="maf", transforms=1, hidden=(8,))
    >>> flows.config["kind"], flows.scm().variables
    ('deepscm_pendulum_parents', ['phi', 'theta', 'shadow_length', 'shadow_position'])
    """

    kind = "deepscm_pendulum_parents"

    def __init__(self, length: CensoredFlow, position: ConditionalFlow):
        super().__init__()
        if not isinstance(length, CensoredFlow) or length.context != 2:
            raise WorkbenchInputError("The length flow must be a CensoredFlow with 2 context columns (theta, phi).")
        if not isinstance(position, ConditionalFlow) or position.features != 1 or position.context != 2:
            raise WorkbenchInputError("The position flow must be a ConditionalFlow of 1 feature and 2 context "
                                      "columns (theta, phi).")
        self.length, self.position = length, position

    @classmethod
    def new(cls, device=None, **options) -> "PendulumParentFlows":
        """Two untrained flows with the same ``options`` (see :class:`ConditionalFlow`)."""
        return cls(CensoredFlow(2, floor=MIN_LENGTH, device=device, **options),
                   ConditionalFlow(1, 2, device=device, **options))

    @property
    def config(self) -> dict:
        """Everything needed to rebuild the module (see :func:`load_pretrained`)."""
        return {"kind": self.kind, "length": self.length.config, "position": self.position.config}

    @property
    def device(self) -> torch.device:
        """The device of the flows' parameters."""
        return self.length.device

    def scm(self) -> SCM:
        """The learned SCM over the four variables (mechanisms sharing these weights)."""
        return SCM({"theta": _root("theta"), "phi": _root("phi"),
                    "shadow_length": ClampedFlowMechanism(ROOTS, net=self.length.eval()),
                    "shadow_position": FlowMechanism(ROOTS, net=self.position.eval())},
                   name="pendulum_parents_flows")


def _build_parent_flows(config: dict, device) -> PendulumParentFlows:
    length = {k: v for k, v in config["length"].items() if k not in ("kind", "features")}
    return PendulumParentFlows(CensoredFlow(**length, device=device), build_flow(config["position"], device))


register_builder(PendulumParentFlows.kind, _build_parent_flows)


def pendulum_parent_data(n: int, seed: int = 0, noise_std: float = 0.5) -> dict[str, torch.Tensor]:
    """``n`` draws of the four variables from :class:`Pendulum`'s SCM, with their noise ``U_l, U_p``.

    Examples
    --------
    >>> data = pendulum_parent_data(500, seed=0)
    >>> sorted(data)
    ['U_l', 'U_p', 'phi', 'shadow_length', 'shadow_position', 'theta']
    >>> bool((data["shadow_length"] >= 3).all())
    True
    """
    scm = Pendulum(noise_std=noise_std, size=8).scm
    noise = scm.sample_noise(n, generator=seed)
    values = scm.solve(noise)
    return {**values, "U_l": noise["shadow_length"], "U_p": noise["shadow_position"]}


def fit_pendulum_parents(n_train: int = 20_000, *, steps: int = 2000, batch_size: int = 512, lr: float = 3e-3,
                         seed: int = 0, checkpoint_dir=None, progress: bool = True, **flow_options):
    """Fit the two shadow flows to draws of :class:`Pendulum`'s SCM with the one training loop.

    Returns ``(PendulumParentFlows, {"shadow_length": TrainResult, "shadow_position": ...})``;
    with ``checkpoint_dir`` each flow checkpoints in its own sub-folder and a stopped fit resumes.

    Examples
    --------
    >>> flows, results = fit_pendulum_parents(300, steps=3, flow="maf", transforms=1, hidden=(8,), progress=False)
    >>> results["shadow_length"].step, type(flows).__name__
    (3, 'PendulumParentFlows')
    """
    data = pendulum_parent_data(n_train, seed)
    with torch.random.fork_rng(devices=[]):       # initial weights from the seed, global state untouched
        torch.manual_seed(seed)
        flows = PendulumParentFlows.new(**flow_options)
    scm, results = flows.scm(), {}
    for v in SHADOWS:
        folder = None if checkpoint_dir is None else f"{checkpoint_dir}/{v}"
        results[v] = scm.mechanisms[v].fit(data, v, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                                           checkpoint_dir=folder, progress=progress)
    return flows.eval(), results
