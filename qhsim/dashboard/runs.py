"""Dashboard runs 运行: a single run or an ensemble (posterior draws x seeds), with progress and cancel, and a
server-wide cache keyed by everything that determines the result.

Runs execute in the calling thread (the dashboard calls them from a background task thread per session), so
the model's own determinism holds: same scenario + seed = bit-identical indicators, as ``qhsim run``. After a run
the memory it freed goes back to the operating system (``qhsim.memory.give_back_freed_memory``); what the cache
keeps of a run is its indicator table and yearly firm summaries, about 0.1 MB.
For a single run the firm population is summarised every year for the "inside the model" page.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from qhsim import __version__
from qhsim.config import Scenario
from qhsim.dashboard import i18n
from qhsim.experiments.engine import Cancelled  # noqa: F401 - the one exception for a cancelled run
from qhsim.memory import give_back_freed_memory
from qhsim.results import RunResult

RATIO_BINS = np.linspace(0.0, 3.0, 31)  # 3-year R&D ratio / HTE threshold; the last bin holds everything above
LADDER = ("rd_active", "sme", "tbe", "hte", "giant")  # certification ladder, bottom to top


class CancelFlag:
    """A ``threading.Event``-like view of a ``cancelled()`` function (the engine polls ``is_set``)."""

    def __init__(self, cancelled: Callable[[], bool]):
        self.is_set = cancelled


@dataclass(frozen=True)
class RunRequest:
    scenario: Scenario
    scale: float = 0.25
    seed: int = 1
    draws: int = 0  # 0 = a single run with ``seed``; else posterior draws x ``seeds``
    seeds: tuple[int, ...] = (1, 2, 3)
    names: tuple[str, str] | None = None  # (Chinese, English) of the name the dashboard gave the run (Session.name)

    def name(self, lang: str) -> str:
        """The run's name as a page in ``lang`` shows it: the dashboard's name in that language, else the scenario's."""
        return i18n.pick(self.names, lang) if self.names else self.scenario.run.name

    @property
    def ensemble(self) -> bool:
        return self.draws > 0

    def key(self) -> str:
        """sha256 of what determines the result (the scenario without its name and description)."""
        sc = self.scenario.model_dump(mode="json", exclude={"extends"})
        sc["run"] = {k: v for k, v in sc["run"].items() if k not in ("name", "description")}
        what = {"scenario": sc, "scale": self.scale, "qhsim": __version__,
                "calibration": os.environ.get("QHSIM_CALIBRATED", "")}
        what |= {"draws": self.draws, "seeds": list(self.seeds)} if self.ensemble else {"seed": self.seed}
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


@dataclass
class Inside:
    """Yearly summaries of the firm population of one run (full-scale counts)."""

    years: list[int] = field(default_factory=list)
    ratio_all: list[np.ndarray] = field(default_factory=list)  # firms with R&D per RATIO_BINS bin
    ratio_hte: list[np.ndarray] = field(default_factory=list)  # of which holding an HTE certificate
    ladder: list[dict[str, float]] = field(default_factory=list)

    def record(self, model) -> None:
        from qhsim.firms.certification import hte_threshold, three_year_ratio
        from qhsim.policy import policy_at

        f, year, weight = model.firms, model.year, 1.0 / model.scale
        pol = policy_at(model.config, year)
        active = f.rd_active & (f.revenue > 0)
        ratio = np.minimum(three_year_ratio(f)[active] / hte_threshold(f.revenue[active], pol), RATIO_BINS[-1] - 1e-9)
        hte = f.hte_until[active] >= year
        self.years.append(year)
        self.ratio_all.append(np.histogram(ratio, RATIO_BINS)[0] * weight)
        self.ratio_hte.append(np.histogram(ratio[hte], RATIO_BINS)[0] * weight)
        self.ladder.append({
            "firms": len(f) * weight,
            "rd_active": float(f.rd_active.sum()) * weight,
            "sme": float((f.sme_year >= year).sum()) * weight,
            "tbe": float((f.tbe_until >= year).sum()) * weight,
            "hte": float((f.hte_until >= year).sum()) * weight,
            "giant": float((f.giant_until >= year).sum()) * weight,
        })


