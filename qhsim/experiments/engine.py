"""The experiments engine 实验引擎: run many ``RunSpec`` on an executor, results in submission order.

Every model-running command (run with draws/seeds, compare, sweep, sensitivity, calibration) submits its
runs here. Executors:

- ``"local"`` (default): this process for one worker, else a process pool (forkserver) — no set-up;
- ``"dask"``: a ``distributed.LocalCluster`` with ``workers`` single-threaded worker processes, or, with
  ``scheduler="tcp://HOST:PORT"``, an existing Dask cluster (``dask scheduler`` / ``dask worker``).

Results never depend on the executor or the number of workers: each run is fixed by its spec (its own
seed, common random numbers), and results are handed back in submission order, not completion order.
``on_result`` sees each run as it finishes (stores stream it to disk); ``cancel`` (a ``threading.Event``)
and Ctrl-C stop the remaining runs, leaving what finished on disk.

A worker checks that its data files and calibrated parameters are the driver's (``fingerprint``): a
remote worker with a different checkout refuses to run rather than return different numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pandas as pd

from qhsim import __version__, cpu, data
from qhsim.calibrated import calibrated_parameters
from qhsim.errors import InputError
from qhsim.experiments.spec import RunSpec, calibration_switch, digest, scenario_of

EXECUTORS = ("local", "dask")
PRELOAD = ["qhsim.experiments.engine", "qhsim.runner"]
Collect = tuple[str, ...] | None  # indicator|region|year cells to return; None = the whole indicator frame


@dataclass(frozen=True)
class Executor:
    """Where runs execute: ``workers`` processes, ``kind`` "local" or "dask", or a Dask ``scheduler`` address.
    Accepted wherever a worker count is (``Engine``, calibration, sensitivity)."""

    workers: int = 1
    kind: str = "local"
    scheduler: str | None = None


class Cancelled(Exception):
    """The runs were stopped (``cancel`` was set); finished runs were handed to ``on_result``."""


def fingerprint() -> str:
    """What, besides the spec, fixes a run's numbers: qhsim version, data files, calibrated point estimate, and the
    floating-point path (the NumPy version, and whether its AVX-512 math is in force: ``qhsim.cpu``)."""
    import numpy

    return digest({"version": __version__, "data": data.fingerprints(), "calibrated": calibrated_parameters(),
                   "numpy": numpy.__version__, "avx512": not cpu.pinned()}, 16)


_WORKER: dict[str, str] = {}


def _check_fingerprint(expected: str) -> None:
    mine = _WORKER.get("fingerprint")
    if mine is None:
        mine = _WORKER["fingerprint"] = fingerprint()
    if mine != expected:
        raise RuntimeError(f"worker model differs from the driver's (fingerprint {mine} != {expected}): "
                           "install the same qhsim checkout (data files, calibration/calibrated.toml) on every worker")


def extract_cells(frame: pd.DataFrame, cells: Sequence[str]) -> dict[str, float]:
    """Values of ``indicator|region|year`` cells; NaN where the column, region or year is absent."""
    indexed = frame.set_index(["region", "year"])
    out = {}
    for key in cells:
        indicator, region, year = key.split("|")
        try:
            v = indexed.at[(region, int(year)), indicator]
        except KeyError:
            v = float("nan")
        out[key] = float(v) if v is not None else float("nan")
    return out


def execute(spec: RunSpec, collect: Collect = None, expected: str | None = None) -> tuple[Any, float]:
    """Run one spec in this process; return (indicator frame or cells, seconds). The worker function."""
    from qhsim.runner import run  # here, so a fresh worker pays the import once

    if expected is not None:
        _check_fingerprint(expected)
    started = time.perf_counter()
    with calibration_switch(spec.calibrated):
        result = run(scenario_of(spec), seed=spec.seed, scale=spec.scale, end_year=spec.end_year,
                     population_seed=spec.population_seed)
    out: Any = result.indicators if collect is None else extract_cells(result.indicators, collect)
    return out, time.perf_counter() - started


def call(fn: Callable[..., Any], arg: Any, expected: str | None = None) -> tuple[Any, float]:
    """Apply ``fn`` (a module-level function, picklable) to ``arg`` in this process; return (result, seconds).
    The worker function of ``Engine.map_calls``: for measurements a ``RunSpec`` cannot express (a model's state
    in some year), on the same executors and with the same fingerprint check as ``execute``."""
    if expected is not None:
        _check_fingerprint(expected)
    started = time.perf_counter()
    out = fn(arg)
    return out, time.perf_counter() - started


def _worker_init(driver: int) -> None:
    """Pool worker initialiser: Ctrl-C is the driver's to handle (it lets running runs finish, then stops), and the
    worker ends with the driver (process ``driver``): a driver killed with ``kill -9`` runs no clean-up, and its
    workers, children of the forkserver rather than of the driver, would live on (with the forkserver, which they
    keep alive) holding their memory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(driver,), name="qhsim-driver-watch", daemon=True).start()


