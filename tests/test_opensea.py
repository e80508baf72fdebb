"""The OpenSea client and `opensea-fetch`, against a local stand-in for the API on 127.0.0.1.

The stand-in is a real HTTP server in a thread (no mocked session): it serves a small in-memory
"collection" of real punks from the shipped dataset, their images as PNG upscaled x10 on punk
blue, and whatever failures a test scripts (429, 5xx, bad JSON, slow answers, bad keys).
"""

import email.utils
import io
import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from punks_core import imaging
from punks_core.__main__ import main
from punks_core.dataset import load_punks
from punks_core.errors import InvalidImageError, OpenSeaError
from punks_core.labels import LABELS
from punks_core.opensea import CONTRACT, NO_KEY_MESSAGE, OpenSeaClient
from punks_core.opensea_fetch import JOURNAL_FILE, fetch_dataset
from punks_core.opensea_summary import format_amount, nft_summary
from punks_core.opensea_traits import traits_to_labels

REPO = Path(__file__).resolve().parent.parent
KEY = "sk-TEST-7f3a9c1e-do-not-leak-4b2d"
NFT_PATH = f"/api/v2/chain/ethereum/contract/{CONTRACT}/nfts/"
LIST_PATH = "/api/v2/collection/cryptopunks/nfts"
# Ids 0-11, then punks with a VR headset, 3D glasses, a vape (smoke) and an alien.
COLLECTION_IDS = [*range(12), 32, 67, 83, 635]
LISTING_ORDER = [7, 32, 2, 11, 0, 635, 5, 9, 3, 67, 1, 10, 6, 83, 4, 8]  # not id order
SCALE = 10


class FastClient(OpenSeaClient):
    """Tiny waits, so retries cost milliseconds unless a test asks for Retry-After."""

    backoff_factor = 0.001

    def __init__(self, *args, max_wait: float = 3.0, **options) -> None:
        super().__init__(*args, max_wait=max_wait, **options)


