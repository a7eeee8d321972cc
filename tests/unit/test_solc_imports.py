"""Import resolution before solc runs: remappings and comments, on files written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.devnet.aave36_build import library_placeholder, link
from scanner.devnet.solc import CompiledContract, resolve_imports
from scanner.errors import ToolchainError


def _write(root: Path, unit: str, text: str) -> Path:
    path = root / unit
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_double_slash_inside_an_import_path_is_not_a_comment(tmp_path: Path) -> None:
    # aave-v3-origin's LiquidationLogic imports '../../../dependencies/.../contracts//IERC20.sol'
    _write(tmp_path, "lib/dep/IERC20.sol", "interface IERC20 {}")
    main = _write(tmp_path, "lib/logic/L.sol",
                  "import {IERC20} from '../dep//IERC20.sol'; // trailing comment\n"
                  "/* import 'ignored.sol'; */ library L {}")
    sources = resolve_imports({"lib/logic/L.sol": main}, [tmp_path])
    assert set(sources) == {"lib/logic/L.sol", "lib/dep/IERC20.sol"}


def test_remapped_spellings_become_one_source_unit(tmp_path: Path) -> None:
    _write(tmp_path, "@oz/contracts/utils/Math.sol", "library Math {}")
    _write(tmp_path, "@oz/contracts/utils/Safe.sol", "import './Math.sol'; library Safe {}")
    main = _write(tmp_path, "app/A.sol",
                  "import 'openzeppelin-contracts/contracts/utils/Safe.sol';\n"
                  "import {Math} from 'openzeppelin-contracts/contracts/utils/Math.sol';\n"
                  "contract A {}")
    remappings = (("openzeppelin-contracts/contracts/", "@oz/contracts/"), ("open", "nope/"))
    sources = resolve_imports({"app/A.sol": main}, [tmp_path], remappings)
    # the longest prefix wins; Math.sol reached relatively and remapped is one unit
    assert set(sources) == {"app/A.sol", "@oz/contracts/utils/Safe.sol",
                            "@oz/contracts/utils/Math.sol"}


def test_link_patches_placeholders_and_refuses_a_missing_library() -> None:
    library = CompiledContract("BorrowLogic", "x/BorrowLogic.sol", [], "0x", "0x")
    placeholder = library_placeholder(library)
    assert len(placeholder) == 40  # the 20 bytes of an address, in hex
    user = CompiledContract("Pool", "x/Pool.sol", [], "0x60" + placeholder + "00", "0x")
    address = "0x" + "ab" * 20
    assert link(user, [(library, address)]) == "0x60" + "ab" * 20 + "00"
    with pytest.raises(ToolchainError, match="Pool needs a library"):
        link(user, [])
