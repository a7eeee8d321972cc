"""Print bench_speed.py's figures, each beside the issue-11 target it answers to."""

from __future__ import annotations

from typing import Any

RSS_TARGET_MB = 1024


def _line(what: str, value: str, target: str, holds: bool | None) -> None:
    verdict = "" if holds is None else ("holds" if holds else "MISSED")
    print(f"  {what:<46} {value:>26}   {target:<30} {verdict}")


def report(figures: dict[str, Any]) -> None:
    print("\nfigure                                                            value"
          "   target")
    if "snapshot" in figures:
        _snapshot(figures["snapshot"])
    if {"scale_1k", "scale_10k", "scale_100k", "incremental_10k", "incremental_100k",
            "incremental_100k_50ms"} & figures.keys():
        _scaling(figures)
    titles = {"scale_100k": "pure math, the 100k point's positions:",
              "math": "pure math, the 10k devnet's positions read once, then every protocol:"}
    for name, title in titles.items():
        if name in figures:
            _math(figures[name], title)
    if "storage" in figures:
        _storage(figures["storage"], figures.get("scale_100k"))


def _snapshot(s: dict[str, Any]) -> None:
    n = s["positions"]
    per_k = 1000 / n
    markets = ", ".join(f"{k} {v}" for k, v in s["markets"].items())
    print(f"end-to-end snapshot: {n:,} positions with debt ({markets})")
    _line("wall time", f"{s['wall_s']:.2f} s", "", None)
    _line("positions/s", f"{n / s['wall_s']:,.0f}", "", None)
    _line("HTTP posts per 1,000 positions", f"{s['posts'] * per_k:.2f}", "<= 20",
          s["posts"] * per_k <= 20)
    _line("JSON-RPC calls per 1,000 positions", f"{s['calls'] * per_k:.1f}", "", None)
    _line("bytes sent / received", f"{s['bytes_sent'] / 1e6:.1f} / "
          f"{s['bytes_received'] / 1e6:.1f} MB", "", None)
    _line("peak RSS", f"{s['peak_rss_mb']:.0f} MB", "", None)
    ratio = s["wall_s"] / s["floor_s"]
    _line(f"floor: replay of its {s['posts']} posts, {s['concurrency']} in flight",
          f"{s['floor_s']:.2f} s", "", None)
    _line("snapshot / floor", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5)
    if s.get("node_cpu_s") is not None:  # result files before the node's CPU was read: none
        _cpu_bound(s)
    naive_total = s["naive_s_per_position"] * n
    _line(f"naive web3.py: {s['naive_sample']} borrowers, {s['naive_calls']} calls",
          f"{s['naive_sample_s']:.2f} s", "", None)
    _line(f"naive, extrapolated to {n:,} positions", f"{naive_total:.0f} s (estimate)", "",
          None)
    faster = naive_total / s["wall_s"]
    _line("snapshot vs naive (extrapolated)", f"{faster:.0f}x faster", ">= 30x", faster >= 30)


def _cpu_bound(s: dict[str, Any]) -> None:
    """The snapshot's and the node's CPU: on these cores no scheduling of the two beats their
    sum over the cores, which says how much of the ratio is CPU rather than waiting."""
    cpu, node, cores = s["cpu_s"], s["node_cpu_s"], s["cores"]
    _line("  CPU: the snapshot's process / the node", f"{cpu:.2f} / {node:.2f} s", "", None)
    _line("  ... the node's CPU per floor replay", f"{s['floor_node_cpu_s']:.2f} s", "", None)
    bound = (cpu + node) / cores
    _line(f"  both CPUs over {cores} cores, / floor",
          f"{bound:.2f} s ({bound / s['floor_s']:.2f}x)", "", None)
    if s.get("in_flight_s") is not None:  # result files before these were measured: none
        _line("  wall with a post in flight / after the last answer",
              f"{s['in_flight_s']:.2f} / {s['after_last_answer_s']:.2f} s", "", None)


