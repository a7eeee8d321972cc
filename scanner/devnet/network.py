"""A complete seeded devnet: Aave V3 (+ the v3.6 market, + Morpho Blue, + two Comets) with
borrowers, built or loaded from cache.

    with seeded_devnet(seed=7, aave_positions=600, aave36_positions=300) as devnet:
        write_config(devnet, Path("config.toml"))
        ...  # scan devnet.rpc_url

Plans are pure functions of (seed, sizes, clusters), so a cached chain is reloaded with
`anvil --load-state` and its plans are simply generated again. The v3.6 market (`aave36`) is
deployed only when v3.6 positions are asked for, so devnets without it never compile it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.devnet.aave import AaveDeployment, deploy_aave
from scanner.devnet.aave2 import AaveV2Deployment, deploy_aave2
from scanner.devnet.aave36 import deploy_aave36
from scanner.devnet.aave_spec import load_market_spec
from scanner.devnet.anvil import CHAIN_ID, Anvil
from scanner.devnet.cache import CacheEntry, cache_entry, cache_key
from scanner.devnet.compound import CompoundDeployment, deploy_compound
from scanner.devnet.compound_population import CometPositionPlan, generate_compound_population
from scanner.devnet.keepout import keepout_for
from scanner.devnet.liquity1 import Liquity1Deployment, deploy_and_seed_liquity1
from scanner.devnet.liquity1_population import TrovePlan, generate_liquity1_population
from scanner.devnet.liquity2 import Liquity2Deployment, deploy_and_seed_liquity2
from scanner.devnet.liquity2_population import TrovePlan as Liquity2TrovePlan
from scanner.devnet.liquity2_population import generate_liquity2_population
from scanner.devnet.maker import MakerDeployment, deploy_and_seed_maker
from scanner.devnet.maker_population import MakerUrnPlan, generate_maker_population
from scanner.devnet.morpho import (
    MorphoDeployment,
    MorphoPositionPlan,
    deploy_morpho,
    plan_morpho_positions,
    seed_morpho,
)
from scanner.devnet.multicall import install_multicall
from scanner.devnet.population import AavePositionPlan, ClusterSpec, generate_aave_population
from scanner.devnet.population2 import V2PositionPlan, generate_aave2_population
from scanner.devnet.population36 import generate_aave36_population
from scanner.devnet.rpc import DevnetRpc
from scanner.devnet.seed_aave import seed_aave
from scanner.devnet.seed_aave2 import seed_aave2
from scanner.devnet.seed_aave36 import seed_aave36
from scanner.devnet.seed_compound import seed_compound
from scanner.devnet.uniswap import UniswapDeployment, deploy_uniswap, depth_config_section
from scanner.errors import ConfigError, InconsistentDataError

AAVE_MARKET_KEY = "aave-v3-devnet"
AAVE36_MARKET_KEY = "aave-v36-devnet"
AAVE2_MARKET_KEY = "aave-v2-devnet"
MORPHO_MARKET_KEY = "morpho-blue-devnet"
COMPOUND_MARKET_PREFIX = "compound-v3-"  # + the devnet Comet's key: compound-v3-usdc, -weth
MAKER_MARKET_KEY = "maker-devnet"
LIQUITY1_MARKET_KEY = "liquity-v1-devnet"
LIQUITY2_MARKET_KEY = "liquity2-devnet"


@dataclass(frozen=True)
class Devnet:
    rpc_url: str
    seed: int
    aave: AaveDeployment
    aave_plans: tuple[AavePositionPlan, ...]
    clusters: tuple[ClusterSpec, ...]
    morpho: MorphoDeployment | None  # deployed only when Morpho positions were asked for
    morpho_plans: tuple[MorphoPositionPlan, ...]
    head_block: int  # the chain's head once seeding finished
    from_cache: bool
    aave36: AaveDeployment | None = None  # the v3.6 market, when v3.6 positions were asked for
    aave36_plans: tuple[AavePositionPlan, ...] = ()
    compound: CompoundDeployment | None = None  # deployed only when Comet positions were asked for
    compound_plans: tuple[CometPositionPlan, ...] = ()
    aave2: AaveV2Deployment | None = None  # the Aave v2 market, when v2 positions were asked for
    aave2_plans: tuple[V2PositionPlan, ...] = ()
    maker: MakerDeployment | None = None  # deployed only when Maker urns were asked for
    maker_plans: tuple[MakerUrnPlan, ...] = ()
    uniswap: UniswapDeployment | None = None  # Uniswap v3 pools, when asked for
    liquity1: Liquity1Deployment | None = None  # deployed only when troves were asked for
    liquity1_plans: tuple[TrovePlan, ...] = ()
    liquity2: Liquity2Deployment | None = None  # deployed only when troves were asked for
    liquity2_plans: tuple[Liquity2TrovePlan, ...] = ()

    @property
    def port(self) -> int:
        return int(self.rpc_url.rsplit(":", 1)[1])


def _plans(seed: int, aave_positions: int, morpho_positions: int,
           clusters: Sequence[ClusterSpec]) -> list[AavePositionPlan]:
    """Validate every input before anything starts (the Aave generator checks seed/n/clusters)."""
    if morpho_positions < 0:
        raise ConfigError(f"number of Morpho positions must be >= 0, got {morpho_positions}")
    return generate_aave_population(seed, aave_positions, clusters)


def _plans36(seed: int, aave36_positions: int,
             clusters: Sequence[ClusterSpec] = ()) -> list[AavePositionPlan]:
    return generate_aave36_population(seed, aave36_positions,
                                      keepout=keepout_for(seed, clusters))


def build_devnet(node: Anvil | DevnetRpc, seed: int, aave_positions: int,
                 morpho_positions: int = 0, clusters: Sequence[ClusterSpec] = (),
                 aave36_positions: int = 0, compound_positions: int = 0,
                 aave2_positions: int = 0, maker_positions: int = 0,
                 uniswap: bool = False, liquity1_troves: int = 0,
                 liquity2_positions: int = 0) -> Devnet:
    """Deploy everything on a fresh node and open every planned position
    (`compound_positions` per Comet, `maker_positions` per Maker ilk, `liquity2_positions`
    per live Liquity v2 branch); with `uniswap`, the Uniswap v3 pools last, at the oracle
    prices the seeding left."""
    rpc = node if isinstance(node, DevnetRpc) else DevnetRpc(node.url)
    # with planted clusters, every background keeps clear of their windows (devnet.keepout)
    keepout = keepout_for(seed, clusters)
    aave_plans = _plans(seed, aave_positions, morpho_positions, clusters)
    aave36_plans = _plans36(seed, aave36_positions, clusters)
    compound_plans = generate_compound_population(seed, compound_positions, keepout=keepout)
    maker_plans = generate_maker_population(seed, maker_positions, keepout)
    liquity1_plans = generate_liquity1_population(seed, liquity1_troves, keepout)
    liquity2_plans = generate_liquity2_population(seed, liquity2_positions, keepout)
    # 1. infrastructure and markets (v3.6 lists the v3.0 tokens and reads the same feeds)
    install_multicall(rpc)
    aave = deploy_aave(rpc)
    # Aave v2, then Maker, before any other market has a borrower: v2's seeding moves the
    # clock 51 days (30+ days of interest), Maker's 35 (stale rates; it ends with the OSMs
    # poked, so the next price is an hop away at the scan block, as keepers keep it on
    # mainnet); neither moves a feed
    aave2_plans = generate_aave2_population(seed, aave2_positions, keepout)
    aave2 = deploy_aave2(rpc, aave) if aave2_positions else None
    if aave2 is not None:
        seed_aave2(rpc, aave2, aave2_plans)
    # Liquity v1 just before Maker: it has no interest, so Maker's 35 days change nothing
    liquity1 = (deploy_and_seed_liquity1(rpc, aave, liquity1_plans, keepout) if liquity1_troves
                else None)
    # Liquity v2 just before Maker: Maker's 35-day warp leaves every recorded debt stale
    liquity2 = (deploy_and_seed_liquity2(rpc, aave, liquity2_plans) if liquity2_positions
                else None)
    maker = deploy_and_seed_maker(rpc, aave, maker_plans) if maker_positions else None
    aave36 = deploy_aave36(rpc, aave) if aave36_positions else None
    morpho = None
    if morpho_positions:
        morpho = deploy_morpho(rpc, aave.deployer, aave.tokens, price_source=aave.oracle)
    # 2. borrowers: v3.6 first, because the v3.0 seeding ends by moving the shared LINK feed
    #    to its final price, which makes both markets' LINK loans liquidatable
    if aave36 is not None:
        seed_aave36(rpc, aave36, aave36_plans)
    seed_aave(rpc, aave, aave_plans)
    morpho_plans: list[MorphoPositionPlan] = []
    if morpho is not None:
        morpho_plans = plan_morpho_positions(seed, morpho_positions, morpho.markets,
                                             keepout=keepout)
        seed_morpho(rpc, morpho, morpho_plans)
    # 3. Comets last: their stressed borrowers move the shared feeds for a while and back
    compound = deploy_compound(rpc, aave) if compound_positions else None
    if compound is not None:
        seed_compound(rpc, aave, compound, compound_plans)
    # 4. DEX depth at the final prices
    pools = deploy_uniswap(rpc, aave) if uniswap else None
    return Devnet(rpc.url, seed, aave, tuple(aave_plans), tuple(clusters), morpho,
                  tuple(morpho_plans), rpc.block_number(), from_cache=False, aave36=aave36,
                  aave36_plans=tuple(aave36_plans), compound=compound,
                  compound_plans=tuple(compound_plans), aave2=aave2,
                  aave2_plans=tuple(aave2_plans),
                  maker=maker, maker_plans=tuple(maker_plans), uniswap=pools,
                  liquity1=liquity1, liquity1_plans=tuple(liquity1_plans),
                  liquity2=liquity2, liquity2_plans=tuple(liquity2_plans))


def _meta(devnet: Devnet, rpc: DevnetRpc) -> dict[str, Any]:
    head = rpc.call("eth_getBlockByNumber", ["latest", False])
    return {
        "seed": devnet.seed,
        "aave": devnet.aave.to_dict(),
        "morpho": devnet.morpho.to_dict() if devnet.morpho else None,
        "aave36": devnet.aave36.to_dict() if devnet.aave36 else None,
        "aave36_positions_by_kind": dict(Counter(p.kind for p in devnet.aave36_plans)),
        "head_block": devnet.head_block,
        "head_timestamp": int(head["timestamp"], 16),
        "aave_positions_by_kind": dict(Counter(p.kind for p in devnet.aave_plans)),
        "morpho_positions": len(devnet.morpho_plans),
        "clusters": [c.key() for c in devnet.clusters],
        "compound": devnet.compound.to_dict() if devnet.compound else None,
        "compound_positions_per_comet": _per_comet(devnet),
        "aave2": devnet.aave2.to_dict() if devnet.aave2 else None,
        "aave2_positions": len(devnet.aave2_plans),
        "maker": devnet.maker.to_dict() if devnet.maker else None,
        "maker_positions_per_ilk": _per_ilk(devnet),
        "uniswap": devnet.uniswap.to_dict() if devnet.uniswap else None,
        **_liquity1_meta(devnet),
        "liquity2": devnet.liquity2.to_dict() if devnet.liquity2 else None,
        "liquity2_positions_per_branch": _per_branch(devnet),
    }


def _liquity1_meta(devnet: Devnet) -> dict[str, Any]:
    """Absent without Liquity v1, so the other devnets' metadata stays as it was."""
    if devnet.liquity1 is None:
        return {}
    return {"liquity1": devnet.liquity1.to_dict(), "liquity1_troves": _liquity1_n(devnet)}


