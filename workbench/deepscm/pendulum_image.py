"""The pendulum's image mechanism: a conditional VAE on the four causal variables.

``image := g(z; theta, phi, shadow_length, shadow_position)`` at 32x32 RGB, the digits'
:class:`~workbench.deepscm.vae.ConditionalVAE` (same networks, loss and abduction) with the
pendulum's condition: the four variables standardized by :data:`CONDITION_SCALE`.

What the image noise is, honestly: nothing. :func:`workbench.datasets.pendulum.render_pendulum`
draws every pixel from the four variables, so the true ``U_image`` is empty and the exact
counterfactual is the render of the counterfactual variables. The VAE's ``z`` (2 numbers by
default) can only hold what the decoder fails to read from the condition; its KL term to
``N(0, I)`` is the price of using it, so a good fit leaves it nearly unused (a small KL, in
nats, recorded with the weights). Abduction ``E[z | x, pa]`` then carries the decoder's own
errors for this unit from the factual world into the counterfactual one, and nothing else.

Examples
--------
>>> import torch
>>> from workbench.deepscm.pendulum_parents import pendulum_parent_data
>>> from workbench.datasets.pendulum import render_pendulum
>>> values = pendulum_parent_data(2, seed=0)
>>> images = render_pendulum(values, 32)
>>> cvae = PendulumCVAE(latent_dim=2, channels=8, hidden=16)
>>> z = cvae.abduct(images, values)
>>> z.shape, cvae.predict(z, values).shape, cvae.exact
(torch.Size([2, 2]), torch.Size([2, 3, 32, 32]), False)
"""

from __future__ import annotations

from typing import Mapping

import torch

from workbench.deepscm.pendulum_parents import PENDULUM_VARIABLES, ROOT_RANGE
from workbench.deepscm.vae import ConditionalVAE
from workbench.datasets.scm import InterventionRangeError
from workbench.errors import UnknownVariableError, WorkbenchInputError
from workbench.latents.pretrained import register_builder
from workbench.metrics.soundness.generators import check_images, check_parents

__all__ = ["CONDITION_SCALE", "PendulumCVAE", "encode_pendulum", "check_pendulum_values"]

#: (centre, spread) standardizing each variable (its mean and sd under the pendulum's SCM)
CONDITION_SCALE = {"theta": (0.02, 0.38), "phi": (1.62, 0.40), "shadow_length": (5.0, 2.4),
                   "shadow_position": (10.5, 3.5)}


def check_pendulum_values(values: Mapping, n: int | None = None) -> dict[str, torch.Tensor]:
    """The four variables, one finite value per unit, the angles where the models were fitted.

    Raises :class:`~workbench.errors.UnknownVariableError` for a missing variable and
    :class:`~workbench.errors.InterventionRangeError` for an angle outside :data:`ROOT_RANGE`
    (``phi`` is the light's angle above the ground, in ``(0, pi)``; the light straight
    overhead or below the horizon casts no shadow these equations describe).

    Examples
    --------
    >>> import torch
    >>> v = {"theta": torch.zeros(1), "phi": torch.tensor([3.5]), "shadow_length": torch.ones(1),
    ...      "shadow_position": torch.ones(1)}
    >>> check_pendulum_values(v)
    Traceback (most recent call last):
    ...
    workbench.datasets.scm.InterventionRangeError: phi = 3.5 is outside [0.942, 2.31], the range this model was fitted on (phi is the light's angle above the ground, in (0, pi), so its shadow falls on the ground strip).
    """
    if not isinstance(values, Mapping):
        raise WorkbenchInputError(f"values must be a dict {{variable: tensor (n,)}} of "
                                  f"{', '.join(PENDULUM_VARIABLES)}; got {type(values).__name__}.")
    for name in PENDULUM_VARIABLES:
        if name not in values:
            raise UnknownVariableError(name, list(values), what="variable")
    if n is None:
        n = len(torch.as_tensor(values["theta"]).reshape(-1))
    out = check_parents({v: torch.as_tensor(values[v]).detach().cpu() for v in PENDULUM_VARIABLES}, n)
    for name, (low, high) in ROOT_RANGE.items():
        bad = out[name][(out[name] < low - 1e-4) | (out[name] > high + 1e-4)]
        if bad.numel():
            why = ("phi is the light's angle above the ground, in (0, pi), so its shadow falls on the ground "
                   "strip" if name == "phi" else "theta is the pendulum's angle from the vertical")
            raise InterventionRangeError(f"{name} = {float(bad[0]):.3g} is outside [{low:.3g}, {high:.3g}], "
                                         f"the range this model was fitted on ({why}).")
    if bool((out["shadow_length"] < 0).any()):
        raise InterventionRangeError(f"shadow_length = {float(out['shadow_length'].min()):.3g} is negative; a "
                                     "shadow's length is at least 0 (the SCM's own shadows are at least 3).")
    return out


