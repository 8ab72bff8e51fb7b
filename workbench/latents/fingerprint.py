"""A fingerprint of training data, so a checkpoint is only ever resumed on its own data.

A checkpoint records the SHA-256 of the data it was trained on; :func:`train` refuses to
resume on anything else (``torch.zeros_like(data)`` included). For a tensor the digest
covers its dtype, shape and every byte; for a data set (rendered on demand, never
stored) it covers the class, the factor grid, the image shape and the data set's scalar
settings (such as the pendulum's ``noise_std``), which is what determines its images.

Examples
--------
>>> import torch
>>> data = torch.ones(4, 1, 8, 8)
>>> data_fingerprint(data) == data_fingerprint(data.clone())
True
>>> data_fingerprint(data) == data_fingerprint(torch.zeros_like(data))
False
>>> describe_data(data)
'a float32 tensor of shape (4, 1, 8, 8)'
"""

from __future__ import annotations

import hashlib

import torch

__all__ = ["data_fingerprint", "describe_data"]


def _scalar_settings(data) -> list:
    """Public scalar attributes of a data set object (its settings), sorted by name."""
    out = []
    for key, value in sorted(vars(data).items()):
        if not key.startswith("_") and isinstance(value, (bool, int, float, str, tuple)):
            out.append((key, repr(value)))
    return out


def data_fingerprint(data) -> str:
    """Hex SHA-256 identifying ``data`` (an image tensor, a tuple of tensors or a data set).

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(2, 3)
    >>> len(data_fingerprint(x)), data_fingerprint(x) == data_fingerprint(x.double())
    (64, False)
    >>> data_fingerprint((x, x)) == data_fingerprint((x, x.clone()))
    True
    """
    digest = hashlib.sha256()
    if isinstance(data, tuple):
        digest.update(" ".join(data_fingerprint(part) for part in data).encode())
        return digest.hexdigest()
    if isinstance(data, torch.Tensor):
        flat = data.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"tensor {flat.dtype} {tuple(data.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        return digest.hexdigest()
    digest.update(f"{type(data).__module__}.{type(data).__qualname__}".encode())
    digest.update(repr(_scalar_settings(data)).encode())
    for grid in getattr(data, "_factor_values", ()):
        digest.update(torch.as_tensor(grid).detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
    return digest.hexdigest()


def describe_data(data) -> str:
    """A short human description of ``data`` for messages.

    Examples
    --------
    >>> import torch
    >>> describe_data((torch.zeros(2, 3), torch.ones(2, dtype=torch.long)))
    'a tuple of a float32 tensor of shape (2, 3), a int64 tensor of shape (2,)'
    """
    if isinstance(data, tuple):
        return "a tuple of " + ", ".join(describe_data(part) for part in data)
    if isinstance(data, torch.Tensor):
        return f"a {str(data.dtype).removeprefix('torch.')} tensor of shape {tuple(data.shape)}"
    return repr(data)
