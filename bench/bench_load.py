"""Load benchmark: N concurrent browser sessions against one `streamlit run app.py` for D seconds.

    .venv/bin/python -m bench.bench_load [--sessions 20] [--seconds 60] [--json OUT]

Starts the app on 127.0.0.1 (tests/browser.py's `streamlit_server`) and opens N sessions in
Debian's chromium, each in its own browser context (own cookies and storage, so its own websocket
and its own Streamlit session). Half the sessions work the Dataset Explorer (they alternately open
a punk by id in "…or any id" and change the Type filter), the other half the Live Classifier ("Punk
by id", then one id after another; each new punk costs a classification and a 577-pass occlusion
map). Session k only ever uses the ids k, k+N, k+2N, … so no two sessions share a punk.

Each session first loads its page and gets ready, untimed (warm-up: the page load, with
TensorFlow's first load and the caches; then the first own punk, and for the classifier "Punk by
id"); when every session is ready the clock starts and each session repeats interactions, with
no pause unless --think says so, until D seconds have passed (an interaction under way then is
finished and counted).

- Latency of one interaction: from the input action (Enter in a number input, a typed option in a
  multiselect) to the app being idle again: a script run was seen to start, the app root is
  `[data-test-script-state="notRunning"]` and no element is `[data-stale="true"]`. Reported per
  page as p50 / p95 / max and count. (The start of the run is seen by a MutationObserver on the
  script-state attribute; a run the frontend never shows as running would read as a timeout, an
  error, never as a too-short latency.)
- Errors: an `[data-testid="stException"]` on the page, an uncaught page error, or an interaction
  that does not get idle within --timeout (or an input that does not appear in that time). After
  an error the session reloads its page and gets ready again, untimed.
- Cross-talk: after each interaction the page must show the session's own punk: the explorer's
  "CryptoPunk #<id>: <type>" heading (and, after a filter change, the match count of the chosen
  type), the classifier's "CryptoPunk #<id>" caption and "Truth: <type>" heading. A page that is
  idle but shows anything else counts as cross-talk.
- Server memory: the RSS (VmRSS in /proc/<pid>/status) of the streamlit process and any child of
  it, sampled every second by a thread: at start (no session yet), after warm-up, peak, at the end
  (once every session has finished its last interaction) and 5 s after the sessions closed.
  "Steady" = the end is within 10 % of the after-warm-up value. Also the CPU time used while
  measured by the server and by chromium + this harness (the load generator's own share).

Why one asyncio program: Playwright's sync objects belong to the thread that made them, so a thread
per session needs a `sync_playwright()` (a Node driver process) and a chromium browser per thread:
20 drivers and 20 browsers with their own GPU/network/utility processes, which on a 2-core machine
cost more CPU than the app under test and make the numbers mostly measure the harness. Here one
event loop, one driver and one browser drive all N contexts; a page waiting on the server costs
nothing while it waits. `tests/browser.py`'s `wait_until_idle` is sync-only, so `_load_page` below
repeats its checks with the async API. Chromium's background throttling is switched off so that
pages the harness is not "looking at" still run their timers at full speed.

Caveat: the browsers run on the same CPUs as the server, so on a small machine the latencies
include the pages' own rendering under contention; they are what a local user would see, not the
server time alone.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import shlex
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser import (
    CHROMIUM_FLAGS,
    chromium_path,
    page_url,
    streamlit_server,
)

ROOT = Path(__file__).resolve().parent.parent

EXPLORER, CLASSIFIER = "Dataset Explorer", "Live Classifier"
PAGE_FILES = {EXPLORER: "1_Dataset_Explorer.py", CLASSIFIER: "3_Live_Classifier.py"}
FILTER_TYPES = ["Alien", "Ape", "Zombie", "Female", "Male"]  # cycled in this order
N_PUNKS = 10_000
EXTRA_FLAGS = [
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# Counts every change of the app root's script state, so that an interaction waits for the run it
# started and not for the idle state that was already there before the action.
RUN_COUNTER = """
window.__punkRuns = 0;
new MutationObserver(records => {
  for (const r of records) if (r.target.getAttribute(r.attributeName) !== r.oldValue)
    window.__punkRuns += 1;
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ["data-test-script-state"]});
"""
IDLE = (
    'document.querySelector(\'[data-testid="stApp"][data-test-script-state="notRunning"]\')'
    " && !document.querySelector('[data-stale=\"true\"]')"
)


class NotIdleError(Exception):
    pass


@dataclass
class Session:
    index: int
    kind: str
    sessions: int  # how many in all: session k opens the ids k, k + sessions, ...
    latencies: list[float] = field(default_factory=list)
    first_load: float | None = None
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    step: int = 0
    opened: int = 0  # punks opened so far
    punk_id: int | None = None  # the one the page should show
    filters: int = 0  # type filters chosen so far (explorer)
    type_filter: str | None = None  # the type chosen now (explorer)


# ---------------------------------------------------------------- server memory


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def server_pid() -> int:
    """Our own `streamlit run` child (another one may be running on the machine)."""
    for pid in _proc_children().get(os.getpid(), []):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in command and b"run" in command:
            return pid
    raise RuntimeError("the streamlit server process is not a child of this one")


def rss_mib(pid: int) -> float:
    """VmRSS of `pid` and all its descendants, in MiB."""
    children, total, todo = _proc_children(), 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class MemorySampler(threading.Thread):
    def __init__(self, pid: int, period: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self.stopped = threading.Event()
        self.start_time = time.monotonic()

    def sample(self) -> float:
        value = rss_mib(self.pid)
        self.samples.append((time.monotonic() - self.start_time, value))
        return value

    def run(self) -> None:
        while not self.stopped.wait(self.period):
            self.sample()


# ---------------------------------------------------------------- one session


async def _load_page(page, url: str, timeout_ms: int) -> None:
    """tests/browser.py's wait_until_idle, with the async API."""
    await page.goto(url, timeout=timeout_ms)
    await page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_ms)
    await page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    await page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms
    )
    await page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms
    )
    await page.wait_for_load_state("networkidle", timeout=timeout_ms)
    await page.wait_for_function(
        "() => [...document.images].every(image => image.complete)"
        " && document.querySelectorAll('.js-plotly-plot').length"
        " >= document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length"
        " && [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(plot => plot.querySelector('.main-svg'))",
        timeout=timeout_ms,
    )


