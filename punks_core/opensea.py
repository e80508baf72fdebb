"""OpenSea API v2 client, trait-to-label mapping, and the resumable dataset builder.

`OpenSeaClient` keeps every transport decision in one place, in the manner of spotipy's client:
one `requests.Session` with a retrying adapter (429 and 5xx, honouring `Retry-After` up to a cap),
a timeout on every call, and one `_get` that maps every failure onto `OpenSeaError` with a message
a person can act on. The API key travels only in the `x-api-key` header of calls to the API's own
address; it is never logged, never put in a message and never shown by `repr`.

`fetch_dataset` (the `opensea-fetch` command) lists the collection, takes each punk's traits and
image, and writes a dataset folder that `punks_core.dataset.load_punks` reads. Each punk is
appended to a journal as soon as it is fetched, so a killed run loses nothing and a second run
fetches nothing twice.
"""

import base64
import json
import logging
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from punks_core.dataset import (
    ATLAS_COLUMNS,
    ATLAS_FILE,
    LABELS_FILE,
    N_PUNKS,
    PUNK_SIZE,
    load_punks,
    write_atlas,
    write_labels,
)
from punks_core.errors import InvalidImageError, OpenSeaError
from punks_core.labels import ACCESSORIES, LABELS, TYPES, canonical_label

API_URL = "https://api.opensea.io"
API_KEY_ENV = "OPENSEA_API_KEY"
COLLECTION_SLUG = "cryptopunks"
CHAIN = "ethereum"
CONTRACT = "0xb47e3cd837dDF8e4c57F05d70Ab865de6e193BBB"
NO_KEY_MESSAGE = f"no API key: get one at https://docs.opensea.io/ and set {API_KEY_ENV}"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_PAGE_SIZE = 200
# A punk image is a few kilobytes; anything far larger is not one, and is not worth downloading.
MAX_IMAGE_BYTES = 8 * 2**20
JOURNAL_FILE = "opensea-fetch.journal"

log = logging.getLogger(__name__)


class _CappedRetry(Retry):
    """urllib3's Retry, with a Retry-After wait that never exceeds `retry_after_max`.

    urllib3 parses both forms of the header (seconds, HTTP date); the cap is applied here again
    so that it holds whatever urllib3 version is installed, and a header that cannot be parsed
    falls back to the exponential backoff instead of aborting the call.
    """

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            seconds = super().parse_retry_after(retry_after)
        except InvalidHeader:
            return 0.0  # urllib3 then sleeps its own backoff
        return min(seconds, self.retry_after_max)


