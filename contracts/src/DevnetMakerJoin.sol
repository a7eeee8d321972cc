// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerGem {
    function decimals() external view returns (uint8);
    function transferFrom(address, address, uint256) external returns (bool);
    function transfer(address, uint256) external returns (bool);
}

interface IDevnetMakerVatForJoin {
    function slip(bytes32, address, int256) external;
}

/// @title DevnetMakerGemJoin
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of Maker's gem joins.
/// No Maker bytecode is published on a package registry; this is not Maker's code. It was written
/// from reading makerdao/dss `src/join.sol` (GemJoin) and makerdao/dss-gem-joins (GemJoin5, for
/// tokens of fewer than 18 decimals) and keeps their `join(address,uint256)` and
/// `exit(address,uint256)` signatures. `join(usr, amt)` takes `amt` token units and credits
/// usr's Vat gem with amt * 10**(18 - dec): an 8-decimal WBTC's ink is still an 18-decimal wad;
/// `exit(usr, amt)` debits the caller's Vat gem by the same wad and sends usr `amt` token units
/// (an auction's buyer takes its gem out this way). Left out: cage.
contract DevnetMakerGemJoin {
    IDevnetMakerVatForJoin public vat;
    bytes32 public ilk;
    IDevnetMakerGem public gem;
    uint256 public dec;

    constructor(address vat_, bytes32 ilk_, address gem_) {
        vat = IDevnetMakerVatForJoin(vat_);
        ilk = ilk_;
        gem = IDevnetMakerGem(gem_);
        dec = gem.decimals();
        require(dec <= 18, "GemJoin/decimals-18-or-lower");
    }

    function join(address usr, uint256 amt) external {
        uint256 wad = amt * 10 ** (18 - dec);
        require(int256(wad) >= 0, "GemJoin/overflow");
        vat.slip(ilk, usr, int256(wad));
        require(gem.transferFrom(msg.sender, address(this), amt), "GemJoin/failed-transfer");
    }

    function exit(address usr, uint256 amt) external {
        uint256 wad = amt * 10 ** (18 - dec);
        require(wad <= 2 ** 255, "GemJoin/overflow");
        vat.slip(ilk, msg.sender, -int256(wad));
        require(gem.transfer(usr, amt), "GemJoin/failed-transfer");
    }
}
