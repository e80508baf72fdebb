"""The OpenSea client's transport: one method, `Transport.call`, through which every request goes.

Like spotipy's `_internal_call`, it owns the deadlines, the retries, the waits and the mapping
of every failure onto `OpenSeaError`, for API calls and image downloads alike. It does by hand
three things that requests and urllib3 leave open:

- A total deadline per attempt (connect, headers and body): requests' `timeout` bounds each
  socket read, so a server that sends one byte a second would never time out. See
  `punks_core.opensea_deadline`.
- A cap on the body, compressed and inflated. The body is streamed with urllib3 decoding it
  (urllib3 >= 2.6 inflates only as much as each read asks for), counting raw bytes with
  `raw.tell()` and inflated ones as they come, so a gzip bomb is refused after a few MB.
- Retries it can count and show: each wait (Retry-After or backoff) is reported to an
  `on_wait` hook before it starts, the waits of one call are capped in total, and a wait beyond
  the cap fails at once with the time the server asked for. Redirects are followed by hand
  (images only): requests would read a redirect's whole body into memory.

Every message and header value that leaves this module goes through `redact` first.
"""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from punks_core.errors import OpenSeaError
from punks_core.opensea_deadline import Deadline, DeadlineAdapter

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# An error page is read for its message only; more than this is not a message.
MAX_ERROR_BODY = 64 * 1024
CHUNK = 64 * 1024

OnWait = Callable[[str, float], None]
"""A hook told about each wait before it starts: `(message, seconds)`."""


# --- answers and failures ---------------------------------------------------------------------


