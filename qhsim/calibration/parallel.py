"""Evaluations 评估 on the experiments engine: one parameter vector x every seed -> cells per seed.

An *evaluation* (calibration, sensitivity) is one parameter vector (and policy setting) run with every seed
of the configuration. Its runs go through ``qhsim.experiments.Engine`` like every other model run; this
module groups them back by evaluation, in item order (never completion order, so results do not depend on
the number of workers), and, with a journal, writes each finished evaluation to disk and skips evaluations
already there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qhsim.calibration.journal import Journal
from qhsim.calibration.objective import WorkerSpec
from qhsim.calibration.settings import json_sha
from qhsim.experiments.engine import Engine, Executor, Progress, progress_display
from qhsim.experiments.spec import Override, RunSpec


def evaluation_key(parameters: dict[str, float], policy: dict[str, float], seeds: Sequence[int]) -> str:
    return json_sha({"parameters": parameters, "policy": policy, "seeds": list(seeds)})


def run_specs(spec: WorkerSpec, parameters: dict[str, float], policy: dict[str, Any], seeds: Sequence[int]) -> list[RunSpec]:
    """The runs of one evaluation: the base scenario with ``parameters`` and ``policy`` (key path -> value
    from the instrument's first year), once per seed."""
    own = spec.own_parameters
    params = {**parameters, **own} if spec.scenario_wins else {**own, **parameters}
    overrides = tuple(Override(path, spec.instruments[path], value) for path, value in policy.items())
    return [RunSpec(spec.scenario_raw, int(s), spec.scale, spec.end_year, overrides, params,
                    not spec.ignore_calibration, spec.scenario_origin, scenario_key=spec.scenario_key,
                    population_seed=int(s) if spec.vary_population else None)
            for s in seeds]


class Evaluator:
    """Runs evaluations on an ``Engine``: ``workers`` is a process count (1 = in this process) or an
    ``qhsim.experiments.engine.Executor`` (e.g. Dask)."""

    def __init__(self, spec: WorkerSpec, seeds: Sequence[int], workers: int | Executor = 1,
                 journal: Journal | None = None, progress: bool = True):
        self.spec = spec
        self.seeds = tuple(seeds)
        self.journal = journal
        self.progress = progress
        self.engine = Engine(workers)
        self.computed = 0  # evaluations actually run (not taken from the journal)

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def evaluate(self, items: Sequence[tuple[int, dict[str, float], dict[str, float]]],
                 desc: str = "evaluations") -> list[dict[str, Any]]:
        """Evaluate ``(eval_id, parameters, policy)`` items; return one record per item, in item order.

        A record holds ``id``, ``key``, ``parameters``, ``policy``, ``seeds``, ``seconds`` and either
        ``cells`` ({cell: [value per seed]}) or ``frames`` (one indicator DataFrame per seed).
        """
        records: dict[int, dict[str, Any]] = {}
        todo = []
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
        n = len(self.seeds)
        specs = [s for _, params, policy, _ in todo for s in run_specs(self.spec, params, policy, self.seeds)]
        partial: dict[int, dict[int, Any]] = {}
        seconds: dict[int, float] = {}
        bar = Progress(len(todo), desc, self.progress and progress_display())

        def accept(index: int, out: Any, secs: float) -> None:
            t, seed_index = divmod(index, n)
            partial.setdefault(t, {})[seed_index] = out
            seconds[t] = seconds.get(t, 0.0) + secs
            if len(partial[t]) == n:
                finish(t)

        def finish(t: int) -> None:
            eval_id, params, policy, key = todo[t]
            per_seed = [partial[t][i] for i in range(n)]
            rec: dict[str, Any] = {
                "id": eval_id, "key": key, "parameters": params, "policy": policy,
                "seeds": list(self.seeds), "seconds": round(seconds[t], 4),
            }
            if self.spec.cells is None:
                rec["frames"] = per_seed
            else:
                rec["cells"] = {c: [d[c] for d in per_seed] for c in self.spec.cells}
                if self.journal is not None:
                    self.journal.append(rec)
            records[eval_id] = rec
            self.computed += 1
            bar.update()

        try:
            self.engine.map(specs, self.spec.cells, on_result=accept)
        finally:
            bar.close()
