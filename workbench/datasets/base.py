"""A torch data set over a complete grid of ground-truth factors, rendered on demand.

:class:`FactorImageDataset` is the common shape of every data set here. Its items are
the points of a factor grid (e.g. 3 shapes x 6 scales x 40 orientations x 32 x 32
positions for sprites), indexed in row-major order, and each image is rendered only
when asked for: nothing is materialised. A grid point is an intervention on every
grid factor at once, so it is rendered through the data set's SCM
(:attr:`FactorImageDataset.scm`) with those factors set and any other variable
computed by its mechanism at nominal noise.

Samplers for metrics draw factors uniformly and independently over the grid:

* :meth:`~FactorImageDataset.sample` -> ``(images, factors)``;
* :meth:`~FactorImageDataset.sample_fixed_factor` -> a batch in which one factor
  has the same value in every image and the others vary (BetaVAE / FactorVAE scores).

``factors`` are integer grid indices, shape ``(n, num_factors)``;
:meth:`~FactorImageDataset.factor_values_of` turns them into physical values.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from workbench.datasets._random import as_numpy_rng, check_count
from workbench.datasets.scm import ImageSCM
from workbench.errors import ShapeError, UnknownVariableError, WorkbenchInputError

__all__ = ["FactorImageDataset"]


def _whole_numbers(values, what: str) -> torch.Tensor:
    """``values`` as a long tensor; fractional or non-finite numbers are refused, never truncated."""
    t = torch.as_tensor(values)
    if t.dtype == torch.bool:
        raise WorkbenchInputError(f"{what} must be whole numbers, got booleans.")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            bad = t[~torch.isfinite(t) | (t != t.round())][:3].tolist()
            raise WorkbenchInputError(f"{what} must be whole numbers (grid indices), got {bad}.")
    elif t.is_complex():
        raise WorkbenchInputError(f"{what} must be whole numbers (grid indices), got complex numbers.")
    return t.long()


class FactorImageDataset(Dataset):
    """Images over a complete factor grid with a known generating SCM.

    Subclasses set ``name``, ``factor_names``, ``_factor_values`` (one 1-D tensor of
    values per factor), ``image_shape`` and ``scm``.

    Examples
    --------
    >>> from workbench.datasets import Sprites
    >>> d = Sprites()
    >>> isinstance(d, FactorImageDataset), d.index_to_factors(1).tolist()
    (True, [[0, 0, 0, 0, 1]])
    """

    name: str = "factors"
    factor_names: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] = (1, 64, 64)
    scm: ImageSCM
    _factor_values: Sequence[torch.Tensor] = ()
    render_batch: int = 512  # images per vectorised call: bounds the temporaries to ~50 MB

    # ----- the grid -------------------------------------------------------------
    @property
    def factor_sizes(self) -> tuple[int, ...]:
        """Number of values of each factor."""
        return tuple(len(v) for v in self._factor_values)

    @property
    def num_factors(self) -> int:
        """The number of factors."""
        return len(self.factor_names)

    def factor_values(self, factor) -> torch.Tensor:
        """The grid values of one factor (by index or name), a new tensor."""
        return self._factor_values[self.factor_index(factor)].clone()

    def factor_index(self, factor) -> int:
        """Position of ``factor`` (an index or a name) among the factors."""
        if isinstance(factor, str):
            if factor not in self.factor_names:
                raise UnknownVariableError(factor, self.factor_names, what="factor")
            return self.factor_names.index(factor)
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or not (
                0 <= factor < self.num_factors):
            raise WorkbenchInputError(
                f"factor must be a name in {list(self.factor_names)} or an index in "
                f"0..{self.num_factors - 1}, got {factor!r}."
            )
        return int(factor)

    def __len__(self) -> int:
        return math.prod(self.factor_sizes)

    def index_to_factors(self, index) -> torch.Tensor:
        """Grid indices ``(n, num_factors)`` of flat item indices (row-major)."""
        index = _whole_numbers(index, "Item indices").reshape(-1)
        if len(index) and (index.min() < 0 or index.max() >= len(self)):
            raise WorkbenchInputError(f"Item index out of range 0..{len(self) - 1}.")
        out, rest = [], index.clone()
        for size in reversed(self.factor_sizes):
            out.append(rest % size)
            rest = rest // size
        return torch.stack(out[::-1], dim=1)

    def factors_to_index(self, factors) -> torch.Tensor:
        """Flat item indices of grid indices ``(n, num_factors)``."""
        factors = self._check_factors(factors)
        index = torch.zeros(len(factors), dtype=torch.long)
        for k, size in enumerate(self.factor_sizes):
            index = index * size + factors[:, k]
        return index

    def _check_factors(self, factors) -> torch.Tensor:
        factors = _whole_numbers(factors, "factors")
        if factors.dim() != 2 or factors.shape[1] != self.num_factors:
            raise ShapeError(
                f"factors must have shape (n, {self.num_factors}) for factors "
                f"{list(self.factor_names)}; got {tuple(factors.shape)}."
            )
        sizes = torch.tensor(self.factor_sizes)
        if (factors < 0).any() or (factors >= sizes).any():
            raise WorkbenchInputError(f"factor indices must lie in 0..size-1 for sizes {self.factor_sizes}.")
        return factors

    def factor_values_of(self, factors) -> dict[str, torch.Tensor]:
        """Physical values ``{name: (n,)}`` of grid indices ``(n, num_factors)``."""
        factors = self._check_factors(factors)
        return {name: self._factor_values[k][factors[:, k]]
                for k, name in enumerate(self.factor_names)}

    # ----- rendering ------------------------------------------------------------
    def render(self, factors) -> torch.Tensor:
        """Images ``(n, C, H, W)`` of grid points, rendered in batches."""
        factors = self._check_factors(factors)
        chunks = []
        for start in range(0, len(factors), self.render_batch):
            part = factors[start:start + self.render_batch]
            values = self.scm.solve(self.scm.nominal_noise(len(part)), self.factor_values_of(part))
            chunks.append(self.scm.render(values))
        if not chunks:
            return torch.zeros((0, *self.image_shape))
        return torch.cat(chunks)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)) and index < 0:
            index += len(self)
        factors = self.index_to_factors(index)
        return self.render(factors)[0], factors[0]

    def images(self, index) -> torch.Tensor:
        """Images of flat item indices (a batch)."""
        return self.render(self.index_to_factors(index))

    # ----- samplers -------------------------------------------------------------
    def sample_factors(self, n: int, generator=None) -> torch.Tensor:
        """``n`` grid points drawn uniformly: each factor independently uniform."""
        n, rng = check_count(n), as_numpy_rng(generator)
        cols = [rng.integers(0, size, n) for size in self.factor_sizes]
        return torch.as_tensor(np.stack(cols, axis=1), dtype=torch.long)

    def sample(self, n: int, generator=None):
        """``(images, factors)`` for ``n`` uniform grid points."""
        factors = self.sample_factors(n, generator)
        return self.render(factors), factors

    def sample_fixed_factor(self, factor, n: int, generator=None, value_index=None):
        """A batch in which ``factor`` takes one value and the other factors vary.

        Parameters
        ----------
        factor : int or str
            The factor to hold fixed.
        n : int
            Batch size.
        generator : int, numpy or torch generator, optional
            Randomness (see :func:`workbench.datasets._random.as_numpy_rng`).
        value_index : int, optional
            The grid index of the fixed value; drawn uniformly when omitted.

        Returns
        -------
        images : Tensor ``(n, C, H, W)``
        factors : LongTensor ``(n, num_factors)``, column ``factor`` constant.
        """
        k, rng = self.factor_index(factor), as_numpy_rng(generator)
        factors = self.sample_factors(n, rng)
        if value_index is None:
            value_index = int(rng.integers(0, self.factor_sizes[k]))
        elif isinstance(value_index, bool) or not isinstance(value_index, (int, np.integer)):
            raise WorkbenchInputError(
                f"value_index must be a whole-number grid index in 0..{self.factor_sizes[k] - 1}, "
                f"got {value_index!r}; use factor_values({self.factor_names[k]!r}) to see the grid."
            )
        elif not (0 <= int(value_index) < self.factor_sizes[k]):
            raise WorkbenchInputError(
                f"value_index for factor {self.factor_names[k]!r} must be in "
                f"0..{self.factor_sizes[k] - 1}, got {value_index}."
            )
        factors[:, k] = int(value_index)
        return self.render(factors), factors

    def __repr__(self) -> str:
        grid = " x ".join(f"{n}={s}" for n, s in zip(self.factor_names, self.factor_sizes))
        return f"{type(self).__name__}({grid}; {len(self)} images {self.image_shape})"