async def _act(page, action, timeout_ms: int) -> float:
    """Run `action` (a coroutine function) and wait for the rerun it causes; seconds taken."""
    before = await page.evaluate("window.__punkRuns")
    start = time.perf_counter()
    await action()
    try:
        await page.wait_for_function(
            f"() => window.__punkRuns > {before} && {IDLE}", timeout=timeout_ms, polling=50
        )
    except Exception as error:  # playwright's TimeoutError, or the page went away
        message = f"not idle after {timeout_ms / 1000:.0f} s: {error}".splitlines()[0]
        raise NotIdleError(message) from None
    return time.perf_counter() - start


async def _exception_text(page) -> str | None:
    exceptions = page.locator('[data-testid="stException"]')
    if await exceptions.count():
        return (await exceptions.first.inner_text())[:300]
    return None


async def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in await page.locator(selector).all_inner_texts()]


async def _set_number(page, key: str, value: int) -> None:
    field_ = page.locator(f".st-key-{key} input")
    await field_.fill(str(value))
    await field_.press("Enter")


async def _open_punk(page, session: Session, key: str, timeout_ms: int) -> float:
    """Type the session's next own id into the number input `key`; seconds to idle."""
    session.punk_id = (session.index + session.sessions * session.opened) % N_PUNKS
    session.opened += 1
    return await _act(page, lambda: _set_number(page, key, session.punk_id), timeout_ms)


