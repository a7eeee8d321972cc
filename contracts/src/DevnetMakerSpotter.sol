// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerPip {
    function peek() external view returns (bytes32, bool);
}

interface IDevnetMakerVatForSpotter {
    function file(bytes32, bytes32, uint256) external;
}

/// @title DevnetMakerSpotter
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the Maker (dss)
/// Spotter. No Maker bytecode is published on a package registry; this is not Maker's code. It
/// was written from reading makerdao/dss `src/spot.sol` and keeps the real external signatures.
///
/// `poke(ilk)`: spot = rdiv(rdiv(val * 1e9, par), mat) (two floors), 0 when the pip has no
/// value, filed into the Vat -- as the real Spotter does.
contract DevnetMakerSpotter {
    mapping(address => uint256) public wards;

    modifier auth() {
        require(wards[msg.sender] == 1, "Spotter/not-authorized");
        _;
    }

    struct Ilk {
        IDevnetMakerPip pip;
        uint256 mat;
    }

    mapping(bytes32 => Ilk) public ilks;
    IDevnetMakerVatForSpotter public vat;
    uint256 public par;
    uint256 public live;

    event Poke(bytes32 ilk, bytes32 val, uint256 spot);

    uint256 constant ONE = 10 ** 27;

    constructor(address vat_) {
        wards[msg.sender] = 1;
        vat = IDevnetMakerVatForSpotter(vat_);
        par = ONE;
        live = 1;
    }

    function rdiv(uint256 x, uint256 y) internal pure returns (uint256) {
        return x * ONE / y;
    }

    function file(bytes32 ilk, bytes32 what, address pip_) external auth {
        require(live == 1, "Spotter/not-live");
        if (what == "pip") ilks[ilk].pip = IDevnetMakerPip(pip_);
        else revert("Spotter/file-unrecognized-param");
    }

    function file(bytes32 what, uint256 data) external auth {
        require(live == 1, "Spotter/not-live");
        if (what == "par") par = data;
        else revert("Spotter/file-unrecognized-param");
    }

    function file(bytes32 ilk, bytes32 what, uint256 data) external auth {
        require(live == 1, "Spotter/not-live");
        if (what == "mat") ilks[ilk].mat = data;
        else revert("Spotter/file-unrecognized-param");
    }

    function poke(bytes32 ilk) external {
        (bytes32 val, bool has) = ilks[ilk].pip.peek();
        uint256 spot = has ? rdiv(rdiv(uint256(val) * 10 ** 9, par), ilks[ilk].mat) : 0;
        vat.file(ilk, "spot", spot);
        emit Poke(ilk, val, spot);
    }
}
