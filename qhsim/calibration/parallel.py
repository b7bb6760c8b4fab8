"""Parallel evaluation 并行评估: (parameter vector x seed) runs on a process pool, results ordered by id.

Results never depend on the number of workers: every run is keyed by (evaluation id, seed index), and
results are assembled in that order, not in order of completion. With a journal, finished evaluations
are written to disk as they complete and skipped when the same evaluation is requested again.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from tqdm import tqdm

from qhsim.calibration.journal import Journal
from qhsim.calibration.objective import Task, WorkerSpec, init_worker, run_task
from qhsim.calibration.settings import CALIBRATED_ENV, json_sha

PRELOAD = ["qhsim.calibration.objective", "qhsim.runner"]


def evaluation_key(parameters: dict[str, float], policy: dict[str, float], seeds: Sequence[int]) -> str:
    return json_sha({"parameters": parameters, "policy": policy, "seeds": list(seeds)})


class Evaluator:
    """Runs evaluations with ``workers`` processes (1 = in this process)."""

    def __init__(
        self,
        spec: WorkerSpec,
        seeds: Sequence[int],
        workers: int = 1,
        journal: Journal | None = None,
        progress: bool = True,
    ):
        self.spec = spec
        self.seeds = tuple(seeds)
        self.workers = max(1, int(workers))
        self.journal = journal
        self.progress = progress
        self._pool: ProcessPoolExecutor | None = None
        self.computed = 0  # evaluations actually run (not taken from the journal)

    # -- pool ---------------------------------------------------------------------------------------
    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: no fork() of a multi-threaded parent (tqdm's monitor thread), cheap worker start
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=init_worker, initargs=(self.spec,)
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- evaluation ---------------------------------------------------------------------------------
    def evaluate(
        self,
        items: Sequence[tuple[int, dict[str, float], dict[str, float]]],
        desc: str = "evaluations",
    ) -> list[dict[str, Any]]:
        """Evaluate ``(eval_id, parameters, policy)`` items; return one record per item, in item order.

        A record holds ``id``, ``key``, ``parameters``, ``policy``, ``seeds``, ``seconds`` and either
        ``cells`` ({cell: [value per seed]}) or ``frames`` (one indicator DataFrame per seed).
        """
        records: dict[int, dict[str, Any]] = {}
        todo: list[tuple[int, dict[str, float], dict[str, float], str]] = []
        for eval_id, params, policy in items:
            key = evaluation_key(params, policy, self.seeds)
            rec = self.journal.get(key) if self.journal is not None else None
            if rec is not None:
                records[eval_id] = {**rec, "id": eval_id}
            else:
                todo.append((eval_id, params, policy, key))
        if todo:
            self._run(todo, records, desc)
        return [records[eval_id] for eval_id, _, _ in items]

    def _run(self, todo: list[tuple[int, dict, dict, str]], records: dict[int, dict], desc: str) -> None:
        tasks = [
            Task(eval_id, i, seed, params, policy)
            for eval_id, params, policy, _ in todo
            for i, seed in enumerate(self.seeds)
        ]
        meta = {eval_id: (params, policy, key) for eval_id, params, policy, key in todo}
        partial: dict[int, dict[int, Any]] = {eval_id: {} for eval_id in meta}
        seconds: dict[int, float] = {eval_id: 0.0 for eval_id in meta}
        bar = tqdm(total=len(todo), desc=desc, unit="eval", disable=not self.progress, file=sys.stderr, leave=False)

        def finish(eval_id: int) -> None:
            params, policy, key = meta[eval_id]
            per_seed = [partial[eval_id][i] for i in range(len(self.seeds))]
            rec: dict[str, Any] = {
                "id": eval_id, "key": key, "parameters": params, "policy": policy,
                "seeds": list(self.seeds), "seconds": round(seconds[eval_id], 4),
            }
            if self.spec.cells is None:
                rec["frames"] = per_seed
            else:
                rec["cells"] = {c: [d[c] for d in per_seed] for c in self.spec.cells}
                if self.journal is not None:
                    self.journal.append(rec)
            records[eval_id] = rec
            self.computed += 1
            bar.update(1)

        def accept(result: tuple[int, int, Any, float]) -> None:
            eval_id, seed_index, out, secs = result
            partial[eval_id][seed_index] = out
            seconds[eval_id] += secs
            if len(partial[eval_id]) == len(self.seeds):
                finish(eval_id)

        try:
            if self.workers == 1:
                previous = os.environ.get(CALIBRATED_ENV)
                init_worker(self.spec)
                try:
                    for task in tasks:
                        accept(run_task(task))
                finally:
                    if previous is None:
                        os.environ.pop(CALIBRATED_ENV, None)
                    else:
                        os.environ[CALIBRATED_ENV] = previous
            else:
                pool = self._executor()
                futures = [pool.submit(run_task, t) for t in tasks]
                try:
                    for fut in as_completed(futures):
                        accept(fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
        finally:
            bar.close()
