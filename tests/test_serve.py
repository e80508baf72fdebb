"""scripts/serve.sh on 127.0.0.1 with 2 processes behind nginx (skipped where nginx is missing).

Sessions speak Streamlit's own websocket protocol (the bench's client) and carry nginx's
sticky-session cookie as a browser does. The tests run in file order on one server: the last
one stops it.
"""

import asyncio
import os
import re
import shutil
import signal
import time
import urllib.request
from pathlib import Path

import pytest
import websockets

ROOT = Path(__file__).resolve().parent.parent

from bench.bench_load_ws import EXPLORER, Served, Session, connect  # noqa: E402

NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if NGINX is None:
        reason = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with Served(2, tmp_path_factory.mktemp("serve")) as server:
        yield server


def get(url: str, cookie: str | None = None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.headers, reply.read()


def backend_pids(served) -> dict[str, int]:
    """'127.0.0.1:PORT' -> pid of the app process on that port, from serve.sh's pid files."""
    return {
        f"127.0.0.1:{path.stem.split('-')[1]}": int(path.read_text())
        for path in served.run_dir.glob("streamlit-*.pid")
    }


def test_the_proxy_answers_the_health_check(served):
    status, headers, body = get(f"{served.url}/_stcore/health")
    assert (status, body) == (200, b"ok")
    assert headers["X-Punklab-Backend"] in backend_pids(served)
    assert any(c.startswith("punklab_route=") for c in headers.get_all("Set-Cookie"))


async def open_sessions(served, types, per_backend: int) -> list[tuple[Session, object]]:
    """Open websockets with fresh cookies until each process holds `per_backend` of them."""
    kept, counts = [], dict.fromkeys(backend_pids(served), 0)
    for index in range(60):
        session = Session(index, 100, EXPLORER, types)
        ws = await connect(served.url, session.cookie)
        session.backend = ws.response.headers["X-Punklab-Backend"]
        if counts[session.backend] < per_backend:
            counts[session.backend] += 1
            kept.append((session, ws))
        else:
            await ws.close()
        if min(counts.values()) == per_backend:
            return kept
    raise AssertionError(f"60 cookies did not reach both processes: {counts}")


async def shows_its_own_punk(session: Session, ws) -> bool:
    expected = session.step(session.opened)
    return any(re.search(expected, text) for text in await session.rerun(ws, 120))


async def sessions_stay_then_one_process_dies(served, types) -> None:
    sessions = await open_sessions(served, types, per_backend=2)
    for session, ws in sessions:
        await session.open(ws, 180)
    for _ in range(3):
        for session, ws in sessions:
            assert await shows_its_own_punk(session, ws)
            # Every request of this browser, not only its websocket, reaches its process.
            _, headers, _ = get(f"{served.url}/", session.cookie)
            assert headers["X-Punklab-Backend"] == session.backend

    victim = sessions[0][0].backend
    os.kill(backend_pids(served)[victim], signal.SIGKILL)  # a crash, not a clean stop
    for session, ws in sessions:
        if session.backend == victim:
            # Its websocket is closed; a browser then reconnects through nginx (below).
            with pytest.raises(websockets.ConnectionClosed):
                await shows_its_own_punk(session, ws)
        else:
            assert await shows_its_own_punk(session, ws)  # the other process goes on
    for _ in range(3):
        status, headers, _ = get(f"{served.url}/_stcore/health")
        assert status == 200 and headers["X-Punklab-Backend"] != victim

    # The lost user's reconnect reaches the live process, where the page starts over: a new
    # session with the page's defaults (punk #0), not the punk they had open.
    lost = next(session for session, _ in sessions if session.backend == victim)
    again = Session(lost.index, 100, EXPLORER, types)
    async with await connect(served.url, lost.cookie) as ws:
        assert ws.response.headers["X-Punklab-Backend"] != victim
        texts = await again.rerun(ws, 120)
        assert any(text.startswith("CryptoPunk #0:") for text in texts)
        assert await shows_its_own_punk(again, ws)
    for _, ws in sessions:
        await ws.close()


def test_sessions_stay_on_their_process_and_outlive_another_one(served, punks):
    asyncio.run(sessions_stay_then_one_process_dies(served, punks.types.to_numpy()))
    log = (served.run_dir / "serve.log").read_text()
    assert "stopped: its sessions move to the others" in log


def test_sigterm_stops_nginx_and_every_process(served):
    pids = [*backend_pids(served).values(), int((served.run_dir / "nginx.pid").read_text())]
    assert served.stop() == 143  # 128 + SIGTERM: stopped on purpose, not crashed
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    with pytest.raises(OSError):
        get(f"{served.url}/_stcore/health")
