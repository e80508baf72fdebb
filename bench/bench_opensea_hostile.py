"""Benchmark the OpenSea client against hostile servers on 127.0.0.1 (issue 19).

Run: `.venv/bin/python -m bench.bench_opensea_hostile` (prints a Markdown table). Each case runs
in a fresh subprocess, so that its peak memory (`ru_maxrss`) is its own; "over baseline" is that
peak minus the process's resident memory just before the call, after the imports. Times are
wall clock from the call to its error, with the client's defaults unless the row says otherwise.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASE = r"""
import gzip, json, resource, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from punks_core.errors import OpenSeaError
from punks_core.opensea import OpenSeaClient

case = sys.argv[1]
bomb = gzip.compress(bytes(16 * 2**20), compresslevel=9) * 64 if "bomb" in case else b""
objects = b"[" + b"{}," * (2 * 2**20 // 3 - 1) + b"{}]"  # just under the 2 MB cap
stop = threading.Event()
pages = [0]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def send(self, status, body, headers=()):
        head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    def drip(self, data):
        for byte in data:
            if stop.wait(1.0): return
            try: self.wfile.write(bytes([byte]))
            except OSError: return
    def do_GET(self):
        if case == "drip-headers":
            self.drip(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        elif case == "drip-body":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
            self.drip(b" " * 99)
        elif "bomb" in case:
            self.send(200, bomb, ["Content-Encoding: gzip"])
        elif case == "objects":
            self.send(200, objects)
        elif case == "endless":
            pages[0] += 1
            self.send(200, json.dumps({"nfts": [], "next": f"c{pages[0]}"}).encode())

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}"
client = OpenSeaClient("bench-key", base_url=url, max_retries=0)
calls = {
    "drip-headers": lambda: client.get_nft(1),
    "drip-body": lambda: client.get_nft(1),
    "api-bomb": lambda: client.get_nft(1),
    "image-bomb": lambda: client.download_image(url + "/img/1.png"),
    "objects": lambda: client.get_nft(1),
    "endless": lambda: list(client.iter_collection_nfts()),
}
baseline = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
start = time.perf_counter()
try:
    calls[case]()
    outcome = "answer"
except OpenSeaError as error:
    outcome = str(error)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
stop.set()
print(json.dumps({"seconds": seconds, "over_mb": (peak - baseline) / 2**20,
                  "requests": pages[0], "outcome": outcome}))
"""

ROWS = [
    ("drip-headers", "headers at 1 byte/s (timeout 10 s)"),
    ("drip-body", "body at 1 byte/s after the headers (timeout 10 s)"),
    ("api-bomb", "API answer: 1.0 MB of gzip inflating to 1 GB"),
    ("image-bomb", "image: 1.0 MB of gzip inflating to 1 GB"),
    ("objects", "API answer: 2 MB of `[{},{},...]` (worst JSON under the cap)"),
    ("endless", "listing with a new cursor on every page"),
]


def main() -> None:
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    print("| server | time to the error | peak memory over baseline | outcome |")
    print("|---|---|---|---|")
    for case, title in ROWS:
        output = subprocess.run(
            [sys.executable, "-c", CASE, case],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        result = json.loads(output)
        requests = f" ({result['requests']} requests)" if result["requests"] else ""
        print(
            f"| {title} | {result['seconds']:.2f} s{requests} | {result['over_mb']:.0f} MB "
            f"| {result['outcome'][:90]} |"
        )


if __name__ == "__main__":
    main()
