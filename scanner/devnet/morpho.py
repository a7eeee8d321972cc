"""Morpho Blue on the devnet: compiled from the npm sources, markets from morpho_markets.toml.

    deployment = deploy_morpho(rpc, deployer, tokens, price_source=aave.oracle)
    plans = plan_morpho_positions(seed, n, deployment.markets)
    seed_morpho(rpc, deployment, plans)

Every market's oracle is a DevnetMorphoOracle reading the AaveOracle-like `price_source`, so one
price control moves Aave and Morpho together. All state comes from real transactions.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.devnet.keepout import RISE_SMALL, Exposure, Keepout
from scanner.devnet.rpc import DevnetRpc, Tx, calldata
from scanner.devnet.solc import CompiledContract, compile_sources
from scanner.devnet.toolchain import npm_package_dir, project_root
from scanner.errors import ConfigError, InconsistentDataError

MARKETS_FILE = Path(__file__).with_name("morpho_markets.toml")
WAD = 10**18
ORACLE_PRICE_SCALE = 10**36
MAX_UINT256 = 2**256 - 1
# MarketParams(loanToken, collateralToken, oracle, irm, lltv) as an ABI tuple type.
MARKET_PARAMS = "(address,address,address,address,uint256)"
LENDER = to_checksum_address(keccak(b"liqscan-morpho-lender")[-20:])
_PLAN_SEED_OFFSET = 0x4D4F5250  # "MORP": Morpho plans differ from other plans with the same seed
_OUR_SOURCES = ("DevnetIrm.sol", "DevnetMorphoOracle.sol")


@dataclass(frozen=True)
class MorphoMarket:
    """One created market; `market_id` is keccak256(abi.encode(MarketParams)) as 0x hex."""

    market_id: str
    loan_symbol: str
    loan_token: str
    loan_decimals: int
    collateral_symbol: str
    collateral_token: str
    collateral_decimals: int
    oracle: str
    irm: str
    lltv_wad: int

    @property
    def params(self) -> tuple[str, str, str, str, int]:
        return (self.loan_token, self.collateral_token, self.oracle, self.irm, self.lltv_wad)


@dataclass(frozen=True)
class MorphoDeployment:
    morpho: str
    irm: str
    owner: str
    price_source: str  # the AaveOracle-like getAssetPrice(address) every market oracle reads
    markets: tuple[MorphoMarket, ...]
    deploy_block: int

    def market(self, market_id: str) -> MorphoMarket:
        for market in self.markets:
            if market.market_id == market_id:
                return market
        raise ConfigError(f"Morpho market {market_id} is not in this deployment")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MorphoDeployment:
        fields = dict(data)
        fields["markets"] = tuple(MorphoMarket(**market) for market in data["markets"])
        return cls(**fields)


@dataclass(frozen=True)
class MorphoPositionPlan:
    """A borrower to create: collateral in base units, target LTV (debt / collateral value)."""

    borrower: str
    market_id: str
    collateral_raw: int
    ltv_wad: int


@dataclass(frozen=True)
class MarketSpec:
    collateral: str
    loan: str
    lltv_wad: int
    initial_supply: int  # whole loan tokens
    weight: int


@dataclass(frozen=True)
class MorphoSpec:
    irm_rate_per_second_wad: int
    lltvs_wad: tuple[int, ...]
    markets: tuple[MarketSpec, ...]
    sizing_price_usd: Mapping[str, float]


def load_morpho_spec(path: Path = MARKETS_FILE) -> MorphoSpec:
    try:
        data = tomllib.loads(path.read_text())
        lltvs = tuple(int(v) for v in data["lltvs_wad"])
        markets = tuple(MarketSpec(**m) for m in data["markets"])
        spec = MorphoSpec(int(data["irm_rate_per_second_wad"]), lltvs, markets,
                          {k: float(v) for k, v in data["sizing_price_usd"].items()})
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"invalid Morpho devnet spec {path}: {exc}") from exc
    for market in markets:
        if market.lltv_wad not in lltvs:
            raise ConfigError(f"{path}: lltv {market.lltv_wad} of {market.collateral}/"
                              f"{market.loan} is not in lltvs_wad")
    return spec


def compile_morpho_contracts() -> dict[str, CompiledContract]:
    """Morpho from @morpho-org/morpho-blue (solc 0.8.19, runs 999999, no via-IR) + ours."""
    morpho_src = npm_package_dir("@morpho-org/morpho-blue") / "src" / "Morpho.sol"
    contracts = compile_sources({"@morpho-org/morpho-blue/src/Morpho.sol": morpho_src})
    ours_dir = project_root() / "contracts" / "src"
    contracts.update(compile_sources({name: ours_dir / name for name in _OUR_SOURCES}))
    return contracts


def market_id(params: tuple[str, str, str, str, int]) -> str:
    """Morpho's Id: keccak256 over the five 32-byte words of MarketParams."""
    return "0x" + keccak(encode(["address", "address", "address", "address", "uint256"],
                                list(params))).hex()