class OpenSeaClient:
    """A small client for the OpenSea API v2, for the CryptoPunks collection.

    Args:
        api_key: the OpenSea API key, sent only in the `x-api-key` header. Without one, every
            API call raises `OpenSeaError` before anything is sent.
        base_url: the API's address (a local stand-in in tests).
        timeout: seconds to wait for a connection and for each read, on every call.
        max_retries: how many times a call is retried after a connection error, a timeout, a
            429 or a 5xx answer (GET only), with exponential backoff; a `Retry-After` header
            (seconds or an HTTP date) is honoured, capped at `retry_after_max` seconds.
        session: a `requests.Session` to use as is (its adapters then decide about retries);
            by default the client builds its own, with the retrying adapter mounted.

    Class attributes (read by the constructor, so tests can make them small):
        retry_after_max: the longest wait, in seconds, that a `Retry-After` header can impose.
        backoff_factor: the backoff between retries without `Retry-After` is
            `backoff_factor * 2 ** (retry - 1)` seconds (none before the first retry).
    """

    retry_after_max: float = 60.0
    backoff_factor: float = 0.5

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = API_URL,
        timeout: float = 10,
        max_retries: int = 5,
        session: requests.Session | None = None,
    ) -> None:
        key = (api_key or "").strip() or None
        if key is not None and not re.fullmatch(r"[\x21-\x7e]+", key):
            raise OpenSeaError(
                f"the API key contains spaces or unusual characters; check {API_KEY_ENV}"
            )
        self._api_key = key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        if session is None:
            retry = _CappedRetry(
                total=max_retries,
                backoff_factor=self.backoff_factor,
                status_forcelist=RETRY_STATUSES,
                allowed_methods=frozenset({"GET"}),
                respect_retry_after_header=True,
                retry_after_max=self.retry_after_max,
                # The last answer comes back as it is, so its status, headers and message can
                # be reported instead of urllib3's bare "too many 503 error responses".
                raise_on_status=False,
            )
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session

    @property
    def has_key(self) -> bool:
        return self._api_key is not None

    def __repr__(self) -> str:
        key = "set" if self._api_key else "not set"
        return f"OpenSeaClient(base_url={self.base_url!r}, api key {key})"

    # --- transport ----------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path; return the parsed JSON or raise OpenSeaError."""
        if self._api_key is None:
            raise OpenSeaError(NO_KEY_MESSAGE)
        headers = {"x-api-key": self._api_key, "accept": "application/json"}
        log.debug("GET %s %s", path, params or "")
        try:
            # Redirects are not followed: requests would forward x-api-key to any host.
            response = self.session.get(
                self.base_url + path,
                params=params,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise self._network_error(error, "OpenSea") from None
        if response.status_code >= 300:
            raise self._http_error(response)
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):
            raise OpenSeaError(
                f"OpenSea sent an answer that is not valid JSON (HTTP {response.status_code}, "
                f"{response.headers.get('content-type', 'no content type')}): "
                f"{self._snippet(response.text)!r}; try again later",
                headers=response.headers,
            ) from None

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _snippet(self, text: str, length: int = 200) -> str:
        text = " ".join(self._redact(text).split())
        return text if len(text) <= length else text[: length - 1] + "…"

    def _server_message(self, response: requests.Response) -> str:
        """The message in an error body: `{"errors": [...]}`, `{"detail": ...}`, or its text."""
        try:
            body = json.loads(response.content)
        except (ValueError, RecursionError):
            return self._snippet(response.text)
        if isinstance(body, dict):
            if isinstance(body.get("errors"), list) and body["errors"]:
                return self._snippet("; ".join(str(item) for item in body["errors"]))
            for name in ("detail", "message", "error", "errors"):
                if body.get(name):
                    return self._snippet(str(body[name]))
        return self._snippet(response.text)

    def _http_error(self, response: requests.Response, what: str = "OpenSea") -> OpenSeaError:
        status = response.status_code
        message = self._server_message(response) or response.reason or "no message"
        retried = f" after {self.max_retries} retries" if self.max_retries else ""
        if status in (401, 403):
            text = (
                f"{what} rejected the API key ({status}): {message} — set {API_KEY_ENV} to a "
                "valid key"
            )
        elif status == 404:
            text = f"{what} has nothing at {urlsplit(response.url).path} (404): {message}"
        elif status == 429:
            text = (
                f"{what} is limiting the request rate (429) and still was{retried}: {message} "
                "— wait a minute and try again"
            )
        elif status >= 500:
            text = f"{what} had a server error ({status}){retried}: {message} — try again later"
        elif 300 <= status < 400:
            text = (
                f"{what} redirected the call ({status}) to {response.headers.get('location')!r}; "
                "not followed, so that the API key goes nowhere else — check --base-url"
            )
        else:
            text = f"{what} refused the call ({status}): {message}"
        return OpenSeaError(text, status=status, headers=response.headers)

    def _network_error(self, error: requests.RequestException, what: str) -> OpenSeaError:
        reason: object = error
        if error.args and isinstance(error.args[0], MaxRetryError):
            reason = error.args[0].reason
        retried = f" (tried {self.max_retries + 1} times)" if self.max_retries else ""
        # urllib3's NewConnectionError (refused, no route, DNS) subclasses ConnectTimeoutError.
        timed_out = isinstance(error, requests.Timeout) or isinstance(
            reason, ReadTimeoutError | ConnectTimeoutError | TimeoutError
        )
        if timed_out and not isinstance(reason, NewConnectionError):
            return OpenSeaError(
                f"{what} did not answer within {self.timeout:g} s{retried} — check your "
                "connection or try again later"
            )
        where = self.base_url if what == "OpenSea" else "the image's address"
        return OpenSeaError(
            f"could not reach {what} at {where}{retried}: {self._snippet(str(reason), 300)} — "
            "check your connection"
        )

    # --- API calls ----------------------------------------------------------------------------

    def iter_collection_nfts(
        self, slug: str = COLLECTION_SLUG, limit: int = MAX_PAGE_SIZE
    ) -> Iterator[dict]:
        """Yield every NFT of a collection, page by page, in OpenSea's listing order.

        The listing order is not the token id order. Entries that are not JSON objects are
        skipped; an entry's `name`, `image_url` and `traits` may be missing or null.

        Args:
            slug: the collection's OpenSea slug.
            limit: NFTs per page, 1 to 200.

        Raises:
            OpenSeaError: a call failed, a page is not `{"nfts": [...]}`, or OpenSea sent the
                same `next` cursor twice (which would otherwise loop forever).
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
        path = f"/api/v2/collection/{quote(slug, safe='')}/nfts"
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params["next"] = cursor
            page = self._get(path, params)
            nfts = page.get("nfts") if isinstance(page, dict) else None
            if not isinstance(nfts, list):
                raise OpenSeaError(
                    "OpenSea sent a collection page without an `nfts` list; the API may have "
                    "changed"
                )
            yield from (nft for nft in nfts if isinstance(nft, dict))
            cursor = page.get("next")
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise OpenSeaError(
                    f"OpenSea sent the page cursor {self._snippet(str(cursor), 40)!r} twice; "
                    "stopped so that the listing does not loop forever"
                )
            seen.add(cursor)

    def get_nft(self, identifier: int | str) -> dict:
        """One CryptoPunk's NFT record: `name`, `image_url`, `opensea_url`, `traits`, `owners`...

        Raises:
            OpenSeaError: the call failed (status 404: no such token), or the answer is not
                `{"nft": {...}}`.
        """
        body = self._get(f"/api/v2/chain/{CHAIN}/contract/{CONTRACT}/nfts/{_segment(identifier)}")
        nft = body.get("nft") if isinstance(body, dict) else None
        if not isinstance(nft, dict):
            raise OpenSeaError(
                f"OpenSea's answer for NFT {_segment(identifier)} has no `nft` object; the API "
                "may have changed"
            )
        return nft

    def get_best_listing(self, identifier: int | str, slug: str = COLLECTION_SLUG) -> dict | None:
        """The cheapest current listing of a punk on OpenSea, or None when there is none.

        CryptoPunks trade mostly on their own contract, so None is the common answer.
        """
        try:
            path = f"/api/v2/listings/collection/{quote(slug, safe='')}/nfts/{_segment(identifier)}"
            body = self._get(path + "/best")
        except OpenSeaError as error:
            if error.status == 404:
                return None
            raise
        return body if isinstance(body, dict) and body.get("price") else None

    def get_last_sale(self, identifier: int | str) -> dict | None:
        """The most recent sale event of a punk on OpenSea (`payment`, `event_timestamp`...),
        or None when OpenSea knows of none."""
        try:
            body = self._get(
                f"/api/v2/events/chain/{CHAIN}/contract/{CONTRACT}/nfts/{_segment(identifier)}",
                {"event_type": "sale", "limit": 1},
            )
        except OpenSeaError as error:
            if error.status == 404:
                return None
            raise
        events = body.get("asset_events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return None
        sales = [e for e in events if isinstance(e, dict) and e.get("event_type", "sale") == "sale"]
        return sales[0] if sales else None

    def download_image(self, url: str) -> bytes:
        """Download an NFT image with the client's session and timeout, without the API key.

        Raises:
            OpenSeaError: the address is not http(s), the download failed, or the file is larger
                than `MAX_IMAGE_BYTES`.
        """
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise OpenSeaError(f"the image address {str(url)[:80]!r} is not an http(s) address")
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as response:
                if response.status_code >= 300:
                    raise OpenSeaError(
                        f"the image server answered {response.status_code} for {url[:80]}: "
                        f"{self._server_message(response) or response.reason}",
                        status=response.status_code,
                        headers=response.headers,
                    )
                data = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > MAX_IMAGE_BYTES:
                        raise OpenSeaError(
                            f"the image at {url[:80]} is larger than "
                            f"{MAX_IMAGE_BYTES // 2**20} MB; it is not a punk image",
                            status=response.status_code,
                        )
                return bytes(data)
        except requests.RequestException as error:
            raise self._network_error(error, "the image server") from None


def _segment(identifier: int | str) -> str:
    return quote(str(identifier), safe="")


# --- traits -> labels ---------------------------------------------------------------------------


def _compact(text: str) -> str:
    """Lower case, letters and digits only: "3D Glasses", "3d-glasses", "3DGlasses" agree."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


