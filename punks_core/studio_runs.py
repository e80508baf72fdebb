"""Sharing one server: a machine-wide limit on concurrent trainings, a queue, and cleanup.

The limit holds across every Streamlit process on the machine (a class server may run several
behind a proxy), so it lives in files: each run holds an exclusive `flock` on a ticket file
while it waits or trains, and the oldest `limit` live tickets are the ones that train. A
process that dies releases its locks, so its tickets are recognised as stale and removed.

A page owns its run through a `Lease`: when the lease is dropped (a new run, or the session
ending and Streamlit discarding its state), the run is stopped and its model let go.
"""

import contextlib
import fcntl
import os
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

from punks_core.dataset import Punks
from punks_core.studio_record import WALL_CAP_S, Run
from punks_core.studio_setup import Experiment

MAX_TRAININGS = int(os.environ.get("PUNKLAB_MAX_TRAININGS", "2"))  # the machine has 2 cores
POLL_S = 0.1
# Every process of one server must share this folder; PUNKLAB_TRAINING_DIR moves it (tests).
DEFAULT_FOLDER = Path(tempfile.gettempdir()) / "punklab-trainings"


class TrainingSlots:
    """A first-come, first-served limit on trainings, shared by every process on the machine.

    Args:
        limit: how many runs may train at once.
        folder: where the ticket files live (the same folder for every process of a server).
    """

    def __init__(self, limit: int = MAX_TRAININGS, folder: str | Path | None = None):
        self.limit = max(1, limit)
        self._folder = folder

    @property
    def folder(self) -> Path:
        # Read when used, not when made: a server-wide `Studio` outlives a test's settings.
        folder = Path(self._folder or os.environ.get("PUNKLAB_TRAINING_DIR") or DEFAULT_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _take_ticket(self):
        # Locked before it gets its ticket name: no other process can ever see an unlocked
        # ticket and mistake it for the leftover of a dead one.
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        draft = self.folder / f"{name}.draft"
        handle = open(draft, "w")  # noqa: SIM115 - held open for the lock's lifetime
        fcntl.flock(handle, fcntl.LOCK_EX)
        ticket = draft.with_suffix(".ticket")
        draft.rename(ticket)
        return ticket, handle

    def _live_tickets(self) -> list[Path]:
        live = []
        for ticket in sorted(self.folder.glob("*.ticket")):
            try:
                with open(ticket) as probe:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                live.append(ticket)  # its owner is waiting or training
                continue
            except FileNotFoundError:
                continue
            # Lockable: its process is gone (or it was just released).
            with contextlib.suppress(FileNotFoundError):
                ticket.unlink()
        return live

    @contextlib.contextmanager
    def turn(self, run: Run):
        """Wait for this run's turn, keeping `run.queue_position` up to date.

        Yields:
            True when the run may train, False when it was stopped while it waited.
        """
        ticket, handle = self._take_ticket()
        try:
            while True:
                live = self._live_tickets()
                place = live.index(ticket) if ticket in live else 0
                if place < self.limit:
                    run.set_queue_position(None)
                    yield True
                    return
                run.set_queue_position(place - self.limit + 1)
                if run.stop_requested:
                    yield False
                    return
                time.sleep(POLL_S)
        finally:
            with contextlib.suppress(FileNotFoundError):
                ticket.unlink()
            handle.close()

    def training_now(self) -> int:
        """How many runs on the machine are training (the rest of the live tickets wait)."""
        return min(self.limit, len(self._live_tickets()))


class Lease:
    """A page's hold on its run: dropping the last reference stops the run and frees its model."""

    def __init__(self, run: Run):
        self.run = run
        self._finalizer = weakref.finalize(self, run.release)

    def close(self) -> None:
        """Stop the run and let go of its model now."""
        self._finalizer()


class Studio:
    """The server's training service: starts runs in background threads, a few at a time.

    Args:
        punks: the dataset to train on (only its train and validation ids are used).
        slots: the machine-wide limit (default: `MAX_TRAININGS` runs, ticket files in /tmp).
        wall_cap: seconds of training a run may use.
    """

    def __init__(
        self, punks: Punks, slots: TrainingSlots | None = None, wall_cap: float = WALL_CAP_S
    ):
        self.punks = punks
        self.slots = slots or TrainingSlots()
        self.wall_cap = wall_cap
        self._threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()

    def start(self, experiment: Experiment) -> Lease:
        """Queue `experiment` for training and return the lease that owns its run.

        Raises:
            SetupError: the experiment cannot be trained (see `Experiment.check`).
        """
        run = Run(experiment.check(), wall_cap=self.wall_cap)
        thread = threading.Thread(
            target=self._work, args=(run,), name="punklab-training", daemon=True
        )
        thread.start()
        self._threads.add(thread)
        return Lease(run)

    def _work(self, run: Run) -> None:
        with self.slots.turn(run) as may_train:
            if may_train and not run.stop_requested:
                # The one TensorFlow import of the Training Studio, in the thread that trains:
                # the page imports this module, and opens without TensorFlow.
                from punks_core.studio_train import train_run

                train_run(run, self.punks)
            else:
                run.set_status("cancelled", "Stopped before its turn came; nothing was trained.")

    def busy_threads(self) -> int:
        """Runs of this process still waiting or training."""
        return sum(thread.is_alive() for thread in self._threads)