WATCH_SECONDS = 1.0  # how often a worker looks for its driver where it cannot wait on it (no pidfd)


def _exit_with(driver: int) -> None:
    """Wait until process ``driver`` has ended, then end this process at once (``os._exit``: a run in progress is
    the driver's, which is gone). On Linux the wait is on a pidfd (no polling, no confusion with a later process that
    reuses the number); elsewhere the driver's process id is looked for every ``WATCH_SECONDS``."""
    try:
        fd = os.pidfd_open(driver)
    except (AttributeError, OSError):  # not Linux >= 5.3: poll
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the driver has exited
        os._exit(1)
    while True:
        time.sleep(WATCH_SECONDS)
        try:
            os.kill(driver, 0)
        except ProcessLookupError:
            os._exit(1)
        except OSError:  # the driver exists (not ours to signal): keep watching
            pass


@contextmanager
def deferred_interrupt() -> Iterator[threading.Event]:
    """Within this block Ctrl-C (SIGINT) only sets the yielded event, which the run loop checks between runs,
    so an interrupt never lands inside a half-written result or a library call. Main thread only (elsewhere
    the event is never set: callers use ``cancel``)."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, lambda *_: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


LINES = "lines"  # ``Progress(bar=LINES)``: plain progress lines, for a stderr that is not a terminal
LINE_STEPS = 10  # ... one each time another tenth of the runs is done
LINE_SECONDS = 60.0  # ... or this long after the last line, whichever comes first


def progress_display() -> bool | str:
    """How a command shows its runs' progress on stderr (``Progress``'s ``bar``): a tqdm bar on a terminal, else
    (``setsid nohup qhsim sweep ... > log 2>&1``) plain lines (``LINES``), which a log file keeps readable."""
    return True if sys.stderr.isatty() else LINES


@dataclass
class Progress:
    """Progress on stderr and/or a ``callback(done, total)``. ``bar``: True a tqdm bar with ETA, ``LINES`` a plain line
    (runs done of the total, elapsed time, ETA) each time another tenth (``LINE_STEPS``) of the runs is done or
    ``LINE_SECONDS`` after the last line, False nothing (``progress_display`` chooses)."""

    total: int
    desc: str = "runs"
    bar: bool | str = True
    callback: Callable[[int, int], None] | None = None
    done: int = 0

    def __post_init__(self) -> None:
        self._tqdm = self._bar() if self.total else None  # none yet without a total: no "0run [00:00, ?run/s]"
        self._started = time.monotonic()
        self._reused = 0  # runs a resumed store already held: done, but no measure of the time a run takes
        self._said = (0, self._started)  # the tenths done and the time at the last plain line

    def _bar(self) -> Any:
        from tqdm import tqdm

        return tqdm(total=self.total, desc=self.desc, unit="run", file=sys.stderr, leave=False,
                    disable=self.bar is not True, dynamic_ncols=True)

    def grow(self, n: int) -> None:
        """More runs to do than planned (e.g. budget-neutral rescaling), or the first runs of a progress started
        without a total."""
        if n:
            self.total += n
            if self._tqdm is None:
                self._tqdm = self._bar()
            self._tqdm.total = self.total
            self._tqdm.refresh()

    def update(self, n: int = 1, reused: bool = False) -> None:
        """``n`` more runs done; ``reused``: found in a resumed store, not run (they do not speed up the ETA)."""
        if not n:
            return
        self.done += n
        self._reused += n if reused else 0
        if self._tqdm is None:
            self._tqdm = self._bar()
        self._tqdm.update(n)
        if self.bar == LINES:
            self._line()
        if self.callback is not None:
            self.callback(self.done, self.total)

    def _line(self) -> None:
        """A plain progress line when another tenth of the runs is done, ``LINE_SECONDS`` have passed since
        the last one, or the last run is done."""
        now = time.monotonic()
        tenths = self.done * LINE_STEPS // self.total if self.total else 0
        if not (tenths > self._said[0] or now - self._said[1] >= LINE_SECONDS or self.done >= self.total):
            return
        self._said = (tenths, now)
        elapsed, ran = now - self._started, self.done - self._reused
        eta = _clock(elapsed / ran * (self.total - self.done)) if ran else "?"
        share = f"{self.done / self.total:.0%}" if self.total else "?"
        print(f"qhsim: {self.desc}: {self.done}/{self.total} 次运行 runs ({share}), 用时 elapsed {_clock(elapsed)}, "
              f"预计剩余 ETA {eta}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()


def _clock(seconds: float) -> str:
    """A duration as h:mm:ss (0:04:05)."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Engine:
    """Runs specs with ``workers`` processes on ``executor`` ("local" or "dask"); a context manager.

    >>> with Engine(workers=2) as eng:                                     # doctest: +SKIP
    ...     frames = eng.map(specs)
    """

    def __init__(self, workers: int | Executor = 1, executor: str = "local", scheduler: str | None = None):
        if isinstance(workers, Executor):
            workers, executor, scheduler = workers.workers, workers.kind, workers.scheduler
        if executor not in EXECUTORS:
            raise InputError(f"--executor {executor!r}: allowed {', '.join(EXECUTORS)}")
        if scheduler is not None:
            executor = "dask"
        self.workers = max(1, int(workers))
        self.executor = executor
        self.scheduler = scheduler
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._cluster: Any = None
        self.fingerprint = fingerprint()
        self.computed = 0  # runs actually simulated by this engine

    # -- executors ----------------------------------------------------------------------------------
    def _local_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: no fork() of a multi-threaded parent (tqdm's monitor thread), cheap worker start
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=_worker_init,
                                             initargs=(os.getpid(),))
        return self._pool

    def _dask(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError:  # pragma: no cover - a dependency of qhsim
                raise InputError("--executor dask needs the 'distributed' package (pip install distributed)") from None
            if self.scheduler is not None:
                try:
                    self._client = Client(self.scheduler, timeout="20s")
                except (OSError, TimeoutError) as exc:
                    raise InputError(f"--scheduler {self.scheduler}: cannot reach a Dask scheduler there ({exc})") from None
            else:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=40)
                self._client = Client(self._cluster)
        return self._client

    def connect(self) -> None:
        """Reach the executor now rather than at the first run: a Dask scheduler that cannot be reached is refused
        (``InputError``) before a store is written. The local pool still starts at the first run."""
        if self.executor == "dask":
            self._dask()

    def describe(self) -> str:
        if self.executor == "dask":
            return f"dask {self.scheduler}" if self.scheduler else f"dask LocalCluster, {self.workers} workers"
        return "this process" if self.workers == 1 else f"local process pool, {self.workers} workers"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running ------------------------------------------------------------------------------------
    def map(
        self,
        specs: Sequence[RunSpec],
        collect: Collect = None,
        on_result: Callable[[int, Any, float], None] | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Any]:
        """Run ``specs``; return their outputs in the order given.

        ``on_result(index, output, seconds)`` is called as each run finishes (in completion order).
        Raises ``Cancelled`` when ``cancel`` is set, ``KeyboardInterrupt`` on Ctrl-C: in this process after the
        run in progress, on a pool at once (queued runs are cancelled). Every run that finished before has
        reached ``on_result``.
        """
        jobs = [(execute, (spec, collect, self.fingerprint)) for spec in specs]
        with deferred_interrupt() as interrupted:
            return self._map(jobs, on_result, progress, cancel, interrupted)

    def map_calls(self, fn: Callable[[Any], Any], args: Sequence[Any], progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> list[Any]:
        """``[fn(a) for a in args]`` on this engine's executor, in the order given (``fn`` module-level, each
        call fixed by its argument, so the results do not depend on the executor or the number of workers)."""
        jobs = [(call, (fn, a, self.fingerprint)) for a in args]
        with deferred_interrupt() as interrupted:
            return self._map(jobs, None, progress, cancel, interrupted)

    def _map(self, jobs: Sequence[tuple[Callable, tuple]], on_result: Callable | None,
             progress: Progress | None, cancel: threading.Event | None, interrupted: threading.Event) -> list[Any]:
        outputs: list[Any] = [None] * len(jobs)

        def accept(i: int, out: Any, secs: float) -> None:
            outputs[i] = out
            self.computed += 1
            if on_result is not None:
                on_result(i, out, secs)
            if progress is not None:
                progress.update()

        def stopped() -> bool:
            if interrupted.is_set():
                raise KeyboardInterrupt
            return cancel is not None and cancel.is_set()

        if not jobs:
            return outputs
        if self.executor == "local" and self.workers == 1:
            for i, (fn, args) in enumerate(jobs):
                if stopped():
                    raise Cancelled()
                accept(i, *fn(*args))
        elif self.executor == "local":
            self._run_futures(self._local_pool().submit, jobs, accept, stopped, wait)
        else:
            from distributed import wait as distributed_wait

            client = self._dask()

            def dask_wait(fs: list, timeout: float, return_when: str) -> tuple[set, set]:
                try:
                    return distributed_wait(fs, timeout=timeout, return_when=return_when)
                except TimeoutError:
                    return set(), set(fs)

            def submit(fn: Callable, *args: Any) -> Any:
                return client.submit(fn, *args, pure=False)

            self._run_futures(submit, jobs, accept, stopped, dask_wait)
        return outputs

    def _run_futures(self, submit: Callable, jobs: Sequence[tuple[Callable, tuple]],
                     accept: Callable, stopped: Callable[[], bool], wait_fn: Callable) -> None:
        # keep a bounded number in flight, so cancelling (or Ctrl-C) does not leave a long queue behind
        window = max(2 * self.workers, 4)
        queue = list(enumerate(jobs))[::-1]
        pending: dict[Any, int] = {}
        try:
            while queue or pending:
                if stopped():
                    raise Cancelled()
                while queue and len(pending) < window:
                    i, (fn, args) = queue.pop()
                    pending[submit(fn, *args)] = i
                done, _ = wait_fn(list(pending), timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    accept(i, *fut.result())
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
