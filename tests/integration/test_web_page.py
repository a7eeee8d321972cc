"""The web page in a real headless Chromium, served by a real `liqscan serve` over two real
snapshots of the session devnet (Aave v3.0 and v3.6, Morpho, both Comets).

Checks what a user sees against what the API says: a liquidation map per axis that drew
something, the band table's rows, the liquidatable-now total. Saves a screenshot (to
$LIQSCAN_SCREENSHOT as well when set: `docs/img/web.png` in the README comes from here).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scanner.config import Config
from scanner.devnet.network import Devnet
from scanner.devnet.prices import get_price_usd_8dec, set_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc
from scanner.store.repository import Repository
from tests.integration.browser import devtools_page, dump_dom, screenshot
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.unit.test_serve_cli import fetch, liqscan_serve

pytestmark = pytest.mark.integration
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HISTORY_MOVES_PERCENT = (3, 6)


@dataclass(frozen=True)
class Served:
    base: str  # URL of the running `liqscan serve`
    config: Config
    weth_8dec: int  # the devnet's WETH price before the test moved it


@pytest.fixture(scope="module")
def served_devnet(devnet: Devnet, devnet_rpc: DevnetRpc,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Snapshots of the devnet at its prices, then with ETH 3% and 6% lower (the bands move),
    in SQLite, served by `liqscan serve`. The devnet's state is restored afterwards."""
    folder = tmp_path_factory.mktemp("web")
    config = devnet_config(devnet, folder, f"sqlite:///{folder / 'web.db'}")
    repo = fresh_repo(config)
    before = devnet_rpc.call("evm_snapshot")
    try:
        weth_8dec = get_price_usd_8dec(devnet_rpc, devnet.aave, "WETH")
        scan(config, repo)
        for percent_off in HISTORY_MOVES_PERCENT:
            _scan_at(devnet, devnet_rpc, config, repo, weth_8dec * (100 - percent_off) // 100)
        repo.engine.dispose()
        with liqscan_serve("--config", str(config.source),
                           serve_args=("--stale-after", "1e9")) as base:
            yield Served(base, config, weth_8dec)
    finally:
        if devnet_rpc.call("evm_revert", [before]) is not True:
            raise AssertionError("evm_revert failed: later tests see moved prices")


def _scan_at(devnet: Devnet, rpc: DevnetRpc, config: Config, repo: Repository,
             weth_8dec: int) -> int:
    """Move WETH to `weth_8dec`, store a snapshot at the first block with that price."""
    return scan(config, repo, set_price_usd_8dec(rpc, devnet.aave, "WETH", weth_8dec)
                ).snapshot_id


class _Elements(HTMLParser):
    """Every element of a serialized DOM as (tag, attributes), and the text of ids."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_of: dict[str, str] = {}
        self._open_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        self._open_id = attributes.get("id")

    def handle_data(self, data: str) -> None:
        if self._open_id:
            self.text_of[self._open_id] = self.text_of.get(self._open_id, "") + data

    def with_class(self, tag: str, name: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements
                if t == tag and name in a.get("class", "").split()]

    def by_id(self, element_id: str) -> dict[str, str]:
        found = [a for _, a in self.elements if a.get("id") == element_id]
        assert len(found) == 1, f"#{element_id}: {len(found)} elements"
        return found[0]


def _api(base: str, path: str) -> dict[str, object]:
    status, body = fetch(base + path)
    assert status == 200, (path, body)
    parsed: dict[str, object] = json.loads(body)
    return parsed


def test_page_shows_maps_bands_and_liquidatable_now(served_devnet: Served, tmp_path: Path
                                                    ) -> None:
    base = served_devnet.base
    dom = _Elements()
    dom.feed(dump_dom(base + "/", tmp_path / "profile"))
    axes = _api(base, "/api/axes")
    bands = _api(base, "/api/bands")["bands"]
    assert isinstance(bands, list) and bands, "the devnet has bands"

    status = dom.by_id("status")
    assert status["data-state"] == "ready", dom.text_of.get("status")
    assert status["data-snapshot"] == str(axes["snapshot"]["id"])  # type: ignore[index]
    total = dom.by_id("liquidatable-now-total")
    assert total["data-usd"] == axes["liquidatable_now"]["collateral_usd"]  # type: ignore[index]

    histogram = _api(base, "/api/histogram")["bins"]
    assert isinstance(histogram, list)
    for axis in {b["axis"] for b in histogram}:
        canvas = dom.by_id(f"map-{axis}")
        assert int(canvas["data-bins"]) == sum(1 for b in histogram if b["axis"] == axis)
        assert int(canvas["data-ink"]) > 100, f"the {axis} map drew (almost) nothing"
        on_axis = [b for b in bands if b["axis"] == axis]
        assert int(canvas["data-bands"]) == len(on_axis)
    rows = dom.with_class("tr", "band-row")
    assert [(r["data-direction"], int(r["data-rank"]), r["data-collateral-usd"]) for r in rows] \
        == [(b["direction"], b["rank"], b["collateral_usd"]) for b in bands]
    history = dom.with_class("canvas", "history-chart")
    assert history and all(int(h["data-points"]) == 1 + len(HISTORY_MOVES_PERCENT)
                           for h in history)


def test_page_screenshot(served_devnet: Served, tmp_path: Path) -> None:
    out = tmp_path / "web.png"
    screenshot(served_devnet.base + "/", out, tmp_path / "profile")
    png = out.read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 20_000  # a blank page is ~5 KB
    wanted = os.environ.get("LIQSCAN_SCREENSHOT")
    if wanted:
        shutil.copyfile(out, wanted)


SHOWN_SNAPSHOT = "document.getElementById('status').dataset.snapshot"
PRICE_HEADING = "document.querySelector('section[data-axis=\"ETH\"] h2').firstChild.textContent"


async def test_page_redraws_when_a_snapshot_lands(served_devnet: Served, devnet: Devnet,
                                                  devnet_rpc: DevnetRpc, tmp_path: Path) -> None:
    async with devtools_page(served_devnet.base + "/", tmp_path / "profile") as page:
        shown = await page.wait_for(SHOWN_SNAPSHOT, lambda v: bool(v))
        heading = await page.evaluate(PRICE_HEADING)
        # the daemon's part, done here by hand: a real scan at a new block and a new price
        repo = fresh_repo(served_devnet.config)
        try:
            newest = await asyncio.to_thread(_scan_at, devnet, devnet_rpc, served_devnet.config,
                                             repo, served_devnet.weth_8dec * 90 // 100)
        finally:
            repo.engine.dispose()
        assert str(newest) != shown
        await page.wait_for(SHOWN_SNAPSHOT, lambda v: v == str(newest))
        assert await page.evaluate(PRICE_HEADING) != heading  # ETH moved: the page shows it
        rows = await page.evaluate("document.querySelectorAll('tr.band-row').length")
    assert rows == len(json.loads(fetch(served_devnet.base + "/api/bands")[1])["bands"])
