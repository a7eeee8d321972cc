// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// Written by liqscan for its local devnet: OUR OWN implementation of one Liquity v2 (BOLD)
/// collateral branch's StabilityPool. No Liquity v2 bytecode is published on a package registry;
/// this is not Liquity's code. It was written from reading liquity/bold
/// `contracts/src/StabilityPool.sol` and keeps the real external signatures liqscan reads and
/// the devnet calls (`getTotalBoldDeposits`, `getCollBalance`, `deposits`, `provideToSP`,
/// `offset`, `troveManager`) and the rule a liquidation depends on: `offset` cancels the debt
/// against the pool's total BOLD deposits and adds the collateral to the pool's balance. The
/// TroveManager leaves MIN_BOLD_IN_SP (1 BOLD) in the pool, as the real one does.
/// What it leaves out: the BOLD token (deposits are accounting only, made by the devnet
/// deployer as the real `provideToSP` would after a transfer), the P/S/B products and the
/// depositors' compounded deposits and gains, yield, withdrawals.
contract DevnetBoldStabilityPool {
    struct Deposit {
        uint256 initialValue;
    }

    address public troveManager;
    address internal deployer;
    uint256 internal totalBoldDeposits;
    uint256 internal collBalance;
    mapping(address => Deposit) public deposits;

    event StabilityPoolBoldBalanceUpdated(uint256 _newBalance);
    event StabilityPoolCollBalanceUpdated(uint256 _newBalance);

    constructor() {
        deployer = msg.sender;
    }

    function setTroveManager(address _troveManager) external {
        require(msg.sender == deployer && troveManager == address(0), "once, by the deployer");
        troveManager = _troveManager;
    }

    function getTotalBoldDeposits() external view returns (uint256) {
        return totalBoldDeposits;
    }

    function getCollBalance() external view returns (uint256) {
        return collBalance;
    }

    /// The real signature; here the deployer seeds deposits (no BOLD token to transfer).
    function provideToSP(uint256 _topUp, bool _doClaim) external {
        _doClaim; // no gains to claim in the devnet pool
        require(msg.sender == deployer, "devnet: the deployer seeds deposits");
        require(_topUp > 0, "StabilityPool: Amount must be non-zero");
        deposits[msg.sender].initialValue += _topUp;
        totalBoldDeposits += _topUp;
        emit StabilityPoolBoldBalanceUpdated(totalBoldDeposits);
    }

    function offset(uint256 _debtToOffset, uint256 _collToAdd) external {
        require(msg.sender == troveManager, "StabilityPool: Caller is not TroveManager");
        totalBoldDeposits -= _debtToOffset;
        collBalance += _collToAdd;
        emit StabilityPoolBoldBalanceUpdated(totalBoldDeposits);
        emit StabilityPoolCollBalanceUpdated(collBalance);
    }
}
