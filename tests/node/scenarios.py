"""Small versions of the built-in scenario for the node tests (same sensors, fewer objects)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from airpicture.scenario.config import Scenario, parse_scenario


def small_scenario_text(airliners: int = 150, noncooperative: int = 10,
                        duration_s: float = 150.0) -> str:
    """The Western Pacific scenario with fewer objects and a shorter run."""
    text = (resources.files("airpicture.scenario") / "builtin" / "western-pacific.toml").read_text()
    text = re.sub(r"(?m)^airliners = \d+", f"airliners = {airliners}", text)
    text = re.sub(r"(?m)^noncooperative = \d+", f"noncooperative = {noncooperative}", text)
    text = re.sub(r"(?m)^duration_s = [\d.]+", f"duration_s = {duration_s}", text)
    text = re.sub(r"(?ms)^\[traffic\.recorded\].*?(?=^\[)", "", text)
    return text


def small_scenario(**kwargs: float) -> Scenario:
    return parse_scenario(small_scenario_text(**kwargs), "small")  # type: ignore[arg-type]


def write_small_scenario(path: Path, **kwargs: float) -> Path:
    path.write_text(small_scenario_text(**kwargs))  # type: ignore[arg-type]
    return path
