"""The HTTP API names each axis's unit (`axis_unit`): USD, or a ratio axis's quote asset, as the
config says (`liqscan serve` passes it); the prices are the stored ones either way."""

from __future__ import annotations

from scanner.store.repository import Repository
from tests.unit.test_serve_api import _store, served


async def test_bands_bins_and_positions_carry_the_axis_unit(repo: Repository) -> None:
    _store(repo, 100)
    async with served(repo, axis_units={"ETH": "WETH"}) as get:
        for path, key in (("/api/bands", "bands"), ("/api/histogram", "bins"),
                          ("/api/positions", "positions")):
            status, body = await get(path)
            assert status == 200 and body[key], path
            units = {row["axis"]: row["axis_unit"] for row in body[key]}
            assert units.get("ETH") == "WETH" and set(units.values()) <= {"WETH", "USD"}, path
    async with served(repo) as get:  # no units given: USD
        status, body = await get("/api/bands")
        assert {row["axis_unit"] for row in body["bands"]} == {"USD"}
