// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

/// @title Devnet Liquity v1 pools, price feed and LUSD
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the parts of
/// Liquity v1 (liquity/dev) the TroveManager needs. No Liquity bytecode is published on a package
/// registry; this is not Liquity's code. It was written from reading liquity/dev
/// `packages/contracts/contracts/{ActivePool,DefaultPool,StabilityPool,PriceFeed,LUSDToken}.sol`
/// and keeps the real signatures of `getETH`, `getLUSDDebt`, `getTotalLUSDDeposits`,
/// `provideToSP`, `lastGoodPrice` and `fetchPrice`.
///
/// SIMPLIFIED: the pools keep the real ETH and LUSD-debt accounting but no access lists beyond
/// "the TroveManager"; the Stability Pool keeps one total of deposits (no per-depositor
/// products, gains or LQTY); the price feed has no Chainlink/Tellor: `fetchPrice` returns the
/// stored `lastGoodPrice`, which its owner sets (tests move the price through it).

contract DevnetLiquityPriceFeed {
    // slot 0: tests override it in eth_call state diffs
    uint256 public lastGoodPrice;
    address public owner;

    event LastGoodPriceUpdated(uint256 _lastGoodPrice);

    constructor(uint256 _price) {
        owner = msg.sender;
        lastGoodPrice = _price;
    }

    function setPrice(uint256 _price) external {
        require(msg.sender == owner, "PriceFeed: not owner");
        lastGoodPrice = _price;
        emit LastGoodPriceUpdated(_price);
    }

    /// @notice What the real feed returns when its oracles are frozen or broken: the last good
    /// price (a state-changing call on mainnet, kept so).
    function fetchPrice() external returns (uint256) {
        emit LastGoodPriceUpdated(lastGoodPrice);
        return lastGoodPrice;
    }
}

contract DevnetLiquityLUSD {
    string public constant name = "LUSD Stablecoin";
    string public constant symbol = "LUSD";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    address public troveManager;
    address public stabilityPool;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address _troveManager, address _stabilityPool) {
        troveManager = _troveManager;
        stabilityPool = _stabilityPool;
    }

    function mint(address _account, uint256 _amount) external {
        require(msg.sender == troveManager, "LUSD: caller is not the TroveManager");
        totalSupply += _amount;
        balanceOf[_account] += _amount;
        emit Transfer(address(0), _account, _amount);
    }

    function burn(address _account, uint256 _amount) external {
        require(msg.sender == troveManager || msg.sender == stabilityPool, "LUSD: not allowed");
        balanceOf[_account] -= _amount;
        totalSupply -= _amount;
        emit Transfer(_account, address(0), _amount);
    }

    function sendToPool(address _sender, address _poolAddress, uint256 _amount) external {
        require(msg.sender == stabilityPool, "LUSD: caller is not the StabilityPool");
        _transfer(_sender, _poolAddress, _amount);
    }

    function transfer(address _to, uint256 _amount) external returns (bool) {
        _transfer(msg.sender, _to, _amount);
        return true;
    }

    function _transfer(address _from, address _to, uint256 _amount) internal {
        balanceOf[_from] -= _amount;
        balanceOf[_to] += _amount;
        emit Transfer(_from, _to, _amount);
    }
}

/// @notice ActivePool and DefaultPool share their accounting: ETH held and LUSD debt recorded.
contract DevnetLiquityActivePool {
    uint256 internal ETH;
    uint256 internal LUSDDebt;
    address public troveManager;
    address public stabilityPool;
    address public defaultPool;
    address internal owner;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Wired once after every contract exists (the real `setAddresses`).
    function setAddresses(address _troveManager, address _stabilityPool, address _defaultPool) external {
        require(msg.sender == owner && troveManager == address(0), "ActivePool: set once");
        troveManager = _troveManager;
        stabilityPool = _stabilityPool;
        defaultPool = _defaultPool;
    }

    modifier onlyTroveManager() {
        require(msg.sender == troveManager, "ActivePool: caller is not the TroveManager");
        _;
    }

    function getETH() external view returns (uint256) {
        return ETH;
    }

    function getLUSDDebt() external view returns (uint256) {
        return LUSDDebt;
    }

    function sendETH(address _account, uint256 _amount) external {
        require(msg.sender == troveManager || msg.sender == stabilityPool,
                "ActivePool: caller is neither the TroveManager nor the StabilityPool");
        ETH -= _amount;
        if (_account == defaultPool || _account == stabilityPool) {
            IDevnetLiquityEthReceiver(_account).receiveETH{value: _amount}();
        } else {
            (bool ok, ) = _account.call{value: _amount}("");
            require(ok, "ActivePool: sending ETH failed");
        }
    }

    function increaseLUSDDebt(uint256 _amount) external onlyTroveManager {
        LUSDDebt += _amount;
    }

    function decreaseLUSDDebt(uint256 _amount) external {
        require(msg.sender == troveManager || msg.sender == stabilityPool,
                "ActivePool: caller is neither the TroveManager nor the StabilityPool");
        LUSDDebt -= _amount;
    }

    /// @notice ETH in: a trove's collateral (from the TroveManager) or moved rewards (DefaultPool).
    function receiveETH() external payable {
        require(msg.sender == troveManager || msg.sender == defaultPool,
                "ActivePool: caller is neither the TroveManager nor the DefaultPool");
        ETH += msg.value;
    }
}

