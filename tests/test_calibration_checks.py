"""Checks that can fail: the objective sees every target, ABC-SMC's rejection concentrates the posterior,
sensitivity indices rank factors of a function with known indices, parallel results ignore completion order."""

from __future__ import annotations

import math
from concurrent.futures import Future
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import qhsim.calibration.parallel as parallel
from qhsim.calibration.abc_smc import run_abc_smc
import qhsim.experiments.engine as engine
from qhsim.calibration.objective import Objective, WorkerSpec
from qhsim.experiments.engine import extract_cells
from qhsim.calibration.settings import CONFIG_FILE, FreeParameter, load_config
from qhsim.calibration.targets import TargetSet, cell_key, load_targets
from qhsim.config import resolve_raw
from qhsim.errors import InputError

from conftest import ROOT

TARGETS = ROOT / "calibration" / "targets.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"


# ---------------------------------------------------------------------------------------------------
# the objective


def on_target_cells(targets: TargetSet) -> dict[str, list[float]]:
    """Simulated cells exactly on every target (every candidate year), two seeds."""
    return {cell_key(t.indicator, t.region, y): [t.value, t.value] for t in targets for y in t.years}


def test_every_target_moves_the_distance():
    """Perturbing any single target's simulated value (first, last, prefecture, waypoint alike) changes D."""
    targets = load_targets(TARGETS)
    obj = Objective(targets, simulation_error=True)
    cells = on_target_cells(targets)
    assert obj.distance(cells) == 0.0
    regions = {t.region for t in targets}
    assert len(regions) > 1 and targets.targets[-1].region != "province"  # prefecture targets, last one included
    for t in targets:
        moved = dict(cells)
        for y in t.years:
            moved[cell_key(t.indicator, t.region, y)] = [t.value * 1.2, t.value * 1.2]
        d = obj.distance(moved)
        expected = math.sqrt(t.weight * (0.2 / t.tolerance) ** 2 / sum(x.weight for x in targets))
        assert d == pytest.approx(expected, rel=1e-9), t.id


def test_every_observed_value_moves_the_distance():
    """The same for the observed side: changing one target's value in targets.toml changes D."""
    targets = load_targets(TARGETS)
    cells = on_target_cells(targets)
    for k, t in enumerate(targets.targets):
        changed = replace(t, value=t.value * 0.9)
        other = TargetSet(targets.path, targets.targets[:k] + (changed,) + targets.targets[k + 1:], targets.meta)
        assert Objective(other).distance(cells) > 0.0, t.id


def test_a_robust_group_weighs_misses_beyond_the_tolerance_linearly():
    """robust_groups: a yearly-path target's miss of m tolerances adds m^2 up to the tolerance and 2m - 1 beyond it
    (Huber); a plan target's adds m^2 throughout, as everything does without robust groups. The residuals' squared
    norm stays the distance squared (the conditional fit's least squares minimises the same loss)."""
    targets = load_targets(TARGETS)
    robust = Objective(targets, simulation_error=False, robust_groups=("paths_2016_2020",))
    squared = Objective(targets, simulation_error=False)
    cells = on_target_cells(targets)
    total = sum(t.weight for t in targets)
    path = next(t for t in targets if t.id == "rd_personnel_fte_2017")
    plan = next(t for t in targets if t.id == "rd_personnel_per_10k_2020")
    for t in (path, plan):
        for m in (0.5, 1.0, 3.0):
            moved = {**cells, cell_key(t.indicator, t.region, t.years[0]): [t.value * (1 + m * t.tolerance)] * 2}
            linear = t.group == "paths_2016_2020" and m > 1
            assert robust.distance(moved) ** 2 * total / t.weight == pytest.approx(2 * m - 1 if linear else m * m)
            assert squared.distance(moved) ** 2 * total / t.weight == pytest.approx(m * m)
            assert np.sum(robust.residuals(moved) ** 2) == pytest.approx(robust.distance(moved) ** 2)
            assert np.nansum(np.sign(robust.residuals(moved))) == 1.0  # the miss keeps its direction