_TYPE_BY_KEY = {_compact(name): name for name in TYPES}
_ACCESSORY_BY_KEY = {_compact(name): name for name in ACCESSORIES}
_TYPE_TRAITS = frozenset({"type"})
_ACCESSORY_TRAITS = frozenset({"accessory", "accessories"})


def _trait_label(table: dict[str, str], value: str) -> str | None:
    label = canonical_label(value)
    if label is not None and _compact(label) in table:
        return label
    return table.get(_compact(value))


def traits_to_labels(traits: Any) -> tuple[dict[str, int], list[str]]:
    """Map OpenSea traits onto the 92 labels.

    Trait types `type` and `accessory` are matched ignoring case; values ignoring case, spaces
    and punctuation, so "3D Glasses", "3d glasses" and "3DGlasses" are one label, as are "Do-rag"
    and "Do Rag". Trait types about counts ("Accessory Count", ...) carry no label and are
    ignored. Anything else is returned as unknown rather than raising.

    Args:
        traits: the `traits` of an OpenSea NFT: a list of `{"trait_type": ..., "value": ...}`;
            None, a missing value or any malformed content is tolerated.

    Returns:
        (labels, unknown): `labels` maps every name in `LABELS` to 0 or 1; `unknown` lists the
        traits that match no label, as "trait_type: value".
    """
    labels = dict.fromkeys(LABELS, 0)
    unknown: list[str] = []
    if not isinstance(traits, list):
        return labels, unknown
    for trait in traits:
        if not isinstance(trait, dict):
            unknown.append(repr(trait)[:80])
            continue
        kind = str(trait.get("trait_type", "")).strip()
        value = trait.get("value")
        value = "" if value is None else str(value).strip()
        if "count" in kind.lower():
            continue
        if kind.lower() in _TYPE_TRAITS:
            label = _trait_label(_TYPE_BY_KEY, value)
        elif kind.lower() in _ACCESSORY_TRAITS:
            label = _trait_label(_ACCESSORY_BY_KEY, value)
        else:
            label = None
        if label is None:
            unknown.append(f"{kind}: {value}"[:80])
        else:
            labels[label] = 1
    return labels, unknown


