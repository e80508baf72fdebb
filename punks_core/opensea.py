"""OpenSea API v2 client for the CryptoPunks collection.

`OpenSeaClient` makes the few calls the lab needs (the collection listing, one NFT, its best
listing and last sale, an image download) and sends every one of them through one method,
`Transport.call` in `punks_core.opensea_transport`, in the manner of spotipy's
`_internal_call`: it bounds each call in time and size, retries 429s and 5xx (honouring
`Retry-After` up to a cap) and maps every failure onto `OpenSeaError` with a message a person
can act on. The API key travels only in the `x-api-key` header of calls to the API's own
address; it is never logged, never put in a message and never shown by `repr`.

Built on the client: `opensea_traits` (traits -> the 92 labels), `opensea_summary` (what the
app shows about one punk) and `opensea_fetch` (the resumable `opensea-fetch` dataset builder).
"""

import itertools
import json
import logging
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests

from punks_core.constants import CRYPTOPUNKS_CONTRACT, N_PUNKS, OPENSEA_API_URL, OPENSEA_KEY_ENV
from punks_core.errors import OpenSeaError
from punks_core.opensea_transport import OnWait, Transport, snippet

API_URL = OPENSEA_API_URL
API_KEY_ENV = OPENSEA_KEY_ENV
COLLECTION_SLUG = "cryptopunks"
CHAIN = "ethereum"
CONTRACT = CRYPTOPUNKS_CONTRACT
NO_KEY_MESSAGE = f"no API key: get one at https://docs.opensea.io/ and set {API_KEY_ENV}"
MAX_PAGE_SIZE = 200
# A punk image is a few kilobytes; anything far larger is not one, and is not worth downloading.
MAX_IMAGE_BYTES = 8 * 2**20
# A page of 200 NFTs is about 150 KB of JSON. The cap also bounds what parsing can cost: 2 MB
# of `[{},{},...]` parses into about 50 MB of Python objects, the worst case measured.
MAX_API_BYTES = 2 * 2**20

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


def redact_all(client: OpenSeaClient, value: Any) -> Any:
    """`value` with the API key redacted from every string in it, lists and dicts included."""
    if isinstance(value, str):
        return client.redact(value)
    if isinstance(value, list):
        return [redact_all(client, item) for item in value]
    if isinstance(value, dict):
        return {name: redact_all(client, item) for name, item in value.items()}
    return value
