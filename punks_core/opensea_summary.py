"""What the app's detail view shows about one punk on OpenSea, as plain values.

`nft_summary` makes three calls through the client (the NFT, its best listing, its last sale)
and turns them into short strings: `format_amount` ("12.5 ETH"), `shorten_address`
("0x1234…cdef"). A failed listing or sale call becomes a warning, not a failure.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from punks_core.errors import OpenSeaError
from punks_core.opensea import OpenSeaClient, redact_all


def format_amount(quantity: Any, decimals: Any, symbol: Any) -> str | None:
    """A token amount for people: ("12500000000000000000", 18, "ETH") -> "12.5 ETH".

    Returns None when the amount is missing or not a number. At most 6 decimals are shown.
    """
    try:
        value = Decimal(str(quantity)) / (Decimal(10) ** int(decimals))
    except (InvalidOperation, ValueError, TypeError, ArithmeticError):
        return None
    if not value.is_finite() or value.adjusted() > 30:
        return None
    value = value.quantize(Decimal("0.000001"))
    text = format(value.normalize(), "f")
    unit = str(symbol).strip() if symbol else ""
    return f"{text} {unit}".strip()


def shorten_address(address: Any) -> str | None:
    """ "0x1234567890abcdef..." -> "0x1234…cdef"; None when there is no address."""
    if not isinstance(address, str) or not address:
        return None
    return address if len(address) <= 12 else f"{address[:6]}…{address[-4:]}"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def nft_summary(client: OpenSeaClient, identifier: int | str) -> dict[str, Any]:
    """What the app's detail view shows about one punk on OpenSea, as plain values.

    Makes three calls (the NFT, its best listing, its last sale). Missing fields become None;
    a failed listing or sale call is reported in `warnings` instead of failing the summary.

    Args:
        client: the OpenSea client (with an API key).
        identifier: the punk id.

    Returns:
        A dict with `identifier` (str), `name`, `image_url`, `opensea_url` (str or None),
        `traits` (list of "trait_type: value"), `owner` (first owner's address shortened, e.g.
        "0x1234…cdef", or None), `best_listing` and `last_sale` (e.g. "12.5 ETH", or None when
        OpenSea knows of none: CryptoPunks trade mostly on their own contract) and `warnings`
        (list of messages).

    Raises:
        OpenSeaError: the NFT itself could not be fetched (no key, bad key, network, 404...).
    """
    nft = client.get_nft(identifier)
    traits = nft.get("traits") if isinstance(nft.get("traits"), list) else []
    owners = nft.get("owners") if isinstance(nft.get("owners"), list) else []
    summary: dict[str, Any] = {
        "identifier": str(nft.get("identifier", identifier)),
        "name": _text(nft.get("name")),
        "image_url": _text(nft.get("image_url")) or _text(nft.get("display_image_url")),
        "opensea_url": _text(nft.get("opensea_url")),
        "traits": [
            f"{_dict(t).get('trait_type', '?')}: {_dict(t).get('value', '?')}"
            for t in traits
            if isinstance(t, dict)
        ],
        "owner": shorten_address(_dict(owners[0]).get("address")) if owners else None,
        "best_listing": None,
        "last_sale": None,
        "warnings": [],
    }
    try:
        listing = client.get_best_listing(identifier)
        price = _dict(_dict(_dict(listing).get("price")).get("current"))
        summary["best_listing"] = format_amount(
            price.get("value"), price.get("decimals", 18), price.get("currency")
        )
    except OpenSeaError as error:
        summary["warnings"].append(f"best listing unknown: {error}")
    try:
        sale = client.get_last_sale(identifier)
        payment = _dict(_dict(sale).get("payment"))
        summary["last_sale"] = format_amount(
            payment.get("quantity"), payment.get("decimals", 18), payment.get("symbol")
        )
    except OpenSeaError as error:
        summary["warnings"].append(f"last sale unknown: {error}")
    return redact_all(client, summary)  # a server could echo the key in any field
