// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// @notice The devnet Aave market's feeds (@aave/core-v3 MockAggregator): USD, 8 decimals.
interface IDevnetAnswerSource {
    function latestAnswer() external view returns (int256);
}

/// @title DevnetCometPriceFeed
/// @notice Written by liqscan for the local devnet. A Chainlink AggregatorV3-style feed
/// (`latestRoundData`, 8 decimals) for DevnetComet, derived from the devnet Aave market's own
/// price aggregators, so one price move (`scanner.devnet.prices.set_prices`, which writes those
/// aggregators) moves Aave, Morpho and every Comet together.
/// @dev answer = asset answer                                  when QUOTE is address(0) (USD)
///      answer = floor(asset answer * 1e8 / quote answer)     otherwise (e.g. wstETH in ETH,
///      as mainnet's WETH Comet prices its collateral; WETH in ETH is then exactly 1e8).
/// Round data is synthetic: round 1, started and updated at the current block.
contract DevnetCometPriceFeed {
    uint8 public constant decimals = 8;
    int256 internal constant ONE = 1e8;
    address public immutable ASSET;
    address public immutable QUOTE;
    string public description;

    constructor(address asset, address quote, string memory description_) {
        ASSET = asset;
        QUOTE = quote;
        description = description_;
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        answer = IDevnetAnswerSource(ASSET).latestAnswer();
        if (QUOTE != address(0)) {
            int256 quoteAnswer = IDevnetAnswerSource(QUOTE).latestAnswer();
            // a zero quote would divide by zero; a non-positive answer Comet rejects itself
            require(quoteAnswer > 0, "DevnetCometPriceFeed: quote price <= 0");
            answer = answer * ONE / quoteAnswer;
        }
        return (1, answer, block.timestamp, block.timestamp, 1);
    }
}