# --- the app's detail view ----------------------------------------------------------------------


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
    return summary


# --- the dataset builder ------------------------------------------------------------------------


@dataclass
class FetchReport:
    """What one `fetch_dataset` run did.

    Attributes:
        out: the dataset folder.
        had: punks already in the folder (or its journal) when the run started.
        fetched: ids fetched and saved by this run.
        skipped: id -> why, for punks not saved (retried by the next run).
        not_listed: how many wanted ids the collection listing did not contain.
        unknown_traits: trait -> how many punks had it, for traits matching no label.
    """

    out: Path
    had: int = 0
    fetched: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    not_listed: int = 0
    unknown_traits: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.had + len(self.fetched)

    def summary(self) -> str:
        lines = [
            f"{self.out}: {self.total} punks ({self.had} already there, {len(self.fetched)} "
            f"fetched now)."
        ]
        if self.skipped:
            lines.append(f"{len(self.skipped)} skipped (run again to retry them):")
            lines += [f"  #{k}: {why}" for k, why in sorted(self.skipped.items())[:20]]
            if len(self.skipped) > 20:
                lines.append(f"  ... and {len(self.skipped) - 20} more")
        if self.not_listed:
            lines.append(f"{self.not_listed} wanted ids are not in OpenSea's collection listing.")
        if self.unknown_traits:
            known = ", ".join(f"{t!r} x{n}" for t, n in self.unknown_traits.most_common(10))
            lines.append(f"traits that match no label (not written): {known}")
        return "\n".join(lines)