def _liquity1_n(devnet: Devnet) -> int:
    return sum(p.bucket != "victim" for p in devnet.liquity1_plans)


def _per_ilk(devnet: Devnet) -> int:
    ilks = len(devnet.maker.ilks) if devnet.maker else 0
    return len(devnet.maker_plans) // ilks if ilks else 0


def _per_branch(devnet: Devnet) -> int:
    return sum(p.branch == "WETH" for p in devnet.liquity2_plans)


def _per_comet(devnet: Devnet) -> int:
    comets = len(devnet.compound.comets) if devnet.compound else 0
    return len(devnet.compound_plans) // comets if comets else 0


def _entry(seed: int, aave_positions: int, morpho_positions: int,
           clusters: Sequence[ClusterSpec], aave36_positions: int,
           compound_positions: int = 0, aave2_positions: int = 0,
           maker_positions: int = 0, uniswap: bool = False,
           liquity1_troves: int = 0, liquity2_positions: int = 0) -> CacheEntry:
    return cache_entry(cache_key(seed, aave_positions, morpho_positions,
                                 [c.key() for c in clusters], aave36_positions,
                                 n_compound_per_comet=compound_positions,
                                 n_aave2=aave2_positions,
                                 n_maker_per_ilk=maker_positions, uniswap=uniswap,
                                 n_liquity1=liquity1_troves,
                                 n_liquity2_per_branch=liquity2_positions))


