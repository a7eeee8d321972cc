"""The real Uniswap v3 on the devnet: factory, position manager, swap router (npm artifacts),
and pools of the axis assets against stablecoins and WETH, seeded in several ranges.

Each pool opens at the ratio of the devnet's oracle prices at deployment, so on-chain depth and
the lending markets agree on the price. Liquidity sits in nested ranges around that price
(narrow and deep near it, wide and thin far from it), so a large sale crosses several
initialized ticks and the active liquidity changes as it goes, as on mainnet.

The pool bytecode is @uniswap/v3-core's artifact, whose creation-code hash is the one the
periphery's PoolAddress library expects, so the position manager and the router find the pools.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from eth_abi.abi import encode

from scanner.devnet.aave import AaveDeployment, read_address
from scanner.devnet.prices import get_price_usd_8dec
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.toolchain import load_artifact
from scanner.errors import ConfigError

CORE = "@uniswap/v3-core"
PERIPHERY = "@uniswap/v3-periphery"
LP = "0x00000000000000000000000000000000000011F0"  # impersonated liquidity provider
NO_DESCRIPTOR = "0x" + "00" * 20  # tokenURI is never called on the devnet
FAR_DEADLINE = 2**63
MINT_SIGNATURE = ("mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,"
                  "address,uint256))")
TICK_BASE = 1.0001


@dataclass(frozen=True)
class RangeSpec:
    """A position between price * (1 -/+ width_bps) funded with `value_usd` of each token;
    the manager takes what the range's shape needs: about `value_usd` in all, half each side."""

    width_bps: int
    value_usd: int


@dataclass(frozen=True)
class PoolSpec:
    base: str  # the asset sold (token symbol of the devnet Aave market)
    quote: str  # what it is sold for
    fee_pips: int  # 500 = 0.05%; decides the tick spacing (factory defaults)
    ranges: tuple[RangeSpec, ...]


# Depth shaped like mainnet's, scaled down: most liquidity within a few percent of the price.
DEFAULT_POOLS: tuple[PoolSpec, ...] = (
    PoolSpec("WETH", "USDC", 500, (RangeSpec(50, 4_000_000), RangeSpec(300, 8_000_000),
                                   RangeSpec(1500, 10_000_000), RangeSpec(6000, 6_000_000))),
    PoolSpec("wstETH", "WETH", 100, (RangeSpec(20, 3_000_000), RangeSpec(200, 4_000_000),
                                     RangeSpec(2000, 6_000_000))),
    # rETH trades mostly on its 0.01% pool against WETH, thinner than wstETH's
    PoolSpec("rETH", "WETH", 100, (RangeSpec(20, 1_500_000), RangeSpec(200, 2_500_000),
                                   RangeSpec(2000, 3_000_000))),
    PoolSpec("WBTC", "USDC", 3000, (RangeSpec(100, 3_000_000), RangeSpec(800, 5_000_000),
                                    RangeSpec(5000, 3_000_000))),
)


