// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerVatForManager {
    function hope(address) external;
    function frob(bytes32, address, address, address, int256, int256) external;
    function fork(bytes32, address, address, int256, int256) external;
    function urns(bytes32, address) external view returns (uint256, uint256);
}

/// @title DevnetMakerUrnHandler
/// @notice Written by liqscan for its local devnet (not Maker's code): one per CdpManager vault,
/// the Vat urn of that vault; it lets the manager act on it (`vat.hope(manager)`), as the real
/// UrnHandler of makerdao/dss-cdp-manager does.
contract DevnetMakerUrnHandler {
    constructor(address vat) {
        IDevnetMakerVatForManager(vat).hope(msg.sender);
    }
}

/// @title DevnetMakerCdpManager
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the subset of
/// Maker's DssCdpManager the scanner reads and the devnet seeds through. No Maker bytecode is
/// published on a package registry; this is not Maker's code. It was written from reading
/// makerdao/dss-cdp-manager `src/DssCdpManager.sol` and keeps the real signatures of `vat`,
/// `cdpi`, `urns`, `owns`, `ilks`, `NewCdp`, `open`, `give`, `frob` and `quit`.
/// Left out: the per-owner linked list (first/last/count), cdpAllow/urnAllow, flux, move,
/// enter, shift.
contract DevnetMakerCdpManager {
    address public vat;
    uint256 public cdpi;
    mapping(uint256 => address) public urns;
    mapping(uint256 => address) public owns;
    mapping(uint256 => bytes32) public ilks;

    event NewCdp(address indexed usr, address indexed own, uint256 indexed cdp);

    modifier cdpAllowed(uint256 cdp) {
        require(msg.sender == owns[cdp], "cdp-not-allowed");
        _;
    }

    constructor(address vat_) {
        vat = vat_;
    }

    function open(bytes32 ilk, address usr) public returns (uint256) {
        require(usr != address(0), "usr-address-0");
        cdpi = cdpi + 1;
        urns[cdpi] = address(new DevnetMakerUrnHandler(vat));
        owns[cdpi] = usr;
        ilks[cdpi] = ilk;
        emit NewCdp(msg.sender, usr, cdpi);
        return cdpi;
    }

    function give(uint256 cdp, address dst) public cdpAllowed(cdp) {
        require(dst != address(0), "dst-address-0");
        require(dst != owns[cdp], "dst-already-owner");
        owns[cdp] = dst;
    }

    /// Frob the vault's urn: the gem comes from and the dai goes to the urn itself.
    function frob(uint256 cdp, int256 dink, int256 dart) public cdpAllowed(cdp) {
        address urn = urns[cdp];
        IDevnetMakerVatForManager(vat).frob(ilks[cdp], urn, urn, urn, dink, dart);
    }

    /// Move the whole vault to `dst`'s own urn (dst must have `vat.hope`d this manager).
    function quit(uint256 cdp, address dst) public cdpAllowed(cdp) {
        require(msg.sender == dst, "urn-not-allowed");
        (uint256 ink, uint256 art) = IDevnetMakerVatForManager(vat).urns(ilks[cdp], urns[cdp]);
        IDevnetMakerVatForManager(vat).fork(ilks[cdp], urns[cdp], dst, int256(ink), int256(art));
    }
}
