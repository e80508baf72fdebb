"""Load with Streamlit websocket clients: N sessions work the explorer and the classifier.

Run: `.venv/bin/python bench/bench_load_ws.py --sessions 20 --seconds 60`

Each session is one websocket to `streamlit run app.py` on 127.0.0.1 speaking the browser's own
protocol (Streamlit's `BackMsg`/`ForwardMsg` protobufs on `/_stcore/stream`), so 20 of them
cost almost nothing beside the server: unlike `bench_load.py`'s 20 chromium tabs, which on a
2-core machine saturate the CPU themselves. Half the sessions open punks by id in the Dataset
Explorer and switch its type filter; half classify punks by id in the Live Classifier. Session
k only uses ids k, k+N, k+2N, ... and checks after every rerun that the page shows *its* punk
(no cross-talk). Latency = from sending the rerun to the server's `script_finished`. Errors =
an exception element, a run that does not finish in `--timeout` s, or a dropped connection.
Server memory (RSS of the server and its children) is sampled every second.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_load import MemorySampler, _summary, server_pid  # noqa: E402

from punks_core.dataset import load_punks  # noqa: E402
from tests.browser import streamlit_server  # noqa: E402

EXPLORER, CLASSIFIER = "Dataset_Explorer", "Live_Classifier"
FILTERS = ["Alien", "Ape", "Zombie", None]


class Session:
    def __init__(self, index: int, sessions: int, page: str, types):
        self.index, self.sessions, self.page, self.types = index, sessions, page, types
        self.widgets: dict[str, str] = {}  # key -> widget id, learned from the deltas
        self.states: dict[str, tuple[str, object]] = {}  # key -> (WidgetState field, value)
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.crosstalk = 0
        self.opened = 0
        self.ready = False

    def next_id(self) -> int:
        self.opened += 1
        return (self.index + self.sessions * self.opened) % len(self.types)

    def message(self) -> bytes:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = self.page
        for key, (field, value) in self.states.items():
            if key not in self.widgets:
                continue
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = self.widgets[key]
            target = getattr(state, field)
            if field == "string_array_value":
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
                        self.widgets[inner.id.rsplit("-", 1)[-1]] = inner.id
                    if hasattr(inner, "body"):
                        texts.append(inner.body)
                elif kind == "script_finished" and reply.script_finished in (0, 1):
                    if reply.script_finished == 1:
                        raise RuntimeError("the page did not compile")
                    break
        self.latencies.append(time.perf_counter() - start)
        return texts

    def step(self, step: int) -> str:
        """Choose the next interaction; return a pattern of the text the page must then show."""
        punk = self.next_id()
        if self.page == CLASSIFIER:
            self.states["classifier_id"] = ("int_value", punk)
            return rf"CryptoPunk #{punk}\b"
        self.states["explorer_goto"] = ("int_value", punk)
        if step % 2:
            wanted = FILTERS[(step // 2) % len(FILTERS)]
            self.states["explorer_types"] = ("string_array_value", [wanted] if wanted else [])
        return rf"CryptoPunk #{punk}: {self.types[punk]}\b"


async def run_session(url: str, session: Session, args, stop_at: list) -> None:
    uri = url.replace("http", "ws", 1) + "/_stcore/stream"
    async with websockets.connect(uri, subprotocols=["streamlit"], max_size=None) as ws:
        await session.rerun(ws, args.timeout)  # open the page: learn its widget ids
        if session.page == CLASSIFIER:
            session.states["classifier_source"] = ("string_value", "Punk by id")
            await session.rerun(ws, args.timeout)
        session.latencies.clear()
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


async def main_async(args) -> dict:
    types = load_punks().types.to_numpy()
    with streamlit_server() as url:
        sampler = MemorySampler(server_pid())
        sampler.sample()
        sampler.start()
        sessions = [
            Session(k, args.sessions, EXPLORER if k % 2 == 0 else CLASSIFIER, types)
            for k in range(args.sessions)
        ]
        stop_at: list[float] = []
        tasks = [asyncio.create_task(run_session(url, s, args, stop_at)) for s in sessions]
        while not all(s.ready for s in sessions) and not any(t.done() for t in tasks):
            await asyncio.sleep(0.2)
        warm = sampler.sample()
        started = time.monotonic()
        stop_at.append(started + args.seconds)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        measured = time.monotonic() - started
        end = sampler.sample()
        sampler.stopped.set()
    failures = [f"session {k}: {r!r}" for k, r in enumerate(results) if isinstance(r, Exception)]
    peak = max(v for _, v in sampler.samples)
    by_page = {}
    for page in (EXPLORER, CLASSIFIER):
        mine = [s for s in sessions if s.page == page]
        by_page[page] = {
            **_summary([x for s in mine for x in s.latencies]),
            "sessions": len(mine),
            "errors": sum(len(s.errors) for s in mine),
            "crosstalk": sum(s.crosstalk for s in mine),
        }
    return {
        "command": " ".join([".venv/bin/python", "bench/bench_load_ws.py", *sys.argv[1:]]),
        "seconds": round(measured, 1),
        "pages": by_page,
        "all": _summary([x for s in sessions for x in s.latencies]),
        "errors": [e for s in sessions for e in s.errors] + failures,
        "rss_mib": {"start": sampler.samples[0][1], "warm": warm, "peak": peak, "end": end},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the end",
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
    for page, row in result["pages"].items():
        times = " | ".join(
            "–" if row[q] is None else f"{row[q]:.3f} s" for q in ("p50", "p95", "max")
        )
        lines.append(
            f"| {page.replace('_', ' ')} | {row['sessions']} | {row['count']} | {times} | "
            f"{row['errors']} | {row['crosstalk']} |"
        )
    rss = result["rss_mib"]
    lines += [
        "",
        "| server RSS (MiB) | start | after warm-up | peak | end |",
        "|---|---:|---:|---:|---:|",
        f"| | {rss['start']:.0f} | {rss['warm']:.0f} | {rss['peak']:.0f} | {rss['end']:.0f} |",
    ]
    lines += [f"- {e}" for e in result["errors"][:20]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before an error")
    parser.add_argument("--think", type=float, default=0.0, help="pause between reruns (s)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    bad = result["errors"] or any(row["crosstalk"] for row in result["pages"].values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
