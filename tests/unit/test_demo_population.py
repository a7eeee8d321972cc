"""The demo's first line names every market its devnet deploys, with the counts it seeds."""

from __future__ import annotations

from scanner.cli import build_parser
from scanner.demo import population_line


def test_the_default_demo_names_every_market() -> None:
    line = population_line(build_parser().parse_args(["demo"]))
    assert line == ("Aave v3.0 (2,000 borrowers and the planted ETH cluster), Aave v3.6 (400 "
                    "borrowers), Aave v2 (240 borrowers), two Comets (220 borrowers each), "
                    "Morpho Blue (200 positions), three Maker ilks (80 urns each), Liquity v1 "
                    "(240 troves), two Liquity v2 branches (100 troves each)")


def test_a_market_not_deployed_is_left_out_but_the_cluster_stays() -> None:
    args = build_parser().parse_args(["demo", "--aave-positions", "0", "--aave36-positions", "0",
                                      "--liquity1-troves", "0", "--maker-positions", "5"])
    line = population_line(args)
    assert line.startswith("Aave v3.0 (0 borrowers and the planted ETH cluster), Aave v2 ")
    assert "Aave v3.6" not in line and "Liquity v1" not in line
    assert "three Maker ilks (5 urns each)" in line
