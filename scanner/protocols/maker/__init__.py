"""Maker / Sky (dss): one [[markets]] entry per Maker deployment.

    discover.py  urns from the Vat's anonymous frob/fork notes (+ CdpManager NewCdp)
    read.py      the adapter: Vat, Jug, Spotter, Dog, IlkRegistry, pips, CdpManager at one block
    state.py     what is read (per ilk, per urn)
    rule.py      the contracts' integer rules (Jug.drip's rpow, Spotter.poke, Dog.bark)
    curve.py     the rule on a price axis, and `liquidatable_next` at the OSM's next price

[[markets]] keys: `chainlog` (resolved on chain to MCD_VAT, MCD_SPOT, MCD_JUG, MCD_DOG,
CDP_MANAGER and ILK_REGISTRY), or `vat`, `spotter`, `jug`, `dog`, `ilk_registry` and optional
`cdp_manager`; any of them given beside `chainlog` overrides it. Optional `ilks = ["ETH-A",
...]` (default: every ilk the IlkRegistry lists whose gem is on a configured axis),
`start_block`.
"""

from scanner.protocols.spec import ProtocolSpec

SPEC = ProtocolSpec(adapter_path="scanner.protocols.maker.read:MakerAdapter",
                    address_keys=(),
                    optional_address_keys=("chainlog", "vat", "spotter", "jug", "dog",
                                           "cdp_manager", "ilk_registry"),
                    text_list_keys=("ilks",))

__all__ = ["SPEC"]