def save_to_cache(devnet: Devnet) -> CacheEntry:
    """Dump the node's state and the deployments into the cache entry of this devnet."""
    rpc = DevnetRpc(devnet.rpc_url)
    n_background = sum(p.cluster is None for p in devnet.aave_plans)
    entry = _entry(devnet.seed, n_background, len(devnet.morpho_plans), devnet.clusters,
                   len(devnet.aave36_plans), _per_comet(devnet), len(devnet.aave2_plans),
                   _per_ilk(devnet), devnet.uniswap is not None, _liquity1_n(devnet),
                   _per_branch(devnet))
    entry.write(str(rpc.call("anvil_dumpState")), _meta(devnet, rpc))
    return entry


def _load(node: Anvil, entry: CacheEntry, seed: int, aave_plans: list[AavePositionPlan],
          morpho_positions: int, clusters: Sequence[ClusterSpec],
          aave36_plans: list[AavePositionPlan]) -> Devnet:
    rpc = DevnetRpc(node.url)
    meta = entry.read_meta()
    if rpc.block_number() != meta["head_block"]:
        raise InconsistentDataError(
            f"devnet cache {entry.directory} did not load (head {rpc.block_number()}, "
            f"expected {meta['head_block']}): delete that directory")
    # new blocks continue from the saved clock, so interest accrues as if no time had passed
    rpc.call("evm_setTime", [meta["head_timestamp"]])
    keepout = keepout_for(seed, clusters)  # the plans as build_devnet made them
    morpho = MorphoDeployment.from_dict(meta["morpho"]) if meta["morpho"] else None
    morpho_plans = plan_morpho_positions(seed, morpho_positions, morpho.markets,
                                         keepout=keepout) if morpho else []
    aave36 = AaveDeployment.from_dict(meta["aave36"]) if meta.get("aave36") else None
    compound = CompoundDeployment.from_dict(meta["compound"]) if meta.get("compound") else None
    compound_plans = generate_compound_population(
        seed, meta["compound_positions_per_comet"], keepout=keepout) if compound else []
    aave2 = AaveV2Deployment.from_dict(meta["aave2"]) if meta.get("aave2") else None
    aave2_plans = (generate_aave2_population(seed, meta["aave2_positions"], keepout) if aave2
                   else [])
    maker = MakerDeployment.from_dict(meta["maker"]) if meta.get("maker") else None
    maker_plans = generate_maker_population(
        seed, meta["maker_positions_per_ilk"], keepout) if maker else []
    uniswap = UniswapDeployment.from_dict(meta["uniswap"]) if meta.get("uniswap") else None
    liquity1 = (Liquity1Deployment.from_dict(meta["liquity1"]) if meta.get("liquity1")
                else None)
    liquity1_plans = generate_liquity1_population(
        seed, meta["liquity1_troves"], keepout) if liquity1 else []
    liquity2 = (Liquity2Deployment.from_dict(meta["liquity2"]) if meta.get("liquity2")
                else None)
    liquity2_plans = generate_liquity2_population(
        seed, meta["liquity2_positions_per_branch"], keepout) if liquity2 else []
    return Devnet(node.url, seed, AaveDeployment.from_dict(meta["aave"]), tuple(aave_plans),
                  tuple(clusters), morpho, tuple(morpho_plans), meta["head_block"],
                  from_cache=True, aave36=aave36, aave36_plans=tuple(aave36_plans),
                  compound=compound, compound_plans=tuple(compound_plans), aave2=aave2,
                  aave2_plans=tuple(aave2_plans),
                  maker=maker, maker_plans=tuple(maker_plans), uniswap=uniswap,
                  liquity1=liquity1, liquity1_plans=tuple(liquity1_plans),
                  liquity2=liquity2, liquity2_plans=tuple(liquity2_plans))


