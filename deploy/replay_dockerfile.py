"""Replay the Dockerfile's install and start commands without Docker, in a clean folder.

Run (as root, on Linux, from the repository root):
`.venv/bin/python -m deploy.replay_dockerfile /tmp/punklab-image`

Where no container engine runs, this is how the image is tested: a `git clone` of the last
commit; the Dockerfile's COPY lines copy from it into DEST/app, exactly those paths; its RUN
lines run there with a fresh Python venv's `python` (DEST/python) standing in for the image's;
its USER is created; then its CMD starts as that user inside a new network namespace (only
loopback: offline, like the compose replicas), and its HEALTHCHECK and one websocket session
per lab page (Streamlit's own protocol, as `bench/bench_load_ws.py` speaks it) must succeed.
"""

import argparse
import asyncio
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def command_words(argument: str) -> list[str]:
    """A RUN/CMD argument in exec form (JSON) or shell form, as argv."""
    return json.loads(argument) if argument.startswith("[") else ["sh", "-c", argument]


def install(dest: Path, python: str) -> tuple[dict, str, list[str], list[str]]:
    """Clone, copy and run the build steps; (env, user, CMD, HEALTHCHECK CMD)."""
    if dest.exists():
        shutil.rmtree(dest)
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", dest / "src"], check=True
    )
    app = dest / "app"
    app.mkdir()
    # The image's python lives in /usr/local; ours must also be outside /root (pyenv), or the
    # unprivileged user cannot reach the interpreter.
    subprocess.run([python, "-m", "venv", dest / "python"], check=True)
    env = {**os.environ, "PATH": f"{dest / 'python' / 'bin'}:{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    user, cmd, health = "root", [], []
    for word, argument in instructions(dest / "src" / "Dockerfile"):
        if word == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(argument)))
        elif word == "COPY":
            *sources, target = shlex.split(argument)
            for source in sources:
                into_folder = target.endswith("/") or target == "." or len(sources) > 1
                there = app / target / Path(source).name if into_folder else app / target
                if (dest / "src" / source).is_dir():
                    shutil.copytree(dest / "src" / source, there)
                else:
                    there.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(dest / "src" / source, there)
        elif word == "RUN":
            first, _, rest = argument.partition("&&")
            if first.startswith("useradd") and user_exists(first.split()[-1]):
                argument = f"true && {rest}" if rest else "true"  # made by an earlier replay
            print(f"RUN {argument}", flush=True)
            subprocess.run(command_words(argument), cwd=app, env=env, check=True)
        elif word == "USER":
            user = argument
        elif word == "CMD":
            cmd = command_words(argument)
        elif word == "HEALTHCHECK":
            health = command_words(argument.split(" CMD ", 1)[1])
    return env, user, cmd, health


async def one_session_per_page(url: str) -> list[str]:
    from bench.bench_load_ws import PAGES, Session, connect
    from punks_core.dataset import load_punks

    types, shown = load_punks().types.to_numpy(), []
    for k, page in enumerate(PAGES.values()):
        session = Session(k, len(PAGES), page, types)
        async with await connect(url) as ws:
            await session.open(ws, 300)
            expected = session.step(0)
            texts = await session.rerun(ws, 300)
            if not any(re.search(expected, text) for text in texts):
                raise AssertionError(f"{page} did not show {expected!r}")
        shown.append(
            f"{page}: a rerun showed the session's own choice in {session.latencies[-1]:.2f} s"
        )
    return shown


def start(dest: Path, env: dict, user: str, cmd: list[str], health: list[str]) -> None:
    """Inside the network namespace: CMD as `user`, then HEALTHCHECK and the pages."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    log = (dest / "app.log").open("wb")
    cmd = [shutil.which(cmd[0], path=env["PATH"]), *cmd[1:]]  # runuser may reset PATH
    server = subprocess.Popen(
        ["runuser", "-u", user, "--", *cmd], cwd=dest / "app", env={**env, "HOME": f"/home/{user}"},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        started = time.monotonic()
        while subprocess.run(health, env=env, capture_output=True).returncode != 0:
            if server.poll() is not None or time.monotonic() - started > 120:
                raise SystemExit(
                    f"HEALTHCHECK failed; the app's log:\n{(dest / 'app.log').read_text()}"
                )
            time.sleep(1)
        print(f"HEALTHCHECK passed {time.monotonic() - started:.1f} s after CMD", flush=True)
        for line in asyncio.run(one_session_per_page("http://127.0.0.1:8501")):
            print(line, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="a folder to create (emptied if it exists)")
    parser.add_argument(
        "--python", default="/usr/bin/python3.11", help="a Python 3.11 any user may run"
    )
    parser.add_argument("--start-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start_only:
        start(args.dest, *json.loads((args.dest / "replay.json").read_text()))
        return
    started = time.monotonic()
    env, user, cmd, health = install(args.dest, args.python)
    print(f"install: {time.monotonic() - started:.0f} s", flush=True)
    (args.dest / "replay.json").write_text(json.dumps([env, user, cmd, health]))
    # No network from here on: the app must run from what the image holds.
    offline = ["unshare", "--net", "--", sys.executable, "-m", "deploy.replay_dockerfile"]
    offline += [str(args.dest), "--start-only"]
    raise SystemExit(subprocess.run(offline, cwd=ROOT).returncode)


if __name__ == "__main__":
    main()
