// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerProbeJug {
    function drip(bytes32) external returns (uint256);
}

interface IDevnetMakerProbeSpotter {
    function poke(bytes32) external;
}

interface IDevnetMakerProbeDog {
    function bark(bytes32, address, address) external returns (uint256);
}

/// @title DevnetMakerProbe
/// @notice Written by liqscan for its tests (not Maker's code): what a keeper does, in one call
/// -- `jug.drip(ilk)`, `spotter.poke(ilk)`, then `dog.bark(ilk, urn, this)` -- reporting the
/// Dog's verdict instead of reverting. Tests run it with eth_call, so nothing is changed.
/// Returns the dripped rate (ray) and the outcome: 1 = bark liquidated the urn,
/// 0 = bark reverted "Dog/not-unsafe"; any other revert of bark is re-raised.
contract DevnetMakerProbe {
    function check(address jug, address spotter, address dog, bytes32 ilk, address urn)
        external
        returns (uint256 rate, uint256 barked)
    {
        rate = IDevnetMakerProbeJug(jug).drip(ilk);
        IDevnetMakerProbeSpotter(spotter).poke(ilk);
        try IDevnetMakerProbeDog(dog).bark(ilk, urn, address(this)) returns (uint256) {
            barked = 1;
        } catch Error(string memory reason) {
            require(keccak256(bytes(reason)) == keccak256("Dog/not-unsafe"), reason);
            barked = 0;
        }
    }
}
