"""The page's files ship inside the package: the vendored Chart.js is byte for byte the npm
registry's (the version package.json pins), with its license; the page names only files that
exist and loads nothing from another host."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scanner.serve.app import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
VENDORED = STATIC_DIR / "vendor" / "chart.js"


def test_vendored_chart_js_is_the_npm_release() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["chart.js"]
    from_npm = ROOT / "node_modules" / "chart.js"
    assert json.loads((from_npm / "package.json").read_text())["version"] == pinned, \
        "node_modules is stale: run `make setup`"
    vendored = (VENDORED / "chart.umd.min.js").read_bytes()
    assert vendored == (from_npm / "dist" / "chart.umd.min.js").read_bytes()
    assert f"Chart.js v{pinned}".encode() in vendored[:200]
    assert (VENDORED / "LICENSE.md").read_bytes() == (from_npm / "LICENSE.md").read_bytes()


def test_page_loads_only_packaged_files() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page names its scripts and styles"
    for source in sources:
        assert not re.match(r"^(https?:)?//", source), f"{source}: no CDN, the page works offline"
        if source.startswith("/static/"):
            assert (STATIC_DIR / source.removeprefix("/static/")).is_file(), source
    assert "<script>" not in html  # the Content-Security-Policy allows no inline script