def encode_punk(image: np.ndarray) -> bytes:
    """A punk as the web shows it: RGB on punk blue, upscaled x10, PNG."""
    rgb = imaging.zoom(imaging.composite(image[None])[0], SCALE)
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def exact_decoder(images: np.ndarray):
    """A stand-in for `load_image` that is exact for the images served here, and fast.

    The real decoder builds its palette index on first use (30 s or more on a busy machine);
    one test below runs it for real. This one reads each cell's centre and looks the punk up
    among `images`, the (N, 24, 24, 4) punks being served.
    """
    table = {np.ascontiguousarray(c).tobytes(): k for k, c in enumerate(imaging.composite(images))}

    def decode(data: bytes) -> np.ndarray:
        try:
            rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        except Exception as error:
            raise InvalidImageError(f"unreadable: {error}") from error
        cells = np.ascontiguousarray(rgb[SCALE // 2 :: SCALE, SCALE // 2 :: SCALE])
        k = table.get(cells.tobytes())
        if k is None:
            raise InvalidImageError("not one of the served punks")
        return images[k].copy()

    return decode


def opensea_traits(punks, punk_id: int) -> list[dict]:
    """The punk's labels as OpenSea traits, in varied spellings and cases."""
    row = punks.labels.loc[punk_id]
    names = [name for name in LABELS if row[name]]
    spellings = {"3D Glasses": "3d glasses", "Do-rag": "Do Rag", "VR": "vr"}
    traits = [{"trait_type": "Type" if punk_id % 2 else "type", "value": names[0]}]
    for k, name in enumerate(names[1:]):
        value = spellings.get(name, name.upper() if k % 2 else name)
        traits.append({"trait_type": "accessory", "value": value, "display_type": None})
    traits.append({"trait_type": "Accessory Count", "value": len(names) - 1})
    return traits


def serve(handler: type, **attributes) -> tuple[ThreadingHTTPServer, str]:
    """A threaded HTTP server on 127.0.0.1 (attributes set on it for `handler`), and its URL.

    It serves from a daemon thread at once; close it with `shutdown()` and `server_close()`.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # clients that gave up
    for name, value in attributes.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class FakeOpenSea:
    """The stand-in's state: the collection, scripted answers, and what it was asked."""

    def __init__(self, punks) -> None:
        self.punks = punks
        self.server, self.url = serve(_Handler, fake=self)
        self.images = {k: encode_punk(punks.images[punks.row(k)]) for k in COLLECTION_IDS}
        self.nfts = {k: self._nft(k) for k in COLLECTION_IDS}
        self.order = list(LISTING_ORDER)
        self.page_size = 4
        self.repeat_cursor = False
        self.script: list[tuple[int, dict, bytes]] = []
        self.override: bytes | None = None  # served for every API call when set
        self.extra: dict[str, object] = {}  # path -> JSON body, for listings and events
        self.delay = 0.0
        self.stall_after_images: int | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, dict]] = []  # (path, query, headers) of every request
        self.served: Counter = Counter()  # path -> complete answers

    def _nft(self, k: int) -> dict:
        return {
            "identifier": str(k),
            "collection": "cryptopunks",
            "contract": CONTRACT.lower(),
            "name": f"CryptoPunk #{k}",
            "image_url": f"{self.url}/img/{k}.png",
            "opensea_url": f"https://opensea.io/assets/ethereum/{CONTRACT.lower()}/{k}",
            "updated_at": "2026-11-23T12:00:00",
            "traits": opensea_traits(self.punks, k),
            "owners": [{"address": "0xb88f61e6fbda83fbfffabe364112137480398018", "quantity": 1}],
        }

    def hits(self, prefix: str) -> Counter:
        with self.lock:
            return Counter({p: n for p, n in self.served.items() if p.startswith(prefix)})

    def api_requests(self) -> list:
        return [s for s in self.seen if s[0].startswith("/api/")]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        path = urlsplit(self.path).path
        with self.server.fake.lock:
            self.server.fake.served[path] += 1

    def _json(self, status: int, document: object) -> None:
        self._send(status, json.dumps(document).encode())

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        fake: FakeOpenSea = self.server.fake
        url = urlsplit(self.path)
        with fake.lock:
            fake.seen.append((url.path, url.query, dict(self.headers)))
        if fake.script:
            status, headers, body = fake.script.pop(0)
            return self._send(status, body, headers)
        if fake.delay:
            time.sleep(fake.delay)
        stall = fake.stall_after_images
        per_punk = url.path.startswith(("/img/", NFT_PATH))
        if per_punk and stall is not None and sum(fake.hits("/img/").values()) >= stall:
            fake.stalled.set()
            fake.release.wait(30)
            self.close_connection = True
            return None  # never answered: the client is killed while waiting
        if url.path.startswith("/img/"):
            k = int(url.path.removeprefix("/img/").removesuffix(".png"))
            if k not in fake.images:
                return self._send(404, b"not found", {"Content-Type": "text/plain"})
            return self._send(200, fake.images[k], {"Content-Type": "image/png"})
        key = self.headers.get("x-api-key")
        if key != KEY:
            return self._json(401, {"detail": "Invalid API key"})
        if fake.override is not None:
            return self._send(200, fake.override)
        if url.path in fake.extra:
            return self._json(200, fake.extra[url.path])
        if url.path == LIST_PATH:
            query = parse_qs(url.query)
            limit = min(int(query["limit"][0]), fake.page_size)
            start = int(query.get("next", ["c0"])[0].removeprefix("c"))
            page = [dict(fake.nfts[k]) for k in fake.order[start : start + limit]]
            for nft in page:  # the listing leaves out odd ids' traits, as OpenSea may
                if int(nft["identifier"]) % 2:
                    nft["traits"] = None
            body: dict = {"nfts": page}
            if start + limit < len(fake.order):
                body["next"] = "c0" if fake.repeat_cursor and start else f"c{start + limit}"
            return self._json(200, body)
        if url.path.startswith(NFT_PATH):
            k = int(url.path.removeprefix(NFT_PATH))
            if k not in fake.nfts:
                return self._json(404, {"errors": [f"NFT {k} not found"]})
            return self._json(200, {"nft": fake.nfts[k]})
        return self._json(404, {"errors": ["no such endpoint"]})