def encode_pendulum(values: Mapping, device=None) -> torch.Tensor:
    """The condition ``(n, 4)``: each variable standardized by :data:`CONDITION_SCALE`.

    Examples
    --------
    >>> import torch
    >>> v = {"theta": torch.tensor([0.02]), "phi": torch.tensor([2.02]), "shadow_length": torch.tensor([5.0]),
    ...      "shadow_position": torch.tensor([10.5])}
    >>> encode_pendulum(v)
    tensor([[0., 1., 0., 0.]])
    """
    pa = check_pendulum_values(values)
    out = torch.stack([(pa[v] - CONDITION_SCALE[v][0]) / CONDITION_SCALE[v][1] for v in PENDULUM_VARIABLES], 1)
    return out if device is None else out.to(device)


class PendulumCVAE(ConditionalVAE):
    """``image := g(z; theta, phi, shadow_length, shadow_position)``, 32x32 RGB, ``z ~ N(0, I)``.

    Parameters: as :class:`~workbench.deepscm.vae.ConditionalVAE`, with the pendulum's
    image shape ``(3, 32, 32)`` and a 2-number latent by default.

    Examples
    --------
    >>> cvae = PendulumCVAE(latent_dim=2, channels=8, hidden=16)
    >>> cvae.config["kind"], cvae.condition_dim, cvae.parents
    ('deepscm_pendulum_cvae', 4, ('theta', 'phi', 'shadow_length', 'shadow_position'))
    >>> cvae.abduct(torch.zeros(1, 1, 32, 32), {})
    Traceback (most recent call last):
    ...
    workbench.errors.ShapeError: images have shape (1, 1, 32, 32); this mechanism takes (n, 3, 32, 32).
    """

    kind = "deepscm_pendulum_cvae"
    parents = PENDULUM_VARIABLES
    condition_dim = 4

    def __init__(self, image_shape=(3, 32, 32), latent_dim: int = 2, channels: int = 32, hidden: int = 128,
                 beta: float = 1.0, device=None):
        super().__init__(image_shape, latent_dim, channels, hidden, beta, device)

    def condition(self, parents: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """:func:`encode_pendulum` on this mechanism's device."""
        return encode_pendulum(parents, device=self.device)

    @staticmethod
    def training_data(images: torch.Tensor, values: Mapping[str, torch.Tensor]):
        """``(images, table)`` for :func:`workbench.latents.train`, ``table`` the four variables' columns.

        Examples
        --------
        >>> import torch
        >>> v = {k: torch.ones(1) for k in PENDULUM_VARIABLES}
        >>> PendulumCVAE.training_data(torch.zeros(1, 3, 32, 32), v)[1]
        tensor([[1., 1., 1., 1.]])
        """
        images = check_images(images)
        pa = check_parents({v: values[v] for v in PENDULUM_VARIABLES}, len(images))
        return images, torch.stack([pa[v] for v in PENDULUM_VARIABLES], 1)


def _build_pendulum_cvae(config: dict, device) -> PendulumCVAE:
    return PendulumCVAE(**{k: v for k, v in config.items() if k != "kind"}, device=device)


register_builder(PendulumCVAE.kind, _build_pendulum_cvae)