async def _explorer_setup(page, session: Session, timeout_ms: int) -> None:
    # The first input after a load waits for the page to finish drawing: not a timed step.
    session.type_filter = None
    await _open_punk(page, session, "explorer_goto", timeout_ms)


async def _explorer_step(page, session: Session, types, timeout_ms: int):
    """Even steps open the session's next punk; odd steps choose a type, or clear it again."""
    step = session.step
    if step % 2 == 0:
        seconds = await _open_punk(page, session, "explorer_goto", timeout_ms)
    else:
        box = page.locator(".st-key-explorer_types input")
        if session.type_filter is None:
            session.type_filter = FILTER_TYPES[session.filters % len(FILTER_TYPES)]
            session.filters += 1

            async def action():
                await box.click()
                await box.fill(session.type_filter)
                await box.press("Enter")

        else:
            session.type_filter = None

            async def action():
                await box.click()
                await box.press("Backspace")  # removes the one chosen type

        seconds = await _act(page, action, timeout_ms)
        await page.keyboard.press("Escape")  # close the option list if it stayed open
    problems = []
    heading = f"CryptoPunk #{session.punk_id}: {types[session.punk_id]}"
    shown = [t for t in await _texts(page, '[data-testid="stMain"] h3') if "CryptoPunk #" in t]
    if shown != [heading]:
        problems.append(f"expected {heading!r}, page shows {shown}")
    if step % 2 == 1:
        chosen = session.type_filter
        count = (types == chosen).sum() if chosen else N_PUNKS
        expected = f"{count:,} of {N_PUNKS:,} punks match"
        captions = await _texts(page, '[data-testid="stMain"] [data-testid="stCaptionContainer"]')
        if not any(expected in c for c in captions):
            matches = [c for c in captions if "punks match" in c]
            problems.append(f"filter {chosen or 'none'}: expected {expected!r}, shows {matches}")
    return seconds, problems


async def _classifier_setup(page, session: Session, timeout_ms: int) -> None:
    option = page.locator(".st-key-classifier_source label", has_text="Punk by id")
    await _act(page, option.click, timeout_ms)
    # The field starts at 9000: put the session's own first id there, untimed.
    await _open_punk(page, session, "classifier_id", timeout_ms)


async def _classifier_step(page, session: Session, types, timeout_ms: int):
    seconds = await _open_punk(page, session, "classifier_id", timeout_ms)
    punk_id, problems = session.punk_id, []
    captions = await _texts(page, '[data-testid="stMain"] [data-testid="stCaptionContainer"]')
    shown = [c for c in captions if c.startswith("CryptoPunk #") or "Not one of" in c]
    if shown != [f"CryptoPunk #{punk_id}"]:
        problems.append(f"expected caption 'CryptoPunk #{punk_id}', page shows {shown}")
    truth = [t for t in await _texts(page, '[data-testid="stMain"] h3') if t.startswith("Truth:")]
    if truth != [f"Truth: {types[punk_id]}"]:
        problems.append(f"expected 'Truth: {types[punk_id]}', page shows {truth}")
    return seconds, problems


