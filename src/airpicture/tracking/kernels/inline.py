"""Compilations for the per-pair hot loops: always-inlined copies of small kernels, and
loops compiled without Numba's runtime.

A call from one compiled kernel to another that is not inlined builds a view of every array
slice it passes (with its reference counting) and pays the call; in a loop over (track, plot)
pairs that costs as much as the small-matrix algebra itself. The kernels stay in their own
modules (and stay callable); the hot loops call a second compilation of the same Python
function, which Numba inlines into them (:func:`inlined`).

Even inlined, every array or view handed to a kernel is reference-counted by Numba's runtime
with atomic instructions that LLVM cannot always prune across the loops' branches: a third of
the gate loop's time. The pair loops allocate nothing (their callers pass outputs and scratch
space), so they are compiled without the runtime (:func:`without_runtime`).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, TypeVar

import numba

Kernel = TypeVar("Kernel")
Function = TypeVar("Function", bound=Callable[..., Any])


def without_runtime(loop: Function) -> Function:
    """``loop`` compiled (and cached) with Numba's runtime off (its private ``_nrt`` option):
    no reference counting; the loop must not allocate arrays."""
    options: dict[str, Any] = {"cache": True, "_nrt": False}
    return typing.cast(Function, numba.njit(**options)(loop))


def inlined(kernel: Kernel) -> Kernel:
    """The compiled ``kernel`` (a Numba dispatcher), compiled again to be inlined into the
    compiled functions that call it."""
    dispatcher: Any = kernel
    return typing.cast(Kernel, numba.njit(inline="always")(dispatcher.py_func))
