// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

/// @title DevnetMakerVat
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the Maker (dss) Vat
/// rules that liquidation scanning depends on. No Maker bytecode is published on a package
/// registry, so this contract stands in for it. It is not Maker's code; it was written from
/// reading makerdao/dss `src/vat.sol` at the LibNote release (2019, the version deployed on
/// mainnet) and keeps every external signature it implements identical to the real Vat.
///
/// Implemented as the real Vat does it:
/// - `ilks(ilk)` = (Art wad, rate ray, spot ray, line rad, dust rad), `urns(ilk, urn)` = (ink, art);
/// - the anonymous LogNote of the deployed Vat on every note-marked call: topic0 = the selector
///   left-aligned, topics 1-3 = the first three call arguments (no caller), data = the calldata;
/// - frob's checks (ceiling, `tab <= ink * spot` unless less risky, consent, dust), fork's
///   checks (consent, both sides safe and non-dusty), grab, fold, slip, flux, move, hope/nope.
/// Left out: cage, heal, suck, the vice/sin accounting beyond what grab needs.
contract DevnetMakerVat {
    mapping(address => uint256) public wards;

    modifier auth() {
        require(wards[msg.sender] == 1, "Vat/not-authorized");
        _;
    }

    mapping(address => mapping(address => uint256)) public can;

    struct Ilk {
        uint256 Art;
        uint256 rate;
        uint256 spot;
        uint256 line;
        uint256 dust;
    }

    struct Urn {
        uint256 ink;
        uint256 art;
    }

    mapping(bytes32 => Ilk) public ilks;
    mapping(bytes32 => mapping(address => Urn)) public urns;
    mapping(bytes32 => mapping(address => uint256)) public gem;
    mapping(address => uint256) public dai;
    mapping(address => uint256) public sin;

    uint256 public debt;
    uint256 public vice;
    uint256 public Line;
    uint256 public live;

    event LogNote(
        bytes4 indexed sig, bytes32 indexed arg1, bytes32 indexed arg2, bytes32 indexed arg3, bytes data
    ) anonymous;

    /// The deployed Vat's note: the selector and the first three argument words as topics,
    /// 224 bytes of calldata (selector + six words) as the data.
    modifier note() {
        _;
        assembly {
            let mark := mload(0x40)
            mstore(0x40, add(mark, 288))
            mstore(mark, 0x20)
            mstore(add(mark, 0x20), 224)
            calldatacopy(add(mark, 0x40), 0, 224)
            log4(mark, 288, shl(224, shr(224, calldataload(0))), calldataload(4), calldataload(36),
                calldataload(68))
        }
    }

    constructor() {
        wards[msg.sender] = 1;
        live = 1;
    }

    function rely(address usr) external note auth { wards[usr] = 1; }
    function deny(address usr) external note auth { wards[usr] = 0; }
    function hope(address usr) external note { can[msg.sender][usr] = 1; }
    function nope(address usr) external note { can[msg.sender][usr] = 0; }

    function wish(address bit, address usr) internal view returns (bool) {
        return bit == usr || can[bit][usr] == 1;
    }

    function _add(uint256 x, int256 y) internal pure returns (uint256 z) {
        z = y >= 0 ? x + uint256(y) : x - uint256(-y);
    }

    function _mul(uint256 x, int256 y) internal pure returns (int256 z) {
        z = int256(x) * y;
    }

    function init(bytes32 ilk) external note auth {
        require(ilks[ilk].rate == 0, "Vat/ilk-already-init");
        ilks[ilk].rate = 10 ** 27;
    }

    function file(bytes32 what, uint256 data) external note auth {
        require(live == 1, "Vat/not-live");
        if (what == "Line") Line = data;
        else revert("Vat/file-unrecognized-param");
    }

    function file(bytes32 ilk, bytes32 what, uint256 data) external note auth {
        require(live == 1, "Vat/not-live");
        if (what == "spot") ilks[ilk].spot = data;
        else if (what == "line") ilks[ilk].line = data;
        else if (what == "dust") ilks[ilk].dust = data;
        else revert("Vat/file-unrecognized-param");
    }

    function slip(bytes32 ilk, address usr, int256 wad) external note auth {
        gem[ilk][usr] = _add(gem[ilk][usr], wad);
    }

    function flux(bytes32 ilk, address src, address dst, uint256 wad) external note {
        require(wish(src, msg.sender), "Vat/not-allowed");
        gem[ilk][src] = gem[ilk][src] - wad;
        gem[ilk][dst] = gem[ilk][dst] + wad;
    }

    function move(address src, address dst, uint256 rad) external note {
        require(wish(src, msg.sender), "Vat/not-allowed");
        dai[src] = dai[src] - rad;
        dai[dst] = dai[dst] + rad;
    }

    function frob(bytes32 i, address u, address v, address w, int256 dink, int256 dart) external note {
        require(live == 1, "Vat/not-live");
        Urn memory urn = urns[i][u];
        Ilk memory ilk = ilks[i];
        require(ilk.rate != 0, "Vat/ilk-not-init");

        urn.ink = _add(urn.ink, dink);
        urn.art = _add(urn.art, dart);
        ilk.Art = _add(ilk.Art, dart);

        int256 dtab = _mul(ilk.rate, dart);
        uint256 tab = urn.art * ilk.rate;
        debt = _add(debt, dtab);

        require(dart <= 0 || (ilk.Art * ilk.rate <= ilk.line && debt <= Line), "Vat/ceiling-exceeded");
        require((dart <= 0 && dink >= 0) || tab <= urn.ink * ilk.spot, "Vat/not-safe");
        require((dart <= 0 && dink >= 0) || wish(u, msg.sender), "Vat/not-allowed-u");
        require(dink <= 0 || wish(v, msg.sender), "Vat/not-allowed-v");
        require(dart >= 0 || wish(w, msg.sender), "Vat/not-allowed-w");
        require(urn.art == 0 || tab >= ilk.dust, "Vat/dust");

        gem[i][v] = _add(gem[i][v], -dink);
        dai[w] = _add(dai[w], dtab);

        urns[i][u] = urn;
        ilks[i] = ilk;
    }

    function fork(bytes32 ilk, address src, address dst, int256 dink, int256 dart) external note {
        Urn storage u = urns[ilk][src];
        Urn storage v = urns[ilk][dst];
        Ilk storage i = ilks[ilk];

        u.ink = _add(u.ink, -dink);
        u.art = _add(u.art, -dart);
        v.ink = _add(v.ink, dink);
        v.art = _add(v.art, dart);

        uint256 utab = u.art * i.rate;
        uint256 vtab = v.art * i.rate;

        require(wish(src, msg.sender) && wish(dst, msg.sender), "Vat/not-allowed");
        require(utab <= u.ink * i.spot, "Vat/not-safe-src");
        require(vtab <= v.ink * i.spot, "Vat/not-safe-dst");
        require(utab >= i.dust || u.art == 0, "Vat/dust-src");
        require(vtab >= i.dust || v.art == 0, "Vat/dust-dst");
    }

    function grab(bytes32 i, address u, address v, address w, int256 dink, int256 dart) external note auth {
        Urn storage urn = urns[i][u];
        Ilk storage ilk = ilks[i];

        urn.ink = _add(urn.ink, dink);
        urn.art = _add(urn.art, dart);
        ilk.Art = _add(ilk.Art, dart);

        int256 dtab = _mul(ilk.rate, dart);

        gem[i][v] = _add(gem[i][v], -dink);
        sin[w] = _add(sin[w], -dtab);
        vice = _add(vice, -dtab);
    }

    function fold(bytes32 i, address u, int256 rate) external note auth {
        require(live == 1, "Vat/not-live");
        Ilk storage ilk = ilks[i];
        ilk.rate = _add(ilk.rate, rate);
        int256 rad = _mul(ilk.Art, rate);
        dai[u] = _add(dai[u], rad);
        debt = _add(debt, rad);
    }
}