def deploy_morpho(
    rpc: DevnetRpc,
    deployer: str,
    tokens: Mapping[str, str],
    price_source: str,
    spec: MorphoSpec | None = None,
) -> MorphoDeployment:
    """Deploy Morpho(owner=deployer) + DevnetIrm, enable LLTVs, create and fund every market."""
    spec = spec or load_morpho_spec()
    contracts = compile_morpho_contracts()
    # 1. Morpho and the IRM, owned by the deployer
    morpho_receipt = rpc.send(Tx(deployer, None, contracts["Morpho"].bytecode
                                 + encode(["address"], [deployer]).hex(), gas=60_000_000))
    morpho = to_checksum_address(morpho_receipt["contractAddress"])
    irm = rpc.deploy(deployer, contracts["DevnetIrm"].bytecode,
                     encode(["address", "uint256"], [deployer, spec.irm_rate_per_second_wad]))
    # 2. one oracle per market, reading the shared price source
    oracles = _deploy_oracles(rpc, deployer, contracts["DevnetMorphoOracle"], tokens,
                              price_source, spec.markets)
    markets = tuple(_describe_market(rpc, m, tokens, oracle, irm)
                    for m, oracle in zip(spec.markets, oracles, strict=True))
    # 3. governance + markets, then liquidity from the lender
    setup = [Tx(deployer, morpho, calldata("enableIrm(address)", irm))]
    setup += [Tx(deployer, morpho, calldata("enableLltv(uint256)", v)) for v in spec.lltvs_wad]
    setup += [Tx(deployer, morpho, calldata(f"createMarket({MARKET_PARAMS})", m.params))
              for m in markets]
    rpc.send_many(setup)
    _check_markets(rpc, morpho, markets)
    supplies = {market.market_id: m.initial_supply * 10**market.loan_decimals
                for m, market in zip(spec.markets, markets, strict=True)}
    deployment = MorphoDeployment(morpho, irm, to_checksum_address(deployer),
                                  to_checksum_address(price_source), markets,
                                  int(morpho_receipt["blockNumber"], 16))
    rpc.send_many(_supply_txs(deployment, supplies, approve=True))
    return deployment


def _deploy_oracles(rpc: DevnetRpc, deployer: str, oracle: CompiledContract,
                    tokens: Mapping[str, str], price_source: str,
                    specs: Sequence[MarketSpec]) -> list[str]:
    txs = []
    for spec in specs:
        args = encode(["address", "address", "address"],
                      [price_source, _token(tokens, spec.collateral), _token(tokens, spec.loan)])
        txs.append(Tx(deployer, None, oracle.bytecode + args.hex()))
    return [to_checksum_address(r["contractAddress"]) for r in rpc.send_many(txs)]


def _token(tokens: Mapping[str, str], symbol: str) -> str:
    if symbol not in tokens:
        raise ConfigError(f"Morpho market token {symbol} missing from the devnet token map "
                          f"({', '.join(sorted(tokens))}): fix morpho_markets.toml")
    return to_checksum_address(tokens[symbol])