def test_extract_cells_reads_each_region_and_year():
    frame = pd.DataFrame({"region": ["province", "haidong", "province"], "year": [2020, 2020, 2019],
                          "hte_count": [218.0, 30.0, 190.0]})
    got = extract_cells(frame, ["hte_count|province|2020", "hte_count|haidong|2020", "hte_count|province|2019",
                                "hte_count|haixi|2020"])
    assert got["hte_count|province|2020"] == 218.0 and got["hte_count|haidong|2020"] == 30.0
    assert got["hte_count|province|2019"] == 190.0 and math.isnan(got["hte_count|haixi|2020"])


# ---------------------------------------------------------------------------------------------------
# ABC-SMC: rejection must do the work


def test_abc_posterior_is_narrower_than_the_prior_and_centred_on_the_truth():
    """A twin problem with a known answer away from the prior's centre: the final population concentrates
    around it. Accepting every proposal (no rejection) leaves it near the prior and fails this test."""
    truth = {"a": 0.8, "b": -1.2}
    params = (FreeParameter("a", 0.0, 1.0), FreeParameter("b", -2.0, 2.0))
    cfg = load_config("small", CONFIG_FILE).with_(particles=60, batch=60, max_generations=6, max_evaluations=1500,
                                                  epsilon_floor=1.0, quantile=0.5, min_acceptance=0.02,
                                                  random_seed=4)
    tol = {"a": 0.02, "b": 0.08}  # the targets' tolerances, in parameter units

    def evaluate(ids, thetas, desc):
        return [math.sqrt(sum(((t[k] - truth[k]) / tol[k]) ** 2 for k in truth) / 2) for t in thetas]

    res = run_abc_smc(params, cfg, evaluate)
    g = res.final
    draws = np.array([[res.thetas[i][p.name] for p in params] for i in g.ids])
    mean = g.weights @ draws
    sd = np.sqrt(g.weights @ (draws - mean) ** 2)
    prior_sd = np.array([(p.high - p.low) / math.sqrt(12) for p in params])
    assert np.all(sd < 0.25 * prior_sd), (sd, prior_sd)
    assert abs(mean[0] - truth["a"]) < 3 * tol["a"] and abs(mean[1] - truth["b"]) < 3 * tol["b"], mean
    assert np.all(g.distances <= g.epsilon)


# ---------------------------------------------------------------------------------------------------
# sensitivity: known indices


def test_sensitivity_recovers_the_ranking_of_a_known_function(monkeypatch):
    """Morris and Sobol through qhsim's own pipeline on y = 10 x1 + 4 x2 + x3 (+ 0 x4), factors on [0, 1]:
    first-order Sobol indices are 100/117, 16/117, 1/117, 0; Morris mu* is proportional to the slopes."""
    import qhsim.calibration.sensitivity as sens

    slopes = {"w_big": 10.0, "w_mid": 4.0, "w_small": 1.0, "w_none": 0.0}
    order = ["w_mid", "w_none", "w_big", "w_small"]  # file order differs from the ranking
    factors = tuple(sens.Factor(n, "behaviour", 0.0, 1.0) for n in order)
    monkeypatch.setenv("QHSIM_CALIBRATED", str(ROOT / "calibration" / "calibrated.toml"))  # the small config starts from it
    spec = replace(sens.load_spec("small"), morris_factors=factors, sobol_factors=factors, morris_trajectories=20,
                   sobol_n=512, outputs=[("rd_intensity", "province", 2025), ("hte_count", "province", 2025)])

    def known(spec_, factors_, X, workers, progress, desc):
        y = sum(slopes[f.name] * X[:, j] for j, f in enumerate(factors_))
        return np.column_stack([y, -2.0 * y])

    monkeypatch.setattr(sens, "_evaluate", known)
    tables = sens.run_sensitivity(spec, workers=1, progress=False, log=lambda s: None)
    for output in ("rd_intensity|province|2025", "hte_count|province|2025"):
        m = tables["morris"].query("output == @output").set_index("factor")
        assert list(m["mu_star"].sort_values(ascending=False).index) == ["w_big", "w_mid", "w_small", "w_none"]
        ratio = m.loc["w_mid", "mu_star"] / m.loc["w_big", "mu_star"]
        assert ratio == pytest.approx(0.4, rel=0.05)
        s = tables["sobol"].query("output == @output").set_index("factor")
        for name, slope in slopes.items():
            assert s.loc[name, "S1"] == pytest.approx(slope**2 / 117.0, abs=0.05), name
            assert s.loc[name, "ST"] == pytest.approx(slope**2 / 117.0, abs=0.05), name


