"""The image's Pyro sites in the deep SCM's program: its noise, and predictions in ChiRho's worlds.

An image mechanism's noise is one tensor (a VAE's ``z``, a flow's base variable) or a
(named) tuple of tensors (a diffusion model's ``SemanticNoise(z_sem, x_T)``). In the Pyro
program each tensor is its own sample site: ``U_image`` for one tensor, ``U_image_<field>``
for each part of a tuple (:func:`noise_sites`). Inside ChiRho's world handlers the parents
carry world axes in front of the units; :func:`predict_in_worlds` runs the mechanism on
every world at once.

Examples
--------
>>> import torch
>>> sorted(noise_sites(torch.zeros(2, 3)))
['U_image']
>>> from collections import namedtuple
>>> Pair = namedtuple("Pair", "z_sem x_T")
>>> sites = noise_sites(Pair(torch.zeros(2, 4), torch.zeros(2, 1, 8, 8)))
>>> sorted(sites), rebuild_noise(Pair(None, None), list(sites.values())).z_sem.shape
(['U_image_x_T', 'U_image_z_sem'], torch.Size([2, 4]))
"""

from __future__ import annotations

from typing import Mapping

import torch
from chirho.indexed.ops import IndexSet, gather

from workbench.deepscm.mechanism import IMAGE_PARENTS
from workbench.errors import WorkbenchInputError
from workbench.scm.sites import noise_site

__all__ = ["IMAGE_NOISE_SITE", "IMAGE_EVENT_DIM", "noise_sites", "rebuild_noise", "world", "predict_in_worlds"]

#: the Pyro site of the image's noise (or the prefix of its parts' sites)
IMAGE_NOISE_SITE = noise_site("image")
#: an image's event axes (channels, height, width)
IMAGE_EVENT_DIM = 3


def noise_sites(noise) -> dict[str, torch.Tensor]:
    """``{site: tensor}`` of an image noise: one tensor, or each part of a (named) tuple.

    Examples
    --------
    >>> import torch
    >>> sorted(noise_sites((torch.zeros(1, 2), torch.zeros(1, 3))))
    ['U_image_0', 'U_image_1']
    >>> noise_sites({"z": torch.zeros(1, 2)})
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchInputError: The image noise must be a tensor or a (named) tuple of tensors, one row per image; got dict.
    """
    if isinstance(noise, torch.Tensor):
        return {IMAGE_NOISE_SITE: noise}
    if isinstance(noise, tuple) and noise and all(isinstance(t, torch.Tensor) for t in noise):
        fields = getattr(noise, "_fields", None) or [str(i) for i in range(len(noise))]
        return {f"{IMAGE_NOISE_SITE}_{f}": t for f, t in zip(fields, noise)}
    raise WorkbenchInputError("The image noise must be a tensor or a (named) tuple of tensors, one row per "
                              f"image; got {type(noise).__name__}.")


def rebuild_noise(like, parts: list):
    """The noise of :func:`noise_sites`' ``parts`` again, of the same kind as ``like``.

    Examples
    --------
    >>> import torch
    >>> rebuild_noise(torch.zeros(1), [torch.ones(1)])
    tensor([1.])
    """
    if isinstance(like, torch.Tensor):
        return parts[0]
    return type(like)(*parts) if hasattr(like, "_fields") else tuple(parts)


def world(x: torch.Tensor, names, index: int, event_dim: int) -> torch.Tensor:
    """World ``index`` of a value inside a ChiRho world handler (a value with no world axis is
    shared by every world and returned as it is).

    Examples
    --------
    >>> import torch
    >>> world(torch.ones(3), ["thickness"], 1, event_dim=0)     # units only: no world axis
    tensor([1., 1., 1.])
    """
    if x.dim() - event_dim <= 1:
        return x
    return gather(x, IndexSet(**{k: {index} for k in names}), event_dim=event_dim)


def _expand(t: torch.Tensor, batch: torch.Size, device) -> torch.Tensor:
    return t.expand(*batch, *t.shape[1:]).reshape(-1, *t.shape[1:]).to(device)


def predict_in_worlds(mechanism, noise, parents: Mapping) -> torch.Tensor:
    """``mechanism.predict`` on parents that may carry world axes in front of the units: the
    parents are broadcast together, the noise (one row per unit) expanded to match, and the
    images come back with the same leading axes.

    Examples
    --------
    >>> import torch
    >>> from workbench.deepscm import IntensityScaling
    >>> pa = {"digit": torch.zeros(2), "thickness": torch.full((2,), 2.0),
    ...       "intensity": torch.tensor([[51.0, 51.0], [102.0, 102.0]])}    # two worlds, two units
    >>> predict_in_worlds(IntensityScaling(), torch.ones(2, 1, 1, 1), pa)[:, :, 0, 0, 0]
    tensor([[0.2000, 0.2000],
            [0.4000, 0.4000]])
    """
    columns = torch.broadcast_tensors(*[parents[v].to(torch.float32) for v in IMAGE_PARENTS])
    batch = columns[0].shape
    flat = {v: c.reshape(-1) for v, c in zip(IMAGE_PARENTS, columns)}
    parts = [_expand(t, batch, mechanism.device) for t in noise_sites(noise).values()]
    images = mechanism.predict(rebuild_noise(noise, parts), flat)
    return images.reshape(*batch, *images.shape[1:])
