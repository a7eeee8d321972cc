// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

import {IOracle} from "@morpho-org/morpho-blue/src/interfaces/IOracle.sol";

/// @notice The price getter of Aave's AaveOracle (IPriceOracleGetter), USD with 8 decimals.
interface IAssetPriceSource {
    function getAssetPrice(address asset) external view returns (uint256);
}

interface IERC20Decimals {
    function decimals() external view returns (uint8);
}

/// @title DevnetMorphoOracle
/// @notice Written by liqscan for the local devnet; implements Morpho Blue's IOracle.
/// It derives the collateral/loan price from an AaveOracle-like source (getAssetPrice), so one
/// price change on the devnet moves the Aave market and every Morpho market together.
/// @dev IOracle scale: price of 1 base unit of collateral in base units of loan, times 1e36, i.e.
///   price = floor(P_coll * 10^(36 + loanDecimals) / (P_loan * 10^collateralDecimals))
/// where P_coll, P_loan are the source's prices in the same base currency.
contract DevnetMorphoOracle is IOracle {
    address public immutable PRICE_SOURCE;
    address public immutable COLLATERAL_TOKEN;
    address public immutable LOAN_TOKEN;
    uint256 public immutable SCALE_NUMERATOR; // 10^(36 + loanDecimals)
    uint256 public immutable SCALE_DENOMINATOR; // 10^collateralDecimals

    constructor(address priceSource, address collateralToken, address loanToken) {
        PRICE_SOURCE = priceSource;
        COLLATERAL_TOKEN = collateralToken;
        LOAN_TOKEN = loanToken;
        SCALE_NUMERATOR = 10 ** (36 + uint256(IERC20Decimals(loanToken).decimals()));
        SCALE_DENOMINATOR = 10 ** uint256(IERC20Decimals(collateralToken).decimals());
    }

    function price() external view returns (uint256) {
        uint256 collateralPrice = IAssetPriceSource(PRICE_SOURCE).getAssetPrice(COLLATERAL_TOKEN);
        uint256 loanPrice = IAssetPriceSource(PRICE_SOURCE).getAssetPrice(LOAN_TOKEN);
        // A zero price would let every position borrow nothing or everything: fail loudly instead.
        require(collateralPrice > 0 && loanPrice > 0, "DevnetMorphoOracle: zero price");
        return (collateralPrice * SCALE_NUMERATOR) / (loanPrice * SCALE_DENOMINATOR);
    }
}