@pytest.fixture
def fake(punks):
    server = FakeOpenSea(punks)
    yield server
    server.close()


@pytest.fixture
def fast_decode(punks, monkeypatch):
    monkeypatch.setattr(imaging, "load_image", exact_decoder(served_images(punks)), raising=False)


def served_images(punks) -> np.ndarray:
    return punks.images[[punks.row(k) for k in COLLECTION_IDS]]


def client_for(fake: FakeOpenSea, key: str | None = KEY, **options) -> OpenSeaClient:
    return FastClient(key, base_url=fake.url, **options)


def assert_same_punks(out: Path, punks, ids) -> None:
    built = load_punks(out)
    assert list(built.ids) == sorted(ids)
    rows = [punks.row(k) for k in sorted(ids)]
    np.testing.assert_array_equal(built.images, punks.images[rows])
    np.testing.assert_array_equal(built.labels.to_numpy(), punks.labels.iloc[rows].to_numpy())


# --- the client -------------------------------------------------------------------------------


def test_listing_follows_next_until_it_is_absent(fake):
    nfts = list(client_for(fake).iter_collection_nfts(limit=4))
    assert [int(n["identifier"]) for n in nfts] == LISTING_ORDER
    pages = fake.api_requests()
    assert len(pages) == math.ceil(len(LISTING_ORDER) / 4)
    assert [parse_qs(query).get("next") for _, query, _ in pages] == [None, ["c4"], ["c8"], ["c12"]]
    assert all(parse_qs(query)["limit"] == ["4"] for _, query, _ in pages)


def test_a_repeated_cursor_is_an_error_not_a_loop(fake):
    fake.repeat_cursor = True
    with pytest.raises(OpenSeaError, match="twice"):
        list(client_for(fake).iter_collection_nfts(limit=4))
    assert len(fake.api_requests()) == 3  # c0 -> c4 -> c0 again: stop


def test_page_size_is_checked(fake):
    with pytest.raises(ValueError, match="between 1 and 200"):
        next(client_for(fake).iter_collection_nfts(limit=201))


def test_get_nft_traits_map_onto_the_dataset_labels(fake, punks):
    client = client_for(fake)
    for k in (3, 6, 32, 67, 635):
        labels, unknown = traits_to_labels(client.get_nft(k)["traits"])
        assert unknown == []
        assert [labels[name] for name in LABELS] == punks.labels.loc[k].tolist()


@pytest.mark.parametrize(
    "retry_after",
    ["1", "http-date"],
    ids=["seconds", "http-date"],
)
def test_429_waits_as_long_as_retry_after_says(fake, retry_after):
    if retry_after == "http-date":
        retry_after = email.utils.formatdate(time.time() + 2, usegmt=True)  # 1 to 2 s ahead
    fake.script = [(429, {"Retry-After": retry_after}, b'{"detail": "slow down"}')]
    start = time.monotonic()
    assert client_for(fake).get_nft(1)["identifier"] == "1"
    assert time.monotonic() - start >= 0.9
    assert len(fake.api_requests()) == 2