@contextlib.contextmanager
def seeded_devnet(seed: int = 7, aave_positions: int = 600, morpho_positions: int = 0,
                  clusters: Sequence[ClusterSpec] = (), port: int = 0,
                  use_cache: bool = True, aave36_positions: int = 0,
                  compound_positions: int = 0, aave2_positions: int = 0,
                  maker_positions: int = 0, uniswap: bool = False,
                  liquity1_troves: int = 0, liquity2_positions: int = 0
                  ) -> Iterator[Devnet]:
    """Start anvil with the seeded devnet (from the cache when possible); stop it on exit.
    `compound_positions` is per Comet (the devnet has a USDC and a WETH Comet)."""
    aave_plans = _plans(seed, aave_positions, morpho_positions, clusters)
    aave36_plans = _plans36(seed, aave36_positions, clusters)
    generate_compound_population(seed, compound_positions)  # refuse bad sizes before starting
    generate_aave2_population(seed, aave2_positions)
    generate_maker_population(seed, maker_positions)
    generate_liquity1_population(seed, liquity1_troves)
    generate_liquity2_population(seed, liquity2_positions)
    entry = _entry(seed, aave_positions, morpho_positions, clusters, aave36_positions,
                   compound_positions, aave2_positions, maker_positions, uniswap,
                   liquity1_troves, liquity2_positions)
    if use_cache and entry.exists():
        with Anvil.start(port=port, state_file=entry.state_file) as node:
            yield _load(node, entry, seed, aave_plans, morpho_positions, clusters, aave36_plans)
        return
    with Anvil.start(port=port) as node:
        devnet = build_devnet(node, seed, aave_positions, morpho_positions, clusters,
                              aave36_positions, compound_positions, aave2_positions,
                              maker_positions, uniswap, liquity1_troves, liquity2_positions)
        if use_cache:
            save_to_cache(devnet)
        yield devnet


