// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// Written by liqscan for its local devnet: OUR OWN implementation of the Liquity v2 (BOLD)
/// contracts around a branch's TroveManager (see DevnetBoldTroveManager.sol). No Liquity v2
/// bytecode is published on a package registry; this is not Liquity's code. It was written from
/// reading liquity/bold `contracts/src/{CollateralRegistry,BorrowerOperations,TroveNFT}.sol`
/// and `PriceFeeds/MainnetPriceFeedBase.sol`, and keeps the real external signatures liqscan
/// reads. The rules kept: the branch's MCR/CCR/SCR live in BorrowerOperations (as immutables
/// of the AddressesRegistry's values), the price feed's `lastGoodPrice` is the price after an
/// oracle failure, which shuts the branch down through BorrowerOperations
/// (`shutdownFromOracleFailure` -> TroveManager.shutdown, `shutdownTime = block.timestamp`).
/// Left out: the TCR < SCR shutdown path, borrowing operations, ERC-721 transfers.

interface IDevnetBoldShutdown {
    function shutdown() external;
    function shutdownFromOracleFailure() external;
}

/// CollateralRegistry: the branches (real: ten immutables token0..9 / troveManager0..9).
contract DevnetBoldCollateralRegistry {
    uint256 public immutable totalCollaterals;
    address[] internal tokens;
    address[] internal troveManagers;

    constructor(address[] memory _tokens, address[] memory _troveManagers) {
        require(_tokens.length == _troveManagers.length && _tokens.length <= 10, "bad branches");
        totalCollaterals = _tokens.length;
        tokens = _tokens;
        troveManagers = _troveManagers;
    }

    function getToken(uint256 _index) external view returns (address) {
        require(_index < tokens.length, "Invalid index");
        return tokens[_index];
    }

    function getTroveManager(uint256 _index) external view returns (address) {
        require(_index < troveManagers.length, "Invalid index");
        return troveManagers[_index];
    }
}

/// BorrowerOperations: only the branch's ratios and the shutdown flag.
contract DevnetBoldBorrowerOperations {
    uint256 public immutable CCR;
    uint256 public immutable SCR;
    uint256 public immutable MCR;
    bool public hasBeenShutDown;
    address public troveManager;
    address public priceFeed;
    address internal deployer;

    error IsShutDown();
    error CallerNotPriceFeed();

    constructor(uint256 _ccr, uint256 _scr, uint256 _mcr) {
        CCR = _ccr;
        SCR = _scr;
        MCR = _mcr;
        deployer = msg.sender;
    }

    function setAddresses(address _troveManager, address _priceFeed) external {
        require(msg.sender == deployer && troveManager == address(0), "once, by the deployer");
        troveManager = _troveManager;
        priceFeed = _priceFeed;
    }

    function shutdownFromOracleFailure() external {
        if (msg.sender != priceFeed) revert CallerNotPriceFeed();
        if (hasBeenShutDown) return;
        hasBeenShutDown = true;
        IDevnetBoldShutdown(troveManager).shutdown();
    }
}

/// PriceFeed: `lastGoodPrice` (18 decimals, USD per collateral unit); `setPrice` stands in for
/// the oracle; `failOracle` is an oracle failure: the branch shuts down and `priceSource`
/// becomes lastGoodPrice, which fetchPrice returns from then on (the real feeds' rule).
contract DevnetBoldPriceFeed {
    enum PriceSource {
        primary,
        ETHUSDxCanonical,
        lastGoodPrice
    }

    PriceSource public priceSource;
    uint256 public lastGoodPrice;
    address public borrowerOperations;
    address internal deployer;

    constructor(uint256 _price, address _borrowerOperations) {
        lastGoodPrice = _price;
        borrowerOperations = _borrowerOperations;
        deployer = msg.sender;
    }

    function setPrice(uint256 _price) external {
        require(msg.sender == deployer && priceSource == PriceSource.primary, "deployer, live oracle");
        lastGoodPrice = _price;
    }

    function failOracle() external {
        require(msg.sender == deployer, "deployer");
        priceSource = PriceSource.lastGoodPrice;
        IDevnetBoldShutdown(borrowerOperations).shutdownFromOracleFailure();
    }

    function fetchPrice() external returns (uint256, bool) {
        return (lastGoodPrice, false);
    }
}

/// TroveNFT: who owns each trove id (minted and burnt by the TroveManager).
contract DevnetBoldTroveNFT {
    mapping(uint256 => address) internal owners;
    address public troveManager;
    address internal deployer;

    constructor() {
        deployer = msg.sender;
    }

    function setTroveManager(address _troveManager) external {
        require(msg.sender == deployer && troveManager == address(0), "once, by the deployer");
        troveManager = _troveManager;
    }

    function mint(address _owner, uint256 _troveId) external {
        require(msg.sender == troveManager, "TroveNFT: caller is not the TroveManager");
        owners[_troveId] = _owner;
    }

    function burn(uint256 _troveId) external {
        require(msg.sender == troveManager, "TroveNFT: caller is not the TroveManager");
        delete owners[_troveId];
    }

    function ownerOf(uint256 tokenId) external view returns (address) {
        address owner = owners[tokenId];
        require(owner != address(0), "ERC721: invalid token ID");
        return owner;
    }
}

/// ActivePool: only what the adapter checks (that it exists at the TroveManager's slot 0).
contract DevnetBoldActivePool {
    address public troveManager;

    function setTroveManager(address _troveManager) external {
        require(troveManager == address(0), "once");
        troveManager = _troveManager;
    }
}