def test_a_far_retry_after_fails_at_once_and_says_how_long(fake):
    fake.script = [(429, {"Retry-After": "3600"}, b"{}")]
    waits = []
    client = client_for(fake, max_wait=0.2, on_wait=lambda *wait: waits.append(wait))
    start = time.monotonic()
    with pytest.raises(OpenSeaError) as caught:
        client.get_nft(2)
    assert time.monotonic() - start < 1
    assert caught.value.status == 429
    assert str(caught.value) == (
        "OpenSea asked us to wait 60 minutes (rate limit), longer than the 0.2 s this call may "
        "still wait (tried once) — try again in 60 minutes"
    )
    assert waits == [] and len(fake.api_requests()) == 1


def test_a_junk_retry_after_falls_back_to_the_backoff(fake):
    fake.script = [(503, {"Retry-After": "junk"}, b"{}")]
    assert client_for(fake).get_nft(2)["identifier"] == "2"


def test_server_errors_are_retried_then_succeed(fake):
    fake.script = [(500, {}, b"oops"), (502, {}, b"bad gateway"), (503, {}, b"{}")]
    assert client_for(fake).get_nft(4)["name"] == "CryptoPunk #4"
    assert len(fake.api_requests()) == 4


def test_exhausted_retries_report_the_last_status(fake):
    fake.script = [(503, {"X-Trace": "t1"}, b'{"errors": ["maintenance"]}')] * 3
    with pytest.raises(OpenSeaError) as caught:
        client_for(fake, max_retries=2).get_nft(4)
    assert caught.value.status == 503
    assert caught.value.headers["X-Trace"] == "t1"
    assert str(caught.value) == (
        "OpenSea answered 503, a server error (tried 3 times): maintenance — try again later"
    )
    assert len(fake.api_requests()) == 3


def test_exhausted_429_says_to_wait(fake):
    fake.script = [(429, {}, b'{"errors": ["Request was throttled."]}')] * 2
    with pytest.raises(
        OpenSeaError, match=r"answered 429, too many requests \(tried 2 times\).*throttled.*wait"
    ) as caught:
        client_for(fake, max_retries=1).get_nft(4)
    assert caught.value.status == 429


@pytest.mark.parametrize("body", [b"{not json", b"", b"<html>Bad gateway</html>", b"[" * 100_000])
def test_malformed_json_is_an_opensea_error(fake, body):
    fake.script = [(200, {}, body)]
    with pytest.raises(OpenSeaError, match="not valid JSON") as caught:
        client_for(fake).get_nft(1)
    assert caught.value.status is None


def test_a_slow_answer_times_out(fake):
    fake.delay = 1.5
    start = time.monotonic()
    with pytest.raises(OpenSeaError, match=r"did not answer within 0\.5 s") as caught:
        client_for(fake, timeout=0.5, max_retries=0).get_nft(1)
    assert caught.value.status is None
    assert time.monotonic() - start < 1.4


def test_a_rejected_key_says_what_to_do(fake):
    with pytest.raises(OpenSeaError) as caught:
        client_for(fake, key="wrong-key").get_nft(1)
    assert caught.value.status == 401
    message = str(caught.value)
    assert "rejected the API key (401): Invalid API key" in message
    assert "set OPENSEA_API_KEY to a valid key" in message


def test_404_names_the_problem(fake):
    with pytest.raises(OpenSeaError, match=r"\(404\): NFT 9999 not found") as caught:
        client_for(fake).get_nft(9999)
    assert caught.value.status == 404


@pytest.mark.parametrize("key", [None, "", "   "])
def test_no_key_is_refused_before_anything_is_sent(fake, key, tmp_path):
    client = client_for(fake, key=key)
    calls = [
        lambda: client.get_nft(1),
        lambda: next(client.iter_collection_nfts()),
        lambda: client.get_best_listing(1),
        lambda: client.get_last_sale(1),
        lambda: nft_summary(client, 1),
        lambda: fetch_dataset(client, tmp_path / "out"),
    ]
    for call in calls:
        with pytest.raises(OpenSeaError) as caught:
            call()
        assert str(caught.value) == NO_KEY_MESSAGE
        assert caught.value.status is None
    assert fake.seen == []
    assert not (tmp_path / "out").exists()
    assert "not set" in repr(client)


