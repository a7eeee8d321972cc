"""Compound III (Comet): resolve, discover and read one Comet at one block.

No math and no SQL here: every read names its block (through aggregate3) and a failed read
raises. The positions' rule is `curve.py` over `rule.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from eth_utils.address import to_checksum_address

from scanner.chain.abi import decode_output, encode_call, function_selector, load_abi
from scanner.chain.checksum import checksum_address
from scanner.chain.fastabi import WORD, address_bytes
from scanner.chain.multicall import Call, CallResult, aggregate3, require_data
from scanner.chain.rpc import RpcClient
from scanner.config import ChainConfig, MarketConfig
from scanner.domain import Address, Asset, MarketRead, Position
from scanner.errors import InconsistentDataError
from scanner.protocols.base import NotTheProtocolError
from scanner.protocols.compound_v3.curve import CometPosition
from scanner.protocols.compound_v3.discover import ProgressCallback, discover_accounts
from scanner.protocols.compound_v3.rule import (
    PRICE_SCALE,
    CometAccount,
    CometAsset,
    CometPrices,
    CometRates,
    CometTotals,
    accrue,
    is_liquidatable,
    present_debt_raw,
)
from scanner.protocols.compound_v3.state import CometMarketState, CometStoreFront, CometUser

COMET = load_abi("compound-v3", "Comet")
ERC20 = load_abi("erc20", "ERC20")
RATE_GETTERS = (
    "supplyKink", "supplyPerSecondInterestRateSlopeLow", "supplyPerSecondInterestRateSlopeHigh",
    "supplyPerSecondInterestRateBase", "borrowKink", "borrowPerSecondInterestRateSlopeLow",
    "borrowPerSecondInterestRateSlopeHigh", "borrowPerSecondInterestRateBase",
)
# Gas guesses per call, used only to size aggregate3 batches under the per-call gas cap.
_SIMPLE_GAS = 30_000
_PRICE_GAS = 80_000  # getPrice calls the feed (rate-based feeds call a second contract)
_VIEW_GAS = 150_000  # isLiquidatable / borrowBalanceOf read every asset and its feed
STORE_FRONT_GETTERS = ("storeFrontPriceFactor", "targetReserves", "getReserves")


@dataclass(frozen=True)
class CometAddresses:
    comet: Address
    quote_usd_feed: Address | None  # the base token's USD feed, for Comets pricing in it


class CompoundV3Adapter:
    """Reads one Comet. No math, no SQL; every read names its block."""

    key: ClassVar[str] = "compound-v3"

    def __init__(self, rpc: RpcClient, market: MarketConfig, chain: ChainConfig) -> None:
        self.rpc = rpc
        self.market = market
        self.chain = chain

    async def _calls(self, calls: Sequence[Call], block: int) -> list[CallResult]:
        return await aggregate3(self.rpc, calls, block,
                                gas_limit_per_batch=self.chain.gas_limit_per_batch,
                                multicall_address=self.chain.multicall_address)

    def _call(self, name: str, args: Sequence[Any] = (), gas: int = _SIMPLE_GAS,
              target: Address | None = None) -> Call:
        return Call(target or self.market.address("comet"), encode_call(COMET, name, args),
                    False, gas)

    async def resolve(self, block: int) -> CometAddresses:
        comet = self.market.address("comet")
        feed = self.market.addresses.get("quote_usd_feed")
        where = f"markets.{self.market.key}"
        await self.rpc.require_code({f"{where}.comet": comet}, block)
        if feed is not None:
            await self.rpc.require_code({f"{where}.quote_usd_feed": feed}, block)
        await self._require_comet(comet, block)
        if feed is not None:
            await self._require_feed(comet, feed, block)
        return CometAddresses(comet, feed)

    async def _require_feed(self, comet: Address, feed: Address, block: int) -> None:
        """The Comet reads `quote_usd_feed` as it reads its own feeds (getPrice: the feed's
        latestRoundData, positive): another contract makes it revert or answer nothing."""
        try:
            answer = await self.rpc.eth_call(comet, encode_call(COMET, "getPrice", [feed]), block)
            (price,) = decode_output(COMET, "getPrice", answer)
        except InconsistentDataError as exc:
            raise NotTheProtocolError("quote_usd_feed",
                                      "the Comet's getPrice(feed) failed") from exc
        if price <= 0:
            raise NotTheProtocolError("quote_usd_feed", "the Comet's getPrice(feed) is 0")

    async def _require_comet(self, comet: Address, block: int) -> None:
        """A Comet's baseScale() is 10**decimals of its base token; another contract reverts,
        answers nothing (an ERC-20's fallback) or answers something else."""
        try:
            answer = await self.rpc.eth_call(comet, encode_call(COMET, "baseScale", []), block)
            (scale,) = decode_output(COMET, "baseScale", answer)
        except InconsistentDataError as exc:
            raise NotTheProtocolError("comet", "baseScale() failed") from exc
        if not is_power_of_ten(scale):
            raise NotTheProtocolError("comet", f"baseScale() is {scale}, not a power of ten")

    async def discover_accounts(
        self, addresses: CometAddresses, from_block: int, to_block: int,
        on_progress: ProgressCallback | None = None,
    ) -> dict[Address, int]:
        return await discover_accounts(self.rpc, self.chain, addresses.comet, from_block,
                                       to_block, on_progress)

    async def read(self, addresses: CometAddresses, accounts: Sequence[Address], block: int
                   ) -> MarketRead:
        state = await self.read_market(addresses, block)
        users = await self.read_users(state, accounts, block)
        return market_read(self.market.protocol, state, users)

    # --- the market ----------------------------------------------------------------------

    async def read_market(self, addresses: CometAddresses, block: int) -> CometMarketState:
        comet = addresses.comet
        head = [self._call(n) for n in (*RATE_GETTERS, "totalsBasic", "baseToken", "baseScale",
                                         "baseTokenPriceFeed", "numAssets")]
        results = [require_data(r, f"Comet {comet}: {c}") for r, c in zip(
            await self._calls(head, block),
            (*RATE_GETTERS, "totalsBasic", "baseToken", "baseScale", "baseTokenPriceFeed",
             "numAssets"), strict=True)]
        rates = CometRates(*(int(decode_output(COMET, n, r)[0])
                             for n, r in zip(RATE_GETTERS, results, strict=False)))
        ((supply_index, borrow_index, _ts, _tb, total_supply, total_borrow, last, _p),) = (
            decode_output(COMET, "totalsBasic", results[8]))
        totals = CometTotals(int(supply_index), int(borrow_index), int(total_supply),
                             int(total_borrow), int(last))
        base_token = to_checksum_address(decode_output(COMET, "baseToken", results[9])[0])
        base_scale = int(decode_output(COMET, "baseScale", results[10])[0])
        base_feed = to_checksum_address(decode_output(COMET, "baseTokenPriceFeed",
                                                      results[11])[0])
        n_assets = int(decode_output(COMET, "numAssets", results[12])[0])
        assets, feeds = await self._read_assets(n_assets, block)
        prices, quote_usd = await self._read_prices(addresses, base_feed, feeds, block)
        symbols = await self._read_symbols([base_token, *(a.asset for a in assets)], block)
        store_front = await self._read_store_front(comet, assets, block)
        timestamp = int((await self.rpc.get_block(block))["timestamp"])
        return CometMarketState(
            market_key=self.market.key, comet=comet, block=block, block_timestamp=timestamp,
            base_token=base_token, base_symbol=symbols[base_token], base_scale=base_scale,
            rates=rates, stored_totals=totals, accrued_totals=accrue(totals, rates, timestamp),
            assets=assets, symbols=symbols, prices=prices, quote_usd_8dec=quote_usd,
            store_front=store_front)

    async def _read_store_front(self, comet: Address, assets: Sequence[CometAsset], block: int
                                ) -> CometStoreFront:
        """buyCollateral's terms: the Comet's own getters (getReserves accrues in memory), and
        getCollateralReserves of every asset (what a buyer can take)."""
        results = await self._calls(
            [self._call(n, (), _PRICE_GAS) for n in STORE_FRONT_GETTERS]
            + [self._call("getCollateralReserves", [a.asset], _PRICE_GAS) for a in assets], block)
        factor, target, reserves = (
            int(decode_output(COMET, n, require_data(r, f"Comet {comet}: {n}"))[0])
            for n, r in zip(STORE_FRONT_GETTERS, results[:len(STORE_FRONT_GETTERS)], strict=True))
        held = {a.asset: int(decode_output(COMET, "getCollateralReserves", require_data(
            r, f"Comet {comet}: getCollateralReserves({a.asset})"))[0])
            for a, r in zip(assets, results[len(STORE_FRONT_GETTERS):], strict=True)}
        return CometStoreFront(factor, target, reserves, held)

    async def _read_assets(self, n_assets: int, block: int
                           ) -> tuple[tuple[CometAsset, ...], dict[Address, Address]]:
        results = await self._calls([self._call("getAssetInfo", [i]) for i in range(n_assets)],
                                    block)
        assets: list[CometAsset] = []
        feeds: dict[Address, Address] = {}
        for i, result in enumerate(results):
            ((offset, asset, feed, scale, borrow_cf, liquidate_cf, liquidation_f, _cap),) = (
                decode_output(COMET, "getAssetInfo", require_data(result, f"getAssetInfo({i})")))
            asset = str(to_checksum_address(asset))
            assets.append(CometAsset(int(offset), asset, int(scale), int(borrow_cf),
                                     int(liquidate_cf), int(liquidation_f)))
            feeds[asset] = str(to_checksum_address(feed))
        return tuple(assets), feeds

    async def _read_prices(self, addresses: CometAddresses, base_feed: Address,
                           feeds: dict[Address, Address], block: int
                           ) -> tuple[CometPrices, int | None]:
        """Every price through the Comet's own getPrice (8 decimals; reverts on a bad one)."""
        order = list(feeds)
        wanted = [base_feed, *(feeds[a] for a in order)]
        if addresses.quote_usd_feed is not None:
            wanted.append(addresses.quote_usd_feed)
        results = await self._calls([self._call("getPrice", [f], _PRICE_GAS) for f in wanted],
                                    block)
        values = [int(decode_output(COMET, "getPrice", require_data(r, f"getPrice({f})"))[0])
                  for r, f in zip(results, wanted, strict=True)]
        prices = CometPrices(values[0], dict(zip(order, values[1:1 + len(order)], strict=True)))
        if addresses.quote_usd_feed is None:
            return prices, None
        if prices.base_8dec != PRICE_SCALE:
            raise InconsistentDataError(
                f"markets.{self.market.key}.quote_usd_feed is set, but the Comet prices its "
                f"base token at {prices.base_8dec}, not 1e8: the Comet does not price in its "
                "base token; remove quote_usd_feed")
        return prices, values[-1]

    async def _read_symbols(self, tokens: Sequence[Address], block: int) -> dict[Address, str]:
        calls = [Call(t, encode_call(ERC20, "symbol", []), True, _SIMPLE_GAS) for t in tokens]
        results = await self._calls(calls, block)
        return {t: _decode_symbol(r, t) for t, r in zip(tokens, results, strict=True)}

    # --- the accounts --------------------------------------------------------------------

    async def read_users(self, state: CometMarketState, accounts: Sequence[Address],
                         block: int) -> list[CometUser]:
        """Accounts with debt at `block` (principal < 0); the others are dropped."""
        results = await self._calls(self._account_calls(state, accounts), block)
        stride = len(state.assets) + 3
        users = []
        for n, account in enumerate(accounts):
            # the message is built only for a failed or empty answer (~6 answers an account)
            chunk = [data if success and data else require_data(
                CallResult(success, data), f"Comet read of {account}")
                for success, data in results[n * stride:(n + 1) * stride]]
            principal, assets_in = _user_basic(chunk[0])
            if principal >= 0:
                continue
            balances = {a.asset: _collateral_balance(raw)
                        for a, raw in zip(state.assets, chunk[1:-2], strict=True)}
            users.append(CometUser(
                account=checksum_address(account),
                basic=CometAccount(principal, assets_in, balances),
                reported_debt_raw=_borrow_balance(chunk[-2]),
                reported_liquidatable=_liquidatable(chunk[-1])))
        return users

    def _account_calls(self, state: CometMarketState, accounts: Sequence[Address]
                       ) -> list[Call]:
        """userBasic, userCollateral of each asset, borrowBalanceOf and isLiquidatable of
        each account, in turn (the calldata built by hand, see _account_data)."""
        if not accounts:  # the Comet's address is looked up only for a call, as it was
            return []
        comet = self.market.address("comet")
        assets = [(a.asset, _address_word(a.asset)) for a in state.assets]
        calls: list[Call] = []
        for account in accounts:
            word = _address_word(account)
            calls.append(_new_call((comet, _account_data("userBasic", account, word), False,
                                    _SIMPLE_GAS)))
            calls += [_new_call((comet, _collateral_data(account, word, asset, asset_word),
                                 False, _SIMPLE_GAS)) for asset, asset_word in assets]
            calls += (
                _new_call((comet, _account_data("borrowBalanceOf", account, word), False,
                           _VIEW_GAS)),
                _new_call((comet, _account_data("isLiquidatable", account, word), False,
                           _VIEW_GAS)))
        return calls


# --- the per-account calls, by hand ------------------------------------------------------
# A read makes ~6 sub-calls per account (3 + one per asset). encode_call and decode_output
# look the function up and walk its types on every call: for these four the calldata of a
# valid address is built here as eth_abi would encode it, and the usual answer is sliced
# here where every word is one eth_abi's strict decoder accepts. Anything else goes to the
# codec as before, which encodes, decodes or raises exactly as it did.

_SELECTORS = {name: function_selector(COMET, name) for name in (
    "userBasic", "userCollateral", "borrowBalanceOf", "isLiquidatable")}
_USER_COLLATERAL = _SELECTORS["userCollateral"]
_ADDRESS_PAD = bytes(12)
# Calls made without a Python-level constructor call each (as aave_v3/read.py does)
_new_call = partial(tuple.__new__, Call)


def _address_word(address: Address) -> bytes | None:
    """The ABI word of a valid plain 0x-address (fastabi decides validity exactly as
    encode_call's own fast path does), else None."""
    raw = address_bytes(address)
    return None if raw is None else _ADDRESS_PAD + raw


def _account_data(name: str, account: Address, word: bytes | None) -> bytes:
    """`name(account)` calldata; `word` is _address_word(account)."""
    if word is None:  # not a plain valid address: the codec encodes it or raises
        return encode_call(COMET, name, [account])
    return _SELECTORS[name] + word


def _collateral_data(account: Address, word: bytes | None, asset: Address,
                     asset_word: bytes | None) -> bytes:
    """`userCollateral(account, asset)` calldata; the words are their _address_word."""
    if word is None or asset_word is None:  # the codec encodes them or raises
        return encode_call(COMET, "userCollateral", [account, asset])
    return _USER_COLLATERAL + word + asset_word


_INT104_MIN = -(1 << 103)
_INT104_END = 1 << 103
_UINT64_END = 1 << 64
_UINT16_END = 1 << 16
_UINT8_END = 1 << 8
_ZERO_HALF = bytes(WORD // 2)  # the high half of a uint128 word
_FALSE_WORD = bytes(WORD)
_TRUE_WORD = (1).to_bytes(WORD, "big")


def _user_basic(data: bytes) -> tuple[int, int]:
    """userBasic's principal, and its assetsIn with `_reserved` as bits 16-23 (Comets with
    more than 16 assets, CometWithExtendedAssetList: mainnet cUSDCv3 and others since 2025,
    keep the flags of offsets 16-23 there; older Comets leave it 0).

    The answer is (int104, uint64, uint64, uint16, uint8): five words, sliced here when the
    int104 is sign-extended and the unsigned words' high bytes are zero, as the strict codec
    requires; any other answer goes to the codec, which decodes it or raises."""
    if len(data) == 5 * WORD:
        principal = int.from_bytes(data[:WORD], "big", signed=True)
        assets_in = int.from_bytes(data[3 * WORD:4 * WORD], "big")
        reserved = int.from_bytes(data[4 * WORD:], "big")
        if (_INT104_MIN <= principal < _INT104_END and assets_in < _UINT16_END
                and reserved < _UINT8_END
                and int.from_bytes(data[WORD:2 * WORD], "big") < _UINT64_END
                and int.from_bytes(data[2 * WORD:3 * WORD], "big") < _UINT64_END):
            return principal, assets_in | reserved << 16
    decoded, _index, _accrued, decoded_in, decoded_reserved = decode_output(
        COMET, "userBasic", data)
    return int(decoded), int(decoded_in) | int(decoded_reserved) << 16


def _collateral_balance(data: bytes) -> int:
    """userCollateral's balance. The answer is (uint128 balance, uint128 _reserved): two
    words, sliced here when both high halves are zero; else the codec decodes or raises."""
    if len(data) == 2 * WORD and data[:WORD // 2] == _ZERO_HALF and (
            data[WORD:WORD + WORD // 2] == _ZERO_HALF):
        return int.from_bytes(data[:WORD], "big")
    return int(decode_output(COMET, "userCollateral", data)[0])


def _borrow_balance(data: bytes) -> int:
    """borrowBalanceOf's uint256: every 32-byte word is one; any other length goes to the
    codec, which decodes it or raises."""
    if len(data) == WORD:
        return int.from_bytes(data, "big")
    return int(decode_output(COMET, "borrowBalanceOf", data)[0])


def _liquidatable(data: bytes) -> bool:
    """isLiquidatable's bool: the word 0 or 1; any other answer goes to the codec, which
    decodes it or raises (a bool word of another value is not a bool)."""
    if data == _TRUE_WORD:
        return True
    if data == _FALSE_WORD:
        return False
    return bool(decode_output(COMET, "isLiquidatable", data)[0])


def market_read(protocol: str, state: CometMarketState, users: Sequence[CometUser]
                ) -> MarketRead:
    """The neutral view: the base token and every collateral with USD prices, one Position
    per borrower (submarket: the Comet)."""
    def usd(native_8dec: int) -> int:
        q = state.quote_usd_8dec
        return native_8dec if q is None else native_8dec * q // PRICE_SCALE

    assets = (Asset(state.base_token, state.symbols[state.base_token],
                    usd(state.prices.base_8dec)),
              *(Asset(a.asset, state.symbols[a.asset], usd(state.prices.collateral_8dec[a.asset]))
                for a in state.assets))
    positions = tuple(Position(market_key=state.market_key, protocol=protocol,
                               submarket=state.comet, account=u.account,
                               state=CometPosition(u, state)) for u in users)
    return MarketRead(market_key=state.market_key, protocol=protocol, block=state.block,
                      block_timestamp=state.block_timestamp, revision=0, assets=assets,
                      positions=positions,
                      mirror_mismatches=tuple(mirror_mismatches(state, users)))


def mirror_mismatches(state: CometMarketState, users: Sequence[CometUser]) -> list[Address]:
    """Accounts where the rule contradicts the Comet's own views at the block:
    borrowBalanceOf (accrued in memory) and isLiquidatable (stored indices)."""
    out = []
    for u in users:
        debt = present_debt_raw(u.basic.principal, state.accrued_totals)
        view = is_liquidatable(u.basic, state.assets, state.prices, state.base_scale,
                               state.stored_totals)
        if (debt, view) != (u.reported_debt_raw, u.reported_liquidatable):
            out.append(u.account)
    return out


def _decode_symbol(result: CallResult, token: Address) -> str:
    """ERC-20 symbol; bytes32 symbols (MKR) decoded by hand; the address as a last resort."""
    if not result.success or not result.data:
        return token
    try:
        (symbol,) = decode_output(ERC20, "symbol", result.data)
        return str(symbol)
    except InconsistentDataError:
        return result.data[:32].rstrip(b"\0").decode("utf-8", "replace") or token


def is_power_of_ten(value: int) -> bool:
    """1, 10, ..., 10**36: the scales a Comet can have (token decimals)."""
    return any(value == 10**decimals for decimals in range(37))
