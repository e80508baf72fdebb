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
import contextlib
import itertools
import json
import logging
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import numpy as np
import pandas as pd
import requests

from punks_core.dataset import (
    ATLAS_COLUMNS,
    ATLAS_FILE,
    LABELS_FILE,
    N_PUNKS,
    PUNK_SIZE,
    find_punk,
    load_punks,
    write_atlas,
    write_labels,
)
from punks_core.errors import DatasetError, FolderInUseError, InvalidImageError, OpenSeaError
from punks_core.labels import ACCESSORIES, LABELS, TYPES, canonical_label
from punks_core.opensea_transport import OnWait, Transport, snippet

API_URL = "https://api.opensea.io"
API_KEY_ENV = "OPENSEA_API_KEY"
COLLECTION_SLUG = "cryptopunks"
CHAIN = "ethereum"
CONTRACT = "0xb47e3cd837dDF8e4c57F05d70Ab865de6e193BBB"
NO_KEY_MESSAGE = f"no API key: get one at https://docs.opensea.io/ and set {API_KEY_ENV}"
MAX_PAGE_SIZE = 200
# A punk image is a few kilobytes; anything far larger is not one, and is not worth downloading.
MAX_IMAGE_BYTES = 8 * 2**20
# A page of 200 NFTs is about 150 KB of JSON. The cap also bounds what parsing can cost: 2 MB
# of `[{},{},...]` parses into about 50 MB of Python objects, the worst case measured.
MAX_API_BYTES = 2 * 2**20
JOURNAL_FILE = "opensea-fetch.journal"
# Held (flock) for the whole of a fetch; kept afterwards, as deleting it would let a third run
# lock a new file while a second still holds the old one.
LOCK_FILE = "opensea-fetch.lock"

log = logging.getLogger(__name__)


