"""The checks of ``scripts/gpu_check.py``, one module per family (see that script)."""
