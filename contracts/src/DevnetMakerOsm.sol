// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerValue {
    function peek() external view returns (bytes32, bool);
}

/// @title DevnetMakerMedian
/// @notice Written by liqscan for its local devnet (not Maker's code): the OSM's source, standing
/// in for Maker's Median (a DSValue-style `peek()` of a wad price and `has`). The deployer sets
/// the value with `poke(wad)`; Maker's prices are their own on the devnet, so moving them never
/// touches the other markets' feeds.
contract DevnetMakerMedian {
    mapping(address => uint256) public wards;
    uint256 public val;

    constructor(uint256 val_) {
        wards[msg.sender] = 1;
        val = val_;
    }

    function poke(uint256 val_) external {
        require(wards[msg.sender] == 1, "Median/not-authorized");
        val = val_;
    }

    function peek() external view returns (bytes32, bool) {
        return (bytes32(val), val > 0);
    }
}

/// @title DevnetMakerOsm
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of Maker's Oracle
/// Security Module. No Maker bytecode is published on a package registry; this is not Maker's
/// code. It was written from reading makerdao/osm `src/osm.sol` and keeps the real signatures of
/// `peek`, `peep`, `poke`, `pass`, `hop`, `zzz`, `src`, `bud` and `kiss`.
///
/// As the real OSM: `poke()` only once `now >= zzz + hop` (else "OSM/not-passed"); it moves the
/// queued value to current (`cur = nxt`), queues the source's value (`nxt`) and sets
/// zzz = now rounded down to a multiple of hop. `peek`/`peep` (current / next) are whitelisted
/// ("OSM/contract-not-whitelisted" unless `kiss`ed): the Spotter reads peek.
contract DevnetMakerOsm {
    mapping(address => uint256) public wards;

    modifier auth() {
        require(wards[msg.sender] == 1, "OSM/not-authorized");
        _;
    }

    uint256 public stopped;
    address public src;
    uint16 public hop = 3600;
    uint64 public zzz;

    struct Feed {
        uint128 val;
        uint128 has;
    }

    Feed cur;
    Feed nxt;
    mapping(address => uint256) public bud;

    modifier toll() {
        require(bud[msg.sender] == 1, "OSM/contract-not-whitelisted");
        _;
    }

    event LogValue(bytes32 val);

    constructor(address src_) {
        wards[msg.sender] = 1;
        src = src_;
    }

    function pass() public view returns (bool ok) {
        return block.timestamp >= uint256(zzz) + hop;
    }

    function poke() external {
        require(stopped == 0, "OSM/is-stopped");
        require(pass(), "OSM/not-passed");
        (bytes32 wut, bool ok) = IDevnetMakerValue(src).peek();
        if (ok) {
            cur = nxt;
            nxt = Feed(uint128(uint256(wut)), 1);
            zzz = uint64(block.timestamp - (block.timestamp % hop));
            emit LogValue(bytes32(uint256(cur.val)));
        }
    }

    function peek() external view toll returns (bytes32, bool) {
        return (bytes32(uint256(cur.val)), cur.has == 1);
    }

    function peep() external view toll returns (bytes32, bool) {
        return (bytes32(uint256(nxt.val)), nxt.has == 1);
    }

    function kiss(address a) external auth {
        require(a != address(0), "OSM/no-contract-0");
        bud[a] = 1;
    }
}