def test_a_malformed_key_is_refused_without_echoing_it():
    with pytest.raises(OpenSeaError, match="spaces or unusual characters") as caught:
        OpenSeaClient("abc def-SECRET")
    assert "SECRET" not in str(caught.value)


def test_the_key_never_leaks(fake, caplog, tmp_path, fast_decode):
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3's and requests' lines included
    client = client_for(fake, max_retries=1)
    texts = [repr(client), str(client), repr(client.session.adapters)]
    client.get_nft(1)
    fetch_dataset(client, tmp_path / "out", count=2)
    fake.script = [(500, {}, f'{{"detail": "boom {KEY}"}}'.encode())] * 2
    fake.script += [(200, {}, f"not json {KEY}".encode())]
    fake.script += [(403, {}, f'{{"errors": ["key {KEY} is banned"]}}'.encode())]
    for _ in range(3):
        with pytest.raises(OpenSeaError) as caught:
            client.get_nft(1)
        texts += [str(caught.value), repr(caught.value)]
    assert "key *** is banned" in texts[-2]
    fake.delay = 1.0
    with pytest.raises(OpenSeaError) as caught:
        client_for(fake, timeout=0.3, max_retries=0).get_nft(1)
    texts.append(str(caught.value))
    texts.append(caplog.text)
    assert "urllib3" in caplog.text  # the debug lines were captured
    for text in texts:
        assert KEY not in text
    seen = fake.seen
    assert all(KEY not in path + query for path, query, _ in seen)
    assert all(h.get("x-api-key") == KEY for p, _, h in seen if p.startswith("/api/"))
    assert all(
        "x-api-key" not in {n.lower() for n in h} for p, _, h in seen if p.startswith("/img/")
    )
    assert "api key set" in repr(client)


def test_a_redirect_is_not_followed_with_the_key(fake):
    fake.script = [(302, {"Location": "http://example.invalid/steal"}, b"")]
    with pytest.raises(OpenSeaError, match="not followed") as caught:
        client_for(fake).get_nft(1)
    assert caught.value.status == 302
    assert len(fake.seen) == 1


# --- traits_to_labels ---------------------------------------------------------------------------


def _on(labels: dict) -> set:
    return {name for name, value in labels.items() if value}


@pytest.mark.parametrize(
    ("traits", "on", "unknown"),
    [
        (
            [
                {"trait_type": "type", "value": "Male"},
                {"trait_type": "accessory", "value": "Mohawk"},
            ],
            {"Male", "Mohawk"},
            [],
        ),
        (
            [
                {"trait_type": "TYPE", "value": "female"},
                {"trait_type": "Accessory", "value": "HOT LIPSTICK"},
            ],
            {"Female", "Hot Lipstick"},
            [],
        ),
        (
            [
                {"trait_type": "accessory", "value": v}
                for v in ("3D Glasses", "do-rag", "vr", "Clown Eyes Green")
            ],
            {"3D Glasses", "Do-rag", "VR", "Clown Eyes Green"},
            [],
        ),
        (
            [
                {"trait_type": "accessory", "value": v}
                for v in ("3DGlasses", "Do Rag", "clownEyesGreen", " Tassle Hat ")
            ],
            {"3D Glasses", "Do-rag", "Clown Eyes Green", "Tassle Hat"},
            [],
        ),
        (
            [
                {"trait_type": "type", "value": "Alien"},
                {"trait_type": "accessory", "value": "Laser Eyes"},
            ],
            {"Alien"},
            ["accessory: Laser Eyes"],
        ),
        (
            [
                {"trait_type": "accessory", "value": "Male"},
                {"trait_type": "type", "value": "Mohawk"},
            ],
            set(),
            ["accessory: Male", "type: Mohawk"],
        ),
        (
            [
                {"trait_type": "Accessory Count", "value": 2},
                {"trait_type": "accessory count", "value": "2 Attributes"},
            ],
            set(),
            [],
        ),
        ([{"trait_type": "background", "value": "Blue"}], set(), ["background: Blue"]),
        ([{"value": "Male"}, {"trait_type": "type"}, "Mohawk", 3, None], set(), ...),
        (None, set(), []),
        ([], set(), []),
        ("Male", set(), []),
        ({"trait_type": "type", "value": "Male"}, set(), []),
    ],
)
def test_traits_to_labels(traits, on, unknown):
    labels, found = traits_to_labels(traits)
    assert list(labels) == list(LABELS)
    assert set(labels.values()) <= {0, 1}
    assert _on(labels) == on
    if unknown is ...:
        assert len(found) == 5
    else:
        assert found == unknown