def _describe_market(rpc: DevnetRpc, spec: MarketSpec, tokens: Mapping[str, str],
                     oracle: str, irm: str) -> MorphoMarket:
    loan, collateral = _token(tokens, spec.loan), _token(tokens, spec.collateral)
    params = (loan, collateral, oracle, irm, spec.lltv_wad)
    return MorphoMarket(market_id(params), spec.loan, loan, _decimals(rpc, loan),
                        spec.collateral, collateral, _decimals(rpc, collateral),
                        oracle, irm, spec.lltv_wad)


def _decimals(rpc: DevnetRpc, token: str) -> int:
    (value,) = decode(["uint8"], rpc.eth_call(token, calldata("decimals()")))
    return int(value)


def _check_markets(rpc: DevnetRpc, morpho: str, markets: Sequence[MorphoMarket]) -> None:
    """Our id must be Morpho's id: read the params back by id."""
    for market in markets:
        raw = rpc.eth_call(morpho, calldata("idToMarketParams(bytes32)",
                                            bytes.fromhex(market.market_id[2:])))
        stored = decode(["address", "address", "address", "address", "uint256"], raw)
        if (*(to_checksum_address(v) for v in stored[:4]), stored[4]) != market.params:
            raise InconsistentDataError(f"Morpho market {market.market_id} not created as planned")


def _supply_txs(deployment: MorphoDeployment, assets_raw_by_market: Mapping[str, int],
                approve: bool) -> list[Tx]:
    """The lender mints loan tokens and supplies them (Morpho.supply) to each market."""
    txs: list[Tx] = []
    for market in deployment.markets:
        assets_raw = assets_raw_by_market.get(market.market_id, 0)
        if assets_raw <= 0:
            continue
        token = market.loan_token
        txs.append(Tx(LENDER, token, calldata("mint(address,uint256)", LENDER, assets_raw)))
        if approve:
            txs.append(Tx(LENDER, token, calldata("approve(address,uint256)",
                                                  deployment.morpho, MAX_UINT256)))
        txs.append(Tx(LENDER, deployment.morpho, calldata(
            f"supply({MARKET_PARAMS},uint256,uint256,address,bytes)",
            market.params, assets_raw, 0, LENDER, b"")))
    return txs


# --- population -------------------------------------------------------------------------


def plan_morpho_positions(
    seed: int,
    n: int,
    markets: Sequence[MorphoMarket],
    sizing_price_usd: Mapping[str, float] | None = None,
    keepout: Keepout | None = None,
) -> list[MorphoPositionPlan]:
    """`n` deterministic borrowers: Pareto-sized collateral, LTVs spread below each lltv.

    Most LTVs fall in 25-95% of lltv; one in ten sits within 0.5-3% of it (near liquidation).
    With a `keepout`, an LTV inside a planted window is drawn again (scanner.devnet.keepout).
    """
    prices = sizing_price_usd or load_morpho_spec().sizing_price_usd
    weights = _market_weights(markets)
    rng = random.Random(seed + _PLAN_SEED_OFFSET)
    plans = []
    for index in range(n):
        market = rng.choices(markets, weights=weights)[0]
        # Pareto(1.16) is the 80/20 tail; the cap keeps one whale from draining a market.
        size_usd = min(2_000.0 * rng.paretovariate(1.16), 20_000_000.0)
        amount = size_usd / prices[market.collateral_symbol]
        collateral_raw = max(1, int(amount * 10**market.collateral_decimals))
        near = rng.random() < 0.1
        fraction = rng.uniform(0.97, 0.995) if near else rng.uniform(0.25, 0.95)
        plan = MorphoPositionPlan(_borrower(seed, index), market.market_id, collateral_raw,
                                  int(market.lltv_wad * fraction))
        if keepout is not None:
            plan = keepout.clear(plan, f"morpho/{index}", partial(morpho_exposure, market),
                                 partial(_redraw_ltv, plan, market, near), RISE_SMALL)
        plans.append(plan)
    return plans


def _redraw_ltv(plan: MorphoPositionPlan, market: MorphoMarket, near: bool,
                rng: random.Random) -> MorphoPositionPlan:
    fraction = rng.uniform(0.97, 0.995) if near else rng.uniform(0.25, 0.95)
    return replace(plan, ltv_wad=int(market.lltv_wad * fraction))