@dataclass
class DashboardRun:
    key: str
    request: RunRequest
    result: RunResult
    inside: Inside | None  # single runs only
    seconds: float


class RunCache:
    """A thread-safe LRU of finished runs (or comparisons), shared by all sessions: a result depends only on
    its key, so every session may reuse it."""

    def __init__(self, size: int = 24):
        self.size = size
        self._runs: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            run = self._runs.get(key)
            if run is not None:
                self._runs.move_to_end(key)
            return run

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._runs[key] = value
            self._runs.move_to_end(key)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)

    def __len__(self) -> int:
        return len(self._runs)


CACHE = RunCache()

Progress = Callable[[float], None]  # share done, 0..1
IsCancelled = Callable[[], bool]


def _stepper(n_years: int, progress: Progress, cancelled: IsCancelled, inside: Inside) -> Callable:
    """The ``on_step`` hook of a single run: stop if cancelled, record the year, report progress."""
    state = {"years": 0}

    def on_step(model) -> None:
        if cancelled():
            raise Cancelled()
        inside.record(model)
        state["years"] += 1
        progress(state["years"] / n_years)

    return on_step


def execute(req: RunRequest, progress: Progress = lambda p: None, cancelled: IsCancelled = lambda: False,
            cache: RunCache = CACHE) -> DashboardRun:
    """The run of ``req``, from the cache or simulated now (``Cancelled`` if ``cancelled()`` turns true)."""
    from qhsim.runner import run

    key = req.key()
    hit = cache.get(key)
    if hit is not None:
        progress(1.0)
        return named(hit, req)
    started = time.perf_counter()
    sc = req.scenario
    n_years = sc.run.end_year - sc.run.start_year
    try:
        if not req.ensemble:
            inside = Inside()
            result = run(sc, seed=req.seed, scale=req.scale,
                         on_step=_stepper(n_years, progress, cancelled, inside))
        else:
            inside = None
            result = _ensemble(req, progress, cancelled)
    finally:  # the server lives on: without it, it would keep the peak of every run thread, cancelled ones too
        give_back_freed_memory()
    done = DashboardRun(key, req, result, inside, time.perf_counter() - started)
    cache.put(key, done)
    return done


def with_reference(req: RunRequest, base: RunRequest, progress: Progress = lambda p: None,
                   cancelled: IsCancelled = lambda: False, cache: RunCache = CACHE) -> tuple[DashboardRun, DashboardRun | None]:
    """The run of ``req`` and the run of ``base`` (the starting scenario without the lever changes, same run settings)
    for the pages to show beside it; None for the latter when ``req`` is the base itself. The base runs first (the
    first half of the progress; from the cache after the first lever change)."""
    if base.key() == req.key():
        return execute(req, progress, cancelled, cache), None
    reference = execute(base, lambda p: progress(p / 2), cancelled, cache)
    return execute(req, lambda p: progress(0.5 + p / 2), cancelled, cache), reference


def named(run: DashboardRun, req: RunRequest) -> DashboardRun:
    """A cached run under the name and description of ``req`` (the key leaves them out: the same scenario may be
    reached from another starting scenario, or with other lever changes that cancel out)."""
    r = req.scenario.run
    if (run.request.scenario.run.name, run.request.scenario.run.description) == (r.name, r.description):
        return run
    scenario = {**run.result.scenario, "run": {**run.result.scenario["run"], "name": r.name, "description": r.description}}
    return replace(run, request=req, result=replace(run.result, scenario_name=r.name, scenario=scenario))


def _ensemble(req: RunRequest, progress: Progress, cancelled: IsCancelled) -> RunResult:
    """Posterior parameter draws x seeds on the experiments engine (``qhsim.experiments.ensemble.run_ensemble``,
    as ``qhsim run --draws/--seeds``), in this thread; cancel is checked between runs."""
    from qhsim.experiments.ensemble import run_ensemble

    return run_ensemble(req.scenario, draws=req.draws, seeds=req.seeds, scale=req.scale,
                        callback=lambda done, total: progress(done / total), cancel=CancelFlag(cancelled))