# --- nft_summary --------------------------------------------------------------------------------


def test_nft_summary_shows_listing_sale_and_owner(fake):
    fake.extra["/api/v2/listings/collection/cryptopunks/nfts/3/best"] = {
        "order_hash": "0xabc",
        "price": {"current": {"value": "12500000000000000000", "decimals": 18, "currency": "ETH"}},
    }
    fake.extra[f"/api/v2/events/chain/ethereum/contract/{CONTRACT}/nfts/3"] = {
        "asset_events": [
            {
                "event_type": "sale",
                "payment": {"quantity": "68000000000000000000", "decimals": 18, "symbol": "ETH"},
                "event_timestamp": 1700000000,
            }
        ]
    }
    summary = nft_summary(client_for(fake), 3)
    assert summary["name"] == "CryptoPunk #3"
    assert summary["image_url"].endswith("/img/3.png")
    assert summary["opensea_url"].endswith("/3")
    assert "Type: Male" in summary["traits"] and "accessory: PIPE" in summary["traits"]  # as given
    assert summary["owner"] == "0xb88f…8018"
    assert summary["best_listing"] == "12.5 ETH"
    assert summary["last_sale"] == "68 ETH"
    assert summary["warnings"] == []
    events = [q for p, q, _ in fake.seen if p.startswith("/api/v2/events/")]
    assert parse_qs(events[0]) == {"event_type": ["sale"], "limit": ["1"]}


def test_nft_summary_with_nothing_known(fake):
    fake.nfts[5] = {"identifier": "5"}  # no name, image, traits or owners
    fake.extra[f"/api/v2/events/chain/ethereum/contract/{CONTRACT}/nfts/5"] = {"asset_events": []}
    summary = nft_summary(client_for(fake), 5)  # the best listing answers 404
    assert summary == {
        "identifier": "5",
        "name": None,
        "image_url": None,
        "opensea_url": None,
        "traits": [],
        "owner": None,
        "best_listing": None,
        "last_sale": None,
        "warnings": [],
    }


def test_nft_summary_keeps_going_when_the_sale_call_fails(fake):
    fake.script = [(200, {}, json.dumps({"nft": fake.nfts[1]}).encode()), (200, {}, b"{}")]
    fake.script += [(500, {}, b"{}")] * 2
    summary = nft_summary(client_for(fake, max_retries=1), 1)
    assert summary["last_sale"] is None
    assert summary["warnings"] and "last sale unknown" in summary["warnings"][0]


@pytest.mark.parametrize(
    ("quantity", "decimals", "symbol", "text"),
    [
        ("12500000000000000000", 18, "ETH", "12.5 ETH"),
        ("1000000", 6, "USDC", "1 USDC"),
        (1, 18, "ETH", "0 ETH"),
        ("123456789", 9, "WETH", "0.123457 WETH"),
        ("5", 0, None, "5"),
        (None, 18, "ETH", None),
        ("lots", 18, "ETH", None),
        ("1", "x", "ETH", None),
        ("NaN", 18, "ETH", None),
        ("1e999999", 0, "ETH", None),
    ],
)
def test_format_amount(quantity, decimals, symbol, text):
    assert format_amount(quantity, decimals, symbol) == text