SCALE_LABELS = (("scale_1k", "1k: the first tenth of the borrowers, read once"),
                ("scale_10k", "10k: every borrower, read once"),
                ("scale_100k", "100k: every borrower, read 10 times"))
FIXED = "fixed: discovery + market resolution"


def _scaling(figures: dict[str, Any]) -> None:
    print("scaling (Aave v3 market alone, the 10k devnet's borrowers read through the real "
          "read path, then math, bins, bands, store):")
    per_position: dict[str, tuple[float, float]] = {}  # name -> (all stages, without fixed)
    cpu_per_position: dict[str, float] = {}  # name -> CPU us per position, all stages
    for name, label in SCALE_LABELS:
        s = figures.get(name)
        if s is None:
            continue
        n = s["positions"]
        variable = s["wall_s"] - s["seconds"][FIXED]
        per_position[name] = (1e6 * s["wall_s"] / n, 1e6 * variable / n)
        _line(f"{label} ({n:,})", f"{s['wall_s']:.2f} s, {per_position[name][0]:.0f} us/pos",
              "", None)
        for stage, seconds in s["seconds"].items():
            _line(f"  {stage}", f"{seconds:.2f} s", "", None)
        _line("  without the fixed costs, per position", f"{per_position[name][1]:.0f} us", "",
              None)
        if "cpu_s" in s:
            cpu_per_position[name] = 1e6 * s["cpu_s"] / n
            fixed = (f", fixed {s['cpu_fixed_s']:.2f} s" if "cpu_fixed_s" in s else "")
            _line("  CPU time of the process", f"{s['cpu_s']:.2f} s{fixed}", "", None)
            _line("  ... per position", f"{cpu_per_position[name]:.0f} us", "", None)
        rss_ok = s["peak_rss_mb"] < RSS_TARGET_MB if name == "scale_100k" else None
        _line("  peak RSS", f"{s['peak_rss_mb']:.0f} MB", "< 1 GB at 100k" if rss_ok is not None
              else "", rss_ok)
    for small in ("scale_1k", "scale_10k"):
        if small in per_position and "scale_100k" in per_position:
            whole, variable = (per_position["scale_100k"][i] / per_position[small][i] - 1
                               for i in (0, 1))
            judged = small == "scale_10k"  # the target compares 100k with 10k
            _line(f"time per position, 100k vs {small[6:]}, all stages", f"{100 * whole:+.0f}%",
                  "within +-20%" if judged else "", abs(whole) <= 0.2 if judged else None)
            _line("  ... without the fixed costs", f"{100 * variable:+.0f}%",
                  "within +-20%" if judged else "", abs(variable) <= 0.2 if judged else None)
            if small in cpu_per_position and "scale_100k" in cpu_per_position:
                cpu = cpu_per_position["scale_100k"] / cpu_per_position[small] - 1
                _line("  ... by the process's CPU time, all stages", f"{100 * cpu:+.0f}%",
                      "", None)
    for name in ("incremental_10k", "incremental_100k", "incremental_100k_50ms"):
        if name in figures:
            _incremental(name[12:].split("_")[0], figures[name])


