"""The Morpho Blue adapter: one [[markets]] entry = one Morpho contract and a set of its
markets (`market_ids`, default every market created since `start_block`).

Keys: `morpho` (the Morpho Blue contract), `usd_price_oracle` (an AaveOracle-like
`getAssetPrice(address)` in USD with 8 decimals: USD values and axis membership come from it,
liquidation prices from each market's own oracle), optional `market_ids`.

A market one of whose tokens the USD source cannot price stays in its own terms: that token's
USD price is the one the market's own oracle implies from the other token's
(`market_tokens`), so its positions keep their exact level and USD values, and the token is no
axis asset. A market neither of whose tokens is priced has no USD terms at all: ConfigError.

Borrowers are discovered per (market id, account) -- `discover_borrowers`, stored with the
market id as the submarket -- and each is read in its own market only, so a mainnet entry
costs one `position()` per real position, not accounts x markets. A borrower stored without a
submarket (before migration 0011), or passed to `read` as a bare account, is read in every
chosen market.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from scanner.chain.abi import decode_output, encode_call, load_abi
from scanner.chain.multicall import Call, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import Address, Asset, Axis, MarketRead, Position, Valuation
from scanner.errors import ConfigError, InconsistentDataError
from scanner.protocols.base import NotTheProtocolError
from scanner.protocols.morpho_blue.curve import MorphoCurve, Token
from scanner.protocols.morpho_blue.read import (
    MORPHO,
    MarketAtBlock,
    MarketId,
    PositionAtBlock,
    ProgressCallback,
    discover_market_ids,
    discover_positions,
    read_markets,
    read_positions,
)
from scanner.protocols.morpho_blue.rule import (
    ORACLE_PRICE_SCALE,
    MarketTotals,
    accrue_interest,
)

USD_ORACLE = load_abi("aave-v3", "AaveOracle")
ERC20 = load_abi("erc20", "ERC20")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")


@dataclass(frozen=True)
class MorphoResolved:
    morpho: Address
    usd_oracle: Address
    market_ids: tuple[MarketId, ...]


@dataclass(frozen=True)
class MorphoPosition:
    """One borrower in one market at the scan block, with its market accrued to the block."""

    position: PositionAtBlock
    market: MarketAtBlock
    accrued: MarketTotals
    collateral: Token
    loan: Token
    collateral_token: Address
    loan_token: Address

    @property
    def has_debt(self) -> bool:
        return self.position.borrow_shares > 0

    def curve(self, axis: Axis) -> MorphoCurve:
        moves = int(self.collateral_token in axis.members) - int(self.loan_token in axis.members)
        return MorphoCurve(
            collateral_raw=self.position.collateral_raw,
            borrow_shares=self.position.borrow_shares, totals=self.accrued,
            lltv_wad=self.market.params.lltv_wad,
            oracle_price_now=self.market.oracle_price_1e36,
            collateral=self.collateral, loan=self.loan, moves=moves,
        )

    def reported(self) -> Valuation:
        flat = self.curve(Axis("", frozenset(), ZERO_ADDRESS, 0))
        return flat.value(flat.price_now)


@dataclass(frozen=True)
class MarketsAtBlock:
    """The chosen markets' own state at one block: what every position of them is read in."""

    block: int
    timestamp: int
    markets: tuple[MarketAtBlock, ...]
    tokens: dict[Address, Token]


