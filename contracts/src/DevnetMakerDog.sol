// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerVatForDog {
    function urns(bytes32, address) external view returns (uint256, uint256);
    function ilks(bytes32) external view returns (uint256, uint256, uint256, uint256, uint256);
    function grab(bytes32, address, address, address, int256, int256) external;
}

interface IDevnetMakerClipperForDog {
    function ilk() external view returns (bytes32);
    function kick(uint256, uint256, address, address) external returns (uint256);
}

/// @title DevnetMakerDog
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the Maker (dss) Dog
/// (Liquidations 2.0). No Maker bytecode is published on a package registry; this is not Maker's
/// code. It was written from reading makerdao/dss `src/dog.sol` and keeps the real signatures of
/// `ilks`, `Hole`, `Dirt`, `chop` and `bark`.
///
/// `bark` is the real one up to the auction: the unsafe test `spot > 0 && ink * spot < art * rate`
/// (revert "Dog/not-unsafe"), the hole/Hole room, the partial-liquidation and dust rules, the
/// grab, and Dirt/dirt grown by tab = due * chop / WAD; the auction is kicked on the ilk's
/// Clipper (contracts/src/DevnetMakerClipper.sol, filed as `clip`), which gives the room back
/// through `digs` as its takes raise the tab. SIMPLIFIED: there is no Vow -- this contract
/// stands as the vow (the auctions' DAI comes here) and the bad debt is not queued
/// (`vow.fess`); an ilk with no Clipper filed keeps the gem here and kicks nothing (the
/// returned id then counts those barks).
contract DevnetMakerDog {
    mapping(address => uint256) public wards;

    modifier auth() {
        require(wards[msg.sender] == 1, "Dog/not-authorized");
        _;
    }

    struct Ilk {
        address clip;
        uint256 chop;
        uint256 hole;
        uint256 dirt;
    }

    IDevnetMakerVatForDog public immutable vat;
    mapping(bytes32 => Ilk) public ilks;
    address public vow;
    uint256 public live;
    uint256 public Hole;
    uint256 public Dirt;
    uint256 public kicks;

    event Bark(
        bytes32 indexed ilk, address indexed urn, uint256 ink, uint256 art, uint256 due, address clip,
        uint256 indexed id
    );

    uint256 constant WAD = 10 ** 18;

    constructor(address vat_) {
        vat = IDevnetMakerVatForDog(vat_);
        live = 1;
        wards[msg.sender] = 1;
        vow = address(this);
    }

    function min(uint256 x, uint256 y) internal pure returns (uint256) {
        return x <= y ? x : y;
    }

    function file(bytes32 what, uint256 data) external auth {
        if (what == "Hole") Hole = data;
        else revert("Dog/file-unrecognized-param");
    }

    function file(bytes32 ilk, bytes32 what, uint256 data) external auth {
        if (what == "chop") {
            require(data >= WAD, "Dog/file-chop-lt-WAD");
            ilks[ilk].chop = data;
        } else if (what == "hole") {
            ilks[ilk].hole = data;
        } else {
            revert("Dog/file-unrecognized-param");
        }
    }

    function rely(address usr) external auth { wards[usr] = 1; }

    function file(bytes32 ilk, bytes32 what, address clip) external auth {
        if (what == "clip") {
            require(ilk == IDevnetMakerClipperForDog(clip).ilk(), "Dog/file-ilk-neq-clip.ilk");
            ilks[ilk].clip = clip;
        } else {
            revert("Dog/file-unrecognized-param");
        }
    }

    /// The Clipper gives back room as its auctions raise their tab (or finish).
    function digs(bytes32 ilk, uint256 rad) external auth {
        Dirt = Dirt - rad;
        ilks[ilk].dirt = ilks[ilk].dirt - rad;
    }

    function chop(bytes32 ilk) external view returns (uint256) {
        return ilks[ilk].chop;
    }

    function bark(bytes32 ilk, address urn, address kpr) external returns (uint256 id) {
        require(live == 1, "Dog/not-live");
        (uint256 ink, uint256 art) = vat.urns(ilk, urn);
        Ilk memory milk = ilks[ilk];
        uint256 dart;
        uint256 rate;
        {
            uint256 spot;
            uint256 dust;
            (, rate, spot,, dust) = vat.ilks(ilk);
            require(spot > 0 && ink * spot < art * rate, "Dog/not-unsafe");
            require(Hole > Dirt && milk.hole > milk.dirt, "Dog/liquidation-limit-hit");
            uint256 room = min(Hole - Dirt, milk.hole - milk.dirt);
            dart = min(art, room * WAD / rate / milk.chop);
            if (art > dart) {
                if ((art - dart) * rate < dust) {
                    dart = art;  // a dusty remainder: take the whole urn
                } else {
                    require(dart * rate >= dust, "Dog/dusty-auction-from-partial-liquidation");
                }
            }
        }
        uint256 dink = ink * dart / art;
        require(dink > 0, "Dog/null-auction");
        require(dart <= 2 ** 255 && dink <= 2 ** 255, "Dog/overflow");
        address keeper = milk.clip == address(0) ? address(this) : milk.clip;
        vat.grab(ilk, urn, keeper, vow, -int256(dink), -int256(dart));
        uint256 due = dart * rate;
        uint256 tab = due * milk.chop / WAD;
        Dirt = Dirt + tab;
        ilks[ilk].dirt = milk.dirt + tab;
        if (milk.clip == address(0)) {
            kicks = kicks + 1;
            id = kicks;
        } else {
            id = IDevnetMakerClipperForDog(milk.clip).kick(tab, dink, urn, kpr);
        }
        emit Bark(ilk, urn, dink, dart, due, keeper, id);
    }
}
