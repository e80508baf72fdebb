"""A total deadline for one HTTP attempt: connect, headers and body, however slowly they come.

requests' `timeout` bounds each socket read, so a server that sends one byte a second never
times out (urllib3's `Timeout(total=...)` only covers connect plus the first read). A
`Deadline` is a timer that shuts the sockets of the connection in use when the time is up: the
blocked read returns at once. `DeadlineAdapter` is requests' adapter with connections the running
deadline watches, and no retries of its own (`opensea_transport.Transport` does those).
"""

import contextlib
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

_current = threading.local()  # the running attempt's Deadline, seen by the connections


class Deadline:
    """Ends an attempt when its time is up by shutting the sockets it uses.

    A read blocked on such a socket then returns at once (end of stream), which urllib3 turns
    into an error or a short body; `expired` tells the caller the cause was the deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        # The connection (its `sock` during a TLS handshake) and every socket it has had: once
        # the headers are read, http.client may drop `sock` while the body still streams from it.
        self._connection: HTTPConnection | None = None
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self._timer.cancel()
        _current.deadline = None
        with self._lock:  # a timer firing now must not shut a connection back in the pool
            self._connection, self._sockets = None, []

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if connection.sock is not None and connection.sock not in self._sockets:
                self._sockets.append(connection.sock)
            if self.expired:
                self._shut_all()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut_all()

    def _shut_all(self) -> None:
        sockets = list(self._sockets)
        if self._connection is not None and self._connection.sock is not None:
            sockets.append(self._connection.sock)
        for sock in sockets:
            # socket.socket's own shutdown, also on an SSLSocket: its override would drop the
            # TLS state under the thread still reading from it. OSError: already closed.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(connection: HTTPConnection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


class _Watched:
    """Mixin for urllib3's connections: the running attempt's deadline watches each of them,
    when connecting (TCP, TLS handshake) and for each request on a kept-alive one."""

    def connect(self) -> None:
        _watch(self)
        super().connect()
        _watch(self)  # the deadline may have passed while `sock` was not yet set

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with no retries of its own and connections the deadline can end."""

    _pools = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def __init__(self) -> None:
        # read=False: a read timeout comes back as itself, not as a "connection error".
        super().__init__(max_retries=Retry(total=0, read=False, redirect=False))

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._pools)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):  # SOCKS managers have their own pools
            manager.pool_classes_by_scheme = dict(self._pools)
        return manager