@dataclass(frozen=True)
class UniswapDeployment:
    factory: str
    position_manager: str
    swap_router: str
    pools: Mapping[str, str]  # "WETH/USDC" -> pool address
    deploy_block: int

    def to_dict(self) -> dict[str, Any]:
        return {key: dict(value) if isinstance(value, Mapping) else value
                for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UniswapDeployment:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def _deploy(rpc: DevnetRpc, deployer: str, package: str, name: str,
            types: list[str], args: list[Any]) -> str:
    return rpc.deploy(deployer, load_artifact(package, name).bytecode, encode(types, args))


def sqrt_price_x96(price0_8dec: int, price1_8dec: int, decimals0: int, decimals1: int) -> int:
    """sqrt(token1 raw per token0 raw) in Q64.96, floored, from two USD prices."""
    numerator = price0_8dec * 10**decimals1 << 192
    return math.isqrt(numerator // (price1_8dec * 10**decimals0))


def _tick_near(sqrt_x96: int, factor: float, spacing: int, up: bool) -> int:
    price = (sqrt_x96 / 2**96) ** 2 * factor
    tick = math.log(price, TICK_BASE)
    aligned = math.ceil(tick / spacing) if up else math.floor(tick / spacing)
    return int(aligned) * spacing


def _ordered(aave: AaveDeployment, spec: PoolSpec) -> tuple[str, str]:
    """(token0, token1) symbols: Uniswap orders a pool's tokens by address."""
    for symbol in (spec.base, spec.quote):
        if symbol not in aave.tokens:
            raise ConfigError(f"uniswap pool {spec.base}/{spec.quote}: no devnet token {symbol}")
    a, b = spec.base, spec.quote
    return (a, b) if int(aave.tokens[a], 16) < int(aave.tokens[b], 16) else (b, a)


def _mint_txs(aave: AaveDeployment, manager: str, spec: PoolSpec, sqrt_x96: int,
              spacing: int, prices_8dec: Mapping[str, int]) -> list[Tx]:
    sym0, sym1 = _ordered(aave, spec)
    txs: list[Tx] = []
    for r in spec.ranges:
        lower = _tick_near(sqrt_x96, 1 - r.width_bps / 10_000, spacing, up=False)
        upper = _tick_near(sqrt_x96, 1 + r.width_bps / 10_000, spacing, up=True)
        amount0 = r.value_usd * 10**8 * 10**aave.decimals[sym0] // prices_8dec[sym0]
        amount1 = r.value_usd * 10**8 * 10**aave.decimals[sym1] // prices_8dec[sym1]
        params = (aave.tokens[sym0], aave.tokens[sym1], spec.fee_pips, lower, upper,
                  amount0, amount1, 0, 0, LP, FAR_DEADLINE)
        txs += [Tx(LP, aave.tokens[sym0], calldata("mint(uint256)", amount0)),
                Tx(LP, aave.tokens[sym1], calldata("mint(uint256)", amount1)),
                Tx(LP, manager, calldata(MINT_SIGNATURE, params))]
    return txs


def _approvals(aave: AaveDeployment, spenders: tuple[str, ...]) -> list[Tx]:
    return [Tx(LP, token, calldata("approve(address,uint256)", spender, 2**256 - 1))
            for token in aave.tokens.values() for spender in spenders]


def deploy_uniswap(rpc: DevnetRpc, aave: AaveDeployment,
                   pools: tuple[PoolSpec, ...] = DEFAULT_POOLS) -> UniswapDeployment:
    """Deploy Uniswap v3 and open every pool at the oracle's current price ratio."""
    deploy_block = rpc.block_number() + 1
    deployer = aave.deployer
    factory = _deploy(rpc, deployer, CORE, "UniswapV3Factory", [], [])
    # the 0.01% tier was enabled by governance after launch (as on mainnet, tick spacing 1)
    rpc.send(Tx(deployer, factory, calldata("enableFeeAmount(uint24,int24)", 100, 1)))
    weth = aave.tokens["WETH"]
    manager = _deploy(rpc, deployer, PERIPHERY, "NonfungiblePositionManager",
                      ["address", "address", "address"], [factory, weth, NO_DESCRIPTOR])
    router = _deploy(rpc, deployer, PERIPHERY, "SwapRouter", ["address", "address"],
                     [factory, weth])
    txs = _approvals(aave, (manager, router))
    prices_8dec = {s: get_price_usd_8dec(rpc, aave, s) for s in aave.tokens}
    addresses: dict[str, str] = {}
    for spec in pools:
        sym0, sym1 = _ordered(aave, spec)
        sqrt_x96 = sqrt_price_x96(prices_8dec[sym0], prices_8dec[sym1],
                                  aave.decimals[sym0], aave.decimals[sym1])
        rpc.send(Tx(deployer, manager, calldata(
            "createAndInitializePoolIfNecessary(address,address,uint24,uint160)",
            aave.tokens[sym0], aave.tokens[sym1], spec.fee_pips, sqrt_x96)))
        pool = read_address(rpc, factory, "getPool(address,address,uint24)",
                            aave.tokens[sym0], aave.tokens[sym1], spec.fee_pips)
        addresses[f"{spec.base}/{spec.quote}"] = pool
        spacing = _tick_spacing(rpc, pool)
        txs += _mint_txs(aave, manager, spec, sqrt_x96, spacing, prices_8dec)
    rpc.send_many(txs)
    return UniswapDeployment(factory, manager, router, addresses, deploy_block)


def _tick_spacing(rpc: DevnetRpc, pool: str) -> int:
    return int.from_bytes(rpc.eth_call(pool, calldata("tickSpacing()")), "big", signed=True)


# Routes into USDC per axis asset, and the external (CEX) depth the devnet config assumes:
# the USD notional that moves each asset's price 1% off-chain.
DEVNET_ROUTES: dict[str, tuple[str, ...]] = {
    "WETH": ("WETH/USDC",), "wstETH": ("wstETH/WETH", "WETH/USDC"),
    "rETH": ("rETH/WETH", "WETH/USDC"), "WBTC": ("WBTC/USDC",),
}
DEVNET_EXTERNAL_DEPTH_USD = {"WETH": 20_000_000, "wstETH": 5_000_000, "rETH": 2_000_000,
                             "WBTC": 10_000_000}


def depth_config_section(uniswap: UniswapDeployment, aave: AaveDeployment, chain: str) -> str:
    """The [cascade.depth] tables of config.toml for this devnet's pools."""
    text = f'\n[cascade.depth]\nmodel = "combined"\nchain = "{chain}"\n'
    for symbol, route in DEVNET_ROUTES.items():
        pools = ", ".join(f'"{uniswap.pools[name]}"' for name in route)
        text += (f"\n[cascade.depth.assets.{symbol}]\ntoken = \"{aave.tokens[symbol]}\"\n"
                 f"decimals = {aave.decimals[symbol]}\npools = [{pools}]\n"
                 f"external_depth_usd = {DEVNET_EXTERNAL_DEPTH_USD[symbol]}\n")
    return text
