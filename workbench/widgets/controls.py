"""Controls shared by the widgets: a float slider that refuses NaN and infinity.

ipywidgets' ``FloatSlider`` clamps a value outside ``[min, max]`` but lets NaN through
(every comparison with NaN is false), so the slider shows NaN while the widget it is
linked to refuses it and keeps its old state: the two disagree and nothing says so.
:class:`FiniteFloatSlider` refuses a non-finite value with a
:class:`~workbench.errors.WidgetValueError` and otherwise behaves as a ``FloatSlider``.

Examples
--------
>>> s = FiniteFloatSlider(value=0.5, min=-1.0, max=1.0)
>>> s.value = float("nan")
Traceback (most recent call last):
...
workbench.errors.WidgetValueError: slider = nan is not a finite number; ...
>>> s.value, (setattr(s, "value", 3.0), s.value)[1]      # unchanged; out of range clamps
(0.5, 1.0)
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import traitlets

from workbench.errors import WidgetValueError

__all__ = ["FiniteFloatSlider"]


class FiniteFloatSlider(widgets.FloatSlider):
    """A ``FloatSlider`` that refuses NaN and infinite values (see the module doc).

    Examples
    --------
    >>> FiniteFloatSlider(value=0.25, min=0.0, max=1.0).value
    0.25
    """

    @traitlets.validate("value")
    def _validate_value(self, proposal):
        value = proposal["value"]
        if not math.isfinite(value):
            raise WidgetValueError(
                f"{self.description or 'slider'} = {value} is not a finite number; "
                f"choose a value in [{self.min}, {self.max}].")
        return min(max(value, self.min), self.max)