async def run_session(browser, base: str, session: Session, args, types, ready, go, stop_at):
    """Load the page, get ready, wait for every session, then interact until `stop_at()`."""
    timeout_ms = int(args.timeout * 1000)
    url = page_url(base, PAGE_FILES[session.kind])
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(RUN_COUNTER)
    context.set_default_timeout(timeout_ms)  # clicks and fills too, not only the waits
    page = await context.new_page()
    page.on("pageerror", lambda error: session.page_errors.append(str(error)[:300]))
    if session.kind == EXPLORER:
        setup, step_fn = _explorer_setup, _explorer_step
    else:
        setup, step_fn = _classifier_setup, _classifier_step

    async def prepare() -> None:
        await _load_page(page, url, timeout_ms)
        await setup(page, session, timeout_ms)

    def failed(when: str, error: Exception) -> None:
        session.errors.append(f"{when}: {error}".splitlines()[0][:300])

    try:
        start = time.perf_counter()
        try:
            await prepare()
            session.first_load = time.perf_counter() - start
            prepared = True
        except Exception as error:  # playwright's errors: retried when the clock runs
            failed("warm-up", error)
            prepared = False
        ready.set()
        await go.wait()
        while not stop_at():
            if not prepared:  # a fresh page after an error; its time is not counted
                try:
                    await prepare()
                    prepared = True
                except Exception as error:
                    failed("reload", error)
                continue
            errors_before = len(session.page_errors)
            try:
                seconds, problems = await step_fn(page, session, types, timeout_ms)
            except Exception as error:  # not idle in time, or an input that never appeared
                failed(f"step {session.step}", error)
                session.step += 1
                prepared = False
                continue
            session.latencies.append(seconds)
            exception = await _exception_text(page)
            if exception:
                session.errors.append(f"step {session.step}: stException: {exception}")
            if len(session.page_errors) > errors_before:
                session.errors.append(f"step {session.step}: page error")
            session.crosstalk.extend(f"step {session.step}: {p}" for p in problems)
            session.step += 1
            if args.think:
                await asyncio.sleep(args.think)
    finally:
        await context.close()


# ---------------------------------------------------------------- the run


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"count": 0, "p50": None, "p95": None, "max": None}
    return {
        "count": len(latencies),
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 95),
        "max": max(latencies),
    }


