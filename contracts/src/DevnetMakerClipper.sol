// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.19;

interface IDevnetMakerVatForClip {
    function move(address, address, uint256) external;
    function flux(bytes32, address, address, uint256) external;
    function ilks(bytes32) external view returns (uint256, uint256, uint256, uint256, uint256);
}

interface IDevnetMakerSpotterForClip {
    function par() external view returns (uint256);
    function ilks(bytes32) external view returns (address, uint256);
}

interface IDevnetMakerPipForClip {
    function peek() external view returns (bytes32, bool);
}

interface IDevnetMakerDogForClip {
    function chop(bytes32) external view returns (uint256);
    function digs(bytes32, uint256) external;
}

/// @title DevnetMakerClipper
/// @notice Written by liqscan for its local devnet: OUR OWN implementation of the Maker (dss)
/// Clipper (Liquidations 2.0 auctions) and of its StairstepExponentialDecrease abacus, the one
/// the real ETH-A Clipper uses. No Maker bytecode is published on a package registry; this is
/// not Maker's code. It was written from reading makerdao/dss `src/clip.sol` and `src/abaci.sol`
/// and keeps the real signatures of `kick`, `take`, `sales`, `getStatus`, `count`, `list`,
/// `buf`, `tail`, `cusp`, `chost`, `calc`, `kicks`, `upchost`, the abacus's `price`, `step`
/// and `cut`, and the `Kick` and `Take` events.
///
/// Implemented as the real Clipper does it: `kick` (called by the Dog's `bark`) opens a sale of
/// `lot` gem for `tab` DAI at top = feed price x buf, the feed price being the ilk pip's `peek`
/// over the Spotter's `par`; `take` buys min(lot, amt) at the current price, never collects
/// more than the tab (the slice shrinks to tab / price), keeps the chost rule on partial
/// purchases, sends the gem to `who`, takes the DAI from the caller to the vow, gives the room
/// back to the Dog (`digs` of owe, or of the whole tab when the lot is gone) and, once the tab
/// is raised, returns the lot left to the urn's owner; the price is `top x cut^(dur / step)`
/// (rpow with the abacus's rounding); an auction older than `tail` or fallen below `cusp` x top
/// needs a reset and cannot be taken.
/// SIMPLIFIED: the abacus lives in this contract (`calc` is its own address); there is no
/// `redo` (a reset auction stays stuck), no keeper incentives (`chip`/`tip` are 0: the Vat has
/// no `suck`), no `clipperCall` (`take`'s data must be empty), no `yank` and no circuit breaker.
contract DevnetMakerClipper {
    mapping(address => uint256) public wards;

    modifier auth() {
        require(wards[msg.sender] == 1, "Clipper/not-authorized");
        _;
    }

    bytes32 public immutable ilk;
    IDevnetMakerVatForClip public immutable vat;
    IDevnetMakerDogForClip public dog;
    address public vow;
    IDevnetMakerSpotterForClip public spotter;
    address public calc;

    uint256 public buf;  // [ray] top = feed price x buf
    uint256 public tail;  // [seconds] age after which the auction needs a reset
    uint256 public cusp;  // [ray] price / top below which it needs a reset
    uint256 public chost;  // [rad] dust x chop, cached by upchost
    uint256 public step;  // the abacus: seconds between price drops
    uint256 public cut;  // the abacus: per-step factor [ray]

    uint256 public kicks;
    uint256[] public active;

    struct Sale {
        uint256 pos;
        uint256 tab;  // DAI to raise [rad]
        uint256 lot;  // gem to sell [wad]
        address usr;  // the urn: receives the lot left once the tab is raised
        uint96 tic;  // auction start
        uint256 top;  // starting price [ray]
    }

    mapping(uint256 => Sale) public sales;

    event Kick(uint256 indexed id, uint256 top, uint256 tab, uint256 lot, address indexed usr,
               address indexed kpr, uint256 coin);
    event Take(uint256 indexed id, uint256 max, uint256 price, uint256 owe, uint256 tab, uint256 lot,
               address indexed usr);

    uint256 constant BLN = 10 ** 9;
    uint256 constant WAD = 10 ** 18;
    uint256 constant RAY = 10 ** 27;

    constructor(address vat_, address spotter_, address dog_, bytes32 ilk_) {
        vat = IDevnetMakerVatForClip(vat_);
        spotter = IDevnetMakerSpotterForClip(spotter_);
        dog = IDevnetMakerDogForClip(dog_);
        ilk = ilk_;
        buf = RAY;
        calc = address(this);
        wards[msg.sender] = 1;
    }

    function rely(address usr) external auth { wards[usr] = 1; }

    function file(bytes32 what, uint256 data) external auth {
        if (what == "buf") buf = data;
        else if (what == "tail") tail = data;
        else if (what == "cusp") cusp = data;
        else if (what == "step") step = data;
        else if (what == "cut") { require(data <= RAY, "Clipper/cut-gt-RAY"); cut = data; }
        else revert("Clipper/file-unrecognized-param");
    }

    function file(bytes32 what, address data) external auth {
        if (what == "vow") vow = data;
        else revert("Clipper/file-unrecognized-param");
    }

    function rmul(uint256 x, uint256 y) internal pure returns (uint256) { return x * y / RAY; }
    function rdiv(uint256 x, uint256 y) internal pure returns (uint256) { return x * RAY / y; }

    /// x^n in base b, rounding every product half up (the abacus's rpow).
    function rpow(uint256 x, uint256 n, uint256 b) internal pure returns (uint256 z) {
        if (n == 0) return b;
        if (x == 0) return 0;
        z = n % 2 == 0 ? b : x;
        uint256 half = b / 2;
        for (n = n / 2; n > 0; n = n / 2) {
            x = (x * x + half) / b;
            if (n % 2 == 1) z = (z * x + half) / b;
        }
    }

    /// StairstepExponentialDecrease: the price `dur` seconds after an auction started at `top`.
    function price(uint256 top, uint256 dur) public view returns (uint256) {
        return rmul(top, rpow(cut, dur / step, RAY));
    }

    function upchost() external {
        (,,,, uint256 dust) = vat.ilks(ilk);
        chost = dust * dog.chop(ilk) / WAD;
    }

    function feedPrice() internal view returns (uint256) {
        (address pip,) = spotter.ilks(ilk);
        (bytes32 val, bool has) = IDevnetMakerPipForClip(pip).peek();
        require(has, "Clipper/invalid-price");
        return rdiv(uint256(val) * BLN, spotter.par());
    }

    function kick(uint256 tab, uint256 lot, address usr, address kpr) external auth returns (uint256 id) {
        require(tab > 0, "Clipper/zero-tab");
        require(lot > 0, "Clipper/zero-lot");
        require(usr != address(0), "Clipper/zero-usr");
        id = ++kicks;
        active.push(id);
        uint256 top = rmul(feedPrice(), buf);
        require(top > 0, "Clipper/zero-top-price");
        sales[id] = Sale(active.length - 1, tab, lot, usr, uint96(block.timestamp), top);
        emit Kick(id, top, tab, lot, usr, kpr, 0);
    }

    function status(uint96 tic, uint256 top) internal view returns (bool done, uint256 p) {
        p = price(top, block.timestamp - tic);
        done = block.timestamp - tic > tail || rdiv(p, top) < cusp;
    }

    function take(uint256 id, uint256 amt, uint256 max, address who, bytes calldata data) external {
        require(data.length == 0, "Clipper/no-callee-on-devnet");
        Sale memory sale = sales[id];
        require(sale.usr != address(0), "Clipper/not-running-auction");
        (bool done, uint256 p) = status(sale.tic, sale.top);
        require(!done, "Clipper/needs-reset");
        require(max >= p, "Clipper/too-expensive");
        (uint256 owe, uint256 slice) = _purchase(sale.tab, sale.lot, amt, p);
        uint256 tab = sale.tab - owe;
        uint256 lot = sale.lot - slice;
        vat.flux(ilk, address(this), who, slice);
        vat.move(msg.sender, vow, owe);
        dog.digs(ilk, lot == 0 ? tab + owe : owe);
        if (lot == 0) {
            _remove(id);
        } else if (tab == 0) {
            vat.flux(ilk, address(this), sale.usr, lot);
            _remove(id);
        } else {
            sales[id].tab = tab;
            sales[id].lot = lot;
        }
        emit Take(id, max, p, owe, tab, lot, sale.usr);
    }

    /// (DAI owed, gem bought) of a take of up to `amt` at price `p`: never more than the tab,
    /// and a partial purchase leaves at least chost to raise.
    function _purchase(uint256 tab, uint256 lot, uint256 amt, uint256 p)
        internal view returns (uint256 owe, uint256 slice)
    {
        slice = lot < amt ? lot : amt;
        owe = slice * p;
        if (owe > tab) {
            owe = tab;
            slice = owe / p;
        } else if (owe < tab && slice < lot && tab - owe < chost) {
            require(tab > chost, "Clipper/no-partial-purchase");
            owe = tab - chost;
            slice = owe / p;
        }
    }

    function _remove(uint256 id) internal {
        uint256 last = active[active.length - 1];
        if (id != last) {
            uint256 pos = sales[id].pos;
            active[pos] = last;
            sales[last].pos = pos;
        }
        active.pop();
        delete sales[id];
    }

    function count() external view returns (uint256) { return active.length; }

    function list() external view returns (uint256[] memory) { return active; }

    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab) {
        Sale memory sale = sales[id];
        bool done;
        (done, price) = status(sale.tic, sale.top);
        needsRedo = sale.usr != address(0) && done;
        lot = sale.lot;
        tab = sale.tab;
    }
}
