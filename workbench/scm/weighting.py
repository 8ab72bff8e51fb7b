"""Likelihood weighting: prior draws of an SCM, each weighted by how well it explains data.

The one place where an SCM is conditioned by importance sampling. The density form of
the program (``explicit_noise=False``) runs under ``pyro.poutine.condition``: the
observed variables are clamped to the data, every other variable is drawn from the
prior, and each draw's log weight is the sum of the observed variables' log densities
given their drawn parents. :meth:`SCM.sample <workbench.scm.SCM.sample>` of a conditioned
model and :func:`~workbench.scm.complete_units` resample from these draws.

Examples
--------
>>> import torch
>>> from workbench.scm import SCM, LinearGaussian
>>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 1.0})})
>>> draws, logw = likelihood_weighting(m, {"y": torch.tensor(2.0).expand(4000)}, 4000)
>>> sorted(draws), logw.shape
(['x', 'y'], torch.Size([4000]))
>>> posterior_mean = float((torch.softmax(logw, 0) * draws["x"]).sum())   # exact: 1.0
>>> abs(posterior_mean - 1.0) < 0.1
True
"""

from __future__ import annotations

from typing import Mapping

import pyro
import torch

from workbench.errors import WorkbenchInputError

__all__ = ["likelihood_weighting"]


def likelihood_weighting(scm, data: Mapping[str, torch.Tensor], draws: int) -> tuple[dict, torch.Tensor]:
    """``draws`` prior draws of ``scm`` with ``data`` clamped, and each draw's log weight.

    Parameters
    ----------
    scm : SCM
        The model (its interventions apply).
    data : mapping of str to tensor of shape (draws,)
        The observed values, one per draw.
    draws : int
        The number of draws.

    Returns
    -------
    values : dict of str to tensor (draws,)
        Every variable's value in each draw (the data for the observed ones).
    log_weights : tensor (draws,)
        ``sum_v log P(data_v | drawn parents)``; ``-inf`` where a draw cannot explain the data.

    Raises
    ------
    WorkbenchInputError
        If an observed variable's mechanism has no density (``has_density`` is false).

    Examples
    --------
    >>> import torch
    >>> from workbench.scm import SCM, LinearGaussian
    >>> m = SCM({"x": LinearGaussian(), "y": LinearGaussian({"x": 1.0})})
    >>> draws, logw = likelihood_weighting(m, {"y": torch.zeros(5)}, 5)
    >>> bool(torch.equal(draws["y"], torch.zeros(5))), logw.shape
    (True, torch.Size([5]))
    """
    for v in data:
        if not scm.mechanisms[v].has_density:
            raise WorkbenchInputError(
                f"Cannot condition on {v!r}: its mechanism has no density P({v} | parents). "
                "Observe every variable instead, or give it a mechanism with a density "
                "(additive noise or a table).")
    with torch.no_grad():
        tr = pyro.poutine.trace(pyro.poutine.condition(scm.model, data=data)).get_trace(
            draws, explicit_noise=False)
    log_weights = sum(tr.nodes[v]["fn"].log_prob(tr.nodes[v]["value"]) for v in data)
    return {v: tr.nodes[v]["value"].expand(draws) for v in scm.variables}, log_weights