class _Progress:
    """A one-line progress bar on stderr.

    Importing Keras for `keras.utils.Progbar` costs seconds (it loads TensorFlow), more than a
    short fetch takes; this prints the same information: count, bar, rate, time left.
    """

    def __init__(self, total: int, stream=None, width: int = 30) -> None:
        self.total, self.width, self.done = total, width, 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.last_line = -1.0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.monotonic()
        # Without a terminal, one line every 10 s (and the last) keeps logs short.
        if not self.tty and done < self.total and now - self.last_line < 10:
            return
        self.last_line = now
        share = done / self.total if self.total else 1.0
        filled = int(self.width * share)
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", {math.ceil((self.total - done) / rate)} s left" if rate and done else ""
        line = (
            f"{done}/{self.total} [{'=' * filled}{'.' * (self.width - filled)}] "
            f"{rate:.1f} punks/s{left}{note}"
        )
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        if self.tty and done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _punk_id(identifier: Any) -> int | None:
    try:
        value = int(str(identifier))
    except ValueError:
        return None
    return value if 0 <= value < N_PUNKS else None


def _place(atlas: np.ndarray, punk_id: int, image: np.ndarray) -> None:
    row, column = divmod(punk_id, ATLAS_COLUMNS)
    top, left = row * PUNK_SIZE, column * PUNK_SIZE
    atlas[top : top + PUNK_SIZE, left : left + PUNK_SIZE] = image


