"""The resumable dataset builder behind `python -m punks_core opensea-fetch`.

`fetch_dataset` lists the collection, takes each punk's traits and image, and writes a dataset
folder that `punks_core.dataset.load_punks` reads. Each punk is appended to a journal as soon
as it is fetched, so a killed run loses nothing and a second run fetches nothing twice; a lock
on the folder keeps two runs from writing into it at once.
"""

import base64
import contextlib
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from punks_core.dataset import (
    ATLAS_COLUMNS,
    ATLAS_FILE,
    LABELS_FILE,
    N_PUNKS,
    PUNK_SIZE,
    load_punks,
    write_atlas,
    write_labels,
)
from punks_core.errors import DatasetError, FolderInUseError, InvalidImageError, OpenSeaError
from punks_core.labels import LABELS, TYPES
from punks_core.opensea import COLLECTION_SLUG, NO_KEY_MESSAGE, OpenSeaClient, redact_all
from punks_core.opensea_traits import traits_to_labels

JOURNAL_FILE = "opensea-fetch.journal"
# Held (flock) for the whole of a fetch; kept afterwards, as deleting it would let a third run
# lock a new file while a second still holds the old one.
LOCK_FILE = "opensea-fetch.lock"


@dataclass
class FetchReport:
    """What one `fetch_dataset` run did.

    Attributes:
        out: the dataset folder.
        had: punks already in the folder (or its journal) when the run started.
        fetched: ids fetched and saved by this run.
        skipped: id -> why, for punks not saved (retried by the next run).
        not_listed: how many wanted ids the collection listing did not contain.
        unknown_traits: trait -> how many punks had it, for traits matching no label.
        not_original: ids saved whose image matches none of the 10,000 original punks.
    """

    out: Path
    had: int = 0
    fetched: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    not_listed: int = 0
    unknown_traits: Counter = field(default_factory=Counter)
    not_original: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.had + len(self.fetched)

    def summary(self) -> str:
        lines = [
            f"{self.out}: {self.total} punks ({self.had} already there, {len(self.fetched)} "
            f"fetched now)."
        ]
        if self.skipped:
            lines.append(f"{len(self.skipped)} skipped (run again to retry them):")
            lines += [f"  #{k}: {why}" for k, why in sorted(self.skipped.items())[:20]]
            if len(self.skipped) > 20:
                lines.append(f"  ... and {len(self.skipped) - 20} more")
        if self.not_listed:
            lines.append(f"{self.not_listed} wanted ids are not in OpenSea's collection listing.")
        if self.unknown_traits:
            known = ", ".join(f"{t!r} x{n}" for t, n in self.unknown_traits.most_common(10))
            lines.append(f"traits that match no label (not written): {known}")
        if self.not_original:
            ids = ", ".join(f"#{k}" for k in sorted(self.not_original)[:20])
            lines.append(
                f"{len(self.not_original)} saved images match none of the 10,000 original punks "
                f"(saved as OpenSea serves them): {ids}"
            )
        return "\n".join(lines)


class _Progress:
    """A one-line progress bar on stderr.

    Importing Keras for `keras.utils.Progbar` costs seconds (it loads TensorFlow), more than a
    short fetch takes; this prints the same information: count, bar, rate, time left.
    """

    def __init__(self, total: int, stream=None, width: int = 30) -> None:
        self.total, self.width, self.done = total, width, 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.last_line = -1.0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.monotonic()
        # Without a terminal, one line every 10 s (and the last) keeps logs short.
        if not self.tty and done < self.total and now - self.last_line < 10:
            return
        self.last_line = now
        share = done / self.total if self.total else 1.0
        filled = int(self.width * share)
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", {math.ceil((self.total - done) / rate)} s left" if rate and done else ""
        line = (
            f"{done}/{self.total} [{'=' * filled}{'.' * (self.width - filled)}] "
            f"{rate:.1f} punks/s{left}{note}"
        )
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        if self.tty and done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _punk_id(identifier: Any) -> int | None:
    try:
        value = int(str(identifier))
    except ValueError:
        return None
    return value if 0 <= value < N_PUNKS else None


def _place(atlas: np.ndarray, punk_id: int, image: np.ndarray) -> None:
    row, column = divmod(punk_id, ATLAS_COLUMNS)
    top, left = row * PUNK_SIZE, column * PUNK_SIZE
    atlas[top : top + PUNK_SIZE, left : left + PUNK_SIZE] = image


