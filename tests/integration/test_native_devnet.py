"""The compiled math (scanner/native.py) and the pure modules give the same result for every
position of the session devnet, on every axis, field for field; and the same bins and bands."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.devnet.network import Devnet
from scanner.domain import Axis, Position, PositionResult
from scanner.pipeline.axes import resolve_axes
from tests.integration.scan_helpers import devnet_config, fresh_repo, scan
from tests.native_compare import bands_native_and_pure, native_and_pure, require_native_build

pytestmark = pytest.mark.integration


def test_every_devnet_position_is_the_same_compiled_and_pure(
    devnet: Devnet, db_url: str, tmp_path: Path
) -> None:
    require_native_build()
    config = devnet_config(devnet, tmp_path, db_url)
    outcome = scan(config, fresh_repo(config))
    cases: list[tuple[Position, Axis]] = [
        (position, axis) for market in outcome.markets
        for axis in resolve_axes(config.axes, market.read.assets)
        for position in market.read.positions]
    compiled, pure = native_and_pure(cases, tmp_path)
    assert compiled == pure
    protocols = {r.protocol for r in pure if isinstance(r, PositionResult)
                 and r.liquidation_price_8dec is not None}
    assert {"aave-v3", "morpho-blue"} <= protocols

    bins_bands, pure_bins_bands = bands_native_and_pure(list(outcome.results), outcome.axes,
                                                        config, tmp_path)
    assert bins_bands == pure_bins_bands
    assert pure_bins_bands[1], "the devnet's cluster must make a band"
