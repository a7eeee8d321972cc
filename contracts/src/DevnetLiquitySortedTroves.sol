// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetLiquityNominalICR {
    function getNominalICR(address _borrower) external view returns (uint256);
}

/// @title DevnetLiquitySortedTroves
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of Liquity v1's
/// SortedTroves. No Liquity bytecode is published on a package registry; this is not Liquity's
/// code. It was written from reading liquity/dev `packages/contracts/contracts/SortedTroves.sol`
/// and keeps the real signatures of `getFirst`, `getLast`, `getNext`, `getPrev`, `getSize`,
/// `contains`, `insert` and `remove`: a doubly linked list of active troves sorted by nominal
/// ICR (coll * 1e20 / debt, pending rewards included), descending.
///
/// SIMPLIFIED: hints are used when they name a valid position, else the position is found by
/// walking the list from its head (the real contract walks from the hints); no maximum size.
contract DevnetLiquitySortedTroves {
    struct Node {
        bool exists;
        address nextId;
        address prevId;
    }

    address public head;
    address public tail;
    uint256 internal size;
    mapping(address => Node) internal nodes;
    address public troveManager;
    address public owner;

    constructor() {
        owner = msg.sender;
    }

    function setTroveManager(address _troveManager) external {
        require(msg.sender == owner && troveManager == address(0), "SortedTroves: set once");
        troveManager = _troveManager;
    }

    modifier onlyTroveManager() {
        require(msg.sender == troveManager, "SortedTroves: Caller is not the TroveManager");
        _;
    }

    function insert(address _id, uint256 _NICR, address _prevId, address _nextId)
        external onlyTroveManager
    {
        require(!contains(_id), "SortedTroves: List already contains the node");
        require(_id != address(0), "SortedTroves: Id cannot be zero");
        require(_NICR > 0, "SortedTroves: NICR must be positive");
        address prevId = _prevId;
        address nextId = _nextId;
        if (!_validInsertPosition(_NICR, prevId, nextId)) {
            (prevId, nextId) = _walkFromHead(_NICR);
        }
        nodes[_id].exists = true;
        nodes[_id].prevId = prevId;
        nodes[_id].nextId = nextId;
        if (prevId == address(0)) { head = _id; } else { nodes[prevId].nextId = _id; }
        if (nextId == address(0)) { tail = _id; } else { nodes[nextId].prevId = _id; }
        size += 1;
    }

    function remove(address _id) external onlyTroveManager {
        require(contains(_id), "SortedTroves: List does not contain the id");
        Node memory node = nodes[_id];
        if (node.prevId == address(0)) { head = node.nextId; } else { nodes[node.prevId].nextId = node.nextId; }
        if (node.nextId == address(0)) { tail = node.prevId; } else { nodes[node.nextId].prevId = node.prevId; }
        delete nodes[_id];
        size -= 1;
    }

    function contains(address _id) public view returns (bool) {
        return nodes[_id].exists;
    }

    function getSize() external view returns (uint256) {
        return size;
    }

    function getFirst() external view returns (address) {
        return head;
    }

    function getLast() external view returns (address) {
        return tail;
    }

    function getNext(address _id) external view returns (address) {
        return nodes[_id].nextId;
    }

    function getPrev(address _id) external view returns (address) {
        return nodes[_id].prevId;
    }

    function _nicr(address _id) internal view returns (uint256) {
        return IDevnetLiquityNominalICR(troveManager).getNominalICR(_id);
    }

    function _validInsertPosition(uint256 _NICR, address _prevId, address _nextId)
        internal view returns (bool)
    {
        if (_prevId == address(0) && _nextId == address(0)) {
            return size == 0;
        } else if (_prevId == address(0)) {
            return head == _nextId && _NICR >= _nicr(_nextId);
        } else if (_nextId == address(0)) {
            return tail == _prevId && _NICR <= _nicr(_prevId);
        }
        return nodes[_prevId].nextId == _nextId && _nicr(_prevId) >= _NICR && _NICR >= _nicr(_nextId);
    }

    function _walkFromHead(uint256 _NICR) internal view returns (address, address) {
        address prevId = address(0);
        address nextId = head;
        while (nextId != address(0) && _nicr(nextId) > _NICR) {
            prevId = nextId;
            nextId = nodes[nextId].nextId;
        }
        return (prevId, nextId);
    }
}
