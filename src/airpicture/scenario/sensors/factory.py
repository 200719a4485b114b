"""Sensor groups built from a scenario's sensor configurations (one group per kind)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from airpicture.scenario.config import AdsbConfig, EsmConfig, RadarConfig, SensorConfig, SsrConfig
from airpicture.scenario.sensors.adsb import AdsbReceivers
from airpicture.scenario.sensors.base import SensorGroup
from airpicture.scenario.sensors.esm import EsmSites
from airpicture.scenario.sensors.radar import Radars
from airpicture.scenario.sensors.ssr import Ssrs

GROUPS: tuple[tuple[type, type], ...] = (
    (RadarConfig, Radars),
    (SsrConfig, Ssrs),
    (AdsbConfig, AdsbReceivers),
    (EsmConfig, EsmSites),
)


def build_groups(
    cfgs: Sequence[SensorConfig], seeds: Sequence[np.random.SeedSequence]
) -> list[SensorGroup]:
    """One group per sensor kind present; the group's sensors keep their scenario indices."""
    groups: list[SensorGroup] = []
    for (cfg_type, group_type), seed in zip(GROUPS, seeds, strict=False):
        members = [(i, c) for i, c in enumerate(cfgs) if isinstance(c, cfg_type)]
        if members:
            idx, sel = zip(*members, strict=True)
            groups.append(group_type(list(sel), list(idx), np.random.default_rng(seed)))
    return groups