def _market_section(key: str, aave: AaveDeployment) -> str:
    return f"""
[[markets]]
key = "{key}"
chain = "devnet"
protocol = "aave-v3"
pool_addresses_provider = "{aave.provider}"
start_block = {aave.deploy_block}
"""


def _morpho_section(morpho: MorphoDeployment, aave: AaveDeployment) -> str:
    # USD values and axes through the AaveOracle, which prices every devnet token
    return f"""
[[markets]]
key = "{MORPHO_MARKET_KEY}"
chain = "devnet"
protocol = "morpho-blue"
morpho = "{morpho.morpho}"
usd_price_oracle = "{aave.oracle}"
start_block = {morpho.deploy_block}
"""


def _comet_sections(compound: CompoundDeployment) -> str:
    """One [[markets]] entry per Comet; a Comet that prices in a token (the WETH Comet, in
    ETH) maps to USD through the USDC Comet's USD feed of that token."""
    usd_feeds = {s: f for c in compound.comets if c.quote == "USD" for s, f in c.feeds.items()}
    text = ""
    for comet in compound.comets:
        quote_feed = "" if comet.quote == "USD" else (
            f'quote_usd_feed = "{usd_feeds[comet.quote]}"\n')
        text += f"""
[[markets]]
key = "{COMPOUND_MARKET_PREFIX}{comet.key}"
chain = "devnet"
protocol = "compound-v3"
comet = "{comet.comet}"
{quote_feed}start_block = {comet.deploy_block}
"""
    return text


