"""A conditional normalizing flow from zuko, with the data's units built in.

A normalizing flow is an invertible map ``T`` from data ``x`` to a base variable
``z = T(x; c)`` (here a standard normal), so that by the change of variables

.. math::  \\log q(x \\mid c) = \\log N(T(x; c); 0, I) + \\log |\\det \\partial T / \\partial x|.

:class:`ConditionalFlow` is zuko's masked autoregressive flow (``"maf"``: affine
layers, Papamakarios et al. 2017) or neural spline flow (``"nsf"``: monotonic
rational-quadratic splines, Durkan et al. 2019) preceded by a fixed standardisation of
``x`` and of the context ``c`` (means and scales stored as buffers, set from the data by
:meth:`ConditionalFlow.standardize`), so densities are in the data's own units. It has
the small API of :func:`workbench.latents.train`: ``loss(batch, generator)``,
``config``, ``device`` and ``kind``; a training batch is ``[x, c]`` side by side.

Examples
--------
>>> import torch
>>> flow = ConditionalFlow(features=1, context=2, flow="maf", transforms=2, hidden=(8,))
>>> x, c = torch.randn(5, 1), torch.randn(5, 2)
>>> z = flow.transform(c)(x)
>>> bool(torch.allclose(flow.transform(c).inv(z.clone()), x, atol=1e-5))
True
>>> flow.log_prob(x, c).shape
torch.Size([5])
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import zuko
from torch import nn
from torch.distributions.transforms import AffineTransform

from workbench.errors import NonFiniteValueError, ShapeError, WorkbenchInputError
from workbench.runtime import device as runtime_device

__all__ = ["ConditionalFlow", "FLOW_KINDS", "build_flow"]

#: the flow families we ship, each a zuko class
FLOW_KINDS = {"maf": zuko.flows.MAF, "nsf": zuko.flows.NSF}


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkbenchInputError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return value


def check_finite_data(name: str, t: torch.Tensor) -> None:
    """Raise :class:`NonFiniteValueError` if ``t`` holds a NaN or an infinity.

    Examples
    --------
    >>> import torch
    >>> check_finite_data("x", torch.ones(3, 2)) is None
    True
    >>> check_finite_data("x", torch.tensor([1.0, float("inf")]))
    Traceback (most recent call last):
    ...
    workbench.errors.NonFiniteValueError: x has 1 row(s) with NaN or infinite values; drop or fix them.
    """
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).any(dim=-1).sum()) if t.dim() > 1 else int((~torch.isfinite(t)).sum())
        raise NonFiniteValueError(f"{name} has {bad} row(s) with NaN or infinite values; drop or fix them.")


class ConditionalFlow(nn.Module):
    """A zuko flow over ``features`` variables given ``context`` variables, in data units.

    Parameters
    ----------
    features : int
        Dimension of ``x``.
    context : int
        Dimension of the conditioning ``c`` (0 for an unconditional flow).
    flow : {"maf", "nsf"}
        Affine autoregressive layers or rational-quadratic spline layers.
    transforms : int
        Number of layers.
    hidden : sequence of int
        Hidden layer widths of each layer's network.
    bins : int
        Spline bins (``"nsf"`` only).
    adjacency : bool tensor ``(features, features)``, optional
        ``adjacency[i, j]`` true when ``x_i`` may depend on ``x_j`` (diagonal true): the
        mask of a causal normalizing flow (see :class:`~workbench.latents.flows.CausalFlow`).
    device : optional
        Where the weights live; :func:`workbench.device` by default.

    Examples
    --------
    >>> import torch
    >>> flow = ConditionalFlow(features=2, context=1, flow="nsf", transforms=1, hidden=(8,))
    >>> c = torch.tensor([[0.5], [-0.5]])
    >>> flow.sample(c).shape, flow.log_prob(torch.zeros(2, 2), c).shape   # one draw per context row
    (torch.Size([2, 2]), torch.Size([2]))
    """

    kind = "conditional_flow"

    def __init__(self, features: int = 1, context: int = 0, *, flow: str = "nsf",
                 transforms: int = 3, hidden: Sequence[int] = (32, 32), bins: int = 8,
                 adjacency=None, device=None):
        super().__init__()
        self.features = _positive_int("features", features)
        self.context = _positive_int("context", context, minimum=0)
        if flow not in FLOW_KINDS:
            raise WorkbenchInputError(f"Unknown flow {flow!r}; choose one of {sorted(FLOW_KINDS)}.")
        self.flow_kind, self.transforms = flow, _positive_int("transforms", transforms)
        if not isinstance(hidden, (list, tuple)):
            raise WorkbenchInputError(f"hidden must be a sequence of layer widths, like (32, 32), got {hidden!r}; "
                                      "for one hidden layer write a 1-tuple, like (16,).")
        self.hidden = tuple(_positive_int("hidden width", h) for h in hidden)
        self.bins = _positive_int("bins", bins, minimum=2)
        options = {"hidden_features": self.hidden}
        if flow == "nsf":
            options["bins"] = self.bins
        self.adjacency = None
        if adjacency is not None:
            adjacency = torch.as_tensor(adjacency, dtype=torch.bool)
            if adjacency.shape != (self.features, self.features):
                raise ShapeError(f"adjacency must be ({self.features}, {self.features}), "
                                 f"got {tuple(adjacency.shape)}.")
            self.adjacency = adjacency | torch.eye(self.features, dtype=torch.bool)
            options["adjacency"] = self.adjacency
        self.net = FLOW_KINDS[flow](self.features, self.context, transforms=self.transforms, **options)
        self.register_buffer("x_loc", torch.zeros(self.features))
        self.register_buffer("x_scale", torch.ones(self.features))
        self.register_buffer("c_loc", torch.zeros(self.context))
        self.register_buffer("c_scale", torch.ones(self.context))
        self.kl_scale = 1.0  # read by nothing here; the training loop sets it for every model
        self.to(runtime_device(device))

    # ------------------------------------------------------------------ set-up
    @property
    def device(self) -> torch.device:
        """The device the flow's parameters are on."""
        return self.x_loc.device

    @property
    def data_shape(self) -> tuple:
        """The shape of one training row, ``[x, c]``: read by :func:`workbench.latents.train`."""
        return (self.features + self.context,)

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this flow (see :func:`build_flow`)."""
        out = {"kind": self.kind, "features": self.features, "context": self.context,
               "flow": self.flow_kind, "transforms": self.transforms, "hidden": list(self.hidden),
               "bins": self.bins}
        if self.adjacency is not None:
            out["adjacency"] = self.adjacency.int().tolist()
        return out

    @torch.no_grad()
    def standardize(self, x: torch.Tensor, c: torch.Tensor | None = None, *,
                    robust: bool = False) -> "ConditionalFlow":
        """Set the fixed standardisation from data: ``x`` and ``c`` are scaled to mean 0, sd 1.

        ``robust=True`` uses the median and the interquartile range / 1.349 instead (the
        mean and sd of a normal): a few huge values (a heavy tail) then cannot squeeze the
        bulk of the data into a sliver the flow's bounded scales cannot resolve.

        Examples
        --------
        >>> import torch
        >>> x = torch.cat([torch.linspace(-1, 1, 99), torch.tensor([1e4])])[:, None]
        >>> flow = ConditionalFlow(1, 0, flow="maf", transforms=1)
        >>> round(float(flow.standardize(x).x_scale), 1), round(float(flow.standardize(x, robust=True).x_scale), 2)
        (1000.0, 0.75)
        """
        x, c = self._check(x, c)
        if x.dim() != 2 or x.shape[0] == 0:
            raise ShapeError(f"x must be (n, {self.features}) with at least one row, got shape {tuple(x.shape)}.")
        for name, t, loc, scale in (("x", x, self.x_loc, self.x_scale), ("context", c, self.c_loc, self.c_scale)):
            if t is None or t.shape[-1] == 0:
                continue
            if robust and t.shape[0] > 1:
                q = torch.quantile(t, torch.tensor([0.25, 0.5, 0.75], dtype=t.dtype, device=t.device), dim=0)
                center, sd = q[1], (q[2] - q[0]) / 1.349
            else:
                center, sd = t.mean(0), (t.std(0) if t.shape[0] > 1 else torch.zeros_like(t[0]))
            if (sd <= 0).any():
                raise WorkbenchInputError(f"A column of {name} is constant; a flow needs data that varies.")
            loc.copy_(center)
            scale.copy_(sd)
        return self

    def _check(self, x: torch.Tensor | None, c: torch.Tensor | None):
        if x is not None:
            x = torch.as_tensor(x, dtype=torch.get_default_dtype(), device=self.device)
            if x.dim() == 0 or x.shape[-1] != self.features:
                raise ShapeError(f"x must have a last axis of {self.features} feature(s), got shape {tuple(x.shape)}.")
            check_finite_data("x", x)
        if self.context == 0:
            if c is not None and torch.as_tensor(c).numel() > 0:
                raise ShapeError("This flow takes no context; pass c=None.")
            return x, None
        if c is None:
            raise ShapeError(f"This flow needs a context of {self.context} value(s) per row.")
        c = torch.as_tensor(c, dtype=torch.get_default_dtype(), device=self.device)
        if c.dim() == 0 or c.shape[-1] != self.context:
            raise ShapeError(f"The context must have a last axis of {self.context}, got shape {tuple(c.shape)}.")
        check_finite_data("The context", c)
        return x, c

    # ------------------------------------------------------------------ the flow
    def transform(self, c: torch.Tensor | None = None):
        """The map ``x -> z`` given context ``c`` (a torch ``Transform``; ``.inv`` maps back).

        Its event has one axis (the features); ``c`` may carry any batch shape.
        """
        return self._transform(self._check(None, c)[1])

    def _transform(self, c):
        """:meth:`transform` on a context already checked (the speed paths' entry)."""
        if c is not None:
            c = (c - self.c_loc) / self.c_scale
        scale = AffineTransform(-self.x_loc / self.x_scale, 1.0 / self.x_scale, event_dim=1)
        return zuko.transforms.ComposedTransform(scale, self.net(c).transform)

    def log_prob(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``log q(x | c)`` in the data's units, one value per row."""
        return self._log_prob(*self._check(x, c))

    def _log_prob(self, x, c):
        # the standardisation written out (not as a transform object: it is most of a training
        # step's overhead over zuko's own flow): z = (x - loc) / scale, log |dz/dx| = -sum log scale
        if c is not None:
            c = (c - self.c_loc) / self.c_scale
        z, ladj = self.net(c).transform.call_and_ladj((x - self.x_loc) / self.x_scale)
        return (-0.5 * (z ** 2).sum(-1) - 0.5 * self.features * math.log(2 * math.pi) + ladj
                - self.x_scale.log().sum())

    def sample(self, c: torch.Tensor | None = None, n: int | None = None, generator=None) -> torch.Tensor:
        """Draws of ``x``: one per row of ``c``, or ``n`` of them for an unconditional flow."""
        _, c = self._check(None, c)
        rows = c.shape[:-1] if c is not None else torch.Size([_positive_int("n", n)])
        z = torch.randn(*rows, self.features, generator=generator, device=self.device)
        return self.transform(c).inv(z)

    def split(self, batch: torch.Tensor):
        """``(x, c)`` from a training batch ``[x, c]`` of shape ``(n, features + context)``."""
        if batch.dim() != 2 or batch.shape[1] != self.features + self.context:
            raise ShapeError(f"A training batch must be (n, {self.features + self.context}) = [x, context], "
                             f"got {tuple(batch.shape)}.")
        return batch[:, :self.features], (batch[:, self.features:] if self.context else None)

    def loss(self, batch: torch.Tensor, generator=None):
        """Mean negative log-likelihood of a batch ``[x, c]`` (maximum likelihood).

        The training loop has checked the whole data set (shape, finite) up front, so the
        batch is not checked again here.
        """
        nll = -self._log_prob(*self.split(batch)).mean()
        value = float(nll.detach())
        return nll, {"loss": value, "nll": value}


def build_flow(config: dict, device=None) -> ConditionalFlow:
    """A fresh (untrained) flow from its ``config``; the weights come from a state dict.

    Examples
    --------
    >>> import torch
    >>> flow = ConditionalFlow(features=1, context=0, flow="maf", transforms=1, hidden=(8,))
    >>> copy = build_flow(flow.config)
    >>> _ = copy.load_state_dict(flow.state_dict())
    >>> x = torch.randn(3, 1)
    >>> bool(torch.equal(copy.log_prob(x), flow.log_prob(x)))
    True
    """
    config = dict(config)
    if config.pop("kind", None) != ConditionalFlow.kind:
        raise WorkbenchInputError(f"Not a {ConditionalFlow.kind} config: {config}.")
    try:
        return ConditionalFlow(**config, device=device)
    except TypeError as exc:
        raise WorkbenchInputError(f"Bad settings for a conditional flow: {exc}.") from exc
