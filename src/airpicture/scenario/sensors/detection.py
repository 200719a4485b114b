"""Detection probability from the radar equation (Swerling I target, square-law detector).

For a Swerling I (slowly fluctuating, Rayleigh amplitude) target and a single-pulse
square-law detector with false-alarm probability ``Pfa``, ``Pd = Pfa ** (1 / (1 + SNR))``.
The radar equation gives ``SNR = SNR_ref * (rcs / rcs_ref) * (R_ref / R) ** 4``; ``SNR_ref`` is
chosen so that ``Pd`` equals the configured ``pd_ref`` for ``rcs_ref`` at ``R_ref``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def reference_snr(pd_ref: float, pfa: float) -> float:
    """Linear SNR at which a Swerling I target is detected with ``pd_ref`` at ``pfa``."""
    return float(np.log(pfa) / np.log(pd_ref) - 1.0)


def swerling1_pd(snr: F64, pfa: F64 | float) -> F64:
    """Detection probability of a Swerling I target at linear ``snr``."""
    return np.asarray(np.power(pfa, 1.0 / (1.0 + np.maximum(snr, 0.0))))


def radar_equation_snr(
    snr_ref: F64 | float, rcs: F64, rcs_ref: F64 | float, slant_range: F64,
    range_ref: F64 | float,
) -> F64:
    """Linear SNR scaled from the reference by cross-section and the fourth power of range."""
    return np.asarray(snr_ref * (rcs / rcs_ref) * (range_ref / np.maximum(slant_range, 1.0)) ** 4)
