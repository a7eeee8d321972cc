// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// @title DevnetPriceSource
/// @notice Written by liqscan for tests. A settable stand-in for AaveOracle's price getter
/// (IPriceOracleGetter.getAssetPrice), used where no Aave market is deployed. Devnet only:
/// anyone may set a price.
contract DevnetPriceSource {
    mapping(address => uint256) private prices;

    event AssetPriceUpdated(address indexed asset, uint256 price);

    function setAssetPrice(address asset, uint256 newPrice) external {
        prices[asset] = newPrice;
        emit AssetPriceUpdated(asset, newPrice);
    }

    function getAssetPrice(address asset) external view returns (uint256) {
        uint256 assetPrice = prices[asset];
        // An unset price must not read as zero (a failed read never returns zeros).
        require(assetPrice > 0, "DevnetPriceSource: no price");
        return assetPrice;
    }
}
