"""A small base for struct-of-arrays tables: frozen dataclasses whose fields are NumPy arrays
sharing their first axis (one row per item)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray


@dataclasses.dataclass(frozen=True)
class ColumnTable:
    """Base of the columnar tables: every field is an array with one row per item."""

    def __post_init__(self) -> None:
        lengths = {f.name: len(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{type(self).__name__}: columns differ in length: {lengths}")

    def __len__(self) -> int:
        first = dataclasses.fields(self)[0]
        return len(getattr(self, first.name))

    def columns(self) -> dict[str, NDArray[Any]]:
        """The columns by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def take(self, index: NDArray[Any] | slice) -> Self:
        """Rows selected by an integer index, a boolean mask or a slice."""
        return type(self)(**{k: v[index] for k, v in self.columns().items()})

    @classmethod
    def concat(cls, tables: Sequence[Self]) -> Self:
        """Rows of all ``tables`` in order (an empty sequence gives an empty table)."""
        if not tables:
            return cls.empty()
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{n: np.concatenate([getattr(t, n) for t in tables]) for n in names})

    @classmethod
    def empty(cls) -> Self:
        """A table with no rows and the right dtypes and trailing shapes."""
        raise NotImplementedError

    def equals(self, other: ColumnTable) -> bool:
        """Column-wise equality with NaN equal to NaN."""
        if type(self) is not type(other) or len(self) != len(other):
            return False
        for name, col in self.columns().items():
            o = getattr(other, name)
            if col.dtype.kind == "f":
                if not np.array_equal(col, o, equal_nan=True):
                    return False
            elif not np.array_equal(col, o):
                return False
        return True
