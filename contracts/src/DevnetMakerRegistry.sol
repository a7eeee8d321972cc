// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

/// @title DevnetMakerChainlog
/// @notice Written by liqscan for its local devnet (not Maker's code): Maker's ChainLog subset,
/// `getAddress(bytes32)` (reverts "dss-chain-log/invalid-key" for an unknown key) and
/// `setAddress`, with the real signatures (makerdao/dss-chain-log).
contract DevnetMakerChainlog {
    mapping(address => uint256) public wards;
    mapping(bytes32 => address) private addresses;

    constructor() {
        wards[msg.sender] = 1;
    }

    function setAddress(bytes32 key, address addr) external {
        require(wards[msg.sender] == 1, "dss-chain-log/not-authorized");
        addresses[key] = addr;
    }

    function getAddress(bytes32 key) external view returns (address addr) {
        addr = addresses[key];
        require(addr != address(0), "dss-chain-log/invalid-key");
    }
}

/// @title DevnetMakerIlkRegistry
/// @notice Written by liqscan for its local devnet (not Maker's code): Maker's IlkRegistry subset,
/// `list()`, `gem(ilk)`, `dec(ilk)`, `pip(ilk)`, `join(ilk)`, with the real signatures
/// (makerdao/ilk-registry). Ilks are added by the deployer.
contract DevnetMakerIlkRegistry {
    mapping(address => uint256) public wards;
    bytes32[] private ilks;
    mapping(bytes32 => address) public gem;
    mapping(bytes32 => address) public pip;
    mapping(bytes32 => address) public join;
    mapping(bytes32 => uint256) public dec;

    constructor() {
        wards[msg.sender] = 1;
    }

    function put(bytes32 ilk, address join_, address gem_, uint256 dec_, address pip_) external {
        require(wards[msg.sender] == 1, "IlkReg/not-authorized");
        require(gem[ilk] == address(0), "IlkReg/ilk-already-exists");
        ilks.push(ilk);
        gem[ilk] = gem_;
        pip[ilk] = pip_;
        join[ilk] = join_;
        dec[ilk] = dec_;
    }

    function list() external view returns (bytes32[] memory) {
        return ilks;
    }
}
