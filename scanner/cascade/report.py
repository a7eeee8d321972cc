"""Text output of `liqscan cascade`: the path of one cascade, or the cascade curve."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from scanner.cascade.engine import CascadeResult, NowSummary
from scanner.cascade.run import CurvePoint
from scanner.report.format import pct_bps, usd_compact, usd_price


def _move_bps(price_8dec: int, now_8dec: int) -> int:
    return (price_8dec - now_8dec) * 10_000 // now_8dec


def _amount(raw: int, decimals: int) -> str:
    return f"{Decimal(raw).scaleb(-decimals):,.4f}"


def path_lines(result: CascadeResult, header: str) -> list[str]:
    now = result.price_now_8dec
    lines = [header,
             f"{result.axis} now {usd_price(now)}; shock to {usd_price(result.shock_price_8dec)} "
             f"({pct_bps(_move_bps(result.shock_price_8dec, now))})"
             + (f", crossing band(s) {_ranks(result.bands_crossed_by_shock)}"
                if result.bands_crossed_by_shock else ""),
             now_line(result.now, result.includes_now),
             f"{'round':>5}  {'price':>12}  {'positions':>9}  {'sold':>10}  {'debt repaid':>11}  "
             f"{'bad debt':>9}  {'price after':>12}  sold by asset; bands crossed"]
    for r in result.rounds:
        assets = ", ".join(f"{_amount(s.amount_raw, s.decimals)} {s.symbol or s.asset}"
                           for s in r.sold)
        bands = f"; bands {_ranks(r.bands_crossed)}" if r.bands_crossed else ""
        repaid = usd_compact(r.debt_repaid_usd_8dec)
        lines.append(f"{r.index:>5}  {usd_price(r.price_8dec):>12}  {r.positions:>9}  "
                     f"{usd_compact(r.sold_usd_8dec):>10}  {repaid:>11}"
                     f"  {usd_compact(r.bad_debt_usd_8dec):>9}  "
                     f"{usd_price(r.price_after_8dec):>12}  {assets}{bands}")
    if not result.rounds:
        lines.append("  (no position is liquidated at the shocked price)")
    lines.append(
        f"final {usd_price(result.final_price_8dec)} "
        f"({pct_bps(_move_bps(result.final_price_8dec, now))} from now, "
        f"{pct_bps(result.move_after_shock_bps)} beyond the shock) after {len(result.rounds)} "
        f"round(s): {result.positions_liquidated} positions liquidated, "
        f"{usd_compact(result.sold_usd_8dec)} collateral sold, "
        f"{usd_compact(result.debt_repaid_usd_8dec)} debt repaid, "
        f"{usd_compact(result.bad_debt_usd_8dec)} bad debt")
    redistributed = sum(r.debt_redistributed_usd_8dec for r in result.rounds)
    if redistributed:
        lines.append(f"{usd_compact(redistributed)} of debt redistributed to other positions "
                     "(Liquity's Stability Pool could not offset it): moved, not repaid")
    if result.store_discount_usd_8dec:
        lines.append(f"{usd_compact(result.store_discount_usd_8dec)} of store-front discount "
                     "given up by Compound v3 (its buyers paid below the oracle value of the "
                     "absorbed collateral they bought)")
    if not result.converged:
        lines.append("warning: still liquidating after the round limit (not a fixpoint)")
    if not result.buy_modelled:
        lines.append("note: the depth model prices sales only; a short squeeze's buying is not "
                     "moved through it (the price stays at the shock)")
    return lines


def now_line(now: NowSummary, included: bool) -> str:
    """The positions liquidatable before any shock, and whether the spiral counts them."""
    where = ("in round 0 of every shock (--include-now)" if included
             else "left out of the spiral (--include-now puts them in round 0)")
    return (f"liquidatable now, before any shock: {now.positions} positions, "
            f"{usd_compact(now.sold_usd_8dec)} collateral sold, "
            f"{usd_compact(now.debt_repaid_usd_8dec)} debt repaid, "
            f"{usd_compact(now.bad_debt_usd_8dec)} bad debt; {where}")


def curve_lines(points: Sequence[CurvePoint], header: str) -> list[str]:
    first = points[0].result if points else None
    if first is not None:
        header = f"{header}\n{now_line(first.now, first.includes_now)}"
    lines = [header, f"{'shock':>7}  {'final price':>12}  {'final move':>10}  {'rounds':>6}  "
                     f"{'positions':>9}  {'sold':>10}  {'bad debt':>9}"]
    for p in points:
        r = p.result
        lines.append(f"{pct_bps(p.shock_bps):>7}  {usd_price(r.final_price_8dec):>12}  "
                     f"{pct_bps(_move_bps(r.final_price_8dec, r.price_now_8dec)):>10}  "
                     f"{len(r.rounds):>6}  {r.positions_liquidated:>9}  "
                     f"{usd_compact(r.sold_usd_8dec):>10}  {usd_compact(r.bad_debt_usd_8dec):>9}")
    return lines


def _ranks(ranks: Sequence[int]) -> str:
    return ", ".join(f"#{r}" for r in ranks)