def _incremental(size: str, s: dict[str, Any]) -> None:
    full, inc = s["full"], s["incremental"]
    copies = f" in each of {s['copies']} copies" if s["copies"] > 1 else ""
    if s.get("latency_ms"):  # the same target, every post held as a hosted provider would
        size += f", every post held {s['latency_ms']:g} ms"
    print(f"incremental snapshot at {size} ({s['positions']:,} positions, "
          f"{s['touched_accounts']} accounts touched{copies}: {s['reread']:,} read, "
          f"{s['derived']:,} derived; same positions, bins and bands as the full one):")
    _line("full snapshot of the same block", f"{full['s']:.2f} s ({full['cpu_s']:.2f} s CPU)",
          "", None)
    share, cpu_share = inc["s"] / full["s"], inc["cpu_s"] / full["cpu_s"]
    judged = size.startswith("100k")
    target = "< 10% of a full one" if judged else ""
    _line("incremental snapshot, 1% touched", f"{inc['s']:.2f} s ({100 * share:.0f}%)", target,
          share < 0.1 if judged else None)
    _line("  ... by the process's CPU time", f"{inc['cpu_s']:.2f} s ({100 * cpu_share:.0f}%)",
          "", None)
    _line("  ... JSON-RPC requests", f"{inc['requests']:,} of {full['requests']:,}", "", None)
    stages = ", ".join(f"{k} {v:.2f}" for k, v in inc["stages"].items())
    print(f"    incremental stages (s): {stages}")
    stages = ", ".join(f"{k} {v:.2f}" for k, v in full["stages"].items())
    print(f"    full stages (s): {stages}")
    _line("  peak RSS", f"{s['peak_rss_mb']:.0f} MB", "", None)


def _math(s: dict[str, Any], title: str) -> None:
    rate = s["math_positions"] / s["math_s"]
    print(title)
    _line(f"exact liquidation prices, axis {s['math_axis']}, one core",
          f"{rate:,.0f} positions/s", ">= 50,000 positions/s", rate >= 50_000)
    if "math_cpu_s" in s:
        _line(f"  ... of {s['math_positions']:,} positions, by the process's CPU time",
              f"{s['math_positions'] / s['math_cpu_s']:,.0f} positions/s", "", None)
    # every protocol's own rule, by CPU time: the 10k devnet's simple mix, or the test suite's
    # devnet, whose positions are built to reach every branch of each rule (more multi-leg,
    # dipping and sawn positions than a real market holds)
    for market in s.get("math_by_protocol", []):
        rate = market["positions"] / market["cpu_s"] if market["cpu_s"] else 0.0
        devnet = market.get("devnet", "")
        _line(f"  ... {market['protocol']} ({market['market']}, axis {market['axis']}"
              f"{', ' + devnet + ' devnet' if devnet else ''}), CPU",
              f"{rate:,.0f} positions/s", ">= 50,000 positions/s", rate >= 50_000)
        rounds = [r for r in market.get("cpu_rounds_s", []) if r]  # older files: one timing
        if len(rounds) > 1:
            rates = sorted(market["positions"] / r for r in rounds)
            _line(f"      median of {len(rounds)} timings; their range",
                  f"{rates[0]:,.0f}-{rates[-1]:,.0f} /s", "", None)


def _storage(s: dict[str, Any], big: dict[str, Any] | None) -> None:
    print("storage:")
    if big is not None:
        store = big["seconds"]["store"]
        _line(f"write the 100k-position snapshot ({big['results']:,} rows), SQLite",
              f"{store:.2f} s", "< 5 s", store < 5)
    for kind in ("sqlite", "postgresql"):
        db = s[kind]
        if "error" in db:
            _line(kind, "not measured", db["error"][:30], None)
            continue
        _line(f"{kind}: write 100,000 rows (10th snapshot)", f"{db['write_last_s']:.2f} s", "",
              None)
        _line(f"{kind}: `liqscan bands` on {db['rows']:,} rows", f"{1000 * db['bands_s']:.0f} ms",
              "< 200 ms", db["bands_s"] < 0.2)
        _line(f"{kind}: `liqscan positions` on {db['rows']:,} rows",
              f"{1000 * db['positions_s']:.0f} ms", "< 200 ms", db["positions_s"] < 0.2)
    _line("`liqscan bands` start-up to answer (new process)", f"{s['cli_bands_s']:.2f} s",
          "< 0.5 s", s["cli_bands_s"] < 0.5)
    if "cli_bands_cpu_s" in s:  # older result files have the wall time only
        _line("... its CPU time (user + sys)", f"{s['cli_bands_cpu_s']:.2f} s", "", None)