class MorphoBlueAdapter:
    def __init__(self, rpc: RpcClient, market: MarketConfig, chain: ChainConfig) -> None:
        self.rpc, self.market, self.chain = rpc, market, chain

    async def resolve(self, block: int) -> MorphoResolved:
        morpho = self.market.address("morpho")
        usd_oracle = self.market.address("usd_price_oracle")
        await self.rpc.require_code({f"markets.{self.market.key}.morpho": morpho,
                                     f"markets.{self.market.key}.usd_price_oracle": usd_oracle},
                                    block)
        await self._require_morpho(morpho, block)
        await self._require_usd_oracle(usd_oracle, block)
        ids = self.market.lists.get("market_ids")
        if ids is None:
            ids = tuple(await discover_market_ids(self.rpc, self.chain, morpho,
                                                  self.market.start_block, block))
        return MorphoResolved(morpho, usd_oracle, tuple(i.lower() for i in ids))

    async def _require_morpho(self, morpho: Address, block: int) -> None:
        """Morpho Blue's DOMAIN_SEPARATOR() is fixed by the chain id and its own address (EIP-712
        without name or version): no other contract answers it, a Morpho at another address
        neither."""
        try:
            answer = await self.rpc.eth_call(morpho, encode_call(MORPHO, "DOMAIN_SEPARATOR", []),
                                             block)
            (separator,) = decode_output(MORPHO, "DOMAIN_SEPARATOR", answer)
        except InconsistentDataError as exc:
            raise NotTheProtocolError("morpho", "DOMAIN_SEPARATOR() failed") from exc
        if separator != morpho_domain_separator(self.chain.chain_id, morpho):
            raise NotTheProtocolError("morpho", "DOMAIN_SEPARATOR() is not Morpho Blue's")

    async def _require_usd_oracle(self, oracle: Address, block: int) -> None:
        """Prices are read as USD with 8 decimals: an AaveOracle answers BASE_CURRENCY_UNIT()
        = 1e8; another contract reverts or answers something else."""
        try:
            answer = await self.rpc.eth_call(oracle, encode_call(USD_ORACLE, "BASE_CURRENCY_UNIT",
                                                                 []), block)
            (unit,) = decode_output(USD_ORACLE, "BASE_CURRENCY_UNIT", answer)
        except InconsistentDataError as exc:
            raise NotTheProtocolError("usd_price_oracle", "BASE_CURRENCY_UNIT() failed") from exc
        if unit != 10**8:
            raise NotTheProtocolError("usd_price_oracle",
                                      f"BASE_CURRENCY_UNIT() is {unit}, not 1e8 (USD)")

    async def discover_accounts(
        self, resolved: MorphoResolved, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        pairs = await discover_positions(self.rpc, self.chain, resolved.morpho,
                                         resolved.market_ids, from_block, to_block, on_progress)
        first_seen: dict[Address, int] = {}
        for (_market_id, account), block in sorted(pairs.items(), key=lambda kv: kv[1]):
            first_seen.setdefault(account, block)
        return first_seen

    async def discover_borrowers(
        self, resolved: MorphoResolved, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[tuple[MarketId, Address], int]:
        """(market id, account) of every Borrow / SupplyCollateral -> first block seen."""
        return await discover_positions(self.rpc, self.chain, resolved.morpho,
                                        resolved.market_ids, from_block, to_block, on_progress)

    async def read(self, resolved: MorphoResolved, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        """Every account in every chosen market."""
        return await self.read_borrowers(resolved, [("", a) for a in accounts], block)

    async def read_borrowers(self, resolved: MorphoResolved,
                             borrowers: Sequence[tuple[str, Address]], block: int) -> MarketRead:
        """Each (market id, account) in its market when that market is chosen; a bare
        ("", account) in every chosen market."""
        markets = await self.read_markets_at(resolved, block)
        keys = position_keys([m.market_id for m in markets.markets], borrowers)
        found = await read_positions(self.rpc, self.chain, resolved.morpho, keys, block)
        return assemble_read(self.market, markets, found)

    async def read_markets_at(self, resolved: MorphoResolved, block: int) -> MarketsAtBlock:
        """The chosen markets, the block's timestamp and the tokens' prices: every read of the
        markets' own state (a full read and an incremental one alike)."""
        markets = await read_markets(self.rpc, self.chain, resolved.morpho,
                                     resolved.market_ids, block)
        timestamp = int((await self.rpc.get_block(block))["timestamp"])
        tokens = await self._tokens(resolved, markets, block)
        return MarketsAtBlock(block, timestamp, tuple(markets), tokens)

    async def _tokens(self, resolved: MorphoResolved, markets: Sequence[MarketAtBlock],
                      block: int) -> dict[Address, Token]:
        """Symbol, decimals and USD price of every loan and collateral token (0: the USD
        source has no price for it)."""
        addresses = sorted({a for m in markets
                            for a in (m.params.collateral_token, m.params.loan_token)})
        calls = []
        for token in addresses:
            calls.append(Call(token, encode_call(ERC20, "symbol", []), False, 30_000))
            calls.append(Call(token, encode_call(ERC20, "decimals", []), False, 30_000))
            calls.append(Call(resolved.usd_oracle, encode_call(USD_ORACLE, "getAssetPrice",
                                                               [token]), True, 60_000))
        results = await aggregate3(self.rpc, calls, block,
                                   gas_limit_per_batch=self.chain.gas_limit_per_batch,
                                   multicall_address=self.chain.multicall_address)
        tokens = {}
        for n, token in enumerate(addresses):
            (symbol,) = decode_output(ERC20, "symbol", require_data(results[3 * n], "symbol"))
            (decimals,) = decode_output(ERC20, "decimals", require_data(results[3 * n + 1],
                                                                          "decimals"))
            price = results[3 * n + 2]
            usd = (decode_output(USD_ORACLE, "getAssetPrice", price.data)[0]
                   if price.success and price.data else 0)
            tokens[token] = Token(str(symbol), int(decimals), int(usd))
        return tokens


def market_tokens(market: MarketAtBlock, tokens: dict[Address, Token], market_key: str
                  ) -> tuple[Token, Token]:
    """The market's (collateral, loan) tokens, a token the USD source cannot price valued in
    the market's own terms: the USD price its oracle implies from the other token's.

    The oracle gives loan base units per collateral base unit x 1e36 (P), so one whole
    collateral token is worth P * 10^cd / (1e36 * 10^ld) whole loan tokens."""
    collateral = tokens[market.params.collateral_token]
    loan = tokens[market.params.loan_token]
    if collateral.usd_8dec and loan.usd_8dec:
        return collateral, loan
    price, cd, ld = market.oracle_price_1e36, collateral.decimals, loan.decimals
    if not (collateral.usd_8dec or loan.usd_8dec) or not price:
        unpriced = collateral if not collateral.usd_8dec else loan
        token = (market.params.collateral_token if unpriced is collateral
                 else market.params.loan_token)
        raise ConfigError(
            f"markets.{market_key}.usd_price_oracle has no USD price for {unpriced.symbol} "
            f"({to_checksum_address(token)}) and market {market.market_id} gives it none "
            "through its other token: choose market_ids with a token it prices, or another "
            "usd_price_oracle")
    if not loan.usd_8dec:
        implied = collateral.usd_8dec * ORACLE_PRICE_SCALE * 10**ld // (price * 10**cd)
        return collateral, replace(loan, usd_8dec=implied)
    implied = loan.usd_8dec * price * 10**cd // (ORACLE_PRICE_SCALE * 10**ld)
    return replace(collateral, usd_8dec=implied), loan


def position_keys(market_ids: Sequence[MarketId], borrowers: Sequence[tuple[str, Address]]
                   ) -> list[tuple[MarketId, Address]]:
    """The (market id, account) pairs to read, sorted, each once."""
    chosen = set(market_ids)
    keys: set[tuple[MarketId, Address]] = set()
    for submarket, account in borrowers:
        if not submarket:
            keys.update((market_id, account) for market_id in market_ids)
        elif submarket.lower() in chosen:
            keys.add((submarket.lower(), account))
    return sorted(keys)


def assemble_read(market: MarketConfig, state: MarketsAtBlock,
                  found: Sequence[PositionAtBlock]) -> MarketRead:
    """The market's read from its state and its positions (sorted by market id, account, as
    `read_positions` answers): the one assembly of a full read and an incremental one."""
    by_id = {m.market_id: m for m in state.markets}
    accrued = {m.market_id: accrue_interest(m.stored, m.borrow_rate_wad, state.timestamp,
                                            has_irm=m.params.irm != ZERO_ADDRESS)
               for m in state.markets}
    pairs = {m.market_id: market_tokens(m, state.tokens, market.key) for m in state.markets}
    positions = []
    for p in found:
        at = by_id[p.market_id]
        collateral, loan = pairs[p.market_id]
        position = MorphoPosition(p, at, accrued[p.market_id], collateral, loan,
                                  at.params.collateral_token, at.params.loan_token)
        positions.append(Position(market_key=market.key, protocol=market.protocol,
                                  submarket=p.market_id, account=p.account, state=position))
    # a token the USD source cannot price is no axis asset: its implied price is per market
    assets = tuple(Asset(address, t.symbol, t.usd_8dec) for address, t in state.tokens.items()
                   if t.usd_8dec)
    return MarketRead(market_key=market.key, protocol=market.protocol, block=state.block,
                      block_timestamp=state.timestamp, revision=0, assets=assets,
                      positions=tuple(positions))


def morpho_domain_separator(chain_id: int, morpho: Address) -> bytes:
    """keccak256(abi.encode(DOMAIN_TYPEHASH, chainid, address(this))), as Morpho Blue sets it."""
    return keccak(encode(["bytes32", "uint256", "address"], [_DOMAIN_TYPEHASH, chain_id, morpho]))
