"""Child interpreter of the native-vs-pure bins and bands test
(tests/integration/test_native_devnet.py): `histogram_and_bands` of pickled (results, axes,
config) in whichever modules LIQSCAN_NATIVE selects; pickles back (compiled in use, (bins,
bands)).

    python -m tests.native_bands_child CASE_FILE OUT_FILE
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from scanner import native
from scanner.pipeline.scan import histogram_and_bands


def main(case_file: Path, out_file: Path) -> None:
    results, axes, config = pickle.loads(case_file.read_bytes())
    bins, bands = histogram_and_bands(results, axes, config)
    out_file.write_bytes(pickle.dumps((native.status().in_use, (bins, bands))))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
