"""The OpenSea client against servers on 127.0.0.1 that misbehave on purpose (issue 19).

`Hostile` is a real HTTP server in a thread whose answers are written byte by byte by a test's
function: it can drip headers or a body, lie about lengths, close mid-answer, send a gzip bomb,
redirect with the key in the address, or list pages forever. Every test is bounded in time:
the client's own deadlines end it, and a test fails if they do not.
"""

import gzip
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punks_core import imaging
from punks_core.__main__ import main
from punks_core.dataset import load_punks
from punks_core.errors import FolderInUseError, OpenSeaError
from punks_core.opensea import MAX_API_BYTES, OpenSeaClient
from punks_core.opensea_fetch import LOCK_FILE, fetch_dataset
from punks_core.opensea_summary import nft_summary
from tests.test_opensea import (
    KEY,
    FakeOpenSea,
    FastClient,
    assert_same_punks,
    client_for,
    exact_decoder,
    serve,
    served_images,
)

Behaviour = Callable[[BaseHTTPRequestHandler], None]


class Hostile:
    """A local server whose every answer is written by `behaviour(handler)`."""

    def __init__(self) -> None:
        self.behaviour: Behaviour = lambda handler: send(handler, 200, b"{}")
        self.requests: list[tuple[str, dict]] = []  # (path?query, headers)
        self.stop = threading.Event()  # ends any drip still going when the test is over
        self.server, self.url = serve(_Handler, hostile=self)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        hostile: Hostile = self.server.hostile
        hostile.requests.append((self.path, dict(self.headers)))
        hostile.behaviour(self)


def send(handler, status: int, body: bytes, headers: dict | None = None) -> None:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    handler.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def drip(handler, data: bytes, every: float) -> None:
    """Send `data` one byte every `every` seconds, until the client hangs up or the test ends."""
    for byte in data:
        if handler.server.hostile.stop.wait(every):
            return
        try:
            handler.wfile.write(bytes([byte]))
        except OSError:
            return


@pytest.fixture
def opensea(punks):
    """test_opensea's well-behaved stand-in, for the CLI and the dataset builder."""
    server = FakeOpenSea(punks)
    yield server
    server.close()


@pytest.fixture
def exact_decode(punks, monkeypatch):
    monkeypatch.setattr(imaging, "load_image", exact_decoder(served_images(punks)))


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.close()


def client(server, key: str | None = KEY, **options) -> OpenSeaClient:
    options = {"timeout": 1.0, "max_retries": 0, "max_wait": 0.5, **options}
    return FastClient(key, base_url=server.url, **options)


def fetch_args(server, out, count: int) -> list[str]:
    """`opensea-fetch` arguments for `main`, into `out`, from `server`."""
    return ["opensea-fetch", "--out", str(out), "--count", str(count), "--base-url", server.url]


def fails_within(seconds: float, call) -> OpenSeaError:
    """The OpenSeaError `call()` raises, which must come within `seconds`."""
    start = time.monotonic()
    with pytest.raises(OpenSeaError) as caught:
        call()
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"took {elapsed:.1f} s: {caught.value}"
    return caught.value


# --- a total deadline per attempt -------------------------------------------------------------

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@pytest.mark.parametrize("retries", [0, 1])
def test_dripped_headers_fail_within_the_deadline(hostile, retries):
    hostile.behaviour = lambda h: drip(h, HEAD, every=0.2)  # each read gets a byte in time
    api = client(hostile, max_retries=retries)
    assert api.call_deadline == (retries + 1) * 1.0 + 0.5
    error = fails_within(api.call_deadline + 1, lambda: api.get_nft(1))
    times = "tried once" if retries == 0 else "tried 2 times"
    assert str(error).startswith(f"OpenSea did not answer within 1 s ({times})")
    assert len(hostile.requests) == retries + 1


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_dripped_body_fails_within_the_deadline(hostile, length):
    body = b'{"nft": {"identifier": "1"}}' + b" " * 200

    def answer(handler):
        head = "HTTP/1.1 200 OK\r\n" + (f"Content-Length: {len(body)}\r\n" if length else "")
        handler.wfile.write((head + "Connection: close\r\n\r\n").encode() + body[:5])
        drip(handler, body[5:], every=0.1)

    hostile.behaviour = answer
    error = fails_within(2.0, lambda: client(hostile).get_nft(1))
    # Without a length, the shut socket looks like the end of the body: it must not pass as one.
    assert str(error).startswith("OpenSea did not finish its answer within 1 s (it had sent")