json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
nft_like = st.fixed_dictionaries(
    {},
    optional={
        "identifier": json_documents,
        "name": json_documents,
        "image_url": json_documents,
        "opensea_url": json_documents,
        "traits": st.lists(
            st.fixed_dictionaries(
                {}, optional={"trait_type": json_documents, "value": json_documents}
            )
            | json_documents,
            max_size=5,
        )
        | json_documents,
        "owners": st.lists(
            st.fixed_dictionaries({}, optional={"address": json_documents}) | json_documents
        )
        | json_documents,
        "price": json_documents,
        "asset_events": st.lists(json_documents, max_size=3) | json_documents,
    },
)
payloads = (
    st.builds(lambda nft: json.dumps({"nft": nft}).encode(), nft_like)
    | st.builds(lambda doc: json.dumps(doc).encode(), json_documents)
    | st.binary(max_size=40)
)


@settings(
    max_examples=30,
    deadline=timedelta(seconds=2),  # a normal answer takes milliseconds: this catches hangs
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=payloads)
def test_any_answer_gives_a_result_or_an_opensea_error(fake, payload):
    fake.override = payload
    if not hasattr(fake, "client"):  # one client for every example: its connection is reused
        fake.client = client_for(fake, max_retries=0)
    client = fake.client
    for call in (lambda: nft_summary(client, 1), lambda: client.get_nft(1)):
        try:
            result = call()
        except OpenSeaError:
            continue
        assert isinstance(result, dict)
        if "traits" in result and not isinstance(result["traits"], list | type(None)):
            continue
        labels, unknown = traits_to_labels(result.get("traits"))
        assert len(labels) == len(LABELS) and isinstance(unknown, list)


# --- the dataset builder and the CLI ------------------------------------------------------------


def test_fetch_builds_a_loadable_dataset_and_skips_bad_images(fake, punks, tmp_path, fast_decode):
    fake.nfts[9]["image_url"] = None
    fake.nfts[10]["image_url"] = f"{fake.url}/img/4040.png"  # 404
    fake.images[1000] = b"\x89PNG\r\n\x1a\n truncated"
    fake.nfts[11]["image_url"] = f"{fake.url}/img/1000.png"
    out = tmp_path / "fetched"
    report = fetch_dataset(client_for(fake), out, save_every=10)
    good = [k for k in COLLECTION_IDS if k not in (9, 10, 11)]
    assert sorted(report.fetched) == good
    assert set(report.skipped) == {9, 10, 11}
    assert "no image_url" in report.skipped[9]
    assert "404" in report.skipped[10]
    assert report.unknown_traits == Counter()
    assert_same_punks(out, punks, good)
    assert not (out / JOURNAL_FILE).exists()
    # Odd ids have no traits in the listing: only they were fetched one by one.
    nft_hits = fake.hits(NFT_PATH)
    assert {int(p.removeprefix(NFT_PATH)) for p in nft_hits} == {k for k in COLLECTION_IDS if k % 2}

    # A second run tries the skipped punks again, and only them.
    for k in (9, 10, 11):
        fake.nfts[k]["image_url"] = f"{fake.url}/img/{k}.png"
    before = fake.hits("/img/")
    report = fetch_dataset(client_for(fake), out)
    assert sorted(report.fetched) == [9, 10, 11] and report.had == len(good)
    assert fake.hits("/img/") - before == Counter({f"/img/{k}.png": 1 for k in (9, 10, 11)})
    assert_same_punks(out, punks, COLLECTION_IDS)


