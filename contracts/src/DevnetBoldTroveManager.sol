// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// Written by liqscan for its local devnet: OUR OWN implementation of one Liquity v2 (BOLD)
/// collateral branch's TroveManager. No Liquity v2 bytecode is published on a package registry;
/// this is not Liquity's code. It was written from reading liquity/bold
/// `contracts/src/TroveManager.sol` and keeps the real external signatures of the functions
/// liqscan reads and calls, and the real rules:
///  - interest is simple and floored: weightedDebt * period / ONE_YEAR / 1e18, where the period
///    ends at the block timestamp, or at `shutdownTime` once the branch is shut down;
///  - a batch is one "big trove": its debt, interest and management fee accrue on the batch and
///    each member's part is its debt shares' pro rata, each term floored on its own;
///  - redistributions: L_coll / L_boldDebt per unit staked with the feedback error correction,
///    a trove's pending gain is stake * (L - snapshot) / 1e18;
///  - batchLiquidateTroves liquidates every active or zombie trove whose ICR (entire coll *
///    price / entire debt, floored) is below the branch's MCR, at the price feed's fetchPrice,
///    and reverts NothingToLiquidate when none is; the shutdown does not stop liquidations;
///  - the offset (`_getOffsetAndRedistributionVals`): the branch's StabilityPool deposits less
///    MIN_BOLD_IN_SP are offset first; the trove's collateral in proportion goes to the pool, less
///    the collateral gas compensation (1/200, capped at 2 units), capped at debt x (1 +
///    LIQUIDATION_PENALTY_SP) / price; the rest of the debt and collateral (with the offset's
///    surplus) is redistributed, capped at debt x (1 + LIQUIDATION_PENALTY_REDISTRIBUTION) /
///    price; what exceeds the caps is the owner's surplus; the real `Liquidation` event.
/// What it leaves out: token transfers (collateral is accounting only), the BOLD burn,
/// redemptions, SortedTroves, the aggregate ActivePool interest. Troves are opened by the devnet deployer (the real BorrowerOperations' job).
/// The first three storage slots hold activePool, defaultPool and priceFeed, in the order of
/// the real LiquityBase, which the adapter relies on to find the branch's price feed.

interface IDevnetBoldPriceFeed {
    function fetchPrice() external returns (uint256, bool);
}

interface IDevnetBoldBorrowerOperations {
    function MCR() external view returns (uint256);
    function CCR() external view returns (uint256);
}

interface IDevnetBoldStabilityPool {
    function getTotalBoldDeposits() external view returns (uint256);
    function offset(uint256 _debtToOffset, uint256 _collToAdd) external;
}

interface IDevnetBoldTroveNFT {
    function mint(address owner, uint256 troveId) external;
    function burn(uint256 troveId) external;
}

struct LatestTroveData {
    uint256 entireDebt;
    uint256 entireColl;
    uint256 redistBoldDebtGain;
    uint256 redistCollGain;
    uint256 accruedInterest;
    uint256 recordedDebt;
    uint256 annualInterestRate;
    uint256 weightedRecordedDebt;
    uint256 accruedBatchManagementFee;
    uint256 lastInterestRateAdjTime;
}

struct LatestBatchData {
    uint256 totalDebtShares;
    uint256 entireDebtWithoutRedistribution;
    uint256 entireCollWithoutRedistribution;
    uint256 accruedInterest;
    uint256 recordedDebt;
    uint256 annualInterestRate;
    uint256 weightedRecordedDebt;
    uint256 annualManagementFee;
    uint256 accruedManagementFee;
    uint256 weightedRecordedBatchManagementFee;
    uint256 lastDebtUpdateTime;
    uint256 lastInterestRateAdjTime;
}