class _Store:
    """The dataset folder being built: atlas and labels in memory, a journal on disk.

    Each saved punk is appended to the journal at once (a line of JSON, flushed), and the
    atlas and labels files are rewritten (atomically) every few punks and at the end, after
    which the journal is emptied. On start, the folder's dataset and journal are read back, so a
    run killed at any point loses nothing that was fetched.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        side = N_PUNKS // ATLAS_COLUMNS * PUNK_SIZE
        self.atlas = np.zeros((side, side, 4), np.uint8)
        self.labels: dict[int, np.ndarray] = {}
        self.unsaved = 0
        # Labels are written after the atlas: an atlas without labels is a first save cut
        # short, whose punks are all still in the journal.
        if (out / LABELS_FILE).is_file():
            punks = load_punks(out)  # DatasetError if the folder is not a dataset
            for punk_id, image, row in zip(
                punks.ids, punks.images, punks.labels.to_numpy(np.uint8), strict=True
            ):
                _place(self.atlas, int(punk_id), image)
                self.labels[int(punk_id)] = row
        self.journal_path = out / JOURNAL_FILE
        if self.journal_path.is_file():
            for line in self.journal_path.read_text().splitlines():
                self._replay(line)
            self.unsaved = 1 if self.journal_path.stat().st_size else 0
        out.mkdir(parents=True, exist_ok=True)
        self.journal = self.journal_path.open("a")

    def _replay(self, line: str) -> None:
        try:
            entry = json.loads(line)
            pixels = np.frombuffer(base64.b64decode(entry["pixels"]), np.uint8)
            image = pixels.reshape(PUNK_SIZE, PUNK_SIZE, 4)
            row = np.array([int(name in entry["labels"]) for name in LABELS], np.uint8)
            punk_id = _punk_id(entry["id"])
        except (ValueError, KeyError, TypeError):
            return  # a line cut short by a kill: that punk is fetched again
        if punk_id is not None:
            _place(self.atlas, punk_id, image)
            self.labels[punk_id] = row

    def add(self, punk_id: int, image: np.ndarray, labels: dict[str, int]) -> None:
        names = [name for name, value in labels.items() if value]
        pixels = base64.b64encode(np.ascontiguousarray(image, np.uint8).tobytes()).decode()
        self.journal.write(json.dumps({"id": punk_id, "labels": names, "pixels": pixels}) + "\n")
        self.journal.flush()
        _place(self.atlas, punk_id, image)
        self.labels[punk_id] = np.array([labels[name] for name in LABELS], np.uint8)
        self.unsaved += 1

    def save(self) -> None:
        """Rewrite atlas then labels (so labels never name a punk the atlas lacks)."""
        if not self.unsaved:
            return
        ids = sorted(self.labels)
        table = pd.DataFrame(
            np.stack([self.labels[k] for k in ids]) if ids else np.zeros((0, len(LABELS))),
            index=pd.Index(ids, name="id"),
            columns=list(LABELS),
        )
        write_atlas(self.atlas, self.out / ATLAS_FILE)
        write_labels(table, self.out / LABELS_FILE)
        self.journal.truncate(0)
        self.journal.seek(0)
        self.unsaved = 0

    def close(self) -> None:
        self.journal.close()
        if self.journal_path.is_file() and not self.journal_path.stat().st_size:
            self.journal_path.unlink()


def fetch_dataset(
    client: OpenSeaClient,
    out: str | Path,
    count: int | None = None,
    *,
    slug: str = COLLECTION_SLUG,
    save_every: int = 500,
    progress: bool | Callable[[int, int], None] = False,
) -> FetchReport:
    """Build (or complete) a dataset folder from OpenSea: `python -m punks_core opensea-fetch`.

    Lists the collection; for each wanted punk not yet in `out`, takes its traits (from the
    listing, or from `get_nft` when the listing has none) and its image (`image_url`, decoded
    to exact pixels by `punks_core.imaging.load_image`), and saves it. A punk with no usable
    image or no known type is skipped and reported; the next run tries it again. Punks already
    in `out` are never fetched again, so a second run with a larger `count` fetches only the new
    ones, and a killed run loses nothing (see `_Store`).

    Args:
        client: the OpenSea client (with an API key).
        out: the dataset folder, read by `punks_core.dataset.load_punks(out)`.
        count: fetch punks #0 to #count-1 only (default: every punk in the listing). The
            listing stops as soon as all of them have been seen.
        slug: the collection's OpenSea slug.
        save_every: rewrite `punks.png` and `labels.csv` after this many new punks (each
            rewrite of the atlas takes a few seconds; the journal keeps the punks in between).
        progress: True for a progress bar on stderr, or a callable `(done, total)`.

    Returns:
        What was fetched, skipped and not understood.

    Raises:
        OpenSeaError: an API call failed in a way that stops the run (no key, rejected key,
            rate limit or server errors after all retries, network). What was fetched is saved.
        DatasetError: `out` holds files that are not a dataset.
        FolderInUseError: another fetch is writing to `out` (it holds `out/opensea-fetch.lock`).
    """
    if not client.has_key:
        raise OpenSeaError(NO_KEY_MESSAGE)  # before touching `out` or printing a progress bar
    out = Path(out)
    with _exclusive(out):
        return _fetch_into(client, out, count, slug, save_every, progress)


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder `out` for one fetch; refuse at once if taken.

    Two fetches into one folder would each rewrite the atlas and labels from their own memory,
    and the last one to save would drop the other's punks. The lock is released when the file is
    closed, also when the process is killed.
    """
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file, not a folder: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK_FILE).open("a+") as handle:
        try:
            _lock(handle.fileno())
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise FolderInUseError(
                f"another opensea-fetch{who} is writing to {out}; wait for it to finish (it "
                "resumes where it is, so nothing is lost) or fetch into another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def _lock(fd: int) -> None:
    """Lock the open file `fd` exclusively without waiting; OSError when another holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _original_id(image: np.ndarray, claimed: int) -> int | None:
    """Which of the 10,000 original punks `image` is (`claimed` first: the usual answer)."""
    originals = load_punks()
    if np.array_equal(originals.images[originals.row(claimed)], image):
        return claimed
    return originals.index.find(image)


def _fetch_into(client, out, count, slug, save_every, progress) -> FetchReport:
    wanted = range(N_PUNKS if count is None else min(count, N_PUNKS))
    store = _Store(out)
    report = FetchReport(out, had=sum(1 for k in store.labels if k in wanted))
    remaining = {k for k in wanted if k not in store.labels}
    total = len(remaining)
    bar = _Progress(total) if progress is True else None

    def tick() -> None:
        done = len(report.fetched) + len(report.skipped)
        if bar:
            bar.update(done, f", {len(report.skipped)} skipped" if report.skipped else "")
        elif callable(progress):
            progress(done, total)

    def take(punk_id: int, nft: dict) -> None:
        traits = nft.get("traits")
        if not isinstance(traits, list) or not traits:
            nft = {**nft, **client.get_nft(punk_id)}
            traits = nft.get("traits")
        # Redacted before traits_to_labels cuts unknown traits short (a cut could split the key).
        labels, unknown = traits_to_labels(redact_all(client, traits))
        report.unknown_traits.update(unknown)
        types = [name for name in TYPES if labels[name]]
        if len(types) != 1:
            report.skipped[punk_id] = f"its traits name {len(types)} types, not one"
            return
        url = nft.get("image_url") or nft.get("display_image_url")
        if not url:
            report.skipped[punk_id] = "OpenSea gives no image_url"
            return
        from punks_core.imaging import load_image  # its palette loads on the first image

        try:
            image = load_image(client.download_image(url))
        except (OpenSeaError, InvalidImageError) as error:
            if isinstance(error, OpenSeaError) and error.status == 429:
                raise  # still rate-limited after every retry: going on would only hammer it
            report.skipped[punk_id] = f"image {client.redact(str(url))[:80]}: {error}"
            return
        original = _original_id(image, punk_id)
        if original is not None and original != punk_id:
            report.skipped[punk_id] = (
                f"OpenSea's image for #{punk_id} is punk #{original}: not saved"
            )
            return
        if original is None:
            report.not_original.append(punk_id)
        store.add(punk_id, image, labels)
        report.fetched.append(punk_id)
        if store.unsaved >= save_every:
            store.save()

    try:
        if remaining:
            tick()
            for nft in client.iter_collection_nfts(slug):
                punk_id = _punk_id(nft.get("identifier"))
                if punk_id not in remaining:
                    continue
                remaining.discard(punk_id)
                try:
                    take(punk_id, nft)
                except OpenSeaError as error:
                    if error.status != 404:
                        raise
                    report.skipped[punk_id] = str(error)
                tick()
                if not remaining:
                    break
        report.not_listed = len(remaining)
    finally:
        store.save()
        store.close()
    return report
