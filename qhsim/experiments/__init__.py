"""Experiments 实验: one engine for compare, sweeps, ensembles, sensitivity and calibration.

Public API (for notebooks and the dashboard)::

    from qhsim.experiments import compare, Design, design_from_file, inline_design, Override

    result = compare("scenarios/baseline.toml",
                     ["scenarios/super_deduction_120.toml", "scenarios/more_ex_ante_grants.toml"],
                     seeds=(1, 2, 3), draws=None, scale=0.25, budget_neutral=False, workers=2,
                     progress=lambda done, total: ..., cancel=threading.Event())
    result.changes, result.costs, result.leverage, result.targets, result.ranking, result.pairwise

- ``compare(...) -> ComparisonResult``: tidy DataFrames (see ``qhsim.experiments.comparison``); with
  ``out=FOLDER`` the runs stream into a resumable store; ``write_comparison(result)`` then writes the report
  files there (CSV tables, comparison.txt, cost_effectiveness.png, report.xlsx, report.html).
  ``progress(done, total)`` is called after every run; setting ``cancel`` raises ``Cancelled`` (finished runs
  stay in the store; the same call resumes). ``open_comparison(folder)`` re-opens a compare store.
- ``discover(sweep_folder, indicator, year, threshold, probability) -> DiscoveryResult``: PRIM boxes (lever
  limits, coverage, density, peeling trajectory) of the design points that reach the target (a finished sweep
  store only); ``load_sweep``, ``run_sweep``, ``summarise`` run experiment files from Python
  (``summarise(sweep, runs)`` is the table ``summary.csv`` holds).

With ``workers`` > 1 the runs go to worker processes started by a forkserver, which import the calling script: run
from a script whose work sits under ``if __name__ == "__main__":`` (without the guard the workers re-run it and the
call fails with ``BrokenProcessPool``); with one worker the runs stay in this process::

    from qhsim.experiments import load_sweep, run_sweep, summarise

    if __name__ == "__main__":
        sweep = load_sweep("experiments/grant_budget_vs_super_deduction.toml", seeds=(1, 2))
        runs, store = run_sweep(sweep, out="results/gb", workers=2)
        summary = summarise(sweep, runs)
- ``Design(name, scenario_table, origin)`` (any resolved scenario table, e.g. ``Scenario.model_dump(mode="json")``)
  / ``design_from_file(path)`` / ``inline_design(name, base, [Override(path, year, value)])``:
  designs from scenario files or from overrides (a number, a string, or a ``{year: value}`` table).
- ``RunSpec``, ``Engine``: the run specification with its stable key, and the executor (local process pool,
  or Dask: ``Engine(workers, "dask")`` / ``Engine(scheduler="tcp://HOST:PORT")``).
- ``read_runs(folder)``, ``tidy(folder)``, ``read_manifest(folder)``: read a compare or sweep store.
"""

from qhsim.experiments.designs import Design, design_from_file, inline_design
from qhsim.experiments.spec import Override, RunSpec

__all__ = ["compare", "ComparisonResult", "open_comparison", "write_comparison", "format_comparison", "discover", "DiscoveryResult", "load_sweep",
           "run_sweep", "summarise", "Design", "design_from_file", "inline_design", "Override", "RunSpec",
           "Engine", "Cancelled", "read_runs", "tidy", "read_manifest"]


def __getattr__(name: str):  # lazy: the engine and analysis pull in pandas, matplotlib, pyarrow
    if name in ("discover", "DiscoveryResult"):
        from qhsim.experiments import discovery

        return getattr(discovery, name)
    if name in ("load_sweep", "run_sweep", "summarise"):
        from qhsim.experiments import sweep

        return getattr(sweep, name)
    if name in ("write_comparison", "format_comparison"):
        from qhsim.experiments import report

        return getattr(report, name)
    if name in ("compare", "ComparisonResult", "open_comparison"):
        from qhsim.experiments import comparison as module

        return getattr(module, name)
    if name in ("Engine", "Cancelled"):
        from qhsim.experiments import engine

        return getattr(engine, name)
    if name in ("read_runs", "tidy", "read_manifest"):
        from qhsim.experiments import store

        return getattr(store, name)
    raise AttributeError(name)
