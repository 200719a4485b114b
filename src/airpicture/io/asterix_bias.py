"""Registration estimates on the wire: :class:`~airpicture.messages.BiasEstimate` as CAT063.

:func:`bias_estimates2cat063` turns what
:meth:`airpicture.fusion.registration.BiasEstimates.messages` publishes into one CAT063
datablock through :func:`~airpicture.io.asterix_status.encode_cat063`;
:func:`cat0632bias_estimates` reads such a block back. The sensor's ASTERIX identity (SAC,
SIC) comes from its :class:`~airpicture.messages.SensorInfo`. A primary radar
(``SensorKind.RADAR``) fills the PSR items (I063/090, 091), a secondary radar (``SSR``) the
SSR items (I063/080, 081); the time stamp bias goes in I063/070. Wire resolution: range bias
1/128 NM (about 14.5 m), range gain 1e-5, azimuth 360/2^16 degrees, time 1 ms. CAT063 has no
uncertainty or sample count: those stay in our own log.
"""

from __future__ import annotations

from collections.abc import Sequence

from airpicture.io.asterix_status import SensorBias, decode_cat063, encode_cat063
from airpicture.io.rejections import Rejections
from airpicture.messages import BiasEstimate, SensorInfo, SensorKind

__all__ = ["bias_estimates2cat063", "cat0632bias_estimates"]

_REGISTERED = (SensorKind.RADAR, SensorKind.SSR)


def _by_id(sensors: Sequence[SensorInfo]) -> dict[str, SensorInfo]:
    return {s.id: s for s in sensors}


def bias_estimates2cat063(
    estimates: Sequence[BiasEstimate],
    sensors: Sequence[SensorInfo],
    sac: int,
    sic: int,
    service: int = 1,
    time: float | None = None,
) -> bytes:
    """One CAT063 datablock, a record per estimate.

    Parameters
    ----------
    estimates : sequence of BiasEstimate
        Registration estimates (SI units: m, rad, s).
    sensors : sequence of SensorInfo
        At least the estimated sensors, with their ``sac``/``sic``; radar or SSR.
    sac, sic, service : int
        Our SDPS identity and service (I063/010, I063/015).
    time : float, optional
        Unix time of the block (I063/030); default the newest estimate's time.

    Raises
    ------
    ValueError
        An estimate of an unknown sensor, of a sensor without SAC/SIC or of a kind that is not
        registered (ADS-B, ESM), or a non-finite value.
    """
    by_id = _by_id(sensors)
    biases = []
    for e in estimates:
        s = by_id.get(e.sensor_id)
        if s is None:
            raise ValueError(f"bias estimate of unknown sensor {e.sensor_id!r}")
        if s.sac is None or s.sic is None:
            raise ValueError(f"sensor {s.id!r} has no SAC/SIC: it cannot go out as CAT063")
        if s.kind not in _REGISTERED:
            raise ValueError(f"sensor {s.id!r} is {s.kind.value}: only radar and SSR biases "
                             "go out as CAT063")
        values = (e.range_offset_m, e.range_gain, e.azimuth_rad, e.time_s)
        if not all(abs(v) < float("inf") for v in values):
            raise ValueError(f"bias estimate of {s.id!r} is not finite: {values}")
        if s.kind is SensorKind.RADAR:
            biases.append(SensorBias(sac=s.sac, sic=s.sic, time_bias_s=e.time_s,
                                     psr_range_gain=e.range_gain,
                                     psr_range_bias_m=e.range_offset_m,
                                     psr_azimuth_bias_rad=e.azimuth_rad))
        else:
            biases.append(SensorBias(sac=s.sac, sic=s.sic, time_bias_s=e.time_s,
                                     ssr_range_gain=e.range_gain,
                                     ssr_range_bias_m=e.range_offset_m,
                                     ssr_azimuth_bias_rad=e.azimuth_rad))
    if time is None:
        time = max((e.time for e in estimates), default=0.0)
    return encode_cat063(sac, sic, service, time, biases)


def cat0632bias_estimates(
    block: bytes, sensors: Sequence[SensorInfo], time: float, rejections: Rejections,
    source: str = "",
) -> list[BiasEstimate]:
    """The estimates of one CAT063 datablock (with its 3-octet header), at ``time``.

    A record of a sensor not in ``sensors`` (by SAC/SIC) is counted as
    ``cat063.unknown_sensor`` and left out; a bad block as ``cat063.bad_block``.
    """
    if len(block) < 3 or block[0] != 63:
        rejections.add("cat063.bad_block", 1, source)
        return []
    by_code = {(s.sac, s.sic): s for s in sensors if s.sac is not None and s.sic is not None}
    out = []
    for b in decode_cat063([block[3:]], rejections, source):
        s = by_code.get((b.sac, b.sic))
        if s is None:
            rejections.add("cat063.unknown_sensor", 1, source)
            continue
        psr = s.kind is SensorKind.RADAR
        gain = b.psr_range_gain if psr else b.ssr_range_gain
        offset = b.psr_range_bias_m if psr else b.ssr_range_bias_m
        azimuth = b.psr_azimuth_bias_rad if psr else b.ssr_azimuth_bias_rad
        out.append(BiasEstimate(sensor_id=s.id, time=time, range_offset_m=offset or 0.0,
                                range_gain=gain or 0.0, azimuth_rad=azimuth or 0.0,
                                time_s=b.time_bias_s or 0.0))
    return out
