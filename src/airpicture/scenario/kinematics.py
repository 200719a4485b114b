"""Vectorised point-mass kinematics of air objects over the WGS84 ellipsoid.

Agents are arrays: latitude/longitude (rad), height above the ellipsoid ``h`` (m), heading
``psi`` (rad, clockwise from north), ground speed ``v`` (m/s) and vertical rate ``vz`` (m/s).
Turns are coordinated: a bank angle ``phi`` gives the turn rate ``g tan(phi) / v``, a load
factor ``n`` gives ``g sqrt(n^2 - 1) / v``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pymap3d
from numpy.typing import NDArray

from airpicture.geo import WGS84, wrap_angle, wrap_lon

G = 9.80665
"""Standard gravity, m/s^2."""

F64 = NDArray[np.float64]


@dataclasses.dataclass
class Agents:
    """Mutable kinematic state of a group of objects (one row per object)."""

    lat: F64
    lon: F64
    h: F64
    psi: F64
    v: F64
    vz: F64

    def velocity_enu(self) -> F64:
        """Velocity ``(N, 3)`` in each object's local east/north/up axes (m/s)."""
        return np.stack([self.v * np.sin(self.psi), self.v * np.cos(self.psi), self.vz], axis=1)

    def llh(self) -> F64:
        """Geodetic positions ``(N, 3)`` [lat rad, lon rad, h m]."""
        return np.stack([self.lat, self.lon, self.h], axis=1)


def turn_rate_for_bank(v: F64, bank: float | F64) -> F64:
    """Turn rate (rad/s) of a coordinated turn at bank angle ``bank`` (rad) and speed ``v``."""
    return G * np.tan(bank) / np.maximum(v, 1.0)


def turn_rate_for_load(v: F64, load: float | F64) -> F64:
    """Turn rate (rad/s) of a level coordinated turn at load factor ``load`` (g) and speed ``v``."""
    return G * np.sqrt(np.maximum(np.square(load) - 1.0, 0.0)) / np.maximum(v, 1.0)


def steer(psi: F64, psi_cmd: F64, max_rate: F64, dt: float) -> F64:
    """New headings: turn towards ``psi_cmd`` by at most ``max_rate * dt`` (shorter way)."""
    err = wrap_angle(psi_cmd - psi)
    return np.mod(psi + np.clip(err, -max_rate * dt, max_rate * dt), 2.0 * np.pi)


def approach(value: F64, target: F64, max_rate: float | F64, dt: float) -> F64:
    """Move ``value`` towards ``target`` by at most ``max_rate * dt``."""
    step = np.asarray(max_rate) * dt
    return value + np.clip(target - value, -step, step)


def move(
    agents: Agents, psi_new: F64, v_new: F64, vz_new: F64, dt: float, mask: NDArray[np.bool_]
) -> None:
    """Advance the rows of ``agents`` selected by ``mask`` by ``dt`` seconds.

    The new heading, speed and vertical rate are reached over the step: midpoint rule in
    heading and speed; the north/east displacement is turned into latitude and longitude
    increments with the meridian and transverse radii of curvature (pymap3d).
    """
    psi_mid = agents.psi + 0.5 * wrap_angle(psi_new - agents.psi)
    v_mid = 0.5 * (agents.v + v_new)
    h_mid = agents.h + 0.5 * dt * 0.5 * (agents.vz + vz_new)
    m = np.asarray(pymap3d.rcurve.meridian(agents.lat, WGS84, deg=False)) + h_mid
    n = np.asarray(pymap3d.rcurve.transverse(agents.lat, WGS84, deg=False)) + h_mid
    north = v_mid * np.cos(psi_mid) * dt
    east = v_mid * np.sin(psi_mid) * dt
    lat = agents.lat + north / m
    new = {
        "lat": lat,
        "lon": wrap_lon(agents.lon + east / (n * np.cos(lat))),
        "h": agents.h + 0.5 * (agents.vz + vz_new) * dt,
        "psi": np.mod(psi_new, 2.0 * np.pi),
        "v": v_new,
        "vz": vz_new,
    }
    for name, value in new.items():
        setattr(agents, name, np.where(mask, value, getattr(agents, name)))