@dataclass
class Answer:
    """A complete answer: status, headers, the (inflated) body, and the address it came from."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class _AttemptError(Exception):
    """One attempt ended without an answer; `kind` decides the message and whether to retry."""

    def __init__(self, kind: str, detail: str = "", retry: bool = True) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.retry = kind, detail, retry


def _times(attempts: int) -> str:
    return "tried once" if attempts == 1 else f"tried {attempts} times"


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count:,} bytes"


def _seconds(value: float) -> str:
    if value >= 7200:
        return f"{value / 3600:.0f} hours"
    if value >= 120:
        return f"{value / 60:.0f} minutes"
    return f"{value:.0f} s" if value >= 10 else f"{value:.2g} s"


# --- the transport ----------------------------------------------------------------------------


class Transport:
    """Deadlines, size caps, retries and waits for every request the OpenSea client makes.

    Args:
        timeout: the most seconds one attempt may take, from connecting to the body's last byte.
        max_retries: attempts after the first, on a connection failure, a timeout, a cut-off
            answer, a 429 or a 5xx.
        max_wait: the most seconds one call spends waiting between attempts, in total
            (Retry-After and backoff together). A Retry-After beyond what is left fails at once.
        backoff_factor: the wait before retry k (1, 2, ...) without Retry-After is
            `backoff_factor * 2 ** (k - 1)` seconds.
        redact: applied to every message and header value before it leaves (hides the key).
        on_wait: told `(message, seconds)` before each wait, so a person sees why nothing moves.
        session: a `requests.Session` whose settings (proxies, certificates) to use; the
            transport mounts its own adapter on it for http and https.
        key_advice: appended to the message of a 401/403 (what to do about the key).
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_retries: int,
        max_wait: float,
        backoff_factor: float,
        redact: Callable[[str], str],
        on_wait: OnWait | None = None,
        session: requests.Session | None = None,
        key_advice: str = "",
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = float(timeout)
        self.max_retries = max(int(max_retries), 0)
        self.max_wait = max(float(max_wait), 0.0)
        self.backoff_factor = backoff_factor
        self.redact = redact
        self.on_wait = on_wait
        self.key_advice = key_advice
        self.session = session or requests.Session()
        adapter = DeadlineAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @property
    def call_deadline(self) -> float:
        """The most seconds one call can take: every attempt plus every wait."""
        return (self.max_retries + 1) * self.timeout + self.max_wait

    def call(
        self,
        url: str,
        *,
        what: str,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        follow_redirects: bool = False,
    ) -> Answer:
        """GET `url` and return its 2xx answer, or raise `OpenSeaError` saying what happened.

        Args:
            url: the address.
            what: who answers, for messages ("OpenSea", "the image server").
            max_bytes: the most bytes the body may have, on the wire and inflated.
            headers: request headers (the API key's header goes only to the API's address:
                redirects are never followed for calls that send headers).
            params: the query string.
            follow_redirects: follow up to `MAX_REDIRECTS` redirects (images), each with the
                same deadline as the attempt.
        """
        attempts, waited = 0, 0.0
        while True:
            attempts += 1
            answer = None
            try:
                answer = self._attempt(url, max_bytes, headers, params, follow_redirects)
            except _AttemptError as failure:
                error = self._failure_error(failure, what, url, attempts)
                if not failure.retry or attempts > self.max_retries:
                    raise error from None
                wait, asked = self._backoff(attempts), False
                text = self._failure_text(failure, what, url, attempts).split(" — ")[0]
                note = f"{text}; trying again in {_seconds(wait)}…"
            else:
                if answer.status < 300:
                    return answer
                error = self.http_error(answer, what, attempts)
                if answer.status not in RETRY_STATUSES or attempts > self.max_retries:
                    raise error
                wait, asked, note = self._answer_wait(answer, attempts, what)
            left = self.max_wait - waited
            if wait > left:
                # A wait the server asked for is reported as such; a backoff past the budget
                # just ends the retries with the last failure.
                raise self._too_long_error(answer, what, wait, left, attempts) if asked else error
            self._wait(wait, note)
            waited += wait

    # --- one attempt ----------------------------------------------------------------------

    def _attempt(self, url, max_bytes, headers, params, follow_redirects) -> Answer:
        with Deadline(self.timeout) as deadline:
            for _ in range(MAX_REDIRECTS + 1):
                response = self._send(url, headers, params, deadline)
                with response:
                    status = response.status_code
                    if follow_redirects and status in REDIRECT_STATUSES:
                        url = self._redirect_target(response)
                        params = None
                        continue
                    limit = max_bytes if status < 300 else MAX_ERROR_BODY
                    body = self._read(response, limit, deadline, strict=status < 300)
                    return Answer(status, response.headers, body, response.url)
            raise _AttemptError("redirects", f"more than {MAX_REDIRECTS} redirects", retry=False)

    def _send(self, url, headers, params, deadline: Deadline) -> requests.Response:
        left = deadline.remaining()
        try:
            return self.session.get(
                url,
                params=params,
                headers=headers,
                timeout=(min(self.timeout, left), min(self.timeout, left)),
                allow_redirects=False,  # by hand, above: the key must go nowhere else
                stream=True,
            )
        except requests.RequestException as error:
            raise self._classify(error, deadline, received=None) from None

    def _read(self, response, limit: int, deadline: Deadline, strict: bool) -> bytes:
        declared = response.headers.get("content-length", "")
        if strict and declared.isdigit() and int(declared) > limit:
            raise _AttemptError("too large", f"{_size(int(declared))} announced", retry=False)
        body = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > limit or response.raw.tell() > limit:
                    if not strict:
                        return bytes(body[:limit])  # an error page: its start is the message
                    raise _AttemptError("too large", f"more than {_size(limit)}", retry=False)
        except requests.RequestException as error:
            received = max(len(body), response.raw.tell())  # tell: bytes off the wire
            raise self._classify(error, deadline, received=received) from None
        if deadline.expired:  # a shut socket can look like the end of a body without a length
            raise _AttemptError("slow body", _size(len(body)))
        return bytes(body)

    def _redirect_target(self, response: requests.Response) -> str:
        target = urljoin(response.url, response.headers.get("location", ""))
        shown = self.redact(target)[:80]
        if urlsplit(target).scheme not in ("http", "https"):
            why = f"a redirect to {shown!r}, not an http(s) address"
            raise _AttemptError("redirects", why, retry=False)
        if self.redact(target) != target:  # following it would hand the key to that host
            why = f"a redirect to {shown!r}, which holds the API key"
            raise _AttemptError("redirects", why, retry=False)
        return target

    def _classify(self, error: requests.RequestException, deadline: Deadline, received):
        if deadline.expired:
            if received is None:
                return _AttemptError("slow answer")
            return _AttemptError("slow body", _size(received))
        reason: object = error
        if error.args and isinstance(error.args[0], MaxRetryError):
            reason = error.args[0].reason
        detail = str(reason)
        if isinstance(error, requests.exceptions.ContentDecodingError):
            return _AttemptError("undecodable", "", retry=False)
        # Checked first: urllib3's NewConnectionError (refused, no route, unknown host)
        # subclasses ConnectTimeoutError.
        if isinstance(reason, NewConnectionError):
            cause = reason.__cause__  # the OSError: "Connection refused", "Name or service..."
            words = getattr(cause, "strerror", None) or str(cause or reason)
            return _AttemptError("unreachable", str(words).lower())
        if isinstance(error, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
            return _AttemptError("no connection", detail)
        if isinstance(error, requests.Timeout) or isinstance(reason, ReadTimeoutError):
            if received is None:
                return _AttemptError("slow answer", detail)
            return _AttemptError("slow body", _size(received))
        if isinstance(error, requests.exceptions.SSLError):
            return _AttemptError("tls", detail)
        if received is None:
            return _AttemptError("closed", detail)
        return _AttemptError("cut off", _size(received))

    # --- waits ----------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> float:
        return self.backoff_factor * 2 ** (attempts - 1)

    def _answer_wait(self, answer: Answer, attempts: int, what: str) -> tuple[float, bool, str]:
        """(seconds, whether the server asked for them, what to tell the user)."""
        asked = _retry_after(answer.headers.get("retry-after"))
        wait = self._backoff(attempts) if asked is None else asked
        if answer.status == 429 and asked is not None:
            note = f"{what} asked us to wait {_seconds(wait)} (rate limit); waiting…"
        elif answer.status == 429:
            note = f"{what} is limiting the request rate (429); waiting {_seconds(wait)}…"
        else:
            note = f"{what} answered {answer.status}; trying again in {_seconds(wait)}…"
        return wait, asked is not None, note

    def _wait(self, seconds: float, message: str) -> None:
        if self.on_wait is not None:
            self.on_wait(self.redact(message), seconds)
        time.sleep(seconds)

    # --- messages -------------------------------------------------------------------------

    def _error(self, text: str, status=None, headers=None) -> OpenSeaError:
        safe = {name: self.redact(str(value)) for name, value in (headers or {}).items()}
        return OpenSeaError(self.redact(text), status=status, headers=safe)

    def _too_long_error(self, answer: Answer, what, wait, left, attempts) -> OpenSeaError:
        status, headers = answer.status, answer.headers
        asked = "asked us to wait" if status == 429 else "would need a wait of"
        cause = " (rate limit)" if status == 429 else ""
        return self._error(
            f"{what} {asked} {_seconds(wait)}{cause}, longer than the {_seconds(max(left, 0))} "
            f"this call may still wait ({_times(attempts)}) — try again in {_seconds(wait)}",
            status,
            headers,
        )

    def _failure_text(self, failure: _AttemptError, what: str, url: str, attempts: int) -> str:
        where = urlsplit(url)
        return _FAILURES[failure.kind].format(
            what=what,
            t=_seconds(self.timeout),
            d=failure.detail,
            at=f"{where.scheme}://{where.netloc}",
            n=_times(attempts),
        )

    def _failure_error(self, failure: _AttemptError, what: str, url: str, attempts: int):
        return self._error(self._failure_text(failure, what, url, attempts))

    def http_error(self, answer: Answer, what: str, attempts: int = 1) -> OpenSeaError:
        """The error for a non-2xx answer, with the server's own message when it gave one."""
        status = answer.status
        message = server_message(answer.body, self.redact) or "no message"
        times = f" ({_times(attempts)})" if attempts > 1 else ""
        if status in (401, 403):
            text = f"{what} rejected the API key ({status}): {message}{self.key_advice}"
        elif status == 404:
            text = f"{what} has nothing at {urlsplit(answer.url).path} (404): {message}"
        elif status == 429:
            text = (
                f"{what} answered 429, too many requests{times}: {message} — wait a minute "
                "and try again"
            )
        elif status >= 500:
            text = f"{what} answered {status}, a server error{times}: {message} — try again later"
        elif 300 <= status < 400:
            location = self.redact(str(answer.headers.get("location")))[:120]
            text = (
                f"{what} redirected the call ({status}) to {location!r}; not followed, so that "
                "the API key goes nowhere else — check --base-url"
            )
        else:
            text = f"{what} refused the call ({status}): {message}"
        return self._error(text, status, answer.headers)


_FAILURES = {
    "unreachable": "could not reach {what} at {at} ({n}): {d} — check your connection",
    "no connection": "{what} did not accept a connection within {t} ({n}) — check your "
    "connection or try again later",
    "closed": "{what} closed the connection without answering ({n}) — try again later",
    "tls": "the secure connection to {what} failed ({n}): {d}",
    "slow answer": "{what} did not answer within {t} ({n}) — check your connection or try "
    "again later",
    "slow body": "{what} did not finish its answer within {t} (it had sent {d}; {n}) — check "
    "your connection or try again later",
    "cut off": "{what}'s answer was cut off after {d} ({n}) — try again later",
    "too large": "{what} sent an answer far larger than one could be ({d}); it was not read",
    "undecodable": "{what} sent a compressed answer that does not decompress",
    "redirects": "{what} sent {d}; not followed",
}


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), None if absent or junk."""
    if not value:
        return None
    try:
        # Without urllib3's own cap (6 hours): the message should say what the server asked.
        return max(Retry(retry_after_max=10**9).parse_retry_after(value), 0.0)
    except (InvalidHeader, ValueError, OverflowError):
        return None


def server_message(body: bytes, redact: Callable[[str], str], length: int = 200) -> str:
    """The message in an error body: `{"errors": [...]}`, `{"detail": ...}`, or its text."""
    text = body.decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        document = None
    if isinstance(document, dict):
        if isinstance(document.get("errors"), list) and document["errors"]:
            text = "; ".join(str(item) for item in document["errors"])
        else:
            for name in ("detail", "message", "error", "errors"):
                if document.get(name):
                    text = str(document[name])
                    break
    return snippet(redact(text), length)


def snippet(text: str, length: int = 200) -> str:
    """`text` on one line, printable characters only, at most `length` characters."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= length else text[: length - 1] + "…"
