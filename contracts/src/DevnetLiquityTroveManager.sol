// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetLiquityPriceFeed {
    function fetchPrice() external returns (uint256);
}

interface IDevnetLiquityPool {
    function getETH() external view returns (uint256);
    function getLUSDDebt() external view returns (uint256);
    function increaseLUSDDebt(uint256 _amount) external;
    function decreaseLUSDDebt(uint256 _amount) external;
    function sendETH(address _account, uint256 _amount) external;
    function sendETHToActivePool(uint256 _amount) external;
    function receiveETH() external payable;
}

interface IDevnetLiquityStabilityPool {
    function getTotalLUSDDeposits() external view returns (uint256);
    function offset(uint256 _debtToOffset, uint256 _collToAdd) external;
}

interface IDevnetLiquitySortedTroves {
    function insert(address _id, uint256 _NICR, address _prevId, address _nextId) external;
    function remove(address _id) external;
    function getSize() external view returns (uint256);
}

interface IDevnetLiquityToken {
    function mint(address _account, uint256 _amount) external;
    function transfer(address _to, uint256 _amount) external returns (bool);
}

/// @title DevnetLiquityTroveManager
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of Liquity v1's
/// TroveManager (and of BorrowerOperations.openTrove). No Liquity bytecode is published on a
/// package registry; this is not Liquity's code. It was written from reading liquity/dev
/// `packages/contracts/contracts/TroveManager.sol`, `BorrowerOperations.sol` and
/// `Dependencies/LiquityBase.sol` as deployed on mainnet in April 2021, and keeps the real
/// signatures of `liquidate`, `batchLiquidateTroves`, `getEntireDebtAndColl`, `getCurrentICR`,
/// `getNominalICR`, `getTCR`, `checkRecoveryMode`, `getEntireSystemColl/Debt`, `Troves`,
/// `rewardSnapshots`, `L_ETH`, `L_LUSDDebt`, `totalStakes`, `getTroveOwnersCount`,
/// `getTroveFromTroveOwnersArray`, the contract getters and `MCR`/`CCR`.
///
/// The liquidation rule is the real one: the price from `priceFeed.fetchPrice()`, the Stability
/// Pool's `getTotalLUSDDeposits()` to offset against, recovery mode when TCR (ActivePool +
/// DefaultPool, i.e. pending rewards included) < CCR 150%; in normal mode ICR < MCR 110%
/// liquidates (offset what the pool covers, redistribute the rest); in recovery mode ICR <= 100%
/// redistributes, 100% < ICR < MCR offsets and redistributes, MCR <= ICR < TCR offsets at a
/// collateral cap of 1.1 x debt when the pool covers the whole debt (the rest is surplus), and
/// anything else is left alone; the last trove is never liquidated; "TroveManager: nothing to
/// liquidate" when nothing was. Gas compensation: 0.5% of the collateral and the 200 LUSD reserve
/// go to the liquidator. Redistribution keeps L_ETH / L_LUSDDebt with the real error feedback and
/// stakes from the real totalStakes / totalCollateral snapshots.
///
/// SIMPLIFIED: `openTrove` lives here (no separate BorrowerOperations), charges the 0.5% fee
/// floor (no base rate), mints the fee and the gas reserve to this contract, and only checks
/// MIN_NET_DEBT and ICR >= MCR; no adjust/close/redemptions; the collateral surplus of a capped
/// liquidation is recorded per borrower and held here (no CollSurplusPool); no LQTY.
contract DevnetLiquityTroveManager {
    uint256 public constant DECIMAL_PRECISION = 1e18;
    uint256 public constant _100pct = 1e18;
    uint256 public constant MCR = 1100000000000000000;
    uint256 public constant CCR = 1500000000000000000;
    uint256 public constant LUSD_GAS_COMPENSATION = 200e18;
    uint256 public constant MIN_NET_DEBT = 1800e18;
    uint256 public constant PERCENT_DIVISOR = 200;
    uint256 public constant BORROWING_FEE_FLOOR = DECIMAL_PRECISION / 1000 * 5;
    uint256 internal constant NICR_PRECISION = 1e20;

    enum Status { nonExistent, active, closedByOwner, closedByLiquidation, closedByRedemption }

    struct Trove {
        uint256 debt;
        uint256 coll;
        uint256 stake;
        Status status;
        uint128 arrayIndex;
    }

    struct RewardSnapshot {
        uint256 ETH;
        uint256 LUSDDebt;
    }

    struct LiquidationValues {
        uint256 entireTroveDebt;
        uint256 entireTroveColl;
        uint256 collGasCompensation;
        uint256 LUSDGasCompensation;
        uint256 debtToOffset;
        uint256 collToSendToSP;
        uint256 debtToRedistribute;
        uint256 collToRedistribute;
        uint256 collSurplus;
    }

    address public owner;
    IDevnetLiquityPriceFeed public priceFeed;
    IDevnetLiquityPool public activePool;
    IDevnetLiquityPool public defaultPool;
    IDevnetLiquityStabilityPool public stabilityPool;
    IDevnetLiquitySortedTroves public sortedTroves;
    IDevnetLiquityToken public lusdToken;

    mapping(address => Trove) public Troves;
    uint256 public totalStakes;
    uint256 public totalStakesSnapshot;
    uint256 public totalCollateralSnapshot;
    uint256 public L_ETH;
    uint256 public L_LUSDDebt;
    mapping(address => RewardSnapshot) public rewardSnapshots;
    address[] public TroveOwners;
    uint256 public lastETHError_Redistribution;
    uint256 public lastLUSDDebtError_Redistribution;
    mapping(address => uint256) public collSurplus;

    event TroveLiquidated(address indexed _borrower, uint256 _debt, uint256 _coll, uint8 _operation);
    event TroveUpdated(address indexed _borrower, uint256 _debt, uint256 _coll, uint256 _stake, uint8 _operation);
    event Liquidation(uint256 _liquidatedDebt, uint256 _liquidatedColl, uint256 _collGasCompensation, uint256 _LUSDGasCompensation);

    constructor() {
        owner = msg.sender;
    }

    function setAddresses(address _priceFeed, address _activePool, address _defaultPool,
                          address _stabilityPool, address _sortedTroves, address _lusdToken)
        external
    {
        require(msg.sender == owner && address(priceFeed) == address(0), "TroveManager: set once");
        priceFeed = IDevnetLiquityPriceFeed(_priceFeed);
        activePool = IDevnetLiquityPool(_activePool);
        defaultPool = IDevnetLiquityPool(_defaultPool);
        stabilityPool = IDevnetLiquityStabilityPool(_stabilityPool);
        sortedTroves = IDevnetLiquitySortedTroves(_sortedTroves);
        lusdToken = IDevnetLiquityToken(_lusdToken);
    }

    receive() external payable {}

    // --- views ---

    function getTroveOwnersCount() external view returns (uint256) {
        return TroveOwners.length;
    }

    function getTroveFromTroveOwnersArray(uint256 _index) external view returns (address) {
        return TroveOwners[_index];
    }

    function getEntireSystemColl() public view returns (uint256 entireSystemColl) {
        return activePool.getETH() + defaultPool.getETH();
    }

    function getEntireSystemDebt() public view returns (uint256 entireSystemDebt) {
        return activePool.getLUSDDebt() + defaultPool.getLUSDDebt();
    }

    function getTCR(uint256 _price) external view returns (uint256) {
        return _computeCR(getEntireSystemColl(), getEntireSystemDebt(), _price);
    }

    function checkRecoveryMode(uint256 _price) external view returns (bool) {
        return _checkRecoveryMode(_price);
    }

    function getPendingETHReward(address _borrower) public view returns (uint256) {
        uint256 rewardPerUnitStaked = L_ETH - rewardSnapshots[_borrower].ETH;
        if (rewardPerUnitStaked == 0 || Troves[_borrower].status != Status.active) { return 0; }
        return Troves[_borrower].stake * rewardPerUnitStaked / DECIMAL_PRECISION;
    }

    function getPendingLUSDDebtReward(address _borrower) public view returns (uint256) {
        uint256 rewardPerUnitStaked = L_LUSDDebt - rewardSnapshots[_borrower].LUSDDebt;
        if (rewardPerUnitStaked == 0 || Troves[_borrower].status != Status.active) { return 0; }
        return Troves[_borrower].stake * rewardPerUnitStaked / DECIMAL_PRECISION;
    }

    function getEntireDebtAndColl(address _borrower)
        public view
        returns (uint256 debt, uint256 coll, uint256 pendingLUSDDebtReward, uint256 pendingETHReward)
    {
        pendingLUSDDebtReward = getPendingLUSDDebtReward(_borrower);
        pendingETHReward = getPendingETHReward(_borrower);
        debt = Troves[_borrower].debt + pendingLUSDDebtReward;
        coll = Troves[_borrower].coll + pendingETHReward;
    }

    function getNominalICR(address _borrower) public view returns (uint256) {
        (uint256 debt, uint256 coll, , ) = getEntireDebtAndColl(_borrower);
        return debt > 0 ? coll * NICR_PRECISION / debt : type(uint256).max;
    }

    function getCurrentICR(address _borrower, uint256 _price) public view returns (uint256) {
        (uint256 debt, uint256 coll, , ) = getEntireDebtAndColl(_borrower);
        return _computeCR(coll, debt, _price);
    }

    // --- opening (BorrowerOperations.openTrove, simplified) ---

    function openTrove(uint256 _maxFeePercentage, uint256 _LUSDAmount, address _upperHint,
                       address _lowerHint) external payable
    {
        require(Troves[msg.sender].status != Status.active, "BorrowerOps: Trove is active");
        uint256 price = priceFeed.fetchPrice();
        uint256 fee = _LUSDAmount * BORROWING_FEE_FLOOR / DECIMAL_PRECISION;
        require(fee * DECIMAL_PRECISION <= _maxFeePercentage * _LUSDAmount, "Fee exceeded provided maximum");
        uint256 netDebt = _LUSDAmount + fee;
        require(netDebt >= MIN_NET_DEBT, "BorrowerOps: Trove's net debt must be greater than minimum");
        uint256 compositeDebt = netDebt + LUSD_GAS_COMPENSATION;
        require(_computeCR(msg.value, compositeDebt, price) >= MCR,
                "BorrowerOps: An operation that would result in ICR < MCR is not permitted");
        Troves[msg.sender].status = Status.active;
        Troves[msg.sender].coll = msg.value;
        Troves[msg.sender].debt = compositeDebt;
        rewardSnapshots[msg.sender] = RewardSnapshot(L_ETH, L_LUSDDebt);
        _updateStakeAndTotalStakes(msg.sender);
        sortedTroves.insert(msg.sender, msg.value * NICR_PRECISION / compositeDebt, _upperHint, _lowerHint);
        TroveOwners.push(msg.sender);
        Troves[msg.sender].arrayIndex = uint128(TroveOwners.length - 1);
        activePool.receiveETH{value: msg.value}();
        activePool.increaseLUSDDebt(compositeDebt);
        lusdToken.mint(msg.sender, _LUSDAmount);
        lusdToken.mint(address(this), fee + LUSD_GAS_COMPENSATION);
        emit TroveUpdated(msg.sender, compositeDebt, msg.value, Troves[msg.sender].stake, 0);
    }

    // --- liquidation ---

    function liquidate(address _borrower) external {
        require(Troves[_borrower].status == Status.active, "TroveManager: Trove does not exist or is closed");
        address[] memory borrowers = new address[](1);
        borrowers[0] = _borrower;
        batchLiquidateTroves(borrowers);
    }

    function batchLiquidateTroves(address[] memory _troveArray) public {
        require(_troveArray.length != 0, "TroveManager: Calldata address array must not be empty");
        uint256 price = priceFeed.fetchPrice();
        uint256 lusdInStabPool = stabilityPool.getTotalLUSDDeposits();
        LiquidationValues memory totals = _checkRecoveryMode(price)
            ? _totalsRecoveryMode(price, lusdInStabPool, _troveArray)
            : _totalsNormalMode(price, lusdInStabPool, _troveArray);
        require(totals.entireTroveDebt > 0, "TroveManager: nothing to liquidate");
        stabilityPool.offset(totals.debtToOffset, totals.collToSendToSP);
        _redistributeDebtAndColl(totals.debtToRedistribute, totals.collToRedistribute);
        if (totals.collSurplus > 0) {
            activePool.sendETH(address(this), totals.collSurplus);
        }
        totalStakesSnapshot = totalStakes;
        totalCollateralSnapshot = activePool.getETH() - totals.collGasCompensation + defaultPool.getETH();
        emit Liquidation(totals.entireTroveDebt,
                         totals.entireTroveColl - totals.collGasCompensation - totals.collSurplus,
                         totals.collGasCompensation, totals.LUSDGasCompensation);
        if (totals.LUSDGasCompensation > 0) {
            lusdToken.transfer(msg.sender, totals.LUSDGasCompensation);
        }
        if (totals.collGasCompensation > 0) {
            activePool.sendETH(msg.sender, totals.collGasCompensation);
        }
    }

    struct Sequence {
        uint256 remaining;
        bool backToNormalMode;
        uint256 systemDebt;
        uint256 systemColl;
        uint256 ICR;
    }

    function _totalsRecoveryMode(uint256 _price, uint256 _lusdInStabPool, address[] memory _troveArray)
        internal returns (LiquidationValues memory totals)
    {
        Sequence memory v = Sequence(_lusdInStabPool, false, getEntireSystemDebt(), getEntireSystemColl(), 0);
        for (uint256 i = 0; i < _troveArray.length; i++) {
            address user = _troveArray[i];
            if (Troves[user].status != Status.active) { continue; }
            v.ICR = getCurrentICR(user, _price);
            LiquidationValues memory single;
            if (!v.backToNormalMode) {
                if (v.ICR >= MCR && v.remaining == 0) { continue; }
                uint256 TCR = _computeCR(v.systemColl, v.systemDebt, _price);
                single = _liquidateRecoveryMode(user, v.ICR, v.remaining, TCR, _price);
                v.remaining -= single.debtToOffset;
                v.systemDebt -= single.debtToOffset;
                v.systemColl = v.systemColl - single.collToSendToSP - single.collGasCompensation - single.collSurplus;
                v.backToNormalMode = _computeCR(v.systemColl, v.systemDebt, _price) >= CCR;
            } else if (v.ICR < MCR) {
                single = _liquidateNormalMode(user, v.remaining);
                v.remaining -= single.debtToOffset;
            } else {
                continue;
            }
            totals = _add(totals, single);
        }
    }

    function _totalsNormalMode(uint256 _price, uint256 _lusdInStabPool, address[] memory _troveArray)
        internal returns (LiquidationValues memory totals)
    {
        uint256 remaining = _lusdInStabPool;
        for (uint256 i = 0; i < _troveArray.length; i++) {
            address user = _troveArray[i];
            if (getCurrentICR(user, _price) < MCR) {
                LiquidationValues memory single = _liquidateNormalMode(user, remaining);
                remaining -= single.debtToOffset;
                totals = _add(totals, single);
            }
        }
    }

    function _liquidateNormalMode(address _borrower, uint256 _lusdInStabPool)
        internal returns (LiquidationValues memory single)
    {
        uint256 pendingDebt;
        uint256 pendingColl;
        (single.entireTroveDebt, single.entireTroveColl, pendingDebt, pendingColl) = getEntireDebtAndColl(_borrower);
        _movePendingTroveRewardsToActivePool(pendingDebt, pendingColl);
        _removeStake(_borrower);
        single.collGasCompensation = single.entireTroveColl / PERCENT_DIVISOR;
        single.LUSDGasCompensation = LUSD_GAS_COMPENSATION;
        _setOffsetAndRedistribution(single, single.entireTroveColl - single.collGasCompensation, _lusdInStabPool);
        _closeTrove(_borrower);
        emit TroveLiquidated(_borrower, single.entireTroveDebt, single.entireTroveColl, 1);
    }

    function _liquidateRecoveryMode(address _borrower, uint256 _ICR, uint256 _lusdInStabPool,
                                    uint256 _TCR, uint256 _price)
        internal returns (LiquidationValues memory single)
    {
        if (TroveOwners.length <= 1) { return single; } // don't liquidate if last trove
        uint256 pendingDebt;
        uint256 pendingColl;
        (single.entireTroveDebt, single.entireTroveColl, pendingDebt, pendingColl) = getEntireDebtAndColl(_borrower);
        single.collGasCompensation = single.entireTroveColl / PERCENT_DIVISOR;
        single.LUSDGasCompensation = LUSD_GAS_COMPENSATION;
        uint256 collToLiquidate = single.entireTroveColl - single.collGasCompensation;
        if (_ICR <= _100pct) {
            _movePendingTroveRewardsToActivePool(pendingDebt, pendingColl);
            _removeStake(_borrower);
            single.debtToRedistribute = single.entireTroveDebt;
            single.collToRedistribute = collToLiquidate;
        } else if (_ICR < MCR) {
            _movePendingTroveRewardsToActivePool(pendingDebt, pendingColl);
            _removeStake(_borrower);
            _setOffsetAndRedistribution(single, collToLiquidate, _lusdInStabPool);
        } else if (_ICR < _TCR && single.entireTroveDebt <= _lusdInStabPool) {
            _movePendingTroveRewardsToActivePool(pendingDebt, pendingColl);
            _removeStake(_borrower);
            uint256 cappedCollPortion = single.entireTroveDebt * MCR / _price;
            single.collGasCompensation = cappedCollPortion / PERCENT_DIVISOR;
            single.debtToOffset = single.entireTroveDebt;
            single.collToSendToSP = cappedCollPortion - single.collGasCompensation;
            single.collSurplus = single.entireTroveColl - cappedCollPortion;
            collSurplus[_borrower] += single.collSurplus;
        } else {
            LiquidationValues memory zeroVals;
            return zeroVals;
        }
        _closeTrove(_borrower);
        emit TroveLiquidated(_borrower, single.entireTroveDebt, single.entireTroveColl, 2);
    }

    function _setOffsetAndRedistribution(LiquidationValues memory single, uint256 _coll,
                                         uint256 _lusdInStabPool) internal pure
    {
        if (_lusdInStabPool > 0) {
            single.debtToOffset = single.entireTroveDebt < _lusdInStabPool ? single.entireTroveDebt : _lusdInStabPool;
            single.collToSendToSP = _coll * single.debtToOffset / single.entireTroveDebt;
            single.debtToRedistribute = single.entireTroveDebt - single.debtToOffset;
            single.collToRedistribute = _coll - single.collToSendToSP;
        } else {
            single.debtToRedistribute = single.entireTroveDebt;
            single.collToRedistribute = _coll;
        }
    }

    function _add(LiquidationValues memory a, LiquidationValues memory b)
        internal pure returns (LiquidationValues memory s)
    {
        s.entireTroveDebt = a.entireTroveDebt + b.entireTroveDebt;
        s.entireTroveColl = a.entireTroveColl + b.entireTroveColl;
        s.collGasCompensation = a.collGasCompensation + b.collGasCompensation;
        s.LUSDGasCompensation = a.LUSDGasCompensation + b.LUSDGasCompensation;
        s.debtToOffset = a.debtToOffset + b.debtToOffset;
        s.collToSendToSP = a.collToSendToSP + b.collToSendToSP;
        s.debtToRedistribute = a.debtToRedistribute + b.debtToRedistribute;
        s.collToRedistribute = a.collToRedistribute + b.collToRedistribute;
        s.collSurplus = a.collSurplus + b.collSurplus;
    }

    function _movePendingTroveRewardsToActivePool(uint256 _LUSD, uint256 _ETH) internal {
        defaultPool.decreaseLUSDDebt(_LUSD);
        activePool.increaseLUSDDebt(_LUSD);
        defaultPool.sendETHToActivePool(_ETH);
    }

    function _redistributeDebtAndColl(uint256 _debt, uint256 _coll) internal {
        if (_debt == 0) { return; }
        uint256 ETHNumerator = _coll * DECIMAL_PRECISION + lastETHError_Redistribution;
        uint256 LUSDDebtNumerator = _debt * DECIMAL_PRECISION + lastLUSDDebtError_Redistribution;
        uint256 ETHRewardPerUnitStaked = ETHNumerator / totalStakes;
        uint256 LUSDDebtRewardPerUnitStaked = LUSDDebtNumerator / totalStakes;
        lastETHError_Redistribution = ETHNumerator - ETHRewardPerUnitStaked * totalStakes;
        lastLUSDDebtError_Redistribution = LUSDDebtNumerator - LUSDDebtRewardPerUnitStaked * totalStakes;
        L_ETH += ETHRewardPerUnitStaked;
        L_LUSDDebt += LUSDDebtRewardPerUnitStaked;
        activePool.decreaseLUSDDebt(_debt);
        defaultPool.increaseLUSDDebt(_debt);
        activePool.sendETH(address(defaultPool), _coll);
    }

    function _removeStake(address _borrower) internal {
        totalStakes -= Troves[_borrower].stake;
        Troves[_borrower].stake = 0;
    }

    function _updateStakeAndTotalStakes(address _borrower) internal {
        uint256 coll = Troves[_borrower].coll;
        uint256 newStake = totalCollateralSnapshot == 0
            ? coll : coll * totalStakesSnapshot / totalCollateralSnapshot;
        totalStakes = totalStakes - Troves[_borrower].stake + newStake;
        Troves[_borrower].stake = newStake;
    }

    function _closeTrove(address _borrower) internal {
        uint256 length = TroveOwners.length;
        require(length > 1 && sortedTroves.getSize() > 1, "TroveManager: Only one trove in the system");
        Troves[_borrower].status = Status.closedByLiquidation;
        Troves[_borrower].coll = 0;
        Troves[_borrower].debt = 0;
        delete rewardSnapshots[_borrower];
        uint128 index = Troves[_borrower].arrayIndex;
        address moved = TroveOwners[length - 1];
        TroveOwners[index] = moved;
        Troves[moved].arrayIndex = index;
        TroveOwners.pop();
        sortedTroves.remove(_borrower);
        emit TroveUpdated(_borrower, 0, 0, 0, 1);
    }

    function _checkRecoveryMode(uint256 _price) internal view returns (bool) {
        return _computeCR(getEntireSystemColl(), getEntireSystemDebt(), _price) < CCR;
    }

    function _computeCR(uint256 _coll, uint256 _debt, uint256 _price) internal pure returns (uint256) {
        return _debt > 0 ? _coll * _price / _debt : type(uint256).max;
    }
}
