"""The settings of band detection (scanner/pipeline/bands.py; `[bands]` in config.toml).

A module of its own, outside the compiled group (scanner/native.py): a frozen dataclass that
mypyc compiles can be neither copied nor serialised (its `__setstate__` meets the frozen
`__setattr__`), and a Config holding one must be both. Importing the settings also loads no
compiled module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BandParams:
    bin_bps: int = 25  # fine bins for density
    smooth_bins: int = 2  # +/- bins of smoothing
    density_factor: float = 2.5  # dense = this x local background
    merge_gap_bins: int = 2
    background_bin_bps: int = 200  # coarse bins for the background median
    background_bins: int = 6  # +/- coarse bins in the background median
    floor_span_bps: int = 9_000  # background floor: all mass spread over this move
    edge_factor: float = 1.5  # edge penalty at least this x background density
    edge_contrast_cap: float = 10.0  # see _penalty
    mass_cap: float = 4.0  # detection mass: collateral / median, capped here
    min_positions: int = 3
    min_share_bps: int = 50
    min_z: float = 3.5
    concentration_share_bps: int = 2_500
    flank_bins: int = 8  # refinement looks this many fine bins (or the region width) beyond
    wall_share_bps: int = 300  # a wall holds this share of the axis's at-risk collateral
    wall_width_bps: int = 50  # ... within this width
    wall_median_factor: int = 5  # ... and at least this x the direction's median position
    max_walls: int = 5  # walls kept per axis, after the bands (see detect_bands)
