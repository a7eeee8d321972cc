"""A market address that holds a contract, but not the protocol's (issue 8): the scan refuses
with exit 78 in one line naming the [[markets]] key, the market and the address, and writes
nothing -- for every protocol's identifying key (Aave's is in test_bad_inputs.py), and for the
keys beside it (Morpho's usd_price_oracle, a Comet's quote_usd_feed, Maker's chainlog).

On the session devnet: the real Comets, Morpho Blue and Maker pass the same check (a probe that
refused the real protocol would be worse than none).
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from scanner.chain.rpc import RpcClient
from scanner.cli import main
from scanner.config import load_config
from scanner.devnet.network import (
    COMPOUND_MARKET_PREFIX,
    LIQUITY1_MARKET_KEY,
    LIQUITY2_MARKET_KEY,
    MAKER_MARKET_KEY,
    MORPHO_MARKET_KEY,
    Devnet,
    write_config,
)
from scanner.protocols import protocol_spec
from scanner.protocols.base import NotTheProtocolError
from scanner.store import db
from scanner.store.repository import stored_scan_count

pytestmark = pytest.mark.integration
USDC_COMET = COMPOUND_MARKET_PREFIX + "usdc"


def _config(devnet: Devnet, folder: Path, old: str = "", new: str = "") -> Path:
    path = folder / "config.toml"
    url = f"sqlite:///{folder / 'liqscan.db'}"
    write_config(devnet, path, database_url=url)
    db.upgrade(url)
    if old:
        text = path.read_text()
        assert text.count(f'"{old}"') == 1, old
        path.write_text(text.replace(f'"{old}"', f'"{new}"'))
    return path


def _scan(config: Path, market_key: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--config", str(config), "scan", "--market", market_key])
    return code, err.getvalue()


def _stored_scans(folder: Path) -> int:
    engine = db.make_engine(f"sqlite:///{folder / 'liqscan.db'}")
    try:
        return stored_scan_count(engine)
    finally:
        engine.dispose()


def _cases(devnet: Devnet) -> dict[str, tuple[str, str, str, str]]:
    """case -> (market key, config key, real address, the other contract put there)."""
    assert devnet.compound is not None and devnet.morpho is not None
    assert devnet.maker is not None and devnet.liquity2 is not None
    registry = devnet.liquity2.collateral_registry
    usdc, weth = devnet.compound.comet("usdc"), devnet.aave.tokens["WETH"]
    # cWETHv3 prices in ETH: its quote_usd_feed is the USDC Comet's WETH/USD feed
    quote_feed = usdc.feeds["WETH"]
    return {
        "comet-is-a-token": (USDC_COMET, "comet", usdc.comet, devnet.aave.tokens["WETH"]),
        "comet-is-an-aave-pool": (USDC_COMET, "comet", usdc.comet, devnet.aave.pool),
        "comet-is-a-price-feed": (USDC_COMET, "comet", usdc.comet, usdc.base_feed),
        "morpho-is-a-token": (MORPHO_MARKET_KEY, "morpho", devnet.morpho.morpho,
                              devnet.aave.tokens["WETH"]),
        "morpho-is-a-comet": (MORPHO_MARKET_KEY, "morpho", devnet.morpho.morpho, usdc.comet),
        # an aToken has an EIP-712 DOMAIN_SEPARATOR() too, but not Morpho Blue's
        "morpho-is-an-atoken": (MORPHO_MARKET_KEY, "morpho", devnet.morpho.morpho,
                                devnet.aave.a_tokens["WETH"]),
        # the keys beside the protocol's own: its price source and its address book
        "usd-oracle-is-a-token": (MORPHO_MARKET_KEY, "usd_price_oracle", devnet.aave.oracle,
                                  weth),
        "usd-oracle-is-a-price-feed": (MORPHO_MARKET_KEY, "usd_price_oracle",
                                       devnet.aave.oracle, usdc.base_feed),
        "quote-feed-is-a-token": (COMPOUND_MARKET_PREFIX + "weth", "quote_usd_feed", quote_feed,
                                  weth),
        "chainlog-is-a-token": (MAKER_MARKET_KEY, "chainlog", devnet.maker.chainlog, weth),
        "chainlog-is-a-comet": (MAKER_MARKET_KEY, "chainlog", devnet.maker.chainlog,
                                usdc.comet),
        **_liquity1_cases(devnet, weth, usdc.comet),
        "collateral-registry-is-a-token": (LIQUITY2_MARKET_KEY, "collateral_registry",
                                           registry, weth),
        "collateral-registry-is-a-trove-manager": (
            LIQUITY2_MARKET_KEY, "collateral_registry", registry,
            devnet.liquity2.branch("WETH").trove_manager),
    }


def _liquity1_cases(devnet: Devnet, weth: str, comet: str
                    ) -> dict[str, tuple[str, str, str, str]]:
    assert devnet.liquity1 is not None
    tm = devnet.liquity1.trove_manager
    return {"trove-manager-is-a-token": (LIQUITY1_MARKET_KEY, "trove_manager", tm, weth),
            "trove-manager-is-a-comet": (LIQUITY1_MARKET_KEY, "trove_manager", tm, comet)}


CASES = ["comet-is-a-token", "comet-is-an-aave-pool", "comet-is-a-price-feed",
         "morpho-is-a-token", "morpho-is-a-comet", "morpho-is-an-atoken",
         "usd-oracle-is-a-token", "usd-oracle-is-a-price-feed", "quote-feed-is-a-token",
         "chainlog-is-a-token", "chainlog-is-a-comet", "trove-manager-is-a-token",
         "trove-manager-is-a-comet", "collateral-registry-is-a-token",
         "collateral-registry-is-a-trove-manager"]


@pytest.mark.parametrize("case", CASES)
def test_another_contract_is_named_by_key_and_address(
    devnet: Devnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.setenv("LIQSCAN_NO_PROGRESS", "1")
    market_key, key, real, other = _cases(devnet)[case]
    config = _config(devnet, tmp_path, real, other)
    index = [m.key for m in load_config(config).markets].index(market_key)
    code, err = _scan(config, market_key)
    lines = err.strip().splitlines()
    assert code == 78 and len(lines) == 1, err
    protocol = load_config(config).market(market_key).protocol
    assert lines[0].startswith(f"liqscan: error: market {market_key}: "), lines[0]
    assert re.search(
        rf"markets\[{index}\]\.{key} {other} \(market '{market_key}'\) is a "
        rf"contract but not a {protocol} {key} at block \d+ \(.+\): check the address",
        lines[0]), lines[0]
    assert _stored_scans(tmp_path) == 0


@pytest.mark.parametrize("market_key", [USDC_COMET, COMPOUND_MARKET_PREFIX + "weth",
                                        MORPHO_MARKET_KEY, MAKER_MARKET_KEY,
                                        LIQUITY1_MARKET_KEY, LIQUITY2_MARKET_KEY])
async def test_the_real_protocol_passes_the_check(devnet: Devnet, tmp_path: Path,
                                                  market_key: str) -> None:
    config = load_config(_config(devnet, tmp_path))
    market = config.market(market_key)
    chain = config.chains[market.chain]
    async with RpcClient.for_chain(chain) as rpc:
        block = await rpc.block_number()
        adapter = protocol_spec(market.protocol).adapter(rpc, market, chain)
        assert await adapter.resolve(block) is not None


async def test_the_check_names_the_key_it_failed_on(devnet: Devnet, tmp_path: Path) -> None:
    """The adapter's own error carries the key, so a market with several address keys
    (Morpho's morpho and usd_price_oracle) is reported under the right one."""
    _market, _key, real, other = _cases(devnet)["morpho-is-a-comet"]
    config = load_config(_config(devnet, tmp_path, real, other))
    market = config.market(MORPHO_MARKET_KEY)
    chain = config.chains[market.chain]
    async with RpcClient.for_chain(chain) as rpc:
        adapter = protocol_spec(market.protocol).adapter(rpc, market, chain)
        with pytest.raises(NotTheProtocolError) as raised:
            await adapter.resolve(await rpc.block_number())
    assert raised.value.key == "morpho"
