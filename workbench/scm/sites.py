"""The names of an SCM program's Pyro sites, built in this one place.

Every variable ``v`` has a value site named ``v`` and, in the explicit-noise program,
a noise site named :func:`noise_site` ``(v)``; all units sit in the plate :data:`UNITS`.

Examples
--------
>>> noise_site("smoking")
'U_smoking'
"""

from __future__ import annotations

__all__ = ["UNITS", "noise_site"]

#: the name of the plate over units
UNITS = "units"


def noise_site(variable: str) -> str:
    """The name of the Pyro site holding ``variable``'s exogenous noise: ``'U_' + variable``.

    Examples
    --------
    >>> noise_site("y")
    'U_y'
    """
    return f"U_{variable}"