def morpho_exposure(market: MorphoMarket, plan: MorphoPositionPlan) -> Exposure:
    """Per dollar of collateral: liquidatable when the LTV reaches the lltv."""
    return Exposure(((market.collateral_symbol, 1.0, market.lltv_wad / WAD),),
                    ((market.loan_symbol, plan.ltv_wad / WAD),))


def _market_weights(markets: Sequence[MorphoMarket]) -> list[int]:
    by_pair = {(m.collateral, m.loan): m.weight for m in load_morpho_spec().markets}
    return [by_pair.get((m.collateral_symbol, m.loan_symbol), 1) for m in markets]


def _borrower(seed: int, index: int) -> str:
    digest = keccak(b"liqscan-morpho-borrower" + seed.to_bytes(8, "big") + index.to_bytes(8, "big"))
    return to_checksum_address(digest[-20:])


def borrow_for_ltv(collateral_raw: int, oracle_price: int, ltv_wad: int) -> int:
    """Loan base units for a target LTV, rounded down like Morpho's maxBorrow:
    floor(floor(collateral * price / 1e36) * ltv / 1e18)."""
    return collateral_raw * oracle_price // ORACLE_PRICE_SCALE * ltv_wad // WAD


def oracle_price(rpc: DevnetRpc, market: MorphoMarket, block: int | str = "latest") -> int:
    (value,) = decode(["uint256"], rpc.eth_call(market.oracle, calldata("price()"), block))
    return int(value)


def seed_morpho(
    rpc: DevnetRpc, deployment: MorphoDeployment, plans: Sequence[MorphoPositionPlan]
) -> list[int]:
    """Open every planned position with real transactions; return each borrow in loan base units.

    Per borrower: mint collateral, approve Morpho, supplyCollateral, borrow (same sender, so
    nonce order keeps them in sequence). The lender first supplies what the borrows will take.
    """
    prices = {m.market_id: oracle_price(rpc, m) for m in deployment.markets}
    borrows_raw = [borrow_for_ltv(p.collateral_raw, prices[p.market_id], p.ltv_wad) for p in plans]
    needed_raw: dict[str, int] = {}
    for plan, borrow_raw in zip(plans, borrows_raw, strict=True):
        needed_raw[plan.market_id] = needed_raw.get(plan.market_id, 0) + borrow_raw
    rpc.send_many(_supply_txs(deployment, needed_raw, approve=False))
    txs: list[Tx] = []
    for plan, borrow_raw in zip(plans, borrows_raw, strict=True):
        txs += _position_txs(deployment, deployment.market(plan.market_id), plan, borrow_raw)
    rpc.send_many(txs)
    return borrows_raw


def _position_txs(deployment: MorphoDeployment, market: MorphoMarket,
                  plan: MorphoPositionPlan, borrow_raw: int) -> list[Tx]:
    who, morpho, collateral = plan.borrower, deployment.morpho, market.collateral_token
    txs = [
        Tx(who, collateral, calldata("mint(address,uint256)", who, plan.collateral_raw)),
        Tx(who, collateral, calldata("approve(address,uint256)", morpho, MAX_UINT256)),
        Tx(who, morpho, calldata(f"supplyCollateral({MARKET_PARAMS},uint256,address,bytes)",
                                 market.params, plan.collateral_raw, who, b"")),
    ]
    if borrow_raw > 0:
        txs.append(Tx(who, morpho, calldata(
            f"borrow({MARKET_PARAMS},uint256,uint256,address,address)",
            market.params, borrow_raw, 0, who, who)))
    return txs


def set_irm_rate(rpc: DevnetRpc, deployment: MorphoDeployment, rate_per_second_wad: int) -> None:
    """Change the DevnetIrm borrow rate (0 freezes interest, e.g. around a liquidation test)."""
    rpc.send(Tx(deployment.owner, deployment.irm,
                calldata("setBorrowRate(uint256)", rate_per_second_wad)))