class OpenSeaClient:
    """A small client for the OpenSea API v2, for the CryptoPunks collection.

    Every request, API call or image download, goes through one `Transport.call` (see
    `punks_core.opensea_transport`), which bounds it in time and size and retries it.

    Args:
        api_key: the OpenSea API key, sent only in the `x-api-key` header. Without one, every
            API call raises `OpenSeaError` before anything is sent.
        base_url: the API's address (a local stand-in in tests).
        timeout: the most seconds one attempt may take in all: connecting, the headers and the
            whole body (a server sending one byte a second fails after `timeout` seconds).
        max_retries: how many times a call is retried after a connection failure, a timeout, a
            cut-off answer, a 429 or a 5xx, with exponential backoff, or as long as a
            `Retry-After` header (seconds or an HTTP date) says.
        session: a `requests.Session` whose settings (proxies, certificates) to use; the client
            mounts its own adapter on it.
        max_wait: the most seconds one call spends waiting between attempts, in total. A
            `Retry-After` beyond what is left is not waited for: the call fails at once and
            says how long OpenSea asked for. So one call ends within `call_deadline` seconds.
        on_wait: a hook called with `(message, seconds)` before each wait, e.g. "OpenSea asked
            us to wait 30 s (rate limit); waiting…", for the CLI to print or the app to show.

    Class attributes (read by the constructor, so tests can make them small):
        backoff_factor: the wait before retry k without `Retry-After` is
            `backoff_factor * 2 ** (k - 1)` seconds.
    """

    backoff_factor: float = 0.5

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = API_URL,
        timeout: float = 10,
        max_retries: int = 5,
        session: requests.Session | None = None,
        max_wait: float = 60,
        on_wait: OnWait | None = None,
    ) -> None:
        key = (api_key or "").strip() or None
        if key is not None and not re.fullmatch(r"[\x21-\x7e]+", key):
            raise OpenSeaError(
                f"the API key contains spaces or unusual characters; check {API_KEY_ENV}"
            )
        self._api_key = key
        # The key as it may come back: as sent, and percent-encoded (a Location, a query).
        self._key_forms = sorted({key, quote(key, safe=""), quote_plus(key)}) if key else []
        self._api_url = base_url.rstrip("/")
        self.base_url = self.redact(self._api_url)  # for messages and repr
        self._transport = Transport(
            timeout=timeout,
            max_retries=max_retries,
            max_wait=max_wait,
            backoff_factor=self.backoff_factor,
            redact=self.redact,
            on_wait=on_wait,
            session=session,
            key_advice=f" — set {API_KEY_ENV} to a valid key",
        )
        self.session = self._transport.session

    @property
    def has_key(self) -> bool:
        return self._api_key is not None

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    @property
    def call_deadline(self) -> float:
        """The most seconds one call can take: every attempt's deadline plus `max_wait`."""
        return self._transport.call_deadline

    @property
    def on_wait(self) -> OnWait | None:
        return self._transport.on_wait

    @on_wait.setter
    def on_wait(self, hook: OnWait | None) -> None:
        self._transport.on_wait = hook

    def __repr__(self) -> str:
        key = "set" if self._api_key else "not set"
        return f"OpenSeaClient(base_url={self.base_url!r}, api key {key})"

    def redact(self, text: str) -> str:
        """`text` with the API key (as sent or percent-encoded) replaced by `***`."""
        for form in self._key_forms:
            text = text.replace(form, "***")
        return text

    # --- transport ----------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path; return the parsed JSON or raise OpenSeaError."""
        if self._api_key is None:
            raise OpenSeaError(NO_KEY_MESSAGE)
        headers = {"x-api-key": self._api_key, "accept": "application/json"}
        log.debug("GET %s %s", path, params or "")
        answer = self._transport.call(
            self._api_url + path,
            what="OpenSea",
            max_bytes=MAX_API_BYTES,
            headers=headers,
            params=params,
        )
        try:
            return json.loads(answer.body)
        except (ValueError, RecursionError):
            # Redacted before cut short: a cut could leave part of the key.
            kind = snippet(self.redact(answer.headers.get("content-type", "no content type")), 60)
            text = snippet(self.redact(answer.body.decode("utf-8", "replace")))
            raise OpenSeaError(
                f"OpenSea sent an answer that is not valid JSON (HTTP {answer.status}, "
                f"{kind}): {text!r}; try again later",
                headers={k: self.redact(v) for k, v in answer.headers.items()},
            ) from None

    # --- API calls ----------------------------------------------------------------------------

    def iter_collection_nfts(
        self, slug: str = COLLECTION_SLUG, limit: int = MAX_PAGE_SIZE, max_pages: int | None = None
    ) -> Iterator[dict]:
        """Yield every NFT of a collection, page by page, in OpenSea's listing order.

        The listing order is not the token id order. Entries that are not JSON objects are
        skipped; an entry's `name`, `image_url` and `traits` may be missing or null.

        Args:
            slug: the collection's OpenSea slug.
            limit: NFTs per page, 1 to 200.
            max_pages: the most pages to ask for; by default twice as many as 10,000 punks
                need, plus 10, so that a listing that never ends stops with an error.

        Raises:
            OpenSeaError: a call failed, a page is not `{"nfts": [...]}`, OpenSea sent the
                same `next` cursor twice, or more than `max_pages` pages.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
        if max_pages is None:
            max_pages = 2 * math.ceil(N_PUNKS / limit) + 10
        path = f"/api/v2/collection/{quote(slug, safe='')}/nfts"
        cursor: str | None = None
        seen: set[str] = set()
        for page_number in itertools.count(1):
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
                    f"OpenSea sent the page cursor {snippet(self.redact(str(cursor)), 40)!r} "
                    "twice; stopped so that the listing does not loop forever"
                )
            if page_number >= max_pages:
                raise OpenSeaError(
                    f"OpenSea's listing of {slug!r} did not end after {max_pages} pages of up "
                    f"to {limit} NFTs (more than a collection of {N_PUNKS:,} needs); stopped so "
                    "that it does not go on forever — try again later"
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
        """Download an NFT image, without the API key, within the client's deadline.

        Redirects are followed (up to 5), each hop within the same deadline.

        Raises:
            OpenSeaError: the address is not http(s) or holds the API key, the download failed,
                or the file is larger than `MAX_IMAGE_BYTES`.
        """
        shown = self.redact(str(url))[:80]
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise OpenSeaError(f"the image address {shown!r} is not an http(s) address")
        if self.redact(url) != url:
            raise OpenSeaError(
                f"the image address {shown!r} holds the API key; not fetched, so that the key "
                "goes nowhere else"
            )
        answer = self._transport.call(
            url, what="the image server", max_bytes=MAX_IMAGE_BYTES, follow_redirects=True
        )
        return answer.body


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
    return _redact_all(client, summary)  # a server could echo the key in any field


def _redact_all(client: OpenSeaClient, value: Any) -> Any:
    if isinstance(value, str):
        return client.redact(value)
    if isinstance(value, list):
        return [_redact_all(client, item) for item in value]
    if isinstance(value, dict):
        return {name: _redact_all(client, item) for name, item in value.items()}
    return value


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
        not_original: ids saved whose image matches none of the 10,000 original punks.
    """

    out: Path
    had: int = 0
    fetched: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    not_listed: int = 0
    unknown_traits: Counter = field(default_factory=Counter)
    not_original: list[int] = field(default_factory=list)

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
        if self.not_original:
            ids = ", ".join(f"#{k}" for k in sorted(self.not_original)[:20])
            lines.append(
                f"{len(self.not_original)} saved images match none of the 10,000 original punks "
                f"(saved as OpenSea serves them): {ids}"
            )
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
        FolderInUseError: another fetch is writing to `out` (it holds `out/opensea-fetch.lock`).
    """
    if not client.has_key:
        raise OpenSeaError(NO_KEY_MESSAGE)  # before touching `out` or printing a progress bar
    out = Path(out)
    with _exclusive(out):
        return _fetch_into(client, out, count, slug, save_every, progress)


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder `out` for one fetch; refuse at once if taken.

    Two fetches into one folder would each rewrite the atlas and labels from their own memory,
    and the last one to save would drop the other's punks. The lock is released when the file is
    closed, also when the process is killed.
    """
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file, not a folder: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK_FILE).open("a+") as handle:
        try:
            _lock(handle.fileno())
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise FolderInUseError(
                f"another opensea-fetch{who} is writing to {out}; wait for it to finish (it "
                "resumes where it is, so nothing is lost) or fetch into another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def _lock(fd: int) -> None:
    """Lock the open file `fd` exclusively without waiting; OSError when another holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _original_id(image: np.ndarray, claimed: int) -> int | None:
    """Which of the 10,000 original punks `image` is (`claimed` first: the usual answer)."""
    originals = load_punks()
    if np.array_equal(originals.images[originals.row(claimed)], image):
        return claimed
    return find_punk(originals, image)


def _fetch_into(client, out, count, slug, save_every, progress) -> FetchReport:
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
        # Redacted before traits_to_labels cuts unknown traits short (a cut could split the key).
        labels, unknown = traits_to_labels(_redact_all(client, traits))
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
            report.skipped[punk_id] = f"image {client.redact(str(url))[:80]}: {error}"
            return
        original = _original_id(image, punk_id)
        if original is not None and original != punk_id:
            report.skipped[punk_id] = (
                f"OpenSea's image for #{punk_id} is punk #{original}: not saved"
            )
            return
        if original is None:
            report.not_original.append(punk_id)
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