def _aave2_section(aave2: AaveV2Deployment) -> str:
    # v2 prices in ETH; the shared WETH/USD feed maps them onto the USD axes
    return f"""
[[markets]]
key = "{AAVE2_MARKET_KEY}"
chain = "devnet"
protocol = "aave-v2"
lending_pool_addresses_provider = "{aave2.provider}"
eth_usd_feed = "{aave2.eth_usd_feed}"
start_block = {aave2.deploy_block}
"""


def _maker_section(maker: MakerDeployment) -> str:
    # everything through the ChainLog, as on mainnet
    return f"""
[[markets]]
key = "{MAKER_MARKET_KEY}"
chain = "devnet"
protocol = "maker"
chainlog = "{maker.chainlog}"
start_block = {maker.deploy_block}
"""


def _liquity1_section(liquity: Liquity1Deployment) -> str:
    return f"""
[[markets]]
key = "{LIQUITY1_MARKET_KEY}"
chain = "devnet"
protocol = "liquity-v1"
trove_manager = "{liquity.trove_manager}"
start_block = {liquity.deploy_block}
"""


def _axis_members(spec_members: Sequence[str], axis: str, devnet: Devnet) -> list[str]:
    """Liquity v1's collateral is native ether, listed as "ETH": on the ETH axis."""
    extra = ["ETH"] if axis == "ETH" and devnet.liquity1 is not None else []
    return [*spec_members, *extra]


def _liquity2_section(liquity2: Liquity2Deployment) -> str:
    return f"""
[[markets]]
key = "{LIQUITY2_MARKET_KEY}"
chain = "devnet"
protocol = "liquity-v2"
collateral_registry = "{liquity2.collateral_registry}"
start_block = {liquity2.deploy_block}
"""


def write_config(devnet: Devnet, path: Path, database_url: str = "sqlite:///liqscan.db") -> None:
    """A ready liqscan config.toml that scans this devnet's markets: Aave v3.0, and v3.6,
    Morpho, the Comets, Aave v2 and Maker when the devnet has them."""
    spec = load_market_spec()
    axes = "".join(
        f"\n[axes.{axis}]\nmembers = "
        f"[{', '.join(repr(s) for s in _axis_members(spec.axis_members(axis), axis, devnet))}]\n"
        .replace("'", '"')
        for axis in ("ETH", "BTC")
    )
    markets = _market_section(AAVE_MARKET_KEY, devnet.aave)
    if devnet.aave36 is not None:
        markets += _market_section(AAVE36_MARKET_KEY, devnet.aave36)
    if devnet.morpho is not None:
        markets += _morpho_section(devnet.morpho, devnet.aave)
    if devnet.compound is not None:
        markets += _comet_sections(devnet.compound)
    if devnet.aave2 is not None:
        markets += _aave2_section(devnet.aave2)
    if devnet.maker is not None:
        markets += _maker_section(devnet.maker)
    if devnet.liquity1 is not None:
        markets += _liquity1_section(devnet.liquity1)
    if devnet.liquity2 is not None:
        markets += _liquity2_section(devnet.liquity2)
    text = f"""# liqscan config for the local devnet (seed {devnet.seed}), by `liqscan devnet up`.
[database]
url = "{database_url}"

[chains.devnet]
rpc_url = "{devnet.rpc_url}"
chain_id = {CHAIN_ID}
confirmations = 0
{markets}{axes}"""
    if devnet.uniswap is not None:
        text += depth_config_section(devnet.uniswap, devnet.aave, "devnet")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
