"""`liqscan devnet up`: a local anvil with the seeded Aave v3.0 + v3.6 (+ Morpho) devnet, served
until Ctrl-C.

    liqscan devnet up --aave-positions 2000 --cluster WETH:5000000:2400:2500 --write-config c.toml

Also runnable alone: `python -m scanner.devnet.cli devnet up ...`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.errors import ScannerError

POLL_SECONDS = 1.0


def register(subparsers: Any) -> None:
    """Add `devnet up` to an argparse subparsers object (handler in `args.handler`)."""
    devnet = subparsers.add_parser("devnet", help="local anvil with real Aave/Morpho markets")
    devnet_sub = devnet.add_subparsers(dest="devnet_command", required=True)
    up = devnet_sub.add_parser("up", help="start a seeded devnet and serve it until Ctrl-C")
    up.add_argument("--aave-positions", type=int, default=600, metavar="N")
    up.add_argument("--aave36-positions", type=int, default=300, metavar="N",
                    help="borrowers of the second market, real Aave v3.6 (0: no such market)")
    up.add_argument("--morpho-positions", type=int, default=0, metavar="M")
    up.add_argument("--compound-positions", type=int, default=220, metavar="C",
                    help="borrowers per Comet (a USDC and a WETH Comet; 0: no Comets)")
    up.add_argument("--aave2-positions", type=int, default=240, metavar="N",
                    help="borrowers of the Aave v2 market (0: no such market)")
    up.add_argument("--maker-positions", type=int, default=80, metavar="K",
                    help="urns per Maker ilk (ETH-A, WSTETH-A, WBTC-A; 0: no Maker)")
    up.add_argument("--liquity1-troves", type=int, default=240, metavar="T",
                    help="Liquity v1 troves (0: no Liquity v1)")
    up.add_argument("--liquity2-positions", type=int, default=100, metavar="T",
                    help="troves per live Liquity v2 branch (WETH, wstETH; 0: no Liquity v2)")
    up.add_argument("--seed", type=int, default=7, metavar="S")
    up.add_argument("--port", type=int, default=0, metavar="P", help="0 = any free port")
    up.add_argument("--write-config", type=Path, metavar="PATH",
                    help="write a liqscan config.toml for this devnet")
    up.add_argument("--cluster", action="append", default=[], metavar="ASSET:USD:LOW:HIGH",
                    help="plant ~USD of ASSET collateral liquidated between LOW and HIGH")
    up.add_argument("--no-cache", action="store_true", help="rebuild instead of loading")
    up.set_defaults(handler=cmd_devnet_up)


def cmd_devnet_up(args: argparse.Namespace) -> int:
    # imported here so `liqscan --help` does not pay for the devnet stack
    from scanner.devnet.network import seeded_devnet, write_config
    from scanner.devnet.population import ClusterSpec
    from scanner.devnet.rpc import DevnetRpc

    clusters = [ClusterSpec.parse(text) for text in args.cluster]
    with seeded_devnet(seed=args.seed, aave_positions=args.aave_positions,
                       morpho_positions=args.morpho_positions, clusters=clusters,
                       port=args.port, use_cache=not args.no_cache,
                       aave36_positions=args.aave36_positions,
                       compound_positions=args.compound_positions,
                       aave2_positions=args.aave2_positions,
                       maker_positions=args.maker_positions, uniswap=True,
                       liquity1_troves=args.liquity1_troves,
                       liquity2_positions=args.liquity2_positions) as devnet:
        source = "loaded from cache" if devnet.from_cache else "built"
        aave = devnet.aave
        print(f"devnet {source}: {devnet.rpc_url} (chain id 31337, head block "
              f"{devnet.head_block})")
        print(f"  Aave v3.0 PoolAddressesProvider {aave.provider}  Pool {aave.pool}  "
              f"AaveOracle {aave.oracle}  deploy block {aave.deploy_block}")
        if devnet.aave36 is not None:
            v36 = devnet.aave36
            print(f"  Aave v3.6 PoolAddressesProvider {v36.provider}  Pool {v36.pool}  "
                  f"AaveOracle {v36.oracle}  deploy block {v36.deploy_block}")
        print(f"  {len(devnet.aave_plans)} Aave v3.0 positions, {len(devnet.aave36_plans)} "
              f"Aave v3.6, {len(devnet.morpho_plans)} Morpho")
        if devnet.morpho is not None:
            print(f"  Morpho {devnet.morpho.morpho}")
        if devnet.aave2 is not None:
            print(f"  Aave v2 LendingPoolAddressesProvider {devnet.aave2.provider}  LendingPool "
                  f"{devnet.aave2.pool}  {len(devnet.aave2_plans)} positions")
        for comet in devnet.compound.comets if devnet.compound else ():
            print(f"  Comet {comet.key} ({comet.base_symbol} base) {comet.comet}  "
                  f"{len([p for p in devnet.compound_plans if p.comet == comet.key])} positions")
        if devnet.maker is not None:
            print(f"  Maker ChainLog {devnet.maker.chainlog}  Vat {devnet.maker.vat}  "
                  f"{len(devnet.maker.borrowers)} urns with debt")
        if devnet.liquity1 is not None:
            print(f"  Liquity v1 TroveManager {devnet.liquity1.trove_manager}  "
                  f"{len(devnet.liquity1.borrowers)} troves")
        if devnet.liquity2 is not None:
            print(f"  Liquity v2 CollateralRegistry {devnet.liquity2.collateral_registry}  "
                  f"{len(devnet.liquity2.borrowers)} troves")
        if args.write_config:
            write_config(devnet, args.write_config)
            print(f"  config written to {args.write_config}")
        print("serving; Ctrl-C to stop", flush=True)
        rpc = DevnetRpc(devnet.rpc_url, timeout_seconds=5)
        _stop_on_signals()
        try:
            while True:
                time.sleep(POLL_SECONDS)
                rpc.block_number()  # raises RpcUnavailableError if anvil died
        except KeyboardInterrupt:
            print("stopping anvil", file=sys.stderr)
    return 0


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both end serving cleanly (a shell's `cmd &` starts us ignoring SIGINT)."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="liqscan")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ScannerError as exc:
        print(f"liqscan: error: {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
