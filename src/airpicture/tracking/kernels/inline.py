"""Always-inlined compilations of small compiled kernels, for the per-pair hot loops.

A call from one compiled kernel to another that is not inlined builds a view of every array
slice it passes (with its reference counting) and pays the call; in a loop over (track, plot)
pairs that costs as much as the small-matrix algebra itself. The kernels stay in their own
modules (and stay callable); the hot loops call a second compilation of the same Python
function, which Numba inlines into them.
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar

import numba

Kernel = TypeVar("Kernel")


def inlined(kernel: Kernel) -> Kernel:
    """The compiled ``kernel`` (a Numba dispatcher), compiled again to be inlined into the
    compiled functions that call it."""
    dispatcher: Any = kernel
    return typing.cast(Kernel, numba.njit(inline="always")(dispatcher.py_func))
