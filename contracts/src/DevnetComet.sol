// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// @notice What DevnetComet needs from an ERC-20 (the devnet's mock tokens are standard).
interface IDevnetCometToken {
    function decimals() external view returns (uint8);
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @notice Chainlink AggregatorV3-style feed, as Comet reads it (8 decimals).
interface IDevnetCometPriceFeed {
    function decimals() external view returns (uint8);
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}

/// @title DevnetComet
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the Compound III
/// (Comet) rules that liquidation scanning depends on. No Comet bytecode is published on a package
/// registry, so this contract stands in for it. It is not Compound's code; it was written from
/// reading compound-finance/comet (Comet.sol, CometCore.sol, CometMath.sol, CometStorage.sol,
/// CometMainInterface.sol, CometExt.sol) and keeps every external signature it implements
/// identical to the real Comet (+ CometExt) ABI, so the same adapter reads both.
///
/// Rules implemented as the real Comet does them (same integer arithmetic and rounding):
/// - base balances as a signed int104 principal; present value = principal * index / 1e15,
///   rounded down for supply and borrow alike; principal from present value rounded down for
///   supply, up for borrow (BASE_INDEX_SCALE 1e15, FACTOR_SCALE 1e18);
/// - accrual: one linear step per accrual, index += index * rate * elapsed / 1e18, with the
///   per-second kink rate model (per-year rates / 31,536,000, truncated) at the utilization of
///   the stored indices; `isLiquidatable`/`isBorrowCollateralized` use the STORED indices,
///   `borrowBalanceOf`/`balanceOf` accrue in memory, every state change accrues first;
/// - collateral factors, liquidation factor and supply cap packed as the real one packs them
///   (factors kept to 4 decimals, the cap to whole tokens), so `getAssetInfo` returns the same;
/// - liquidity = signedMulPrice(presentValue(principal), basePrice, baseScale)
///   + sum mulFactor(mulPrice(balance, price, scale), collateralFactor), Solidity signed division;
/// - absorb: accrue once, then per account revert NotLiquidatable unless liquidatable, seize all
///   collateral, credit mulFactor(value, liquidationFactor) converted at the base price, floor the
///   new balance at 0, move the principal through repay/supply amounts, same events;
/// - borrowing through `transfer`/`transferAsset` of the base token emits no Withdraw (only the
///   Transfer events the real one emits), exactly like the real contract;
/// - baseBorrowMin, supply caps, `NotCollateralized` checks against borrowCollateralFactor.
///
/// Left out (not needed by liqscan; their absence changes no rule above): the proxy and the
/// CometExt delegate (the ext getters we need live here), reward tracking (tracking indices and
/// user tracking fields stay 0), pause flags, the reentrancy guard, permissions/allowances and
/// the *From variants, withdrawReserves, liquidator points, governance.
///
/// The store front, as the real one: `getReserves` = base balance - supply + borrow at indices
/// accrued in memory; `getCollateralReserves` = the asset balance not owed to suppliers;
/// `quoteCollateral` prices the asset at price x (1 - storeFrontPriceFactor x (1 -
/// liquidationFactor)); `buyCollateral` reverts NotForSale while reserves >= targetReserves,
/// TooMuchSlippage below minAmount, InsufficientReserves beyond the collateral reserves.
/// Storage is initialized in the constructor (the real one calls initializeStorage via its proxy).
contract DevnetComet {
    struct AssetInfo {
        uint8 offset;
        address asset;
        address priceFeed;
        uint64 scale;
        uint64 borrowCollateralFactor;
        uint64 liquidateCollateralFactor;
        uint64 liquidationFactor;
        uint128 supplyCap;
    }

    struct AssetConfig {
        address asset;
        address priceFeed;
        uint8 decimals;
        uint64 borrowCollateralFactor;
        uint64 liquidateCollateralFactor;
        uint64 liquidationFactor;
        uint128 supplyCap;
    }

    /// @dev The real Comet constructor's configuration; tracking, pause guardian, extension
    /// delegate fields are accepted and ignored as noted above.
    struct Configuration {
        address governor;
        address pauseGuardian;
        address baseToken;
        address baseTokenPriceFeed;
        address extensionDelegate;
        uint64 supplyKink;
        uint64 supplyPerYearInterestRateSlopeLow;
        uint64 supplyPerYearInterestRateSlopeHigh;
        uint64 supplyPerYearInterestRateBase;
        uint64 borrowKink;
        uint64 borrowPerYearInterestRateSlopeLow;
        uint64 borrowPerYearInterestRateSlopeHigh;
        uint64 borrowPerYearInterestRateBase;
        uint64 storeFrontPriceFactor;
        uint64 trackingIndexScale;
        uint64 baseTrackingSupplySpeed;
        uint64 baseTrackingBorrowSpeed;
        uint104 baseMinForRewards;
        uint104 baseBorrowMin;
        uint104 targetReserves;
        AssetConfig[] assetConfigs;
    }

    struct TotalsBasic {
        uint64 baseSupplyIndex;
        uint64 baseBorrowIndex;
        uint64 trackingSupplyIndex;
        uint64 trackingBorrowIndex;
        uint104 totalSupplyBase;
        uint104 totalBorrowBase;
        uint40 lastAccrualTime;
        uint8 pauseFlags;
    }

    struct TotalsCollateral {
        uint128 totalSupplyAsset;
        uint128 _reserved;
    }

    struct UserBasic {
        int104 principal;
        uint64 baseTrackingIndex;
        uint64 baseTrackingAccrued;
        uint16 assetsIn;
        uint8 _reserved;
    }

    struct UserCollateral {
        uint128 balance;
        uint128 _reserved;
    }

    error BadAsset();
    error BadDiscount();
    error BadDecimals();
    error BadPrice();
    error BorrowTooSmall();
    error BorrowCFTooLarge();
    error LiquidateCFTooLarge();
    error NoSelfTransfer();
    error InsufficientReserves();
    error NotCollateralized();
    error NotForSale();
    error NotLiquidatable();
    error SupplyCapExceeded();
    error TimestampTooLarge();
    error TooManyAssets();
    error TooMuchSlippage();
    error TransferInFailed();
    error TransferOutFailed();
    error InvalidUInt64();
    error InvalidUInt104();
    error InvalidUInt128();
    error InvalidInt104();
    error InvalidInt256();
    error NegativeNumber();

    event Supply(address indexed from, address indexed dst, uint amount);
    event Transfer(address indexed from, address indexed to, uint amount);
    event Withdraw(address indexed src, address indexed to, uint amount);
    event SupplyCollateral(address indexed from, address indexed dst, address indexed asset, uint amount);
    event TransferCollateral(address indexed from, address indexed to, address indexed asset, uint amount);
    event WithdrawCollateral(address indexed src, address indexed to, address indexed asset, uint amount);
    event AbsorbDebt(address indexed absorber, address indexed borrower, uint basePaidOut, uint usdValue);
    event BuyCollateral(address indexed buyer, address indexed asset, uint baseAmount, uint collateralAmount);
    event AbsorbCollateral(
        address indexed absorber, address indexed borrower, address indexed asset, uint collateralAbsorbed, uint usdValue
    );

    uint8 internal constant MAX_ASSETS = 12; // the real Comet.sol has 12 packed asset slots
    uint8 internal constant MAX_BASE_DECIMALS = 18;
    uint8 internal constant PRICE_FEED_DECIMALS = 8;
    uint64 internal constant SECONDS_PER_YEAR = 31_536_000;
    uint64 internal constant BASE_ACCRUAL_SCALE = 1e6;
    uint64 internal constant BASE_INDEX_SCALE = 1e15;
    uint64 internal constant PRICE_SCALE = 1e8;
    uint64 internal constant FACTOR_SCALE = 1e18;
    uint64 internal constant FACTOR_DESCALE = FACTOR_SCALE / 1e4; // factors keep 4 decimals

    address public immutable governor;
    address public immutable baseToken;
    address public immutable baseTokenPriceFeed;
    uint public immutable supplyKink;
    uint public immutable supplyPerSecondInterestRateSlopeLow;
    uint public immutable supplyPerSecondInterestRateSlopeHigh;
    uint public immutable supplyPerSecondInterestRateBase;
    uint public immutable borrowKink;
    uint public immutable borrowPerSecondInterestRateSlopeLow;
    uint public immutable borrowPerSecondInterestRateSlopeHigh;
    uint public immutable borrowPerSecondInterestRateBase;
    uint public immutable baseScale;
    uint public immutable baseBorrowMin;
    uint public immutable storeFrontPriceFactor;
    uint public immutable targetReserves;
    uint8 public immutable decimals;
    uint8 public immutable numAssets;

    uint64 internal baseSupplyIndex;
    uint64 internal baseBorrowIndex;
    uint104 internal totalSupplyBase;
    uint104 internal totalBorrowBase;
    uint40 internal lastAccrualTime;

    // (asset | bcf << 160 | lcf << 176 | lf << 192, feed | decimals << 160 | cap << 168), as packed
    // by the real Comet; here in storage instead of immutables.
    uint256[2][] internal packedAssets;

    mapping(address => TotalsCollateral) public totalsCollateral;
    mapping(address => UserBasic) public userBasic;
    mapping(address => mapping(address => UserCollateral)) public userCollateral;

    constructor(Configuration memory config) {
        uint8 decimals_ = IDevnetCometToken(config.baseToken).decimals();
        if (decimals_ > MAX_BASE_DECIMALS) revert BadDecimals();
        if (config.assetConfigs.length > MAX_ASSETS) revert TooManyAssets();
        if (IDevnetCometPriceFeed(config.baseTokenPriceFeed).decimals() != PRICE_FEED_DECIMALS) revert BadDecimals();
        governor = config.governor;
        baseToken = config.baseToken;
        baseTokenPriceFeed = config.baseTokenPriceFeed;
        decimals = decimals_;
        baseScale = 10 ** decimals_;
        if (baseScale < BASE_ACCRUAL_SCALE) revert BadDecimals();
        baseBorrowMin = config.baseBorrowMin;
        if (config.storeFrontPriceFactor > FACTOR_SCALE) revert BadDiscount();
        storeFrontPriceFactor = config.storeFrontPriceFactor;
        targetReserves = config.targetReserves;
        supplyKink = config.supplyKink;
        supplyPerSecondInterestRateSlopeLow = config.supplyPerYearInterestRateSlopeLow / SECONDS_PER_YEAR;
        supplyPerSecondInterestRateSlopeHigh = config.supplyPerYearInterestRateSlopeHigh / SECONDS_PER_YEAR;
        supplyPerSecondInterestRateBase = config.supplyPerYearInterestRateBase / SECONDS_PER_YEAR;
        borrowKink = config.borrowKink;
        borrowPerSecondInterestRateSlopeLow = config.borrowPerYearInterestRateSlopeLow / SECONDS_PER_YEAR;
        borrowPerSecondInterestRateSlopeHigh = config.borrowPerYearInterestRateSlopeHigh / SECONDS_PER_YEAR;
        borrowPerSecondInterestRateBase = config.borrowPerYearInterestRateBase / SECONDS_PER_YEAR;
        numAssets = uint8(config.assetConfigs.length);
        for (uint i = 0; i < config.assetConfigs.length; i++) {
            packedAssets.push(packAsset(config.assetConfigs[i]));
        }
        lastAccrualTime = getNowInternal();
        baseSupplyIndex = BASE_INDEX_SCALE;
        baseBorrowIndex = BASE_INDEX_SCALE;
    }

    // --- configuration -------------------------------------------------------------------

    function packAsset(AssetConfig memory c) internal view returns (uint256[2] memory) {
        if (IDevnetCometPriceFeed(c.priceFeed).decimals() != PRICE_FEED_DECIMALS) revert BadDecimals();
        if (IDevnetCometToken(c.asset).decimals() != c.decimals) revert BadDecimals();
        if (c.borrowCollateralFactor >= c.liquidateCollateralFactor) revert BorrowCFTooLarge();
        if (c.liquidateCollateralFactor > FACTOR_SCALE) revert LiquidateCFTooLarge();
        uint256 bcf = c.borrowCollateralFactor / FACTOR_DESCALE;
        uint256 lcf = c.liquidateCollateralFactor / FACTOR_DESCALE;
        uint256 lf = c.liquidationFactor / FACTOR_DESCALE;
        if (bcf >= lcf) revert BorrowCFTooLarge();
        uint256 capWholeTokens = uint64(c.supplyCap / (10 ** c.decimals));
        return [
            uint256(uint160(c.asset)) | (bcf << 160) | (lcf << 176) | (lf << 192),
            uint256(uint160(c.priceFeed)) | (uint256(c.decimals) << 160) | (capWholeTokens << 168)
        ];
    }

    function getAssetInfo(uint8 i) public view returns (AssetInfo memory) {
        if (i >= numAssets) revert BadAsset();
        uint256 wordA = packedAssets[i][0];
        uint256 wordB = packedAssets[i][1];
        uint64 scale = uint64(10 ** uint8(wordB >> 160));
        return AssetInfo({
            offset: i,
            asset: address(uint160(wordA)),
            priceFeed: address(uint160(wordB)),
            scale: scale,
            borrowCollateralFactor: uint64(((wordA >> 160) & type(uint16).max) * FACTOR_DESCALE),
            liquidateCollateralFactor: uint64(((wordA >> 176) & type(uint16).max) * FACTOR_DESCALE),
            liquidationFactor: uint64(((wordA >> 192) & type(uint16).max) * FACTOR_DESCALE),
            supplyCap: uint128(((wordB >> 168) & type(uint64).max) * scale)
        });
    }

    function getAssetInfoByAddress(address asset) public view returns (AssetInfo memory) {
        for (uint8 i = 0; i < numAssets; i++) {
            AssetInfo memory info = getAssetInfo(i);
            if (info.asset == asset) return info;
        }
        revert BadAsset();
    }

    function getPrice(address priceFeed) public view returns (uint256) {
        (, int price,,,) = IDevnetCometPriceFeed(priceFeed).latestRoundData();
        if (price <= 0) revert BadPrice();
        return uint256(price);
    }

    // --- the CometExt getters liqscan reads ----------------------------------------------

    function totalsBasic() public view returns (TotalsBasic memory) {
        return TotalsBasic({
            baseSupplyIndex: baseSupplyIndex,
            baseBorrowIndex: baseBorrowIndex,
            trackingSupplyIndex: 0,
            trackingBorrowIndex: 0,
            totalSupplyBase: totalSupplyBase,
            totalBorrowBase: totalBorrowBase,
            lastAccrualTime: lastAccrualTime,
            pauseFlags: 0
        });
    }

    function collateralBalanceOf(address account, address asset) external view returns (uint128) {
        return userCollateral[account][asset].balance;
    }

    function baseIndexScale() external pure returns (uint64) { return BASE_INDEX_SCALE; }
    function factorScale() external pure returns (uint64) { return FACTOR_SCALE; }
    function priceScale() external pure returns (uint64) { return PRICE_SCALE; }

    // --- interest ------------------------------------------------------------------------

    function getNowInternal() internal view returns (uint40) {
        if (block.timestamp >= 2 ** 40) revert TimestampTooLarge();
        return uint40(block.timestamp);
    }

    function accruedInterestIndices(uint timeElapsed) internal view returns (uint64, uint64) {
        uint64 supplyIndex = baseSupplyIndex;
        uint64 borrowIndex = baseBorrowIndex;
        if (timeElapsed > 0) {
            uint utilization = getUtilization();
            uint supplyRate = getSupplyRate(utilization);
            uint borrowRate = getBorrowRate(utilization);
            supplyIndex += safe64(mulFactor(supplyIndex, supplyRate * timeElapsed));
            borrowIndex += safe64(mulFactor(borrowIndex, borrowRate * timeElapsed));
        }
        return (supplyIndex, borrowIndex);
    }

    function accrueInternal() internal {
        uint40 now_ = getNowInternal();
        uint timeElapsed = uint256(now_ - lastAccrualTime);
        if (timeElapsed > 0) {
            (baseSupplyIndex, baseBorrowIndex) = accruedInterestIndices(timeElapsed);
            lastAccrualTime = now_;
        }
    }

    function accrueAccount(address account) external {
        // The real one also settles the account's reward tracking; its principal is unchanged.
        accrueInternal();
    }

    function getSupplyRate(uint utilization) public view returns (uint64) {
        if (utilization <= supplyKink) {
            return safe64(supplyPerSecondInterestRateBase + mulFactor(supplyPerSecondInterestRateSlopeLow, utilization));
        }
        return safe64(
            supplyPerSecondInterestRateBase + mulFactor(supplyPerSecondInterestRateSlopeLow, supplyKink)
                + mulFactor(supplyPerSecondInterestRateSlopeHigh, utilization - supplyKink)
        );
    }

    function getBorrowRate(uint utilization) public view returns (uint64) {
        if (utilization <= borrowKink) {
            return safe64(borrowPerSecondInterestRateBase + mulFactor(borrowPerSecondInterestRateSlopeLow, utilization));
        }
        return safe64(
            borrowPerSecondInterestRateBase + mulFactor(borrowPerSecondInterestRateSlopeLow, borrowKink)
                + mulFactor(borrowPerSecondInterestRateSlopeHigh, utilization - borrowKink)
        );
    }

    function getUtilization() public view returns (uint) {
        uint totalSupply_ = presentValueSupply(baseSupplyIndex, totalSupplyBase);
        uint totalBorrow_ = presentValueBorrow(baseBorrowIndex, totalBorrowBase);
        if (totalSupply_ == 0) return 0;
        return totalBorrow_ * FACTOR_SCALE / totalSupply_;
    }

    // --- balances ------------------------------------------------------------------------

    function totalSupply() external view returns (uint256) {
        (uint64 supplyIndex,) = accruedInterestIndices(getNowInternal() - lastAccrualTime);
        return presentValueSupply(supplyIndex, totalSupplyBase);
    }

    function totalBorrow() external view returns (uint256) {
        (, uint64 borrowIndex) = accruedInterestIndices(getNowInternal() - lastAccrualTime);
        return presentValueBorrow(borrowIndex, totalBorrowBase);
    }

    function balanceOf(address account) public view returns (uint256) {
        (uint64 supplyIndex,) = accruedInterestIndices(getNowInternal() - lastAccrualTime);
        int104 principal = userBasic[account].principal;
        return principal > 0 ? presentValueSupply(supplyIndex, unsigned104(principal)) : 0;
    }

    function borrowBalanceOf(address account) public view returns (uint256) {
        (, uint64 borrowIndex) = accruedInterestIndices(getNowInternal() - lastAccrualTime);
        int104 principal = userBasic[account].principal;
        return principal < 0 ? presentValueBorrow(borrowIndex, unsigned104(-principal)) : 0;
    }

    function presentValue(int104 principal) internal view returns (int256) {
        if (principal >= 0) return signed256(presentValueSupply(baseSupplyIndex, uint104(principal)));
        return -signed256(presentValueBorrow(baseBorrowIndex, uint104(-principal)));
    }

    function presentValueSupply(uint64 index, uint104 principal) internal pure returns (uint256) {
        return uint256(principal) * index / BASE_INDEX_SCALE;
    }

    function presentValueBorrow(uint64 index, uint104 principal) internal pure returns (uint256) {
        return uint256(principal) * index / BASE_INDEX_SCALE;
    }

    function principalValue(int256 present) internal view returns (int104) {
        if (present >= 0) return signed104(principalValueSupply(baseSupplyIndex, uint256(present)));
        return -signed104(principalValueBorrow(baseBorrowIndex, uint256(-present)));
    }

    /// @dev rounded down
    function principalValueSupply(uint64 index, uint256 present) internal pure returns (uint104) {
        return safe104((present * BASE_INDEX_SCALE) / index);
    }

    /// @dev rounded up
    function principalValueBorrow(uint64 index, uint256 present) internal pure returns (uint104) {
        return safe104((present * BASE_INDEX_SCALE + index - 1) / index);
    }

    // --- collateralization ---------------------------------------------------------------

    function isBorrowCollateralized(address account) public view returns (bool) {
        return liquidity(account, false) >= 0;
    }

    function isLiquidatable(address account) public view returns (bool) {
        return liquidity(account, true) < 0;
    }

    /// @dev The real contract stops reading collateral as soon as the running liquidity is >= 0;
    /// liquidity only grows in the loop, so the sign (all either caller uses) is the same.
    function liquidity(address account, bool forLiquidation) internal view returns (int256) {
        int104 principal = userBasic[account].principal;
        if (principal >= 0) return 0;
        uint16 assetsIn = userBasic[account].assetsIn;
        int256 total = signedMulPrice(presentValue(principal), getPrice(baseTokenPriceFeed), uint64(baseScale));
        for (uint8 i = 0; i < numAssets; i++) {
            if (!isInAsset(assetsIn, i)) continue;
            if (total >= 0) return total;
            AssetInfo memory info = getAssetInfo(i);
            uint value = mulPrice(userCollateral[account][info.asset].balance, getPrice(info.priceFeed), info.scale);
            uint64 factor = forLiquidation ? info.liquidateCollateralFactor : info.borrowCollateralFactor;
            total += signed256(mulFactor(value, factor));
        }
        return total;
    }

    // --- supply / transfer / withdraw ----------------------------------------------------

    function supply(address asset, uint amount) external {
        supplyInternal(msg.sender, msg.sender, asset, amount);
    }

    function supplyTo(address dst, address asset, uint amount) external {
        supplyInternal(msg.sender, dst, asset, amount);
    }

    function supplyInternal(address from, address dst, address asset, uint amount) internal {
        if (asset == baseToken) {
            if (amount == type(uint256).max) amount = borrowBalanceOf(dst);
            return supplyBase(from, dst, amount);
        }
        supplyCollateral(from, dst, asset, safe128(amount));
    }

    function supplyBase(address from, address dst, uint256 amount) internal {
        amount = doTransferIn(baseToken, from, amount);
        accrueInternal();
        UserBasic memory dstUser = userBasic[dst];
        int104 dstPrincipal = dstUser.principal;
        int104 dstPrincipalNew = principalValue(presentValue(dstPrincipal) + signed256(amount));
        (uint104 repayAmount, uint104 supplyAmount) = repayAndSupplyAmount(dstPrincipal, dstPrincipalNew);
        totalSupplyBase += supplyAmount;
        totalBorrowBase -= repayAmount;
        userBasic[dst].principal = dstPrincipalNew;
        emit Supply(from, dst, amount);
        if (supplyAmount > 0) emit Transfer(address(0), dst, presentValueSupply(baseSupplyIndex, supplyAmount));
    }

    function supplyCollateral(address from, address dst, address asset, uint128 amount) internal {
        amount = safe128(doTransferIn(asset, from, amount));
        AssetInfo memory info = getAssetInfoByAddress(asset);
        uint128 totalNew = totalsCollateral[asset].totalSupplyAsset + amount;
        if (totalNew > info.supplyCap) revert SupplyCapExceeded();
        uint128 before = userCollateral[dst][asset].balance;
        totalsCollateral[asset].totalSupplyAsset = totalNew;
        userCollateral[dst][asset].balance = before + amount;
        updateAssetsIn(dst, info, before, before + amount);
        emit SupplyCollateral(from, dst, asset, amount);
    }

    function transfer(address dst, uint amount) external returns (bool) {
        transferInternal(msg.sender, dst, baseToken, amount);
        return true;
    }

    function transferAsset(address dst, address asset, uint amount) external {
        transferInternal(msg.sender, dst, asset, amount);
    }

    function transferInternal(address src, address dst, address asset, uint amount) internal {
        if (src == dst) revert NoSelfTransfer();
        if (asset == baseToken) {
            if (amount == type(uint256).max) amount = balanceOf(src);
            return transferBase(src, dst, amount);
        }
        transferCollateral(src, dst, asset, safe128(amount));
    }

    function transferBase(address src, address dst, uint256 amount) internal {
        accrueInternal();
        int104 srcPrincipal = userBasic[src].principal;
        int104 dstPrincipal = userBasic[dst].principal;
        int256 srcBalance = presentValue(srcPrincipal) - signed256(amount);
        int104 srcPrincipalNew = principalValue(srcBalance);
        int104 dstPrincipalNew = principalValue(presentValue(dstPrincipal) + signed256(amount));
        (uint104 withdrawAmount, uint104 borrowAmount) = withdrawAndBorrowAmount(srcPrincipal, srcPrincipalNew);
        (uint104 repayAmount, uint104 supplyAmount) = repayAndSupplyAmount(dstPrincipal, dstPrincipalNew);
        totalSupplyBase = totalSupplyBase + supplyAmount - withdrawAmount;
        totalBorrowBase = totalBorrowBase + borrowAmount - repayAmount;
        userBasic[src].principal = srcPrincipalNew;
        userBasic[dst].principal = dstPrincipalNew;
        if (srcBalance < 0) {
            if (uint256(-srcBalance) < baseBorrowMin) revert BorrowTooSmall();
            if (!isBorrowCollateralized(src)) revert NotCollateralized();
        }
        // no Withdraw event: a borrow through transfer shows only as Transfer events (if any)
        if (withdrawAmount > 0) emit Transfer(src, address(0), presentValueSupply(baseSupplyIndex, withdrawAmount));
        if (supplyAmount > 0) emit Transfer(address(0), dst, presentValueSupply(baseSupplyIndex, supplyAmount));
    }

    function transferCollateral(address src, address dst, address asset, uint128 amount) internal {
        uint128 srcBefore = userCollateral[src][asset].balance;
        uint128 dstBefore = userCollateral[dst][asset].balance;
        userCollateral[src][asset].balance = srcBefore - amount;
        userCollateral[dst][asset].balance = dstBefore + amount;
        AssetInfo memory info = getAssetInfoByAddress(asset);
        updateAssetsIn(src, info, srcBefore, srcBefore - amount);
        updateAssetsIn(dst, info, dstBefore, dstBefore + amount);
        if (!isBorrowCollateralized(src)) revert NotCollateralized();
        emit TransferCollateral(src, dst, asset, amount);
    }

    function withdraw(address asset, uint amount) external {
        withdrawInternal(msg.sender, msg.sender, asset, amount);
    }

    function withdrawTo(address to, address asset, uint amount) external {
        withdrawInternal(msg.sender, to, asset, amount);
    }

    function withdrawInternal(address src, address to, address asset, uint amount) internal {
        if (asset == baseToken) {
            if (amount == type(uint256).max) amount = balanceOf(src);
            return withdrawBase(src, to, amount);
        }
        withdrawCollateral(src, to, asset, safe128(amount));
    }

    function withdrawBase(address src, address to, uint256 amount) internal {
        accrueInternal();
        int104 srcPrincipal = userBasic[src].principal;
        int256 srcBalance = presentValue(srcPrincipal) - signed256(amount);
        int104 srcPrincipalNew = principalValue(srcBalance);
        (uint104 withdrawAmount, uint104 borrowAmount) = withdrawAndBorrowAmount(srcPrincipal, srcPrincipalNew);
        totalSupplyBase -= withdrawAmount;
        totalBorrowBase += borrowAmount;
        userBasic[src].principal = srcPrincipalNew;
        if (srcBalance < 0) {
            if (uint256(-srcBalance) < baseBorrowMin) revert BorrowTooSmall();
            if (!isBorrowCollateralized(src)) revert NotCollateralized();
        }
        doTransferOut(baseToken, to, amount);
        emit Withdraw(src, to, amount);
        if (withdrawAmount > 0) emit Transfer(src, address(0), presentValueSupply(baseSupplyIndex, withdrawAmount));
    }

    function withdrawCollateral(address src, address to, address asset, uint128 amount) internal {
        uint128 before = userCollateral[src][asset].balance;
        totalsCollateral[asset].totalSupplyAsset -= amount;
        userCollateral[src][asset].balance = before - amount;
        updateAssetsIn(src, getAssetInfoByAddress(asset), before, before - amount);
        if (!isBorrowCollateralized(src)) revert NotCollateralized();
        doTransferOut(asset, to, amount);
        emit WithdrawCollateral(src, to, asset, amount);
    }

    // --- absorb --------------------------------------------------------------------------

    function absorb(address absorber, address[] calldata accounts) external {
        accrueInternal();
        for (uint i = 0; i < accounts.length; i++) {
            absorbInternal(absorber, accounts[i]);
        }
    }

    function absorbInternal(address absorber, address account) internal {
        if (!isLiquidatable(account)) revert NotLiquidatable();
        int104 oldPrincipal = userBasic[account].principal;
        int256 oldBalance = presentValue(oldPrincipal);
        uint256 basePrice = getPrice(baseTokenPriceFeed);
        uint256 deltaValue = seizeAll(absorber, account);
        uint256 deltaBalance = divPrice(deltaValue, basePrice, uint64(baseScale));
        int256 newBalance = oldBalance + signed256(deltaBalance);
        if (newBalance < 0) newBalance = 0; // excess debt is absorbed by the reserves
        int104 newPrincipal = principalValue(newBalance);
        userBasic[account].principal = newPrincipal;
        userBasic[account].assetsIn = 0;
        (uint104 repayAmount, uint104 supplyAmount) = repayAndSupplyAmount(oldPrincipal, newPrincipal);
        totalSupplyBase += supplyAmount;
        totalBorrowBase -= repayAmount;
        uint256 basePaidOut = unsigned256(newBalance - oldBalance);
        emit AbsorbDebt(absorber, account, basePaidOut, mulPrice(basePaidOut, basePrice, uint64(baseScale)));
        if (newPrincipal > 0) {
            emit Transfer(address(0), account, presentValueSupply(baseSupplyIndex, unsigned104(newPrincipal)));
        }
    }

    /// @dev Zero every collateral balance of `account`; return sum mulFactor(value, liquidationFactor).
    function seizeAll(address absorber, address account) internal returns (uint256 deltaValue) {
        uint16 assetsIn = userBasic[account].assetsIn;
        for (uint8 i = 0; i < numAssets; i++) {
            if (!isInAsset(assetsIn, i)) continue;
            AssetInfo memory info = getAssetInfo(i);
            uint128 seizeAmount = userCollateral[account][info.asset].balance;
            userCollateral[account][info.asset].balance = 0;
            totalsCollateral[info.asset].totalSupplyAsset -= seizeAmount;
            uint256 value = mulPrice(seizeAmount, getPrice(info.priceFeed), info.scale);
            deltaValue += mulFactor(value, info.liquidationFactor);
            emit AbsorbCollateral(absorber, account, info.asset, seizeAmount, value);
        }
    }

    // --- the store front ---------------------------------------------------------------

    function getReserves() public view returns (int) {
        (uint64 supplyIndex, uint64 borrowIndex) = accruedInterestIndices(getNowInternal() - lastAccrualTime);
        uint balance = IDevnetCometToken(baseToken).balanceOf(address(this));
        return signed256(balance) - signed256(presentValueSupply(supplyIndex, totalSupplyBase))
            + signed256(presentValueBorrow(borrowIndex, totalBorrowBase));
    }

    function getCollateralReserves(address asset) public view returns (uint) {
        return IDevnetCometToken(asset).balanceOf(address(this)) - totalsCollateral[asset].totalSupplyAsset;
    }

    /// @dev collateral units for `baseAmount` at the discounted price, rounded down
    function quoteCollateral(address asset, uint baseAmount) public view returns (uint) {
        AssetInfo memory info = getAssetInfoByAddress(asset);
        uint discount = mulFactor(storeFrontPriceFactor, FACTOR_SCALE - info.liquidationFactor);
        uint discountedPrice = mulFactor(getPrice(info.priceFeed), FACTOR_SCALE - discount);
        return getPrice(baseTokenPriceFeed) * baseAmount * info.scale / discountedPrice / baseScale;
    }

    /// @dev open only while reserves are below target: selling refills the reserves
    function buyCollateral(address asset, uint minAmount, uint baseAmount, address recipient) external {
        int reserves = getReserves();
        if (reserves >= 0 && uint(reserves) >= targetReserves) revert NotForSale();
        baseAmount = doTransferIn(baseToken, msg.sender, baseAmount);
        uint collateralAmount = quoteCollateral(asset, baseAmount);
        if (collateralAmount < minAmount) revert TooMuchSlippage();
        if (collateralAmount > getCollateralReserves(asset)) revert InsufficientReserves();
        doTransferOut(asset, recipient, safe128(collateralAmount));
        emit BuyCollateral(msg.sender, asset, baseAmount, collateralAmount);
    }

    // --- principal bookkeeping -----------------------------------------------------------

    function repayAndSupplyAmount(int104 oldPrincipal, int104 newPrincipal) internal pure returns (uint104, uint104) {
        if (newPrincipal < oldPrincipal) return (0, 0);
        if (newPrincipal <= 0) return (uint104(newPrincipal - oldPrincipal), 0);
        if (oldPrincipal >= 0) return (0, uint104(newPrincipal - oldPrincipal));
        return (uint104(-oldPrincipal), uint104(newPrincipal));
    }

    function withdrawAndBorrowAmount(int104 oldPrincipal, int104 newPrincipal) internal pure returns (uint104, uint104) {
        if (newPrincipal > oldPrincipal) return (0, 0);
        if (newPrincipal >= 0) return (uint104(oldPrincipal - newPrincipal), 0);
        if (oldPrincipal <= 0) return (0, uint104(oldPrincipal - newPrincipal));
        return (uint104(oldPrincipal), uint104(-newPrincipal));
    }

    function isInAsset(uint16 assetsIn, uint8 offset) internal pure returns (bool) {
        return assetsIn & (uint16(1) << offset) != 0;
    }

    function updateAssetsIn(address account, AssetInfo memory info, uint128 initial, uint128 final_) internal {
        if (initial == 0 && final_ != 0) {
            userBasic[account].assetsIn |= (uint16(1) << info.offset);
        } else if (initial != 0 && final_ == 0) {
            userBasic[account].assetsIn &= ~(uint16(1) << info.offset);
        }
    }

    // --- math (CometMath semantics) ------------------------------------------------------

    function mulFactor(uint n, uint factor) internal pure returns (uint) {
        return n * factor / FACTOR_SCALE;
    }

    function mulPrice(uint n, uint price, uint64 fromScale) internal pure returns (uint) {
        return n * price / fromScale;
    }

    /// @dev Solidity's signed division truncates toward zero: a debt's value rounds toward 0.
    function signedMulPrice(int n, uint price, uint64 fromScale) internal pure returns (int) {
        return n * signed256(price) / int256(uint256(fromScale));
    }

    function divPrice(uint n, uint price, uint64 toScale) internal pure returns (uint) {
        return n * toScale / price;
    }

    function safe64(uint n) internal pure returns (uint64) {
        if (n > type(uint64).max) revert InvalidUInt64();
        return uint64(n);
    }

    function safe104(uint n) internal pure returns (uint104) {
        if (n > type(uint104).max) revert InvalidUInt104();
        return uint104(n);
    }

    function safe128(uint n) internal pure returns (uint128) {
        if (n > type(uint128).max) revert InvalidUInt128();
        return uint128(n);
    }

    function signed104(uint104 n) internal pure returns (int104) {
        if (n > uint104(type(int104).max)) revert InvalidInt104();
        return int104(n);
    }

    function signed256(uint256 n) internal pure returns (int256) {
        if (n > uint256(type(int256).max)) revert InvalidInt256();
        return int256(n);
    }

    function unsigned104(int104 n) internal pure returns (uint104) {
        if (n < 0) revert NegativeNumber();
        return uint104(n);
    }

    function unsigned256(int256 n) internal pure returns (uint256) {
        if (n < 0) revert NegativeNumber();
        return uint256(n);
    }

    // --- token transfers -----------------------------------------------------------------

    /// @dev Returns what actually arrived, as the real one does (fee-on-transfer safe).
    function doTransferIn(address asset, address from, uint amount) internal returns (uint) {
        uint256 before = IDevnetCometToken(asset).balanceOf(address(this));
        if (!IDevnetCometToken(asset).transferFrom(from, address(this), amount)) revert TransferInFailed();
        return IDevnetCometToken(asset).balanceOf(address(this)) - before;
    }

    function doTransferOut(address asset, address to, uint amount) internal {
        if (!IDevnetCometToken(asset).transfer(to, amount)) revert TransferOutFailed();
    }
}
