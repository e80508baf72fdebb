"""Load with Streamlit websocket clients: N sessions work the lab's pages, direct or via nginx.

Run: `.venv/bin/python -m bench.bench_load_ws --sessions 20 --seconds 60` (one server, the
Explorer and the Classifier, back to back), or a class:
`.venv/bin/python -m bench.bench_load_ws --sessions 30 --think 3 --seconds 300 --pages all
--serve 2` (`scripts/serve.sh 2`: nginx in front of 2 processes; `--serve 1`: nginx and one).

Each session is one websocket speaking the browser's own protocol (Streamlit's
`BackMsg`/`ForwardMsg` protobufs on `/_stcore/stream`), so 30 of them cost almost nothing beside
the server: unlike `bench_load.py`'s chromium tabs, which on a 2-core machine saturate the CPU
themselves. Sessions are spread over the pages in turn:
- Dataset Explorer: open a punk by id, every other step also switch the type filter;
- Live Classifier: classify a punk by id;
- GAN Gallery: move the epoch slider (a rerun of its st.fragment only, as in a browser);
- Convolution Lab: pick a punk and type a number into a kernel cell.
Session k uses its own ids, epochs and kernel weights (k, k+N, k+2N, ...) and checks after
every rerun that the page shows *its* choice (else: cross-talk). Latency = from sending the
rerun to the server's `script_finished`. Errors = an exception element, a run that does not
finish in `--timeout` s, or a dropped connection. Through nginx every session carries its own
`punklab_route` cookie, as a browser would, and notes which process served it. Server memory
(RSS of the server's whole process tree, nginx included) is sampled every second and its CPU
time read before and after, for the CPU seconds per rerun.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.bench_load import MemorySampler, _summary, _used, cpu_seconds, server_pid
from punks_core.dataset import load_punks
from tests.browser import free_port, streamlit_server

ROOT = Path(__file__).resolve().parent.parent

EXPLORER, CLASSIFIER = "Dataset_Explorer", "Live_Classifier"
GAN, CONVOLUTION = "GAN_Gallery", "Convolution_Lab"
PAGES = {"explorer": EXPLORER, "classifier": CLASSIFIER, "gan": GAN, "conv": CONVOLUTION}
FILTERS = ["Alien", "Ape", "Zombie", None]
# The kernel matrix of the Convolution Lab's worked sum, as st.latex draws it.
KERNEL_LATEX = re.compile(r"\\odot \\begin\{bmatrix\}(-?[\d.]+) ")


class Session:
    """One browser tab's worth of protocol: widget ids learned from the page, states sent back."""

    def __init__(self, index: int, sessions: int, page: str, types):
        self.index, self.sessions, self.page, self.types = index, sessions, page, types
        self.widgets: dict[str, str] = {}  # key -> widget id, learned from the deltas
        self.sliders: dict[str, tuple[float, float]] = {}  # key -> (min, max)
        self.fragments: dict[str, str] = {}  # key -> id of the st.fragment drawing the widget
        self.fragment = ""  # the next rerun's: a widget inside a fragment reruns only that
        self.states: dict[str, tuple[str, object]] = {}  # key -> (WidgetState field, value)
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.crosstalk = 0
        self.opened = 0
        self.ready = False
        self.backend: str | None = None

    @property
    def cookie(self) -> str:
        return f"punklab_route=bench-session-{self.index}"

    def next_choice(self, count: int) -> int:
        """The next of this session's own choices among `count`: k, k+N, k+2N, ... mod count."""
        self.opened += 1
        return (self.index + self.sessions * self.opened) % count

    def message(self) -> bytes:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = self.page
        msg.rerun_script.fragment_id = self.fragment
        for key, (field, value) in self.states.items():
            if key not in self.widgets:
                continue
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = self.widgets[key]
            target = getattr(state, field)
            if field.endswith("_array_value"):
                target.data.extend(value)
            else:
                setattr(state, field, value)
        return msg.SerializeToString()

    async def rerun(self, ws, timeout: float) -> list[str]:
        """Send the session's widget states; the page's texts once the run has finished."""
        start = time.perf_counter()
        await ws.send(self.message())
        texts = []
        async with asyncio.timeout(timeout):
            while True:
                reply = ForwardMsg.FromString(await ws.recv())
                kind = reply.WhichOneof("type")
                if kind == "delta" and reply.delta.HasField("new_element"):
                    element = reply.delta.new_element
                    name = element.WhichOneof("type")
                    inner = getattr(element, name)
                    if name == "exception":
                        raise RuntimeError(f"exception on the page: {inner.message[:200]}")
                    if getattr(inner, "id", "").startswith("$$ID-"):
                        key = inner.id.rsplit("-", 1)[-1]
                        self.widgets[key] = inner.id
                        self.fragments[key] = reply.delta.fragment_id
                        if name == "slider":
                            self.sliders[key] = (inner.min, inner.max)
                    if hasattr(inner, "body"):
                        texts.append(inner.body)
                elif kind == "script_finished" and reply.script_finished in (0, 1, 3):
                    if reply.script_finished == 1:
                        raise RuntimeError("the page did not compile")
                    break
        self.latencies.append(time.perf_counter() - start)
        return texts

    async def open(self, ws, timeout: float) -> None:
        """The page's first run (learns its widget ids), then what the page's steps need."""
        await self.rerun(ws, timeout)
        if self.page == CLASSIFIER:
            self.states["classifier_source"] = ("string_value", "Punk by id")
            await self.rerun(ws, timeout)
        self.latencies.clear()

    def step(self, step: int) -> str:
        """Choose the next interaction; return a pattern of the text the page must then show."""
        if self.page == GAN:
            low, high = (int(v) for v in self.sliders["gan_epoch"])
            epoch = low + self.next_choice(high - low + 1)
            self.states["gan_epoch"] = ("double_array_value", [epoch])
            self.fragment = self.fragments["gan_epoch"]  # as the browser (and the player) do
            return rf"^Epoch {epoch}:"
        if self.page == CONVOLUTION:
            weight = 2 + self.next_choice(97)  # 2..98, typed into the kernel's top-left cell
            self.states["conv_punk_id"] = ("int_value", self.next_choice(len(self.types)))
            edits = {"edited_rows": {"0": {"1": str(weight)}}, "added_rows": [], "deleted_rows": []}
            self.states["conv_kernel_0"] = ("string_value", json.dumps(edits))
            return rf"\\odot \\begin\{{bmatrix\}}{weight} "
        punk = self.next_choice(len(self.types))
        if self.page == CLASSIFIER:
            self.states["classifier_id"] = ("int_value", punk)
            return rf"CryptoPunk #{punk}\b"
        self.states["explorer_goto"] = ("int_value", punk)
        if step % 2:
            wanted = FILTERS[(step // 2) % len(FILTERS)]
            self.states["explorer_types"] = ("string_array_value", [wanted] if wanted else [])
        return rf"CryptoPunk #{punk}: {self.types[punk]}\b"


async def connect(url: str, cookie: str | None = None):
    """A Streamlit websocket to `url`, carrying `cookie` (nginx's sticky-session cookie)."""
    uri = url.replace("http", "ws", 1) + "/_stcore/stream"
    headers = {"Cookie": cookie} if cookie else None
    return await websockets.connect(
        uri, subprotocols=["streamlit"], max_size=None, additional_headers=headers
    )


async def run_session(url: str, session: Session, args, stop_at: list) -> None:
    async with await connect(url, session.cookie if args.serve else None) as ws:
        session.backend = ws.response.headers.get("X-Punklab-Backend")
        await session.open(ws, max(args.timeout, 180))  # a whole class arrives at once
        session.ready = True
        while not stop_at:
            await asyncio.sleep(0.05)
        step = 0
        while time.monotonic() < stop_at[0]:
            expected = session.step(step)
            step += 1
            try:
                texts = await session.rerun(ws, args.timeout)
            except (TimeoutError, RuntimeError) as error:
                session.errors.append(f"step {step}: {type(error).__name__}: {error}")
                continue
            if not any(re.search(expected, text) for text in texts):
                session.crosstalk += 1
            await asyncio.sleep(args.think)


class Served:
    """`scripts/serve.sh N` on free local ports, for the length of a `with` block."""

    def __init__(self, processes: int, run_dir: Path):
        self.processes, self.run_dir = processes, run_dir
        self.port, backend = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PUNKLAB_LISTEN": f"127.0.0.1:{self.port}",
            "PUNKLAB_BACKEND_PORT": str(backend),
            "PUNKLAB_RUN_DIR": str(run_dir),
        }
        self.process = subprocess.Popen(
            ["scripts/serve.sh", str(processes)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=(run_dir / "serve.log").open("wb"),
        )  # fmt: skip

    def __enter__(self) -> "Served":
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = (self.run_dir / "serve.log").read_text(errors="replace")
                    raise RuntimeError(f"scripts/serve.sh did not start:\n{log}") from None
                time.sleep(0.5)

    def stop(self) -> int | None:
        """SIGTERM, as Ctrl-C would; the exit status (None if it had to be killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None

    def __exit__(self, *exc) -> None:
        self.stop()


async def settle(pid: int, limit: float = 90) -> None:
    """Wait until the server idles (under 0.1 CPU seconds a second), at most `limit` seconds:
    the background model warm-up must not be counted as the reruns' CPU."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before, _ = cpu_seconds(pid)
        await asyncio.sleep(1)
        if _used(before, cpu_seconds(pid)[0]) < 0.1:
            return


async def main_async(args) -> dict:
    types = load_punks().types.to_numpy()
    pages = list(PAGES.values()) if args.pages == "all" else [PAGES[p] for p in args.pages]
    load_before = os.getloadavg()
    if args.serve:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        server = Served(args.serve, args.run_dir)
    else:
        server = streamlit_server()
    with server as served:
        url = served.url if args.serve else served
        root_pid = served.process.pid if args.serve else server_pid()
        sampler = MemorySampler(root_pid)
        sampler.sample()
        sampler.start()
        sessions = [
            Session(k, args.sessions, pages[k % len(pages)], types) for k in range(args.sessions)
        ]
        stop_at: list[float] = []
        tasks = [asyncio.create_task(run_session(url, s, args, stop_at)) for s in sessions]
        while not all(s.ready for s in sessions) and not any(t.done() for t in tasks):
            await asyncio.sleep(0.2)
        await settle(root_pid, args.settle)
        warm = sampler.sample()
        cpu_before, _ = cpu_seconds(root_pid)
        started = time.monotonic()
        stop_at.append(started + args.seconds)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        measured = time.monotonic() - started
        cpu_after, _ = cpu_seconds(root_pid)
        end = sampler.sample()
        sampler.stopped.set()
    failures = [f"session {k}: {r!r}" for k, r in enumerate(results) if isinstance(r, Exception)]
    by_page = {}
    for page in pages:
        mine = [s for s in sessions if s.page == page]
        by_page[page] = {
            **_summary([x for s in mine for x in s.latencies]),
            "sessions": len(mine),
            "errors": sum(len(s.errors) for s in mine),
            "crosstalk": sum(s.crosstalk for s in mine),
        }
    backends: dict[str, dict] = {}
    for s in sessions:
        row = backends.setdefault(s.backend or "direct", {"sessions": 0, "reruns": 0})
        row["sessions"] += 1
        row["reruns"] += len(s.latencies)
    reruns = sum(len(s.latencies) for s in sessions)
    # Memory over the measured window, one value a minute (the largest sample of the minute).
    since = started - sampler.start_time
    minutes: dict[int, float] = {}
    for at, mib in sampler.samples:
        if at >= since:
            minute = int((at - since) // 60)
            minutes[minute] = max(minutes.get(minute, 0.0), mib)
    cpu = _used(cpu_before, cpu_after)
    return {
        "command": " ".join([".venv/bin/python", "-m", "bench.bench_load_ws", *sys.argv[1:]]),
        "seconds": round(measured, 1),
        "pages": by_page,
        "all": {
            **_summary([x for s in sessions for x in s.latencies]),
            "sessions": len(sessions),
            "errors": sum(len(s.errors) for s in sessions) + len(failures),
            "crosstalk": sum(s.crosstalk for s in sessions),
        },
        "backends": backends,
        "errors": [e for s in sessions for e in s.errors] + failures,
        "rss_mib": {
            "start": sampler.samples[0][1],
            "warm": warm,
            "peak": max(v for _, v in sampler.samples),
            "end": end,
            "per_minute": [round(minutes[m]) for m in sorted(minutes)],
        },
        "server_cpu_s": round(cpu, 1),
        "cpu_ms_per_rerun": round(1000 * cpu / reruns) if reruns else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} at the end",
    }


def markdown(result: dict) -> str:
    lines = [
        f"`{result['command']}`",
        "",
        f"{result['seconds']} s measured; {result['machine']}.",
        "",
        "| page | sessions | reruns | p50 | p95 | max | errors | cross-talk |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for page, row in [*result["pages"].items(), ("all", result["all"])]:
        times = " | ".join(
            "–" if row[q] is None else f"{row[q]:.3f} s" for q in ("p50", "p95", "max")
        )
        lines.append(
            f"| {page.replace('_', ' ')} | {row['sessions']} | {row['count']} | {times} | "
            f"{row['errors']} | {row['crosstalk']} |"
        )
    rss = result["rss_mib"]
    minutes = ", ".join(f"{v:,}" for v in rss["per_minute"])
    lines += [
        "",
        "| server RSS (MiB) | start | after warm-up | peak | end | largest each minute |",
        "|---|---:|---:|---:|---:|---|",
        f"| | {rss['start']:,.0f} | {rss['warm']:,.0f} | {rss['peak']:,.0f} | "
        f"{rss['end']:,.0f} | {minutes} |",
        "",
        f"Server CPU: {result['server_cpu_s']} s, {result['cpu_ms_per_rerun']} ms a rerun. "
        "Sessions (reruns) per process: "
        + ", ".join(f"{b}: {r['sessions']} ({r['reruns']})" for b, r in result["backends"].items()),
    ]
    lines += [f"- {e}" for e in result["errors"][:20]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before an error")
    parser.add_argument("--think", type=float, default=0.0, help="pause between reruns (s)")
    parser.add_argument(
        "--pages", default="explorer,classifier",
        type=lambda text: text if text == "all" else text.split(","),
        help=f"'all' or a comma-separated list of {', '.join(PAGES)}",
    )  # fmt: skip
    parser.add_argument(
        "--serve", type=int, default=0,
        help="start scripts/serve.sh N (nginx in front of N processes) instead of one server",
    )  # fmt: skip
    parser.add_argument(
        "--run-dir", type=Path, default=Path("/tmp/punklab-bench-serve"),
        help="serve.sh's folder for logs and pid files (with --serve)",
    )  # fmt: skip
    parser.add_argument(
        "--settle", type=float, default=90,
        help="at most this many seconds of waiting for the server to idle before measuring",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    if args.pages != "all" and not set(args.pages) <= set(PAGES):
        parser.error(f"--pages: choose among {', '.join(PAGES)} or 'all'")
    result = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    bad = result["errors"] or result["all"]["crosstalk"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