class _Store:
    """The dataset folder being built: atlas and labels in memory, a journal on disk.

    Each saved punk is appended to the journal at once (a line of JSON, flushed), and the
    atlas and labels files are rewritten (atomically) every few punks and at the end, after
    which the journal is emptied. On start, the folder's dataset and journal are read back, so a
    run killed at any point loses nothing that was fetched.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        side = N_PUNKS // ATLAS_COLUMNS * PUNK_SIZE
        self.atlas = np.zeros((side, side, 4), np.uint8)
        self.labels: dict[int, np.ndarray] = {}
        self.unsaved = 0
        # Labels are written after the atlas: an atlas without labels is a first save cut
        # short, whose punks are all still in the journal.
        if (out / LABELS_FILE).is_file():
            punks = load_punks(out)  # DatasetError if the folder is not a dataset
            for punk_id, image, row in zip(
                punks.ids, punks.images, punks.labels.to_numpy(np.uint8), strict=True
            ):
                _place(self.atlas, int(punk_id), image)
                self.labels[int(punk_id)] = row
        self.journal_path = out / JOURNAL_FILE
        if self.journal_path.is_file():
            for line in self.journal_path.read_text().splitlines():
                self._replay(line)
            self.unsaved = 1 if self.journal_path.stat().st_size else 0
        out.mkdir(parents=True, exist_ok=True)
        self.journal = self.journal_path.open("a")

    def _replay(self, line: str) -> None:
        try:
            entry = json.loads(line)
            pixels = np.frombuffer(base64.b64decode(entry["pixels"]), np.uint8)
            image = pixels.reshape(PUNK_SIZE, PUNK_SIZE, 4)
            row = np.array([int(name in entry["labels"]) for name in LABELS], np.uint8)
            punk_id = _punk_id(entry["id"])
        except (ValueError, KeyError, TypeError):
            return  # a line cut short by a kill: that punk is fetched again
        if punk_id is not None:
            _place(self.atlas, punk_id, image)
            self.labels[punk_id] = row

    def add(self, punk_id: int, image: np.ndarray, labels: dict[str, int]) -> None:
        names = [name for name, value in labels.items() if value]
        pixels = base64.b64encode(np.ascontiguousarray(image, np.uint8).tobytes()).decode()
        self.journal.write(json.dumps({"id": punk_id, "labels": names, "pixels": pixels}) + "\n")
        self.journal.flush()
        _place(self.atlas, punk_id, image)
        self.labels[punk_id] = np.array([labels[name] for name in LABELS], np.uint8)
        self.unsaved += 1

    def save(self) -> None:
        """Rewrite atlas then labels (so labels never name a punk the atlas lacks)."""
        if not self.unsaved:
            return
        ids = sorted(self.labels)
        table = pd.DataFrame(
            np.stack([self.labels[k] for k in ids]) if ids else np.zeros((0, len(LABELS))),
            index=pd.Index(ids, name="id"),
            columns=list(LABELS),
        )
        write_atlas(self.atlas, self.out / ATLAS_FILE)
        write_labels(table, self.out / LABELS_FILE)
        self.journal.truncate(0)
        self.journal.seek(0)
        self.unsaved = 0

    def close(self) -> None:
        self.journal.close()
        if self.journal_path.is_file() and not self.journal_path.stat().st_size:
            self.journal_path.unlink()


def fetch_dataset(
    client: OpenSeaClient,
    out: str | Path,
    count: int | None = None,
    *,
    slug: str = COLLECTION_SLUG,
    save_every: int = 500,
    progress: bool | Callable[[int, int], None] = False,
) -> FetchReport:
    """Build (or complete) a dataset folder from OpenSea: `python -m punks_core opensea-fetch`.

    Lists the collection; for each wanted punk not yet in `out`, takes its traits (from the
    listing, or from `get_nft` when the listing has none) and its image (`image_url`, decoded
    to exact pixels by `punks_core.imaging.load_image`), and saves it. A punk with no usable
    image or no known type is skipped and reported; the next run tries it again. Punks already
    in `out` are never fetched again, so a second run with a larger `count` fetches only the new
    ones, and a killed run loses nothing (see `_Store`).

    Args:
        client: the OpenSea client (with an API key).
        out: the dataset folder, read by `punks_core.dataset.load_punks(out)`.
        count: fetch punks #0 to #count-1 only (default: every punk in the listing). The
            listing stops as soon as all of them have been seen.
        slug: the collection's OpenSea slug.
        save_every: rewrite `punks.png` and `labels.csv` after this many new punks (each
            rewrite of the atlas takes a few seconds; the journal keeps the punks in between).
        progress: True for a progress bar on stderr, or a callable `(done, total)`.

    Returns:
        What was fetched, skipped and not understood.

    Raises:
        OpenSeaError: an API call failed in a way that stops the run (no key, rejected key,
            rate limit or server errors after all retries, network). What was fetched is saved.
        DatasetError: `out` holds files that are not a dataset.
    """
    if not client.has_key:
        raise OpenSeaError(NO_KEY_MESSAGE)  # before touching `out` or printing a progress bar
    out = Path(out)
    wanted = range(N_PUNKS if count is None else min(count, N_PUNKS))
    store = _Store(out)
    report = FetchReport(out, had=sum(1 for k in store.labels if k in wanted))
    remaining = {k for k in wanted if k not in store.labels}
    total = len(remaining)
    bar = _Progress(total) if progress is True else None

    def tick() -> None:
        done = len(report.fetched) + len(report.skipped)
        if bar:
            bar.update(done, f", {len(report.skipped)} skipped" if report.skipped else "")
        elif callable(progress):
            progress(done, total)

    def take(punk_id: int, nft: dict) -> None:
        traits = nft.get("traits")
        if not isinstance(traits, list) or not traits:
            nft = {**nft, **client.get_nft(punk_id)}
            traits = nft.get("traits")
        labels, unknown = traits_to_labels(traits)
        report.unknown_traits.update(unknown)
        types = [name for name in TYPES if labels[name]]
        if len(types) != 1:
            report.skipped[punk_id] = f"its traits name {len(types)} types, not one"
            return
        url = nft.get("image_url") or nft.get("display_image_url")
        if not url:
            report.skipped[punk_id] = "OpenSea gives no image_url"
            return
        from punks_core.imaging import load_image  # its palette loads on the first image

        try:
            image = load_image(client.download_image(url))
        except (OpenSeaError, InvalidImageError) as error:
            if isinstance(error, OpenSeaError) and error.status == 429:
                raise  # still rate-limited after every retry: going on would only hammer it
            report.skipped[punk_id] = f"image {str(url)[:80]}: {error}"
            return
        store.add(punk_id, image, labels)
        report.fetched.append(punk_id)
        if store.unsaved >= save_every:
            store.save()

    try:
        if remaining:
            tick()
            for nft in client.iter_collection_nfts(slug):
                punk_id = _punk_id(nft.get("identifier"))
                if punk_id not in remaining:
                    continue
                remaining.discard(punk_id)
                try:
                    take(punk_id, nft)
                except OpenSeaError as error:
                    if error.status != 404:
                        raise
                    report.skipped[punk_id] = str(error)
                tick()
                if not remaining:
                    break
        report.not_listed = len(remaining)
    finally:
        store.save()
        store.close()
    return report
