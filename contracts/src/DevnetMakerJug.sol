// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerVatForJug {
    function ilks(bytes32) external view returns (uint256, uint256, uint256, uint256, uint256);
    function fold(bytes32, address, int256) external;
}

/// @title DevnetMakerJug
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the Maker (dss) Jug.
/// No Maker bytecode is published on a package registry; this is not Maker's code. It was written
/// from reading makerdao/dss `src/jug.sol` and keeps the real external signatures.
///
/// `drip(ilk)`: rate = rmul(rpow(base + duty, now - rho, RAY), prev), and the Vat folds the
/// difference, as the real Jug does. rpow is exponentiation by squaring that rounds half up at
/// every multiplication (the real Jug's rounding), written here in plain Solidity.
contract DevnetMakerJug {
    mapping(address => uint256) public wards;

    modifier auth() {
        require(wards[msg.sender] == 1, "Jug/not-authorized");
        _;
    }

    struct Ilk {
        uint256 duty;
        uint256 rho;
    }

    mapping(bytes32 => Ilk) public ilks;
    IDevnetMakerVatForJug public vat;
    address public vow;
    uint256 public base;

    uint256 constant ONE = 10 ** 27;

    constructor(address vat_) {
        wards[msg.sender] = 1;
        vat = IDevnetMakerVatForJug(vat_);
    }

    function rely(address usr) external auth { wards[usr] = 1; }

    /// x**n in base b, each product rounded half up (reverts on overflow).
    function rpow(uint256 x, uint256 n, uint256 b) public pure returns (uint256 z) {
        if (x == 0) return n == 0 ? b : 0;
        z = n % 2 == 0 ? b : x;
        uint256 half = b / 2;
        for (n /= 2; n != 0; n /= 2) {
            x = (x * x + half) / b;
            if (n % 2 == 1) z = (z * x + half) / b;
        }
    }

    function init(bytes32 ilk) external auth {
        require(ilks[ilk].duty == 0, "Jug/ilk-already-init");
        ilks[ilk] = Ilk(ONE, block.timestamp);
    }

    function file(bytes32 ilk, bytes32 what, uint256 data) external auth {
        require(block.timestamp == ilks[ilk].rho, "Jug/rho-not-updated");
        if (what == "duty") ilks[ilk].duty = data;
        else revert("Jug/file-unrecognized-param");
    }

    function file(bytes32 what, uint256 data) external auth {
        if (what == "base") base = data;
        else revert("Jug/file-unrecognized-param");
    }

    function file(bytes32 what, address data) external auth {
        if (what == "vow") vow = data;
        else revert("Jug/file-unrecognized-param");
    }

    function drip(bytes32 ilk) external returns (uint256 rate) {
        require(block.timestamp >= ilks[ilk].rho, "Jug/invalid-now");
        (, uint256 prev,,,) = vat.ilks(ilk);
        rate = rpow(base + ilks[ilk].duty, block.timestamp - ilks[ilk].rho, ONE) * prev / ONE;
        vat.fold(ilk, vow, int256(rate) - int256(prev));
        ilks[ilk].rho = block.timestamp;
    }
}