contract DevnetBoldTroveManager {
    enum Status {
        nonExistent,
        active,
        closedByOwner,
        closedByLiquidation,
        zombie
    }

    struct Trove {
        uint256 debt;
        uint256 coll;
        uint256 stake;
        Status status;
        uint64 arrayIndex;
        uint64 lastDebtUpdateTime;
        uint64 lastInterestRateAdjTime;
        uint256 annualInterestRate;
        address interestBatchManager;
        uint256 batchDebtShares;
    }

    struct Batch {
        uint256 debt;
        uint256 coll;
        uint64 arrayIndex;
        uint64 lastDebtUpdateTime;
        uint64 lastInterestRateAdjTime;
        uint256 annualInterestRate;
        uint256 annualManagementFee;
        uint256 totalDebtShares;
    }

    struct RewardSnapshot {
        uint256 coll;
        uint256 boldDebt;
    }

    uint256 internal constant DECIMAL_PRECISION = 1e18;
    uint256 internal constant ONE_YEAR = 365 days;
    uint256 internal constant MIN_BOLD_IN_SP = 1e18;
    uint256 internal constant COLL_GAS_COMPENSATION_DIVISOR = 200;
    uint256 internal constant COLL_GAS_COMPENSATION_CAP = 2 ether;
    uint256 internal constant ETH_GAS_COMPENSATION = 0.0375 ether;

    struct LiquidationValues {
        uint256 debtToOffset;
        uint256 collToSendToSP;
        uint256 collGasCompensation;
        uint256 debtToRedistribute;
        uint256 collToRedistribute;
        uint256 collSurplus;
    }

    // slots 0-2 as the real LiquityBase lays them out
    address public activePool;
    address internal defaultPool;
    address internal priceFeed;

    address public troveNFT;
    address public borrowerOperations;
    address public sortedTroves;
    address internal deployer;
    IDevnetBoldStabilityPool public stabilityPool;
    uint256 public immutable CCR;
    uint256 internal immutable MCR;
    uint256 internal immutable LIQUIDATION_PENALTY_SP;
    uint256 internal immutable LIQUIDATION_PENALTY_REDISTRIBUTION;

    mapping(uint256 => Trove) public Troves;
    mapping(address => Batch) internal batches;
    mapping(uint256 => RewardSnapshot) public rewardSnapshots;
    uint256 internal totalStakes;
    uint256 internal totalStakesSnapshot;
    uint256 internal totalCollateralSnapshot;
    uint256 internal L_coll;
    uint256 internal L_boldDebt;
    uint256 internal lastCollError_Redistribution;
    uint256 internal lastBoldDebtError_Redistribution;
    uint256 internal activeColl; // collateral of the troves, without pending redistributions
    uint256 internal defaultColl; // redistributed collateral not yet applied to a trove
    uint256[] internal TroveIds;
    address[] public batchIds;
    uint256 public shutdownTime;

    error EmptyData();
    error NothingToLiquidate();
    error OnlyOneTroveLeft();
    error NotDeployer();

    event Liquidation(
        uint256 _debtOffsetBySP,
        uint256 _debtRedistributed,
        uint256 _boldGasCompensation,
        uint256 _collGasCompensation,
        uint256 _collSentToSP,
        uint256 _collRedistributed,
        uint256 _collSurplus,
        uint256 _L_ETH,
        uint256 _L_boldDebt,
        uint256 _price
    );

    constructor(
        address _activePool,
        address _priceFeed,
        address _troveNFT,
        address _borrowerOperations,
        address _stabilityPool,
        uint256 _liquidationPenaltySP,
        uint256 _liquidationPenaltyRedistribution
    ) {
        activePool = _activePool;
        defaultPool = _activePool;
        priceFeed = _priceFeed;
        troveNFT = _troveNFT;
        borrowerOperations = _borrowerOperations;
        sortedTroves = address(0);
        deployer = msg.sender;
        stabilityPool = IDevnetBoldStabilityPool(_stabilityPool);
        LIQUIDATION_PENALTY_SP = _liquidationPenaltySP;
        MCR = IDevnetBoldBorrowerOperations(_borrowerOperations).MCR();
        CCR = IDevnetBoldBorrowerOperations(_borrowerOperations).CCR();
        LIQUIDATION_PENALTY_REDISTRIBUTION = _liquidationPenaltyRedistribution;
    }

    modifier onlyDeployer() {
        if (msg.sender != deployer) revert NotDeployer();
        _;
    }

    // --- Getters (real signatures) ---

    function getTroveIdsCount() external view returns (uint256) {
        return TroveIds.length;
    }

    function getTroveFromTroveIdsArray(uint256 _index) external view returns (uint256) {
        return TroveIds[_index];
    }

    function getTroveStatus(uint256 _troveId) external view returns (Status) {
        return Troves[_troveId].status;
    }

    function getLatestTroveData(uint256 _troveId) external view returns (LatestTroveData memory trove) {
        _getLatestTroveData(_troveId, trove);
    }

    function getLatestBatchData(address _batchAddress) external view returns (LatestBatchData memory batch) {
        _getLatestBatchData(_batchAddress, batch);
    }

    function getCurrentICR(uint256 _troveId, uint256 _price) public view returns (uint256) {
        LatestTroveData memory trove;
        _getLatestTroveData(_troveId, trove);
        return _computeCR(trove.entireColl, trove.entireDebt, _price);
    }

    // --- The rules ---

    function _computeCR(uint256 _coll, uint256 _debt, uint256 _price) internal pure returns (uint256) {
        if (_debt > 0) return _coll * _price / _debt;
        return type(uint256).max;
    }

    function _calcInterest(uint256 _weightedDebt, uint256 _period) internal pure returns (uint256) {
        return _weightedDebt * _period / ONE_YEAR / DECIMAL_PRECISION;
    }

    function _getInterestPeriod(uint256 _lastDebtUpdateTime) internal view returns (uint256) {
        if (shutdownTime == 0) return block.timestamp - _lastDebtUpdateTime;
        if (_lastDebtUpdateTime < shutdownTime) return shutdownTime - _lastDebtUpdateTime;
        return 0;
    }

    function _redistGains(uint256 _troveId, LatestTroveData memory trove) internal view {
        uint256 stake = Troves[_troveId].stake;
        trove.redistBoldDebtGain = stake * (L_boldDebt - rewardSnapshots[_troveId].boldDebt) / DECIMAL_PRECISION;
        trove.redistCollGain = stake * (L_coll - rewardSnapshots[_troveId].coll) / DECIMAL_PRECISION;
    }

    function _getLatestTroveData(uint256 _troveId, LatestTroveData memory trove) internal view {
        Trove memory t = Troves[_troveId];
        _redistGains(_troveId, trove);
        if (t.interestBatchManager != address(0)) {
            LatestBatchData memory batch;
            _getLatestBatchData(t.interestBatchManager, batch);
            if (batch.totalDebtShares > 0) {
                trove.recordedDebt = batch.recordedDebt * t.batchDebtShares / batch.totalDebtShares;
                trove.weightedRecordedDebt = trove.recordedDebt * batch.annualInterestRate;
                trove.accruedInterest = batch.accruedInterest * t.batchDebtShares / batch.totalDebtShares;
                trove.accruedBatchManagementFee =
                    batch.accruedManagementFee * t.batchDebtShares / batch.totalDebtShares;
            }
            trove.annualInterestRate = batch.annualInterestRate;
            trove.entireDebt = trove.recordedDebt + trove.redistBoldDebtGain + trove.accruedInterest
                + trove.accruedBatchManagementFee;
            trove.entireColl = t.coll + trove.redistCollGain;
            trove.lastInterestRateAdjTime = batch.lastInterestRateAdjTime > t.lastInterestRateAdjTime
                ? batch.lastInterestRateAdjTime
                : t.lastInterestRateAdjTime;
            return;
        }
        trove.recordedDebt = t.debt;
        trove.annualInterestRate = t.annualInterestRate;
        trove.weightedRecordedDebt = t.debt * t.annualInterestRate;
        trove.accruedInterest = _calcInterest(trove.weightedRecordedDebt, _getInterestPeriod(t.lastDebtUpdateTime));
        trove.entireDebt = trove.recordedDebt + trove.redistBoldDebtGain + trove.accruedInterest;
        trove.entireColl = t.coll + trove.redistCollGain;
        trove.lastInterestRateAdjTime = t.lastInterestRateAdjTime;
    }

    function _getLatestBatchData(address _batchAddress, LatestBatchData memory b) internal view {
        Batch memory batch = batches[_batchAddress];
        b.totalDebtShares = batch.totalDebtShares;
        b.recordedDebt = batch.debt;
        b.annualInterestRate = batch.annualInterestRate;
        b.weightedRecordedDebt = batch.debt * batch.annualInterestRate;
        uint256 period = _getInterestPeriod(batch.lastDebtUpdateTime);
        b.accruedInterest = _calcInterest(b.weightedRecordedDebt, period);
        b.annualManagementFee = batch.annualManagementFee;
        b.weightedRecordedBatchManagementFee = batch.debt * batch.annualManagementFee;
        b.accruedManagementFee = _calcInterest(b.weightedRecordedBatchManagementFee, period);
        b.entireDebtWithoutRedistribution = batch.debt + b.accruedInterest + b.accruedManagementFee;
        b.entireCollWithoutRedistribution = batch.coll;
        b.lastDebtUpdateTime = batch.lastDebtUpdateTime;
        b.lastInterestRateAdjTime = batch.lastInterestRateAdjTime;
    }

    function _computeNewStake(uint256 _coll) internal view returns (uint256) {
        if (totalCollateralSnapshot == 0) return _coll;
        return _coll * totalStakesSnapshot / totalCollateralSnapshot;
    }

    // --- Opening troves (the real BorrowerOperations' job, done here by the deployer) ---

    function _newTrove(address _owner, uint256 _ownerIndex, uint256 _coll, uint256 _rate)
        internal
        returns (uint256 troveId)
    {
        troveId = uint256(keccak256(abi.encode(msg.sender, _owner, _ownerIndex)));
        require(Troves[troveId].status == Status.nonExistent, "trove exists");
        Trove storage t = Troves[troveId];
        t.coll = _coll;
        t.status = Status.active;
        t.arrayIndex = uint64(TroveIds.length);
        t.lastDebtUpdateTime = uint64(block.timestamp);
        t.lastInterestRateAdjTime = uint64(block.timestamp);
        t.annualInterestRate = _rate;
        uint256 stake = _computeNewStake(_coll);
        t.stake = stake;
        totalStakes += stake;
        rewardSnapshots[troveId] = RewardSnapshot(L_coll, L_boldDebt);
        TroveIds.push(troveId);
        activeColl += _coll;
        IDevnetBoldTroveNFT(troveNFT).mint(_owner, troveId);
    }

    function openTrove(address _owner, uint256 _ownerIndex, uint256 _coll, uint256 _debt, uint256 _rate)
        external
        onlyDeployer
        returns (uint256 troveId)
    {
        troveId = _newTrove(_owner, _ownerIndex, _coll, _rate);
        Troves[troveId].debt = _debt;
    }

    function registerBatchManager(address _batch, uint256 _rate, uint256 _annualManagementFee) external onlyDeployer {
        Batch storage b = batches[_batch];
        b.arrayIndex = uint64(batchIds.length);
        b.lastDebtUpdateTime = uint64(block.timestamp);
        b.lastInterestRateAdjTime = uint64(block.timestamp);
        b.annualInterestRate = _rate;
        b.annualManagementFee = _annualManagementFee;
        batchIds.push(_batch);
    }

    /// The real _updateBatchShares for a debt increase: the batch first takes its accrued
    /// interest and fee into its recorded debt, then the newcomer gets shares pro rata.
    function openTroveInBatch(address _owner, uint256 _ownerIndex, uint256 _coll, uint256 _debt, address _batch)
        external
        onlyDeployer
        returns (uint256 troveId)
    {
        troveId = _newTrove(_owner, _ownerIndex, _coll, 0);
        LatestBatchData memory b;
        _getLatestBatchData(_batch, b);
        Batch storage batch = batches[_batch];
        uint256 shares = b.entireDebtWithoutRedistribution == 0
            ? _debt
            : batch.totalDebtShares * _debt / b.entireDebtWithoutRedistribution;
        Troves[troveId].interestBatchManager = _batch;
        Troves[troveId].batchDebtShares = shares;
        batch.debt = b.entireDebtWithoutRedistribution + _debt;
        batch.totalDebtShares += shares;
        batch.coll += _coll;
        batch.lastDebtUpdateTime = uint64(block.timestamp);
    }

    function shutdown() external {
        if (msg.sender != borrowerOperations) revert NotDeployer();
        shutdownTime = block.timestamp;
    }

    // --- Liquidation (the real condition) ---

    function batchLiquidateTroves(uint256[] memory _troveArray) public {
        if (_troveArray.length == 0) revert EmptyData();
        (uint256 price,) = IDevnetBoldPriceFeed(priceFeed).fetchPrice();
        // the real rule: 1 BOLD (or all of a smaller pool) stays in the pool
        uint256 totalBoldDeposits = stabilityPool.getTotalBoldDeposits();
        uint256 boldToLeaveInSP = totalBoldDeposits < MIN_BOLD_IN_SP ? totalBoldDeposits : MIN_BOLD_IN_SP;
        uint256 remainingBoldInSPForOffsets = totalBoldDeposits - boldToLeaveInSP;
        LiquidationValues memory totals;
        uint256 liquidated;
        for (uint256 i = 0; i < _troveArray.length; i++) {
            uint256 troveId = _troveArray[i];
            Status status = Troves[troveId].status;
            if (status != Status.active && status != Status.zombie) continue;
            if (getCurrentICR(troveId, price) < MCR) {
                LiquidationValues memory single = _liquidate(troveId, remainingBoldInSPForOffsets, price);
                remainingBoldInSPForOffsets -= single.debtToOffset;
                _addToTotals(totals, single);
                liquidated++;
            }
        }
        if (liquidated == 0) revert NothingToLiquidate();
        if (totals.debtToOffset > 0 || totals.collToSendToSP > 0) {
            stabilityPool.offset(totals.debtToOffset, totals.collToSendToSP);
        }
        if (totals.debtToRedistribute > 0) {
            _redistributeDebtAndColl(totals.debtToRedistribute, totals.collToRedistribute);
        }
        totalStakesSnapshot = totalStakes;
        totalCollateralSnapshot = activeColl + defaultColl;
        emit Liquidation(
            totals.debtToOffset,
            totals.debtToRedistribute,
            ETH_GAS_COMPENSATION * liquidated,
            totals.collGasCompensation,
            totals.collToSendToSP,
            totals.collToRedistribute,
            totals.collSurplus,
            L_coll,
            L_boldDebt,
            price
        );
    }

    function _addToTotals(LiquidationValues memory totals, LiquidationValues memory single) internal pure {
        totals.debtToOffset += single.debtToOffset;
        totals.collToSendToSP += single.collToSendToSP;
        totals.collGasCompensation += single.collGasCompensation;
        totals.debtToRedistribute += single.debtToRedistribute;
        totals.collToRedistribute += single.collToRedistribute;
        totals.collSurplus += single.collSurplus;
    }

    function _getCollGasCompensation(uint256 _coll) internal pure returns (uint256) {
        uint256 comp = _coll / COLL_GAS_COMPENSATION_DIVISOR;
        return comp < COLL_GAS_COMPENSATION_CAP ? comp : COLL_GAS_COMPENSATION_CAP;
    }

    function _getCollPenaltyAndSurplus(uint256 _collToLiquidate, uint256 _debtToLiquidate, uint256 _penaltyRatio, uint256 _price)
        internal
        pure
        returns (uint256 seizedColl, uint256 collSurplus)
    {
        uint256 maxSeizedColl = _debtToLiquidate * (DECIMAL_PRECISION + _penaltyRatio) / _price;
        if (_collToLiquidate > maxSeizedColl) return (maxSeizedColl, _collToLiquidate - maxSeizedColl);
        return (_collToLiquidate, 0);
    }

    /// The split of one trove between the pool and the other troves (the real rule).
    function _getOffsetAndRedistributionVals(uint256 _debt, uint256 _coll, uint256 _boldInSPForOffsets, uint256 _price)
        internal
        view
        returns (LiquidationValues memory v)
    {
        uint256 collSPPortion;
        if (_boldInSPForOffsets > 0) {
            v.debtToOffset = _debt < _boldInSPForOffsets ? _debt : _boldInSPForOffsets;
            collSPPortion = _coll * v.debtToOffset / _debt;
            v.collGasCompensation = _getCollGasCompensation(collSPPortion);
            (v.collToSendToSP, v.collSurplus) = _getCollPenaltyAndSurplus(
                collSPPortion - v.collGasCompensation, v.debtToOffset, LIQUIDATION_PENALTY_SP, _price
            );
        }
        v.debtToRedistribute = _debt - v.debtToOffset;
        if (v.debtToRedistribute > 0) {
            uint256 collRedistributionPortion = _coll - collSPPortion;
            if (collRedistributionPortion > 0) {
                (v.collToRedistribute, v.collSurplus) = _getCollPenaltyAndSurplus(
                    collRedistributionPortion + v.collSurplus,
                    v.debtToRedistribute,
                    LIQUIDATION_PENALTY_REDISTRIBUTION,
                    _price
                );
            }
        }
    }

    function _liquidate(uint256 _troveId, uint256 _boldInSPForOffsets, uint256 _price)
        internal
        returns (LiquidationValues memory single)
    {
        LatestTroveData memory trove;
        _getLatestTroveData(_troveId, trove);
        if (TroveIds.length <= 1) revert OnlyOneTroveLeft();
        defaultColl -= trove.redistCollGain;
        activeColl += trove.redistCollGain;
        single = _getOffsetAndRedistributionVals(trove.entireDebt, trove.entireColl, _boldInSPForOffsets, _price);
        // the pool's share, the gas compensation and the surplus leave the branch; the
        // redistributed collateral moves to the default pool in _redistributeDebtAndColl
        activeColl -= trove.entireColl;
        Trove memory t = Troves[_troveId];
        if (t.interestBatchManager != address(0)) {
            LatestBatchData memory b;
            _getLatestBatchData(t.interestBatchManager, b);
            Batch storage batch = batches[t.interestBatchManager];
            batch.totalDebtShares -= t.batchDebtShares;
            batch.debt = b.entireDebtWithoutRedistribution - (trove.entireDebt - trove.redistBoldDebtGain);
            batch.coll = b.entireCollWithoutRedistribution - (trove.entireColl - trove.redistCollGain);
            batch.lastDebtUpdateTime = uint64(block.timestamp);
        }
        uint256 idxLast = TroveIds.length - 1;
        uint256 idToMove = TroveIds[idxLast];
        TroveIds[t.arrayIndex] = idToMove;
        Troves[idToMove].arrayIndex = t.arrayIndex;
        TroveIds.pop();
        totalStakes -= t.stake;
        delete Troves[_troveId];
        Troves[_troveId].status = Status.closedByLiquidation;
        delete rewardSnapshots[_troveId];
        IDevnetBoldTroveNFT(troveNFT).burn(_troveId);
    }

    function _redistributeDebtAndColl(uint256 _debt, uint256 _coll) internal {
        uint256 collNumerator = _coll * DECIMAL_PRECISION + lastCollError_Redistribution;
        uint256 boldDebtNumerator = _debt * DECIMAL_PRECISION + lastBoldDebtError_Redistribution;
        uint256 collRewardPerUnitStaked = collNumerator / totalStakes;
        uint256 boldDebtRewardPerUnitStaked = boldDebtNumerator / totalStakes;
        lastCollError_Redistribution = collNumerator - collRewardPerUnitStaked * totalStakes;
        lastBoldDebtError_Redistribution = boldDebtNumerator - boldDebtRewardPerUnitStaked * totalStakes;
        L_coll += collRewardPerUnitStaked;
        L_boldDebt += boldDebtRewardPerUnitStaked;
        defaultColl += _coll;
    }
}
