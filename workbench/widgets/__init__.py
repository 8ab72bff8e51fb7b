"""ipywidgets views over the workbench: state in traitlets, no inference in callbacks.

Each area has its own module here (``widgets.scm``, ``widgets.latents``, ...).
"""