interface IDevnetLiquityEthReceiver {
    function receiveETH() external payable;
}

contract DevnetLiquityDefaultPool {
    uint256 internal ETH;
    uint256 internal LUSDDebt;
    address public troveManager;
    address public activePool;
    address internal owner;

    constructor() {
        owner = msg.sender;
    }

    function setAddresses(address _troveManager, address _activePool) external {
        require(msg.sender == owner && troveManager == address(0), "DefaultPool: set once");
        troveManager = _troveManager;
        activePool = _activePool;
    }

    modifier onlyTroveManager() {
        require(msg.sender == troveManager, "DefaultPool: caller is not the TroveManager");
        _;
    }

    function getETH() external view returns (uint256) {
        return ETH;
    }

    function getLUSDDebt() external view returns (uint256) {
        return LUSDDebt;
    }

    function sendETHToActivePool(uint256 _amount) external onlyTroveManager {
        ETH -= _amount;
        IDevnetLiquityEthReceiver(activePool).receiveETH{value: _amount}();
    }

    function increaseLUSDDebt(uint256 _amount) external onlyTroveManager {
        LUSDDebt += _amount;
    }

    function decreaseLUSDDebt(uint256 _amount) external onlyTroveManager {
        LUSDDebt -= _amount;
    }

    function receiveETH() external payable {
        require(msg.sender == activePool, "DefaultPool: caller is not the ActivePool");
        ETH += msg.value;
    }
}

interface IDevnetLiquityLUSD {
    function burn(address _account, uint256 _amount) external;
    function sendToPool(address _sender, address _poolAddress, uint256 _amount) external;
}

interface IDevnetLiquityActivePoolForSP {
    function decreaseLUSDDebt(uint256 _amount) external;
    function sendETH(address _account, uint256 _amount) external;
}

contract DevnetLiquityStabilityPool {
    uint256 internal ETH;
    uint256 internal totalLUSDDeposits;
    mapping(address => uint256) public deposits;
    address public troveManager;
    address public activePool;
    address public lusdToken;
    address public owner;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Wired once after every contract exists (the real `setAddresses`).
    function setAddresses(address _troveManager, address _activePool, address _lusdToken) external {
        require(msg.sender == owner && troveManager == address(0), "StabilityPool: set once");
        troveManager = _troveManager;
        activePool = _activePool;
        lusdToken = _lusdToken;
    }

    function getETH() external view returns (uint256) {
        return ETH;
    }

    function getTotalLUSDDeposits() external view returns (uint256) {
        return totalLUSDDeposits;
    }

    function provideToSP(uint256 _amount, address _frontEndTag) external {
        require(_amount > 0, "StabilityPool: Amount must be non-zero");
        _frontEndTag;
        IDevnetLiquityLUSD(lusdToken).sendToPool(msg.sender, address(this), _amount);
        deposits[msg.sender] += _amount;
        totalLUSDDeposits += _amount;
    }

    /// @notice The TroveManager cancels `_debtToOffset` of liquidated debt against the deposits
    /// (burning that LUSD) and the pool receives `_collToAdd` ETH.
    function offset(uint256 _debtToOffset, uint256 _collToAdd) external {
        require(msg.sender == troveManager, "StabilityPool: Caller is not TroveManager");
        if (totalLUSDDeposits == 0 || _debtToOffset == 0) { return; }
        totalLUSDDeposits -= _debtToOffset;
        IDevnetLiquityActivePoolForSP(activePool).decreaseLUSDDebt(_debtToOffset);
        IDevnetLiquityLUSD(lusdToken).burn(address(this), _debtToOffset);
        IDevnetLiquityActivePoolForSP(activePool).sendETH(address(this), _collToAdd);
    }

    function receiveETH() external payable {
        require(msg.sender == activePool, "StabilityPool: caller is not ActivePool");
        ETH += msg.value;
    }
}
