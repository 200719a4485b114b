"""What the page tests share: Debian's headless Chromium driven by Playwright against a
server on 127.0.0.1, and reading the map's pixels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from airpicture.web.app import NODE_MODULES
from airpicture.web.recording import RecordedSource
from airpicture.web.server import ServerHandle, start_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 60_000
# MIL-STD-2525C fill colours (light) of the standard identities, sRGB: what the symbols'
# frames are filled with (pending and unknown share yellow, friend and assumed friend blue).
FILL = {"pending": (255, 255, 128), "unknown": (255, 255, 128),
        "assumed_friend": (128, 224, 255), "friend": (128, 224, 255),
        "neutral": (170, 255, 170), "suspect": (255, 128, 128), "hostile": (255, 128, 128)}

PAGE_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install "
                       "chromium; ./dev test installs it)"),
    pytest.mark.skipif(not (NODE_MODULES / "maplibre-gl").is_dir(),
                       reason="npm packages missing (./dev test runs npm ci there)"),
]
"""Marks of a page test module: slow, and skipped without Chromium or the npm packages."""


class Cop:
    """The page, its server and its source, with the console messages collected."""

    def __init__(self, page: Any, server: ServerHandle, source: RecordedSource) -> None:
        self.page = page
        self.server = server
        self.source = source
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("request", self._local_only)

    def _local_only(self, request: Any) -> None:
        if not (request.url.startswith(self.server.url) or request.url.startswith("data:")
                or request.url.startswith("blob:")):
            self.errors.append(f"request off this server: {request.url}")

    def api(self, path: str, **params: Any) -> Any:
        r = httpx.get(self.server.url + path, params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def settle(self, applied_more_than: int | None = None) -> None:
        """Wait until the page applied an update (if given) and the map is idle."""
        if applied_more_than is not None:
            self.page.wait_for_function(f"window.cop.applied > {applied_more_than}",
                                        timeout=TIMEOUT_MS)
        self.js("() => window.cop.idle()")


def open_page(browser: Any, source: RecordedSource) -> Iterator[Cop]:
    server = start_server(source, "127.0.0.1", 0)
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    try:
        page.set_default_timeout(TIMEOUT_MS)
        c = Cop(page, server, source)
        page.goto(server.url)
        page.wait_for_function("window.cop && window.cop.ready", timeout=TIMEOUT_MS)
        yield c
    finally:
        page.close()
        server.stop()


def map_pixels(cop: Cop, name: str = "map.png") -> tuple[Image.Image, dict[str, float]]:
    """A screenshot of the map (RGB) and the map's box on the page (CSS px = pixels)."""
    box = cop.page.locator("#map").bounding_box()
    path = ARTIFACTS / name
    ARTIFACTS.mkdir(exist_ok=True)
    cop.page.screenshot(path=str(path), clip=box)
    return Image.open(path).convert("RGB"), box


def fill_share(image: Image.Image, x: float, y: float, rgb: tuple[int, int, int],
                half: int = 4, tol: int = 14) -> float:
    """Share of the pixels in the (2 half + 1)^2 square at (x, y) within ``tol`` of ``rgb``."""
    hits = total = 0
    for dx in range(-half, half + 1):
        for dy in range(-half, half + 1):
            p = image.getpixel((round(x) + dx, round(y) + dy))
            assert isinstance(p, tuple)
            total += 1
            hits += all(abs(int(a) - b) <= tol for a, b in zip(p, rgb, strict=True))
    return hits / total
