// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// @notice The devnet Aave market's feeds (@aave/core-v3 MockAggregator): USD, 8 decimals.
interface IDevnetUsdAnswer {
    function latestAnswer() external view returns (int256);
}

/// @title DevnetEthPriceFeed
/// @notice Written by liqscan for the local devnet (no such contract is published on a package
/// registry). The Aave v2 AaveOracle reads one Chainlink-style source per asset through
/// `latestAnswer()` and takes it as the asset's price in ETH with 18 decimals, as mainnet's
/// X/ETH aggregators answer. This feed derives that price from the devnet's USD feeds, so one
/// price move (`scanner.devnet.prices.set_prices`, which writes those feeds) moves the v2
/// market together with Aave v3, Morpho and the Comets.
/// @dev answer = floor(asset USD answer * 1e18 / ETH USD answer); 0 when either is not
/// positive (the AaveOracle then falls back, as for a bad mainnet round).
contract DevnetEthPriceFeed {
    uint8 public constant decimals = 18;
    address public immutable ASSET_USD;
    address public immutable ETH_USD;

    constructor(address assetUsd, address ethUsd) {
        ASSET_USD = assetUsd;
        ETH_USD = ethUsd;
    }

    function latestAnswer() external view returns (int256) {
        int256 asset = IDevnetUsdAnswer(ASSET_USD).latestAnswer();
        int256 eth = IDevnetUsdAnswer(ETH_USD).latestAnswer();
        if (asset <= 0 || eth <= 0) {
            return 0;
        }
        return asset * 1e18 / eth;
    }
}
