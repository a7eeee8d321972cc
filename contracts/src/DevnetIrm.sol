// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

import {IIrm} from "@morpho-org/morpho-blue/src/interfaces/IIrm.sol";
import {MarketParams, Market} from "@morpho-org/morpho-blue/src/interfaces/IMorpho.sol";

/// @title DevnetIrm
/// @notice Written by liqscan for the local devnet; implements Morpho Blue's IIrm.
/// One fixed borrow rate per second (WAD) for every market, settable by the owner, so tests can
/// accrue known interest or freeze accrual (rate 0) around an exact liquidation boundary.
contract DevnetIrm is IIrm {
    address public immutable OWNER;
    uint256 public ratePerSecondWad;

    event SetBorrowRate(uint256 ratePerSecondWad);

    constructor(address owner, uint256 initialRatePerSecondWad) {
        OWNER = owner;
        ratePerSecondWad = initialRatePerSecondWad;
        emit SetBorrowRate(initialRatePerSecondWad);
    }

    function setBorrowRate(uint256 newRatePerSecondWad) external {
        require(msg.sender == OWNER, "DevnetIrm: not owner");
        ratePerSecondWad = newRatePerSecondWad;
        emit SetBorrowRate(newRatePerSecondWad);
    }

    function borrowRate(MarketParams memory, Market memory) external view returns (uint256) {
        return ratePerSecondWad;
    }

    function borrowRateView(MarketParams memory, Market memory) external view returns (uint256) {
        return ratePerSecondWad;
    }
}