async def run(args, types) -> dict:
    from playwright.async_api import async_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    kinds = [EXPLORER if k % 2 == 0 else CLASSIFIER for k in range(args.sessions)]
    sessions = [Session(k, kind, args.sessions) for k, kind in enumerate(kinds)]
    with streamlit_server() as base:
        sampler = MemorySampler(server_pid())
        memory = {"start": sampler.sample()}
        sampler.start()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_FLAGS + EXTRA_FLAGS
            )
            readies = [asyncio.Event() for _ in sessions]
            go = asyncio.Event()
            window: dict[str, float] = {}

            def stop_at() -> bool:
                return time.monotonic() >= window["end"]

            tasks = []
            for session, ready in zip(sessions, readies, strict=True):
                tasks.append(
                    asyncio.create_task(
                        run_session(browser, base, session, args, types, ready, go, stop_at)
                    )
                )
                await asyncio.sleep(args.stagger)
            warmup_start = time.monotonic()
            await asyncio.gather(*(ready.wait() for ready in readies))
            warmup_seconds = time.monotonic() - warmup_start
            memory["after_warmup"] = sampler.sample()
            cpu_start = cpu_seconds(sampler.pid)
            window["start"] = time.monotonic()
            window["end"] = window["start"] + args.seconds
            go.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            elapsed = time.monotonic() - window["start"]
            memory["end"] = sampler.sample()
            cpu_end = cpu_seconds(sampler.pid)
            await browser.close()
        await asyncio.sleep(5)
        memory["after_close"] = sampler.sample()
        sampler.stopped.set()
    for session, result in zip(sessions, results, strict=True):
        if isinstance(result, BaseException):
            session.errors.append(f"session crashed: {result!r}"[:300])
    memory["peak"] = max(v for _, v in sampler.samples)
    growth = memory["end"] - memory["after_warmup"]
    memory["steady"] = growth <= 0.10 * memory["after_warmup"]
    by_kind = {}
    for kind in (EXPLORER, CLASSIFIER):
        mine = [s for s in sessions if s.kind == kind]
        by_kind[kind] = {
            **_summary([x for s in mine for x in s.latencies]),
            "sessions": len(mine),
            "errors": sum(len(s.errors) for s in mine),
            "crosstalk": sum(len(s.crosstalk) for s in mine),
            "first_load_max": max((s.first_load or 0 for s in mine), default=None),
        }
    return {
        "command": " ".join(
            shlex.quote(a) for a in [".venv/bin/python", "-m", "bench.bench_load", *sys.argv[1:]]
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the end",
        "sessions": args.sessions,
        "seconds": args.seconds,
        "measured_seconds": elapsed,
        "warmup_seconds": warmup_seconds,
        "server_cpu_seconds": _used(cpu_start[0], cpu_end[0]),
        "client_cpu_seconds": _used(cpu_start[1], cpu_end[1]),
        "pages": by_kind,
        "all": {
            **_summary([x for s in sessions for x in s.latencies]),
            "errors": sum(len(s.errors) for s in sessions),
            "crosstalk": sum(len(s.crosstalk) for s in sessions),
        },
        "memory_mib": memory,
        "memory_samples": sampler.samples,
        "session_details": [
            {
                "session": s.index,
                "page": s.kind,
                "interactions": len(s.latencies),
                "latencies": s.latencies,
                "first_load_seconds": s.first_load,
                "errors": s.errors,
                "crosstalk": s.crosstalk,
                "page_errors": s.page_errors,
            }
            for s in sessions
        ],
    }


def _descendants(pid: int, children: dict[int, list[int]]) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(server: int) -> tuple[dict[int, float], dict[int, float]]:
    """CPU time (user + system) per process: the server's tree, and everything else this
    process started (Playwright's driver, chromium and its renderers, this script)."""
    children = _proc_children()
    server_tree = _descendants(server, children)
    ours = _descendants(os.getpid(), children)
    ticks = os.sysconf("SC_CLK_TCK")
    times: dict[int, float] = {}
    for pid in ours:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    server_times = {p: t for p, t in times.items() if p in server_tree}
    return server_times, {p: t for p, t in times.items() if p not in server_tree}


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def markdown(result: dict) -> str:
    lines = [
        f"`{result['command']}`",
        "",
        f"{result['sessions']} sessions for {result['measured_seconds']:.0f} s after a "
        f"{result['warmup_seconds']:.0f} s warm-up; {result['machine']}. CPU while measured: "
        f"server {result['server_cpu_seconds'] / result['measured_seconds']:.2f} cores, "
        f"chromium + harness {result['client_cpu_seconds'] / result['measured_seconds']:.2f} "
        "cores on average.",
        "",
        "| page | sessions | interactions | p50 | p95 | max | errors | cross-talk |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = [*result["pages"].items(), ("all", result["all"])]
    for name, row in rows:
        lines.append(
            f"| {name} | {row.get('sessions', result['sessions'])} | {row['count']} "
            f"| {_seconds(row['p50'])} | {_seconds(row['p95'])} | {_seconds(row['max'])} "
            f"| {row['errors']} | {row['crosstalk']} |"
        )
    memory = result["memory_mib"]
    growth = memory["end"] - memory["after_warmup"]
    lines += [
        "",
        "| server RSS | start | after warm-up | peak | end | 5 s after close | steady? |",
        "|---|---|---|---|---|---|---|",
        f"| MiB | {memory['start']:.0f} | {memory['after_warmup']:.0f} | {memory['peak']:.0f} "
        f"| {memory['end']:.0f} | {memory['after_close']:.0f} "
        f"| {'yes' if memory['steady'] else 'NO'} ({growth:+.0f} MiB, "
        f"{growth / memory['after_warmup']:+.0%} after warm-up) |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument("--json", type=Path, help="write all results and samples here")
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds before an interaction is an error"
    )
    parser.add_argument("--think", type=float, default=0, help="pause between interactions (s)")
    parser.add_argument(
        "--stagger", type=float, default=0.25, help="seconds between session starts"
    )
    args = parser.parse_args()
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")

    from punks_core.dataset import load_punks

    types = load_punks().types.to_numpy()
    result = asyncio.run(run(args, types))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    problems = [
        f"session {d['session']} ({d['page']}): {line}"
        for d in result["session_details"]
        for line in d["errors"] + d["crosstalk"]
    ]
    if problems:
        print("\nProblems (first 20):")
        print("\n".join(f"- {line}" for line in problems[:20]))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
