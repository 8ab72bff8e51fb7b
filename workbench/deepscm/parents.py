"""The top of the digits' deep SCM: thickness -> intensity, exact or as learned flows.

The image's parents have their own mechanisms (Pawlowski, Castro & Glocker, NeurIPS 2020):
``thickness := f_t(U_t)`` and ``intensity := f_i(U_i; thickness)``. Both are invertible in
their noise, so their abduction is exact and a counterfactual's parents follow from three
steps: abduct ``U_t, U_i``, apply ``do(...)``, solve the mechanisms again. ``do(thickness)``
therefore moves the intensity too, through the unit's own ``U_i``.

Two versions, both a :class:`workbench.scm.SCM` over ``thickness`` and ``intensity``:

* :func:`exact_digit_parents`: the digits' own equations (what :class:`workbench.datasets.Digits`
  draws from), as mechanisms with exact inverses;
* :class:`DigitParentFlows`: the two flows of :func:`workbench.latents.flows.fit_digit_parents`
  packed in one module, so they save and load as the pretrained ``deepscm_parents_digits``
  (``DigitParentFlows(...).scm()`` is the learned SCM).

Examples
--------
>>> import torch
>>> from workbench.scm import counterfactual_by_hand
>>> exact = exact_digit_parents()
>>> unit = {"thickness": torch.tensor([2.5]), "intensity": torch.tensor([159.5])}   # U_i = 0
>>> r = counterfactual_by_hand(exact, unit, {"thickness": torch.tensor([3.0])})
>>> round(float(r.counterfactual["intensity"][0]), 2)                  # 64 + 191 sigmoid(1)
203.63
"""

from __future__ import annotations

import pyro.distributions as dist
import torch
from torch import nn

from workbench.datasets.digits import intensity_mechanism
from workbench.errors import WorkbenchInputError
from workbench.latents.flows import ConditionalFlow, DigitParentsFit, FlowMechanism, build_flow
from workbench.latents.pretrained import register_builder
from workbench.runtime import device as runtime_device
from workbench.scm import SCM, FunctionMechanism

__all__ = ["PARENT_VARIABLES", "exact_digit_parents", "DigitParentFlows", "parent_scm"]

#: the image's continuous parents with mechanisms of their own, in causal order
PARENT_VARIABLES = ("thickness", "intensity")


def _intensity_inverse(value, pa):
    s = (value.double() - 64.0) / 191.0
    if bool(((s <= 0) | (s >= 1)).any()):
        raise WorkbenchInputError("intensity must lie strictly between 64 and 255 grey levels (the range of the "
                                  "digits' intensity mechanism) for its noise to be abducted; got "
                                  f"{float(value.min()):g}..{float(value.max()):g}.")
    return (torch.logit(s) - 2.0 * (pa[..., 0].double() - 2.5)).to(value.dtype)


def exact_digit_parents() -> SCM:
    """The digits' own parent equations as an SCM with exact inverses.

    ``thickness := 0.5 + U_t`` with ``U_t ~ Gamma(10, rate 5)`` and
    ``intensity := 64 + 191 sigmoid(2 (thickness - 2.5) + U_i)`` with ``U_i ~ N(0, 0.5^2)``
    (:class:`workbench.datasets.Digits`); the noise of intensity is abducted in float64.

    Examples
    --------
    >>> m = exact_digit_parents()
    >>> m.variables, m.mechanisms["intensity"].invertible
    (['thickness', 'intensity'], True)
    >>> bool((m.sample(1000, seed=0)["thickness"] > 0.5).all())
    True
    """
    number = lambda value: torch.tensor(value, device=runtime_device())    # noqa: E731 (noise on the SCM's device)
    thickness = FunctionMechanism([], lambda pa, u: 0.5 + u, dist.Gamma(number(10.0), number(5.0)),
                                  inverse=lambda value, pa: value - 0.5)
    intensity = FunctionMechanism(["thickness"], lambda pa, u: intensity_mechanism(pa[..., 0], u),
                                  dist.Normal(number(0.0), number(0.5)), inverse=_intensity_inverse)
    return SCM({"thickness": thickness, "intensity": intensity}, name="digit_parents_exact")