def test_a_larger_count_fetches_only_the_new_punks(fake, punks, tmp_path, fast_decode):
    out = tmp_path / "fetched"
    first = fetch_dataset(client_for(fake), out, count=4)
    assert sorted(first.fetched) == [0, 1, 2, 3]
    assert_same_punks(out, punks, range(4))
    second = fetch_dataset(client_for(fake), out, count=8)
    assert sorted(second.fetched) == [4, 5, 6, 7] and second.had == 4
    assert_same_punks(out, punks, range(8))
    assert set(fake.hits("/img/").values()) == {1}
    assert set(fake.hits(NFT_PATH).values()) == {1}
    # Nothing left to do: no call at all.
    seen = len(fake.seen)
    assert fetch_dataset(client_for(fake), out, count=8).fetched == []
    assert len(fake.seen) == seen


_CLI = """
import sys
import numpy as np
import punks_core.imaging as imaging
from tests.test_opensea import exact_decoder
imaging.load_image = exact_decoder(np.load(sys.argv.pop(1)))
from punks_core.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli(images: Path, args: list[str]) -> subprocess.Popen:
    """`python -m punks_core ARGS` in a subprocess, with the fast decoder for `images` (.npy)."""
    return subprocess.Popen(
        [sys.executable, "-c", _CLI, str(images), *args],
        cwd=REPO,
        env={**os.environ, "OPENSEA_API_KEY": KEY},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_cli_resumes_after_a_kill_without_fetching_twice(fake, punks, tmp_path):
    out = tmp_path / "fetched"
    args = ["opensea-fetch", "--out", str(out), "--count", "8", "--base-url", fake.url]
    images = tmp_path / "served.npy"
    np.save(images, served_images(punks))
    fake.stall_after_images = 3
    process = run_cli(images, [*args, "--save-every", "2"])
    try:
        assert fake.stalled.wait(60), process.communicate(timeout=5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert sum(fake.hits("/img/").values()) == 3
    assert (out / JOURNAL_FILE).is_file()  # the third punk is only in the journal
    fake.stall_after_images = None
    fake.release.set()

    process = run_cli(images, args)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "8 punks (3 already there, 5 fetched now)" in stdout
    assert "5/5 [" in stderr  # the progress bar
    assert_same_punks(out, punks, range(8))
    assert fake.hits("/img/") == Counter({f"/img/{k}.png": 1 for k in range(8)})
    assert set(fake.hits(NFT_PATH).values()) == {1}
    assert not (out / JOURNAL_FILE).exists()


@pytest.mark.parametrize(
    ("key", "base", "message"),
    [
        (
            None,
            "fake",
            "error: no API key: get one at https://docs.opensea.io/ and set OPENSEA_API_KEY",
        ),
        (
            "bad-key",
            "fake",
            "error: OpenSea rejected the API key (401): Invalid API key — set OPENSEA_API_KEY",
        ),
        (
            KEY,
            "http://127.0.0.1:9",
            "error: could not reach OpenSea at http://127.0.0.1:9 (tried 6 times)",
        ),
    ],
    ids=["no-key", "bad-key", "unreachable"],
)
def test_the_cli_fails_with_a_message(fake, tmp_path, capsys, monkeypatch, key, base, message):
    monkeypatch.setattr(OpenSeaClient, "backoff_factor", 0.001)
    monkeypatch.delenv("OPENSEA_API_KEY", raising=False)
    if key is not None:
        monkeypatch.setenv("OPENSEA_API_KEY", key)
    base = fake.url if base == "fake" else base
    args = ["opensea-fetch", "--out", str(tmp_path / "o"), "--count", "2", "--base-url", base]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert KEY not in captured.out + captured.err


def test_the_real_decoder_gives_the_exact_pixels(fake, punks, tmp_path):
    """End to end with `imaging.load_image` itself, on punks with smoke and 3D glasses."""
    fake.order = [83, 67, 3]
    report = fetch_dataset(client_for(fake), tmp_path / "real")
    assert sorted(report.fetched) == [3, 67, 83], report.skipped
    assert_same_punks(tmp_path / "real", punks, [3, 67, 83])
