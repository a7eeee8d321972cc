"""Band identity over time: a band keeps its track id while it overlaps its previous self.

Bands of a snapshot are linked to the bands of the previous snapshot of the same chain and
the same markets (highest block below, then highest id), per axis and direction:

* A new band **continues** a previous band when their price intervals [low, high] overlap;
  it takes that band's `track_id`.
* **Merge**: a new band overlapping several previous bands continues the one with the most
  collateral; the others end there.
* **Split**: a previous band overlapping several new bands is continued by the new band with
  the most collateral; the others start new tracks with `split_from` = its track id.
* Anything else starts a new track (its id is its own row id: unique without a counter).

Bands and walls are linked alike (a wall that gathers neighbours becomes a band, and keeps
its id). Matching is greedy on (previous collateral, new collateral), largest first, so the
result does not depend on rank order ties. A snapshot stored for an older block than the
latest links to its own predecessor; its successors keep the links they were stored with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanner.domain import Band

NEW_TRACK = 0  # placeholder: the repository replaces it with the band's own row id


@dataclass(frozen=True)
class TrackLink:
    """How one new band relates to the previous snapshot's bands."""

    track_id: int  # NEW_TRACK when it starts a track
    split_from: int | None  # the track it split off from, when it did


def _overlaps(a: Band, b: Band) -> bool:
    return (a.axis == b.axis and a.direction == b.direction
            and a.low_8dec <= b.high_8dec and b.low_8dec <= a.high_8dec)  # fmt: skip


def link_bands(previous: Sequence[Band], new: Sequence[Band]) -> list[TrackLink]:
    """One TrackLink per band of `new` (same order); `previous` carry their track ids."""
    pairs = sorted(
        ((p, n) for p in range(len(previous)) for n in range(len(new))
         if _overlaps(previous[p], new[n])),
        key=lambda pn: (-previous[pn[0]].collateral_usd_8dec, -new[pn[1]].collateral_usd_8dec,
                        previous[pn[0]].track_id, new[pn[1]].low_8dec),
    )  # fmt: skip
    continued: dict[int, int] = {}  # new index -> previous index it continues
    taken: set[int] = set()
    for p, n in pairs:
        if p not in taken and n not in continued:
            continued[n] = p
            taken.add(p)
    links = []
    for n in range(len(new)):
        if n in continued:
            links.append(TrackLink(previous[continued[n]].track_id, None))
            continue
        parents = [p for p, m in pairs if m == n]  # overlapped, but another band took it
        links.append(TrackLink(NEW_TRACK, previous[parents[0]].track_id if parents else None))
    return links