# ---------------------------------------------------------------------------------------------------
# parallel evaluation: completion order must not matter


class OutOfOrderPool:
    """Stands in for the engine's process pool: runs every run at submit time (in this process) and lets the
    patched ``wait`` hand the finished futures back in reverse order, as a busy pool would."""

    def __init__(self):
        self.submitted: list[Future] = []

    def submit(self, fn, *args):
        fut: Future = Future()
        fut.set_result(fn(*args))
        self.submitted.append(fut)
        return fut


def scrambled(futures, timeout=None, return_when=None):
    """``concurrent.futures.wait`` that reports every future done, in reverse order of submission."""
    futures = list(futures)
    return futures[::-1], set()


def test_results_do_not_depend_on_completion_order(monkeypatch):
    cells = ("hte_count|province|2017", "rd_intensity|province|2017", "hte_count|haidong|2017")
    spec = WorkerSpec(resolve_raw(BASELINE), str(BASELINE), 0.03, 2017, cells)
    items = [(i, {"start_intercept": -5.0 + 0.5 * i}, {}) for i in range(4)]
    seeds = (1, 2, 3)
    with parallel.Evaluator(spec, seeds, workers=1, progress=False) as ev:
        in_order = ev.evaluate(items)
    pool = OutOfOrderPool()
    monkeypatch.setattr(engine.Engine, "_local_pool", lambda self: pool)
    monkeypatch.setattr(engine, "wait", scrambled)
    with parallel.Evaluator(spec, seeds, workers=2, progress=False) as ev:
        shuffled = ev.evaluate(items)
    assert len(pool.submitted) == len(items) * len(seeds)
    assert [r["id"] for r in shuffled] == [r["id"] for r in in_order] == [0, 1, 2, 3]
    for a, b in zip(in_order, shuffled):
        assert a["cells"] == b["cells"] and a["parameters"] == b["parameters"]
    # the seeds differ, so a mix-up of seed positions would show
    assert len(set(in_order[0]["cells"]["rd_intensity|province|2017"])) == len(seeds)


def ridge_distance(ids, thetas, desc):
    """A narrow correlated ridge (a + b pinned to 1%, a - b loosely) plus two independent targets."""
    return [math.sqrt(((t["a"] + t["b"] - 1.2) / 0.01) ** 2 + ((t["a"] - t["b"] + 0.1) / 0.3) ** 2
                      + ((t["c"] - 0.7) / 0.05) ** 2 + ((t["d"] - 0.2) / 0.05) ** 2) / 2 for t in thetas]


def ridge_run(kernel: str, seed: int):
    params = tuple(FreeParameter(n, 0.0, 1.0) for n in "abcd")
    cfg = load_config("small", CONFIG_FILE).with_(particles=100, batch=100, max_generations=30, max_evaluations=3000,
                                                  epsilon_floor=1.0, quantile=0.5, min_acceptance=0.0,
                                                  random_seed=seed, kernel=kernel)
    return run_abc_smc(params, cfg, ridge_distance)


def test_local_kernel_gets_closer_than_the_global_one_on_a_correlated_ridge():
    """Same budget (3,000 evaluations), six seeds each: the optimal local covariance kernel (Filippi et al. 2013)
    ends at a smaller epsilon than 2 x the global covariance — median over the seeds about 1.05 against 1.9
    (measured; a run the budget stops inside a generation can end looser, with either kernel)."""
    seeds = range(1, 7)
    glob = np.median([ridge_run("global", s).final.epsilon for s in seeds])
    local = np.median([ridge_run("olcm", s).final.epsilon for s in seeds])
    assert local < 0.7 * glob, (local, glob)


def test_kernel_must_be_known(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG_FILE.read_text(encoding="utf-8").replace("[small]\n", '[small]\nkernel = "local"\n', 1),
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"kernel = 'local': expected one of 'global', 'olcm'"):
        load_config("small", cfg)