class DigitParentFlows(nn.Module):
    """The learned parent mechanisms: a flow for ``thickness`` and one for ``intensity | thickness``.

    Parameters
    ----------
    thickness, intensity : ConditionalFlow
        One feature each; ``intensity`` takes ``thickness`` as its one context column.

    Examples
    --------
    >>> from workbench.latents.flows import fit_digit_parents
    >>> fit = fit_digit_parents(n_train=200, n_test=200, steps=2, flow="maf", transforms=1, progress=False)
    >>> flows = DigitParentFlows.from_fit(fit)
    >>> flows.config["kind"], flows.scm().variables
    ('deepscm_parents', ['thickness', 'intensity'])
    """

    kind = "deepscm_parents"

    def __init__(self, thickness: ConditionalFlow, intensity: ConditionalFlow):
        super().__init__()
        for name, flow, context in (("thickness", thickness, 0), ("intensity", intensity, 1)):
            if not isinstance(flow, ConditionalFlow) or flow.features != 1 or flow.context != context:
                raise WorkbenchInputError(f"The {name} flow must be a ConditionalFlow of 1 feature and "
                                          f"{context} context column(s).")
        self.thickness, self.intensity = thickness, intensity

    @classmethod
    def from_fit(cls, fit) -> "DigitParentFlows":
        """The flows of a :class:`~workbench.latents.flows.DigitParentsFit` (or of its ``scm``)."""
        scm = fit.scm if isinstance(fit, DigitParentsFit) else fit
        return cls(scm.mechanisms["thickness"].net, scm.mechanisms["intensity"].net)

    @property
    def config(self) -> dict:
        """Everything needed to rebuild the module (see :func:`load_pretrained`)."""
        return {"kind": self.kind, "thickness": self.thickness.config, "intensity": self.intensity.config}

    @property
    def device(self) -> torch.device:
        """The device of the flows' parameters."""
        return self.thickness.device

    def scm(self) -> SCM:
        """The learned SCM over thickness and intensity, :class:`FlowMechanism` s sharing these weights."""
        return SCM({"thickness": FlowMechanism([], net=self.thickness.eval()),
                    "intensity": FlowMechanism(["thickness"], net=self.intensity.eval())},
                   name="digit_parents_flows")


def _build_parent_flows(config: dict, device) -> DigitParentFlows:
    return DigitParentFlows(build_flow(config["thickness"], device), build_flow(config["intensity"], device))


register_builder(DigitParentFlows.kind, _build_parent_flows)


def parent_scm(parents=None) -> SCM:
    """The parents' SCM from what :class:`~workbench.deepscm.DigitsDeepSCM` accepts.

    ``None``: :func:`exact_digit_parents`; a :class:`DigitParentFlows`, a
    :class:`~workbench.latents.flows.DigitParentsFit` or an :class:`~workbench.scm.SCM` over
    thickness and intensity with invertible mechanisms.

    Examples
    --------
    >>> parent_scm().name
    'digit_parents_exact'
    >>> parent_scm("flows")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: parents must be None (the digits' exact equations), a DigitParentFlows (e.g. load_pretrained('deepscm_parents_digits')), a DigitParentsFit or an SCM over thickness and intensity; got str.
    """
    if parents is None:
        return exact_digit_parents()
    if isinstance(parents, DigitParentFlows):
        return parents.scm()
    if isinstance(parents, DigitParentsFit):
        parents = parents.scm
    if not isinstance(parents, SCM):
        raise WorkbenchInputError(
            "parents must be None (the digits' exact equations), a DigitParentFlows (e.g. "
            "load_pretrained('deepscm_parents_digits')), a DigitParentsFit or an SCM over thickness "
            f"and intensity; got {type(parents).__name__}.")
    if tuple(parents.variables) != PARENT_VARIABLES or parents.interventions:
        raise WorkbenchInputError(f"The parents' SCM must be over {list(PARENT_VARIABLES)} (in that order) "
                                  f"with no interventions; got {parents}.")
    if not all(m.invertible for m in parents.mechanisms.values()):
        raise WorkbenchInputError("The parents' mechanisms must be invertible in their noise (flows), "
                                  "so their abduction is exact.")
    return parents
