"""The experiments engine: stable run keys, identical results across executors (Dask LocalCluster with two
workers) and worker counts, no import cycles."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pandas as pd

from qhsim.experiments.designs import design_from_file, expand
from qhsim.experiments.engine import Engine
from qhsim.experiments.spec import Override, RunSpec

from conftest import ROOT, SCENARIOS


def _specs() -> list[RunSpec]:
    base = design_from_file(SCENARIOS / "baseline.toml")
    variant = base.with_overrides([Override("policy.super_deduction.general", 2017, 1.5)], "sd")
    specs, _ = expand([base, variant], [None], (1, 2), 0.05, 2018)
    return specs


def test_run_key_is_stable_and_fixed_by_the_spec() -> None:
    a, b = _specs(), _specs()
    assert [s.key for s in a] == [s.key for s in b] and len({s.key for s in a}) == 4
    moved = RunSpec(a[0].scenario, a[0].seed, a[0].scale, 2019, a[0].overrides)
    assert moved.key != a[0].key


def test_dask_local_cluster_gives_the_same_numbers_as_the_local_pool() -> None:
    specs = _specs()
    with Engine(1) as eng:
        local = eng.map(specs)
    with Engine(2, "dask") as eng:
        dask = eng.map(specs)
        assert eng.describe() == "dask LocalCluster, 2 workers"
    for x, y in zip(local, dask):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_map_calls_keeps_the_order_on_a_pool_and_in_process() -> None:
    """Measurements a RunSpec cannot express (precision, policy responses) run on the same executors, in order."""
    args = [12, 3, 7, 0, 5]
    with Engine(1) as one, Engine(2) as two:
        assert one.map_calls(math.factorial, args) == two.map_calls(math.factorial, args) == [
            math.factorial(a) for a in args]


def _imports(path: Path, package_root: Path, eager_only: bool = False) -> set[str]:
    """Modules of qhsim a file imports (not under TYPE_CHECKING; ``eager_only``: not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            skip.update(id(n) for sub in node.body for n in ast.walk(sub))
        if eager_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip.update(id(n) for sub in node.body for n in ast.walk(sub))
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("qhsim."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qhsim"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                is_module = (package_root.parent / (sub.replace(".", "/") + ".py")).is_file() or (
                    package_root.parent / sub.replace(".", "/") / "__init__.py").is_file()
                out.add(sub if is_module else node.module)
    return out - {"qhsim"}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def _graph(eager_only: bool) -> dict[str, set[str]]:
    root = ROOT / "qhsim"
    graph = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        graph[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = _imports(path, root, eager_only)
    return graph


def _unit(module: str) -> str:
    """The unit of layering: a subpackage (qhsim.config, qhsim.calibration, ...) or a top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or (ROOT / "qhsim" / parts[-1]).is_dir() else module


def test_no_import_cycles_and_config_does_not_import_calibration() -> None:
    """No cycle between modules at import time, none between packages even through imports inside functions
    (e.g. runner <-> calibration, config -> calibration -> config), and qhsim.config never reaches calibration."""
    assert not _cycles(_graph(eager_only=True))
    packages: dict[str, set[str]] = {}
    for module, targets in _graph(eager_only=False).items():
        packages.setdefault(_unit(module), set()).update(_unit(t) for t in targets if _unit(t) != _unit(module))
    assert not _cycles(packages)
    reach, todo = set(), ["qhsim.config"]
    while todo:
        for w in packages.get(todo.pop(), ()):
            if w not in reach:
                reach.add(w)
                todo.append(w)
    assert "qhsim.calibration" not in reach


def test_evaluations_on_the_engine_equal_bare_runs_of_the_same_scenario() -> None:
    """Calibration and sensitivity evaluations (parameters + an instrument from its first year) give exactly the
    numbers of a bare run of the scenario written by hand: moving onto the engine changed no result."""
    from qhsim.calibration.objective import WorkerSpec
    from qhsim.calibration.parallel import Evaluator
    from qhsim.config import resolve_raw, scenario_from_dict
    from qhsim.experiments.engine import extract_cells
    from qhsim.runner import run

    raw = resolve_raw(SCENARIOS / "baseline.toml")
    cells = ("business_rd|province|2019", "hte_count|province|2019", "rd_intensity|haixi|2018")
    spec = WorkerSpec(raw, "baseline", 0.05, 2019, cells, {"policy.super_deduction.general": 2018})
    params = {"start_intercept": -4.0}
    with Evaluator(spec, (5, 6), workers=2, progress=False) as ev:
        (rec,) = ev.evaluate([(0, params, {"policy.super_deduction.general": 1.7})])
    by_hand = dict(raw)
    sd = dict(by_hand["policy"]["super_deduction"])
    general = sd["general"] if isinstance(sd["general"], dict) else {"1990": sd["general"]}
    sd["general"] = {**{y: v for y, v in general.items() if int(y) < 2018}, "2018": 1.7}
    by_hand["policy"] = {**by_hand["policy"], "super_deduction": sd}
    by_hand["parameters"] = {**raw.get("parameters", {}), **params}
    sc = scenario_from_dict(by_hand, "by hand")
    for i, seed in enumerate((5, 6)):
        bare = extract_cells(run(sc, seed=seed, scale=0.05, end_year=2019).indicators, cells)
        assert {c: rec["cells"][c][i] for c in cells} == bare


def test_an_ensemble_in_a_log_file_says_how_far_it_is(capsys):
    """``qhsim run --seeds`` (and ``--draws``), the uncertainty report and calibration showed their progress only on a
    terminal: with stderr in a log file (here pytest's capture) a projection prints plain progress lines, as sweep
    and compare do, and nothing when asked for no progress."""
    from qhsim.experiments.ensemble import project

    frame = project(SCENARIOS / "baseline.toml", draws=None, seeds=(1, 2), scale=0.02, end_year=2017)
    lines = capsys.readouterr().err.splitlines()
    assert len(frame) and lines and lines[-1].startswith("qhsim: projection: 2/2 次运行 runs (100%)")
    project(SCENARIOS / "baseline.toml", draws=None, seeds=(1, 2), scale=0.02, end_year=2017, progress=False)
    assert capsys.readouterr().err == ""