def test_a_dripped_image_fails_within_the_deadline(hostile):
    hostile.behaviour = lambda h: drip(h, b"HTTP/1.1 200 OK\r\n", every=0.2)
    api = client(hostile)
    error = fails_within(2.0, lambda: api.download_image(hostile.url + "/img/1.png"))
    assert str(error).startswith("the image server did not answer within 1 s (tried once)")


def test_a_dripping_redirect_chain_shares_one_deadline(hostile):
    def answer(handler):
        time.sleep(0.3)
        send(handler, 302, b"", {"Location": f"/img/{len(hostile.requests)}.png"})

    hostile.behaviour = answer
    error = fails_within(2.0, lambda: client(hostile).download_image(hostile.url + "/img/0.png"))
    assert "did not answer within 1 s" in str(error)
    assert len(hostile.requests) <= 4


# --- a cap on the body, compressed and inflated ----------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GB of zeros: 64 gzip members of 16 MB each (a
    gzip file may hold several, and urllib3 inflates them all), compressed once."""
    return gzip.compress(bytes(16 * 2**20), compresslevel=9) * 64


@pytest.mark.parametrize("where", ["api", "image", "error page"])
def test_a_gzip_bomb_is_refused_without_inflating_it(hostile, gzip_bomb, where):
    assert len(gzip_bomb) < 2 * 2**20
    status = 503 if where == "error page" else 200
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    hostile.behaviour = lambda h: send(h, status, gzip_bomb, headers)
    api = client(hostile)
    call = api.download_image if where == "image" else (lambda url: api.get_nft(1))
    tracemalloc.start()
    try:
        error = fails_within(10, lambda: call(hostile.url + "/img/1.png"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MB"
    if where == "error page":  # only its first 64 KB are read, for the message
        assert error.status == 503 and "server error" in str(error)
    else:
        assert "far larger than one could be (more than" in str(error)


def test_a_large_plain_body_is_refused(hostile):
    body = b'{"nft": {"name": "' + b"x" * MAX_API_BYTES + b'"}}'
    hostile.behaviour = lambda h: send(h, 200, body)
    error = fails_within(5, lambda: client(hostile).get_nft(1))
    assert "far larger than one could be (2.0 MB announced)" in str(error)


def test_an_announced_huge_body_is_not_read(hostile):
    def answer(handler):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\n{")

    hostile.behaviour = answer
    error = fails_within(2, lambda: client(hostile).get_nft(1))
    assert "(4768.4 MB announced); it was not read" in str(error)


def test_a_modest_gzip_answer_is_read(hostile):
    body = gzip.compress(b'{"nft": {"identifier": "7", "name": "CryptoPunk #7"}}')
    hostile.behaviour = lambda h: send(h, 200, body, {"Content-Encoding": "gzip"})
    assert client(hostile).get_nft(7)["name"] == "CryptoPunk #7"


def test_a_broken_gzip_answer_says_so(hostile):
    hostile.behaviour = lambda h: send(h, 200, b"not gzip at all", {"Content-Encoding": "gzip"})
    error = fails_within(2, lambda: client(hostile).get_nft(1))
    assert str(error) == "OpenSea sent a compressed answer that does not decompress"


# --- a bound on pages per listing -------------------------------------------------------------


@pytest.mark.parametrize("max_pages", [None, 5])
def test_a_listing_that_never_ends_stops_with_an_error(hostile, max_pages):
    def answer(handler):
        cursor = parse_qs(urlsplit(handler.path).query).get("next", ["c0"])[0]
        page = f'{{"nfts": [{{"identifier": "1"}}], "next": "{cursor}x"}}'.encode()
        send(handler, 200, page)

    hostile.behaviour = answer
    nfts = client(hostile).iter_collection_nfts(limit=200, max_pages=max_pages)
    error = fails_within(30, lambda: list(nfts))
    pages = 110 if max_pages is None else 5  # 2 x (10,000 / 200) + 10 by default
    assert str(error) == (
        f"OpenSea's listing of 'cryptopunks' did not end after {pages} pages of up to 200 NFTs "
        "(more than a collection of 10,000 needs); stopped so that it does not go on forever — "
        "try again later"
    )
    assert len(hostile.requests) == pages


# --- waits on 429: capped in total, and shown -------------------------------------------------


def test_each_wait_is_announced_before_it_starts(hostile):
    answers = iter([(429, {"Retry-After": "1"}), (503, {}), (200, {})])

    def answer(handler):
        status, headers = next(answers)
        send(handler, status, b'{"nft": {"identifier": "3"}}', headers)

    hostile.behaviour = answer
    waits: list[tuple[str, float]] = []
    api = client(hostile, max_retries=2, max_wait=2, on_wait=lambda *w: waits.append(w))
    start = time.monotonic()
    assert api.get_nft(3)["identifier"] == "3"
    assert time.monotonic() - start >= 1.0
    assert waits[0] == ("OpenSea asked us to wait 1 s (rate limit); waiting…", 1.0)
    assert waits[1][0].startswith("OpenSea answered 503; trying again in")
    assert len(waits) == 2


def test_waits_are_capped_in_total(hostile):
    hostile.behaviour = lambda h: send(h, 429, b'{"detail": "slow down"}', {"Retry-After": "1"})
    waits = []
    api = client(hostile, max_retries=10, max_wait=1.5, on_wait=lambda *w: waits.append(w))
    error = fails_within(3, lambda: api.get_nft(1))
    assert [seconds for _, seconds in waits] == [1.0]  # a second would pass the 1.5 s
    assert str(error) == (
        "OpenSea asked us to wait 1 s (rate limit), longer than the 0.5 s this call may still "
        "wait (tried 2 times) — try again in 1 s"
    )
    assert error.status == 429 and len(hostile.requests) == 2


def test_the_cli_prints_the_wait_and_stops_on_a_far_one(opensea, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENSEA_API_KEY", KEY)
    opensea.script = [(429, {"Retry-After": "1"}, b"{}"), (429, {"Retry-After": "86400"}, b"{}")]
    args = fetch_args(opensea, tmp_path / "o", count=2)
    start = time.monotonic()
    assert main([*args, "--max-wait", "30"]) == 1
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert "OpenSea asked us to wait 1 s (rate limit); waiting…" in err
    assert "error: OpenSea asked us to wait 24 hours (rate limit), longer than the 29 s" in err


# --- the key is redacted everywhere -----------------------------------------------------------

ODD_KEY = "sk/ODD+key=4b2d%7e"  # one whose percent-encoded form differs from itself


@pytest.mark.parametrize("key", [KEY, ODD_KEY])
@pytest.mark.parametrize("form", ["raw", "quoted"])
def test_a_redirect_echoing_the_key_does_not_show_it(hostile, key, form):
    from urllib.parse import quote

    echoed = key if form == "raw" else quote(key, safe="")
    location = f"http://example.invalid/steal?key={echoed}&again={echoed}"
    hostile.behaviour = lambda h: send(h, 302, b"", {"Location": location})
    api = client(hostile, key=key)
    error = fails_within(2, lambda: api.get_nft(1))
    texts = [str(error), repr(error), repr(error.headers), repr(api)]
    for text in texts:
        assert key not in text and quote(key, safe="") not in text
    assert "steal?key=***&again=***" in str(error) and "not followed" in str(error)
    assert len(hostile.requests) == 1


def test_an_image_redirect_holding_the_key_is_not_followed(hostile):
    hostile.behaviour = lambda h: send(h, 302, b"", {"Location": f"http://example.invalid/{KEY}"})
    error = fails_within(2, lambda: client(hostile, max_retries=2).download_image(hostile.url))
    assert str(error) == (
        "the image server sent a redirect to 'http://example.invalid/***', which holds the API "
        "key; not followed"
    )
    assert len(hostile.requests) == 1


def test_the_key_echoed_in_answers_reaches_no_output(opensea, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENSEA_API_KEY", KEY)
    opensea.nfts[0]["traits"].append({"trait_type": "note", "value": f"key {KEY}"})
    # Where a message is cut short at 80 characters: the cut must not leave part of the key.
    opensea.nfts[0]["traits"].append({"trait_type": "n" * 60, "value": KEY})
    opensea.nfts[1]["image_url"] = f"{opensea.url}/img/1.png?k={KEY}"
    opensea.nfts[2]["name"] = f"Punk {KEY}"
    args = fetch_args(opensea, tmp_path / "o", count=2)
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "note: key ***" in captured.out
    assert "holds the API key; not fetched" in captured.out
    assert KEY[:12] not in captured.out + captured.err
    assert not any(p.startswith("/img/1.png") for p, _, _ in opensea.seen)  # never sent anywhere
    for path in (tmp_path / "o").iterdir():
        assert KEY.encode() not in path.read_bytes()
    summary = nft_summary(client_for(opensea), 2)
    assert summary["name"] == "Punk ***" and KEY not in repr(summary)
    opensea.script = [(200, {"Content-Type": KEY}, ("x" * 190 + KEY).encode())]
    with pytest.raises(OpenSeaError, match="not valid JSON") as caught:
        client_for(opensea).get_nft(1)
    assert KEY[:12] not in str(caught.value)


# --- one fetch per folder ---------------------------------------------------------------------


def test_a_second_fetch_into_the_same_folder_is_refused(opensea, punks, tmp_path, exact_decode):
    out = tmp_path / "o"
    opensea.stall_after_images = 2
    first: dict = {}

    def run_first():
        try:
            first["report"] = fetch_dataset(client_for(opensea), out, count=6)
        except Exception as error:  # reported by the asserts below
            first["error"] = error

    thread = threading.Thread(target=run_first, daemon=True)
    thread.start()
    assert opensea.stalled.wait(30)
    with pytest.raises(FolderInUseError) as caught:
        fetch_dataset(client_for(opensea), out, count=6)
    assert str(caught.value).startswith(f"another opensea-fetch (process {os.getpid()}")
    assert "or fetch into another folder" in str(caught.value)
    opensea.stall_after_images = None
    opensea.release.set()
    thread.join(60)
    assert "error" not in first, first.get("error")
    assert sorted(first["report"].fetched) == list(range(6))
    assert_same_punks(out, punks, range(6))
    assert (out / LOCK_FILE).is_file()
    # Once the first is done, the folder is free again.
    assert fetch_dataset(client_for(opensea), out, count=6).had == 6


def test_the_cli_refuses_a_folder_in_use(opensea, tmp_path, capsys, monkeypatch):
    import fcntl

    monkeypatch.setenv("OPENSEA_API_KEY", KEY)
    out = tmp_path / "o"
    out.mkdir()
    with (out / LOCK_FILE).open("w") as held:
        held.write("4242\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        assert main(["opensea-fetch", "--out", str(out), "--base-url", opensea.url]) == 1
    assert "error: another opensea-fetch (process 4242) is writing to" in capsys.readouterr().err
    assert opensea.seen == []


# --- an image that is another punk ------------------------------------------------------------


def test_an_image_of_another_punk_is_reported_not_saved(opensea, punks, tmp_path, exact_decode):
    opensea.nfts[3]["image_url"] = f"{opensea.url}/img/5.png"  # punk #5's picture, claimed as #3
    report = fetch_dataset(client_for(opensea), tmp_path / "o", count=6)
    assert sorted(report.fetched) == [0, 1, 2, 4, 5]
    assert report.skipped == {3: "OpenSea's image for #3 is punk #5: not saved"}
    assert "#3: OpenSea's image for #3 is punk #5: not saved" in report.summary()
    assert list(load_punks(tmp_path / "o").ids) == [0, 1, 2, 4, 5]


# --- messages that say what happened ----------------------------------------------------------


def test_a_single_server_error_is_not_called_a_retry(hostile):
    hostile.behaviour = lambda h: send(h, 503, b'{"errors": ["maintenance"]}')
    error = fails_within(2, lambda: client(hostile).get_nft(1))
    assert str(error) == "OpenSea answered 503, a server error: maintenance — try again later"
    assert len(hostile.requests) == 1


def test_tried_counts_real_attempts(hostile):
    hostile.behaviour = lambda h: send(h, 502, b"bad gateway")
    error = fails_within(3, lambda: client(hostile, max_retries=3).get_nft(1))
    assert "(tried 4 times)" in str(error) and len(hostile.requests) == 4


def test_could_not_reach_only_without_a_connection():
    api = FastClient(KEY, base_url="http://127.0.0.1:9", timeout=1, max_retries=1)
    error = fails_within(3, lambda: api.get_nft(1))
    assert str(error) == (
        "could not reach OpenSea at http://127.0.0.1:9 (tried 2 times): connection refused — "
        "check your connection"
    )


def test_a_server_that_hangs_up_is_not_unreachable(hostile):
    hostile.behaviour = lambda h: setattr(h, "close_connection", True)  # reads, then closes
    error = fails_within(2, lambda: client(hostile, max_retries=1).get_nft(1))
    assert str(error) == (
        "OpenSea closed the connection without answering (tried 2 times) — try again later"
    )


def test_an_answer_cut_short_says_so(hostile):
    def answer(handler):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"{" * 10)
        handler.close_connection = True

    hostile.behaviour = answer
    error = fails_within(2, lambda: client(hostile).get_nft(1))
    assert (
        str(error) == "OpenSea's answer was cut off after 10 bytes (tried once) — try again later"
    )


# --- any misbehaviour: an answer or an OpenSeaError, in time, without the key ------------------

misbehaviours = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200, 204, 301, 302, 400, 401, 404, 429, 500, 503]),
        "headers": st.dictionaries(
            st.sampled_from(["Retry-After", "Content-Encoding", "Location", "Content-Type"]),
            st.sampled_from(["0", "0.1", "999999", "gzip", "deflate", "junk", f"/x?k={KEY}"]),
            max_size=3,
        ),
        "body": st.binary(max_size=64) | st.just(b'{"nft": {"identifier": "1"}}'),
        "cut": st.none() | st.integers(0, 40),
        "pause": st.sampled_from([0.0, 0.0, 0.3, 2.0]),
    }
)


@settings(
    max_examples=25,
    deadline=None,  # bounded below by the client's own stated deadline instead
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=misbehaviours)
def test_any_misbehaviour_ends_in_time_without_the_key(hostile, plan):
    def answer(handler):
        head = [f"HTTP/1.1 {plan['status']} X", f"Content-Length: {len(plan['body'])}"]
        head += [f"{name}: {value}" for name, value in plan["headers"].items()]
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + plan["body"]
        if plan["cut"] is not None:
            data = data[: plan["cut"]]
            handler.close_connection = True
        handler.wfile.write(data[:10])
        if plan["pause"] and hostile.stop.wait(plan["pause"]):
            return
        handler.wfile.write(data[10:])

    hostile.behaviour = answer
    api = client(hostile, timeout=0.5, max_retries=1, max_wait=0.3)
    start = time.monotonic()
    try:
        api.get_nft(1)
    except OpenSeaError as error:
        assert KEY not in str(error) + repr(error.headers)
    assert time.monotonic() - start < api.call_deadline + 0.5


# --- the app's OpenSea view -------------------------------------------------------------------

_VIEW = """
from ui.opensea import show_opensea
show_opensea(3)
"""


@pytest.mark.parametrize("retry_after", ["1", "3600"])
def test_the_app_view_waits_briefly_or_says_why_not(opensea, monkeypatch, tmp_path, retry_after):
    import streamlit
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("OPENSEA_API_KEY", KEY)
    monkeypatch.setenv("OPENSEA_BASE_URL", opensea.url)
    streamlit.cache_data.clear()
    opensea.script = [(429, {"Retry-After": retry_after}, b'{"detail": "slow down"}')]
    script = tmp_path / "view.py"
    script.write_text(_VIEW.format(root=str(Path(__file__).resolve().parents[1])))
    start = time.monotonic()
    app = AppTest.from_file(str(script), default_timeout=30).run()
    streamlit.cache_data.clear()
    assert not app.exception, [e.value for e in app.exception]
    assert time.monotonic() - start < 15
    assert not app.info  # the wait's note is gone once the answer is in
    if retry_after == "1":
        assert "CryptoPunk #3" in " ".join(m.value for m in app.markdown)
    else:  # more than the app's 10 s: not waited for, said instead
        assert app.warning[0].value.startswith(
            "OpenSea: OpenSea asked us to wait 60 minutes (rate limit), longer than the 10 s"
        )


# --- the same over TLS ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl's command line)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def tls_hostile(hostile, certificate):
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    hostile.server.socket = context.wrap_socket(hostile.server.socket, server_side=True)
    hostile.url = hostile.url.replace("http://", "https://")
    return hostile


def tls_client(server, certificate, **options) -> OpenSeaClient:
    import requests

    session = requests.Session()
    session.verify = str(certificate[0])  # the session's own settings are kept
    return client(server, session=session, **options)


def test_https_answers_and_dripping_headers_over_tls(tls_hostile, certificate, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they would override session.verify
        monkeypatch.delenv(name, raising=False)
    body = b'{"nft": {"identifier": "1"}}'
    tls_hostile.behaviour = lambda h: send(h, 200, body)
    assert tls_client(tls_hostile, certificate).get_nft(1) == {"identifier": "1"}
    tls_hostile.behaviour = lambda h: drip(h, HEAD, every=0.2)
    api = tls_client(tls_hostile, certificate)
    error = fails_within(2.5, lambda: api.get_nft(1))
    assert str(error).startswith("OpenSea did not answer within 1 s (tried once)")
