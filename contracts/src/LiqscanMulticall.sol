// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// @title LiqscanMulticall
/// @notice Written by liqscan. Implements the Multicall3 `aggregate3` ABI and semantics
/// (mds1/multicall3, deployed at 0xcA11bde05977b3631167028862bE2a173976CA11 on most chains);
/// this is not Multicall3's code. anvil has no Multicall3, so the devnet places this contract's
/// runtime code at the canonical address and the scanner's production read path runs unchanged.
/// @dev Semantics kept: calls run in order with CALL (msg.sender is this contract, state changes
/// persist between sub-calls); a failed call with allowFailure=false reverts the whole batch with
/// Error("Multicall3: call failed"); otherwise its revert data is returned with success=false.
/// A call to an address without code succeeds with empty returnData, exactly like Multicall3.
contract LiqscanMulticall {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Run every call; revert if one fails that does not allow failure.
    function aggregate3(Call3[] calldata calls) public payable returns (Result[] memory returnData) {
        uint256 count = calls.length;
        returnData = new Result[](count);
        for (uint256 i = 0; i < count; ++i) {
            Call3 calldata next = calls[i];
            (bool success, bytes memory data) = next.target.call(next.callData);
            if (!success && !next.allowFailure) {
                revert("Multicall3: call failed");
            }
            returnData[i] = Result({success: success, returnData: data});
        }
    }

    /// @notice The block the batch executes in: put it in a batch to learn which block was read.
    function getBlockNumber() public view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }

    function getCurrentBlockTimestamp() public view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    function getEthBalance(address addr) public view returns (uint256 balance) {
        balance = addr.balance;
    }
}
