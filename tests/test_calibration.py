"""Calibration machinery (issue #4): input checks, objective under common random numbers, ABC-SMC
determinism across worker counts, resume, parameter recovery, calibrated.toml, projections, sensitivity.

Heavier checks are marked ``slow`` and run in a light configuration by default; set QHSIM_TEST_FULL=1 for
the thorough versions. Parameter recovery: tests/test_calibration_recovery.py and
tests/test_calibration_recovery_fresh.py.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qhsim import data
from qhsim.calibration.abc_smc import run_abc_smc
from qhsim.calibration.calibrate import calibrate, journal_path
from qhsim.calibrated import calibrated_parameters, load_calibration
from qhsim.calibration.ensemble import write_calibration
from qhsim.calibration.journal import Journal, rekey
from qhsim.calibration.objective import Objective, WorkerSpec
from qhsim.calibration.parallel import Evaluator
from qhsim.calibration.settings import CONFIG_FILE, FreeParameter, load_config, load_free_parameters
from qhsim.calibration.targets import load_targets
from qhsim.config import resolve_raw
from qhsim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
FULL = os.environ.get("QHSIM_TEST_FULL") == "1"


# ---------------------------------------------------------------------------------------------------
# helpers


def target_row(indicator: str, value: float, year: int | list[int] = 2020, region: str = "province", **extra) -> str:
    fields = {
        "indicator": indicator, "region": region, "year": year, "value": value, "unit": "x",
        "source": "test", "tolerance": 0.05, "group": "test", **extra,
    }
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())
    return f"[[target]]\n{body}\n"


def write_problem(tmp: Path, targets: str, free: str, **settings) -> Path:
    """A calibration config (and its targets / free-parameter files) under ``tmp``; returns the config path."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "targets.toml").write_text(targets, encoding="utf-8")
    (tmp / "free.toml").write_text(free, encoding="utf-8")
    cfg = {
        "scenario": str(BASELINE), "targets": str(tmp / "targets.toml"), "free_parameters": str(tmp / "free.toml"),
        "end_year": 2020, "simulation_error": True, "random_seed": 3, "quantile": 0.5, "epsilon_floor": 0.0,
        "min_acceptance": 0.02, "scale": 0.05, "seeds": [1, 2], "particles": 6, "batch": 6, "max_generations": 3,
        "max_evaluations": 30, "out": str(tmp / "out"),
        # the fit report's policy responses on a 5% population: these tests check the section is made, not the
        # responses themselves (tests/test_responses.py judges those at full scale)
        "response_scale": 0.05, "response_seeds": [201, 202], **settings,
    }
    text = "[t]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in cfg.items()) + "\n"
    (tmp / "config.toml").write_text(text, encoding="utf-8")
    return tmp / "config.toml"


TINY_TARGETS = (
    target_row("share_firms_with_rd", 18.21)
    + target_row("hte_count", 218)
    + target_row("tech_based_enterprises", 415, year=[2018, 2019])
    + target_row("provincial_key_labs", 72, awaiting="a future model issue")  # no such column: "not yet modelled"
)
TINY_FREE = "[start_intercept]\n[tbe_recognition_probability]\n"


def summary(outcome) -> tuple:
    r = outcome.result
    return (
        r.best_id, r.stop_reason, r.n_evaluations,
        tuple(sorted(r.distances.items())),
        tuple((i, tuple(sorted(t.items()))) for i, t in sorted(r.thetas.items())),
        tuple((g.t, g.epsilon, tuple(g.ids), tuple(g.weights)) for g in r.generations),
    )


# ---------------------------------------------------------------------------------------------------
# the shipped files


def test_shipped_calibration_files_are_valid():
    """calibration/*.toml load; plan targets agree with the 2020 values of qhsim/data/indicators.toml."""
    for name in ("small", "full"):
        cfg = load_config(name)
        assert cfg.scale <= 1.0 and len(cfg.seeds) >= 2
    for name in ("full", "medium"):  # issue #8: judged on >= 16 fresh full-scale seeds, estimated where it is judged
        cfg = load_config(name)
        assert cfg.validation_scale == 1.0 and len(cfg.validation_seeds) >= 16
        assert not set(cfg.validation_seeds) & set(cfg.seeds)
        # on the default 2015 population that analysts run: own populations per seed made a 4-seed mean unfittable
        assert cfg.scale == cfg.validation_scale and not cfg.vary_population and len(cfg.seeds) >= 6
    assert load_config("full").response_candidates >= 16  # the posterior is checked against the response evidence
    # the out-of-sample check ([medium] --oos) judges the posterior made the way the shipped one is: the same evidence
    # step and kernel, the same level parameters re-fitted for the point and for each draw
    full, medium = load_config("full"), load_config("medium")
    for key in ("response_candidates", "response_screen_seeds", "evidence_bandwidth", "conditional",
                "conditional_seeds", "ensemble_refit_budget", "level_samples"):
        assert getattr(medium, key) == getattr(full, key), key
    assert full.response_scale == medium.response_scale == 1.0  # the responses are judged at full scale
    assert full.ensemble_refit_budget > 0 and full.level_samples > 0  # bands hold the level parameters' uncertainty
    params = load_free_parameters(load_config("full").free_parameters)
    assert len(params) >= 2
    targets = load_targets(load_config("full").targets)
    indicators = data.load("indicators")
    plan = [t for t in targets if t.group == "plan_2020"]
    assert len(plan) == 9
    for t in plan:
        assert t.value == pytest.approx(indicators[t.indicator]["value_2020"]["value"]), t.id
    assert all(tuple(t.years) == (2018,) for t in targets if t.group == "waypoint")  # dated by the yearbook
    paths = [t for t in targets if t.group == "paths_2016_2020"]
    assert {y for t in paths for y in t.years} == {2016, 2017, 2018, 2019, 2020}
    assert max(y for t in targets for y in t.years) <= 2020  # the validation window is never fitted
    assert any(t.region == "haidong" for t in targets)


# ---------------------------------------------------------------------------------------------------
# bad input: one line naming the file, the key and what is allowed


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (target_row("hte_count", 218).replace("tolerance = 0.05\n", ""), "tolerance: required key missing"),
        (target_row("hte_count", 218, tolerance=1.5), "allowed range (0, 1]"),
        (target_row("no_such_indicator", 1.0), "not an indicator"),
        (target_row("hte_count", 218, region="atlantis"), "allowed province"),
        (target_row("hte_count", 218, year=1800), "candidate years"),
        (target_row("hte_count", "many"), "finite number"),
        (target_row("hte_count", 218, colour="red"), "unknown key"),
        (target_row("hte_count", 218) + target_row("hte_count", 218), "duplicate target id"),
        ("[[target]\nindicator = 'x'\n", "not valid TOML"),
    ],
)
def test_malformed_targets_raise_input_error(tmp_path, row, needle):
    path = tmp_path / "targets.toml"
    path.write_text(row, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_targets(path)
    msg = str(err.value)
    assert needle in msg and str(path) in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[no_such_parameter]\n", "unknown model parameter"),
        ("[start_intercept]\nrange = [-20.0, -3.0]\n", "outside allowed range [-8, -3]"),
        ("[start_intercept]\nprior = \"cauchy\"\n", "allowed uniform, loguniform, normal"),
        ("[start_intercept]\nprior = \"normal\"\n", "the normal prior needs a mean within [-8, -3]"),
        ("[start_intercept]\nprior = \"normal\"\nmean = -4.0\nsd = 0\n", "the normal prior needs sd > 0"),
        ("[start_intercept]\nprior = \"loguniform\"\n", "needs range > 0"),
        ("[start_intercept]\nwidth = 2\n", "unknown key"),
        ("start_intercept = 1.0\n", "expected a table"),
    ],
)
def test_bad_free_parameters_raise_input_error(tmp_path, text, needle):
    path = tmp_path / "free.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_free_parameters(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_bad_config_raises_input_error(tmp_path):
    with pytest.raises(InputError, match=r"\[huge\]: no such configuration \(allowed: .*small\)"):
        load_config("huge")
    path = write_problem(tmp_path, TINY_TARGETS, TINY_FREE, scale=2.0)
    with pytest.raises(InputError, match=r"scale = 2.0: outside allowed range \[0.0001, 1\]"):
        load_config("t", path)
    path = write_problem(tmp_path / "r", TINY_TARGETS, TINY_FREE, response_scale=0.0)
    with pytest.raises(InputError, match=r"response_scale = 0.0: outside allowed range \[0.0001, 1\]"):
        load_config("t", path)
    path = write_problem(tmp_path / "s", TINY_TARGETS, TINY_FREE, response_seeds=[])
    with pytest.raises(InputError, match=r"response_seeds = \[\]: expected a non-empty list"):
        load_config("t", path)
    path = write_problem(tmp_path / "g", TINY_TARGETS, TINY_FREE, robust_groups=["paths"])
    with pytest.raises(InputError, match=r"config.toml: \[t\] robust_groups: 'paths' is not a target group "
                                         r"\(allowed: test\)"):
        load_config("t", path)


# ---------------------------------------------------------------------------------------------------
# objective


def test_distance_formula_closest_year_and_not_yet_modelled(tmp_path):
    """D = sqrt(weighted mean z^2); the closest candidate year counts; NaN-only targets are skipped."""
    path = tmp_path / "t.toml"
    path.write_text(
        target_row("hte_count", 200.0, tolerance=0.1)
        + target_row("tech_based_enterprises", 400.0, year=[2018, 2019])
        + target_row("patents_per_10k", 3.0),
        encoding="utf-8",
    )
    targets = load_targets(path)
    cells = {
        "hte_count|province|2020": [210.0, 230.0],  # mean 220 -> z = 20 / 20 = 1 (no simulation error)
        "tech_based_enterprises|province|2018": [300.0, 300.0],
        "tech_based_enterprises|province|2019": [410.0, 410.0],  # z = 10 / 20 = 0.5, closer than 2018
        "patents_per_10k|province|2020": [math.nan, math.nan],
    }
    skip = frozenset({"patents_per_10k@province@2020"})
    obj = Objective(targets, simulation_error=False, skip=skip)
    fits = {f.target.id: f for f in obj.fits(cells)}
    assert fits["tech_based_enterprises@province@[2018, 2019]"].year == 2019
    assert fits["patents_per_10k@province@2020"].status == "not_yet_modelled"
    assert obj.distance(cells) == pytest.approx(math.sqrt((1.0 + 0.25) / 2))
    # with simulation error the seed variance of the mean widens sigma
    obj2 = Objective(targets, simulation_error=True, skip=skip)
    hte = {f.target.id: f for f in obj2.fits(cells)}["hte_count@province@2020"]
    assert hte.sigma == pytest.approx(math.sqrt(20.0**2 + np.var([210.0, 230.0], ddof=1) / 2))
    # an active target that comes out NaN makes the parameter set inadmissible
    bad = {**cells, "hte_count|province|2020": [math.nan, math.nan]}
    assert obj.distance(bad) == math.inf


def test_objective_is_deterministic_under_common_random_numbers(tmp_path):
    """The same parameters and seeds give identical cells; other parameters face the same initial luck."""
    path = tmp_path / "t.toml"
    path.write_text(TINY_TARGETS + target_row("hte_count", 103, year=2015), encoding="utf-8")
    targets = load_targets(path)
    spec = WorkerSpec(resolve_raw(BASELINE), str(BASELINE), 0.05, 2020, tuple(targets.cells()))
    theta_a = {"start_intercept": -6.0}
    theta_b = {"start_intercept": -3.5}
    with Evaluator(spec, (1, 2), workers=1, progress=False) as ev:
        a1, b1 = ev.evaluate([(0, theta_a, {}), (1, theta_b, {})])
    with Evaluator(spec, (1, 2), workers=1, progress=False) as ev:
        (a2,) = ev.evaluate([(7, theta_a, {})])
    assert json.dumps(a1["cells"], sort_keys=True) == json.dumps(a2["cells"], sort_keys=True)  # NaN-safe, bitwise
    obj = Objective(targets, skip=frozenset({t.id for t in targets if t.indicator == "provincial_key_labs"}))
    assert obj.distance(a1["cells"]) == obj.distance(a2["cells"])
    # common random numbers: the end-2015 population does not depend on a parameter that acts from 2016
    assert a1["cells"]["hte_count|province|2015"] == b1["cells"]["hte_count|province|2015"]
    assert a1["cells"]["share_firms_with_rd|province|2020"] != b1["cells"]["share_firms_with_rd|province|2020"]


# ---------------------------------------------------------------------------------------------------
# journal, resume, workers


def test_journal_drops_a_torn_last_line_and_checks_its_header(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path, {"model": "m1"}) as j:
        j.append({"id": 0, "key": "k0", "cells": {"a": [1.0, math.nan]}})
        j.append({"id": 1, "key": "k1", "cells": {"a": [0.1 + 0.2]}})
    with path.open("a") as fh:
        fh.write('{"type": "eval", "id": 2, "key": "k2", "cel')  # killed mid-write
    with Journal(path, {"model": "m1"}, resume=True) as j:
        assert sorted(j.records) == ["k0", "k1"]
        assert j.get("k1")["cells"]["a"] == [0.1 + 0.2]  # bit-identical float
        assert math.isnan(j.get("k0")["cells"]["a"][1])
        j.append({"id": 2, "key": "k2", "cells": {}})
    with Journal(path, {"model": "m1"}, resume=True) as j:
        assert sorted(j.records) == ["k0", "k1", "k2"]
        assert j.get("other inputs") is None
    with pytest.raises(InputError, match=r"header.model: the journal was written with a different model"):
        Journal(path, {"model": "m2"}, resume=True)
    Journal(path, {"model": "m2"}).close()  # without resume: a fresh journal, the old one kept
    assert path.with_suffix(".jsonl.prev").exists()



def test_rekey_accepts_new_model_code_only_when_the_evaluations_rerun_identically(tmp_path):
    path = tmp_path / "j.jsonl"
    header = {"model": "m1", "scale": 1.0}
    with Journal(path, header) as j:
        for k in range(5):
            j.append({"id": k, "key": f"k{k}", "cells": {"a": [float(k), math.nan]}})
    same = lambda recs: [r["cells"] for r in recs]  # noqa: E731
    moved = lambda recs: [{"a": [r["cells"]["a"][0] + 1e-15, math.nan]} for r in recs]  # noqa: E731
    with pytest.raises(InputError, match=r"gives different results with the current model code"):
        rekey(path, {**header, "model": "m2"}, moved, 3)
    with pytest.raises(InputError, match=r"header.scale: differs from the current setting"):
        rekey(path, {"model": "m2", "scale": 0.5}, same, 3)
    with pytest.raises(InputError):
        Journal(path, {**header, "model": "m2"}, resume=True)  # nothing was rewritten by the failures
    assert rekey(path, {**header, "model": "m2"}, same, 3) == ("m1", 3)
    with Journal(path, {**header, "model": "m2"}, resume=True) as j:
        assert sorted(j.records) == [f"k{k}" for k in range(5)]


def test_results_do_not_depend_on_workers_and_resume_replays_exactly(tmp_path):
    """Same calibration with 1 and 2 workers is identical; an interrupted run resumed gives the same result."""
    cfg1 = load_config("t", write_problem(tmp_path / "w1", TINY_TARGETS, TINY_FREE))
    cfg2 = load_config("t", write_problem(tmp_path / "w2", TINY_TARGETS, TINY_FREE))
    quiet = {"progress": False, "log": lambda s: None, "write": False}
    one = calibrate(cfg1, workers=1, **quiet)
    two = calibrate(cfg2, workers=2, **quiet)
    assert summary(one) == summary(two)
    assert one.objective.skip == frozenset({"provincial_key_labs@province@2020"})

    # interrupt: keep the header and 10 evaluations, plus a half-written line
    path = journal_path(cfg2)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:11]) + lines[11][: len(lines[11]) // 2])
    resumed = calibrate(cfg2, workers=2, resume=True, **quiet)
    assert summary(resumed) == summary(one)
    assert resumed.computed == one.result.n_evaluations - 10
    again = calibrate(cfg2, workers=1, resume=True, **quiet)
    assert again.computed == 0 and summary(again) == summary(one)
    # a bigger budget (evaluations and generations: the run may have stopped at either) continues the same path:
    # nothing already run is run again
    longer = calibrate(cfg2.with_(max_evaluations=48, max_generations=5), workers=2, resume=True, **quiet)
    assert longer.result.n_evaluations > one.result.n_evaluations
    assert longer.computed == longer.result.n_evaluations - one.result.n_evaluations


# ---------------------------------------------------------------------------------------------------
# parameter recovery: tests/test_calibration_recovery.py and tests/test_calibration_recovery_fresh.py (files of their
# own, the suite's two heaviest tests: `pytest -n auto --dist loadfile` runs them beside the rest of this file)


# ---------------------------------------------------------------------------------------------------
# calibrated.toml, projections, reports


def _write_tiny_calibration(path: Path) -> None:
    names = ["start_intercept", "tbe_recognition_probability"]
    draws = np.array([[-4.5, 0.3], [-4.0, 0.5], [-5.0, 0.4]])
    write_calibration(
        path, {"start_intercept": -4.4, "tbe_recognition_probability": 0.45}, names, draws,
        np.array([0.5, 0.3, 0.2]), np.array([0.9, 1.0, 1.1]), {"method": "test"}, {},
    )


def test_calibrated_toml_round_trip_and_defaults(tmp_path, monkeypatch):
    path = tmp_path / "calibrated.toml"
    _write_tiny_calibration(path)
    cal = load_calibration(path)
    assert cal.point == {"start_intercept": -4.4, "tbe_recognition_probability": 0.45}
    assert cal.intervals["start_intercept"]["p05"] <= cal.intervals["start_intercept"]["p95"]
    rows, weights = cal.selection(2, np.random.default_rng(1))
    again = cal.selection(2, np.random.default_rng(1))
    assert list(rows) == list(again[0]) and list(weights) == list(again[1]) and len(cal.parameter_sets(rows)) == 2
    monkeypatch.setenv("QHSIM_CALIBRATED", str(path))
    assert calibrated_parameters() == cal.point
    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    assert calibrated_parameters() == {}
    # a value outside today's behaviour.toml range is dropped, not passed to the model
    text = path.read_text().replace("start_intercept = -4.4", "start_intercept = -40.0")
    path.write_text(text)
    cal = load_calibration(path)
    assert "start_intercept" in cal.dropped and "start_intercept" not in cal.point


def test_parameter_draws_never_repeat_and_stand_for_the_posterior_weight(tmp_path):
    """``run --draws``, ``compare`` and ``sweep`` run every draw with every seed, so a draw sampled twice would repeat its runs (the
    store refuses that): they take different draws, each chosen with a chance proportional to its weight (capped
    at 1), and each standing for its weight over that chance, so that the weighted statistics estimate the
    posterior's whatever the draws chosen."""
    from qhsim.experiments.designs import parameter_draws

    path = tmp_path / "calibrated.toml"
    _write_tiny_calibration(path)  # weights 0.5, 0.3, 0.2 (start_intercept -4.5, -4.0, -5.0)
    cal = load_calibration(path)
    value = {0: -4.5, 1: -4.0, 2: -5.0}

    def chosen(n, seed):
        rows, weights = cal.selection(n, np.random.default_rng(seed))
        assert len(set(rows)) == n and weights.sum() == pytest.approx(1.0)
        return {value[int(r)]: float(w) for r, w in zip(rows, weights)}

    first = [next(iter(chosen(1, s))) for s in range(3000)]
    shares = {v: first.count(v) / len(first) for v in (-4.5, -4.0, -5.0)}
    assert shares == pytest.approx({-4.5: 0.5, -4.0: 0.3, -5.0: 0.2}, abs=0.03)  # one draw: chance = weight
    # two draws: the 0.5 draw is certain (2 x 0.5 = 1) and stands for its 0.5; the other is the 0.3 draw with
    # chance 0.6 or the 0.2 draw with chance 0.4, standing for the remaining 0.5
    pairs = [chosen(2, s) for s in range(2000)]
    assert all(p[-4.5] == pytest.approx(0.5) and len(p) == 2 for p in pairs)
    assert np.mean([-4.0 in p for p in pairs]) == pytest.approx(0.6, abs=0.03)
    # averaged over selections, each draw's weight is its posterior weight
    mean_weight = {v: np.mean([p.get(v, 0.0) for p in pairs]) for v in value.values()}
    assert mean_weight == pytest.approx({-4.5: 0.5, -4.0: 0.3, -5.0: 0.2}, abs=0.02)
    assert chosen(3, 0) == pytest.approx({-4.5: 0.5, -4.0: 0.3, -5.0: 0.2})  # all draws: the posterior's weights
    assert chosen(2, 4) == chosen(2, 4)
    with pytest.raises(InputError, match=r"--draws 4 .* \(3\); allowed 1-3"):
        cal.selection(4, np.random.default_rng(0))
    thetas, source, weights, rows = parameter_draws(3, 0, cal)
    assert len({d["start_intercept"] for d in thetas}) == 3 and weights is not None and list(rows) == [0, 1, 2]
    # the description names the posterior weight the chosen draws hold and the weights their runs get
    assert "3 of its 3 draws, holding 100% of the posterior weight; their runs are weighted" in source
    assert "(20.0%-50.0%)" in source
    two = parameter_draws(2, 0, cal).source
    share = re.search(r"holding (\d+)% of the posterior weight", two)
    assert share and int(share.group(1)) in (70, 80)  # the 0.5 draw and one of 0.3, 0.2
    # rows that are level samples of posterior draws (calibrated.toml's ensemble.draw_of) are named as such
    text = path.read_text().replace("weights = [", "draw_of = [4, 4, 7]\nweights = [", 1)
    path.write_text(text)
    sampled = load_calibration(path)
    assert list(sampled.draw_of) == [4, 4, 7]
    assert ("3 of its 3 parameter sets (level samples of 2 of its 2 posterior draws), holding 100% of the posterior "
            "weight; their runs are weighted by the weight each set stands for") in parameter_draws(3, 0, sampled).source
    path.write_text(text.replace("draw_of = [4, 4, 7]", "draw_of = [4, 7]"))
    with pytest.raises(InputError, match=r"calibrated.toml: ensemble.draw_of: expected 3 draw numbers, found 2"):
        load_calibration(path)


def test_projection_stacks_draws_and_seeds_identically_for_any_worker_count(tmp_path):
    from qhsim.experiments.ensemble import project, summarise

    path = tmp_path / "calibrated.toml"
    _write_tiny_calibration(path)
    kw = {"draws": 2, "seeds": (1, 2), "scale": 0.05, "end_year": 2017, "calibration": path, "progress": False}
    one = project(BASELINE, workers=1, **kw)
    two = project(BASELINE, workers=2, **kw)
    assert list(one.columns[:3]) == ["draw", "seed", "weight"]
    assert sorted(set(zip(one["draw"], one["seed"]))) == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert one.equals(two)
    # two different draws of weights 0.5, 0.3, 0.2: the 0.5 draw always, standing for 0.5, the other for the rest
    runs = one.groupby(["draw", "seed"])["weight"].first()
    assert runs.sum() == pytest.approx(1.0) and sorted(runs.round(12).unique()) == [0.25]
    s = summarise(one, ["hte_count"])
    assert {"p05", "median", "p95"} <= set(s.columns) and set(s["runs"]) == {4}
    with pytest.raises(InputError, match=r"--draws 4 .*allowed 1-3"):  # no more draws than the ensemble holds
        project(BASELINE, **{**kw, "draws": 4})


def test_cli_calibrate_writes_calibration_report_and_out_of_sample(tmp_path, capsys):
    """`qhsim calibrate` end to end (tiny settings): calibrated.toml, Markdown + PNG report; --oos; bad input exits 2."""
    from qhsim.cli import main

    targets = (TINY_TARGETS + target_row("hte_count", 167, year=2018, id="waypoint_hte")
               + target_row("rd_intensity", 0.7, year=2019, id="rd_intensity_2019"))
    settings = write_problem(tmp_path, targets, TINY_FREE, max_generations=2, max_evaluations=14,
                             validation_seeds=[5, 6], validation_scale=0.05,
                             conditional=["tbe_recognition_probability"], conditional_budget=6)
    out = tmp_path / "cal"
    assert main(["calibrate", "--config", "t", "--settings", str(settings), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    for name in ("calibrated.toml", "fit_report.md", "fit_report_fit.png", "fit_report_parameters.png", "fit_report_convergence.png"):
        assert (out / name).exists(), name
    report = (out / "fit_report.md").read_text()
    assert "not yet modelled" in report and "provincial_key_labs" in report
    assert "The point estimate, 2 seeds at scale 0.05 with the fixed 2015 population" in report  # response_*
    cal = load_calibration(out / "calibrated.toml")
    assert set(cal.point) == {"start_intercept", "tbe_recognition_probability"}
    assert len(cal.draws) == 6
    # the conditional fit re-estimated the level parameter given the median of the other: the report lists both values
    section = report.split("## Conditional fit", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| tbe_recognition_probability |"))
    assert f"{cal.point['tbe_recognition_probability']:.4g}" in row.split("|")[4]
    assert f"{cal.point['start_intercept']:.4g}" in report  # the other parameter keeps its posterior median
    # rebuilding the report from the journal runs nothing new
    assert main(["calibrate", "--config", "t", "--settings", str(settings), "--out", str(out), "--report-only", "--quiet"]) == 0
    assert main(["calibrate", "--config", "t", "--settings", str(settings), "--out", str(out), "--oos", "--quiet"]) == 0
    oos = (out / "oos" / "oos_report.md").read_text()
    assert "hte_count@province@2020" in oos and "90% predictive band" in oos
    # information to 2018 (the waypoint) is fitted; the 2019 and 2020 targets are held out and judged per year
    # (the tech-based target of year [2018, 2019] counts in whichever year its simulated value is closest, so 2019
    # holds 1 or 2 targets depending on the model)
    assert "known by 2018 only (waypoint_hte)" in oos
    assert re.search(r"held-out 2019: [12] targets", oos) and "held-out 2020:" in oos
    assert "| rd_intensity_2019 | 2019 |" in oos
    assert "the refit's calibrated point" in oos  # the point the refit would ship, judged on fresh seeds
    held = pd.read_csv(out / "oos" / "oos_prediction.csv").query("status == 'predicted'")
    below, above = (held["observed"] < held["p05"]).sum(), (held["observed"] > held["p95"]).sum()
    assert f"outside the band: {below} below it (predicted too high), {above} above it" in oos
    assert below + above == (~held["in_band"].astype(bool)).sum()
    capsys.readouterr()
    bad = tmp_path / "bad"
    bad_settings = write_problem(bad, TINY_TARGETS, "[no_such_parameter]\n")
    assert main(["calibrate", "--config", "t", "--settings", str(bad_settings), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no_such_parameter" in err and "Traceback" not in err


def test_held_levels_hold_the_abc_smc_at_a_files_level_values_and_start_the_conditional_fit_there(tmp_path, capsys):
    """`held_levels`: the ABC-SMC runs every particle with the stage-"levels" parameters at the file's values (not
    their data-file defaults), the conditional fit starts from them, calibrated.toml and the fit report say so; a bad
    file is a one-line error naming it, nothing written; the out-of-sample refit refuses such a configuration (those
    levels were fitted on the years it holds out)."""
    import tomllib

    from qhsim.cli import main

    held = tmp_path / "held.toml"
    held.write_text("[point]\nhte_apply_early_factor = 0.45\nstart_intercept = -3.0\n", encoding="utf-8")
    level_free = TINY_FREE + '[hte_apply_early_factor]\nstage = "levels"\n'
    settings = write_problem(tmp_path, TINY_TARGETS, level_free, max_generations=2, max_evaluations=12,
                             validation_seeds=[5], validation_scale=0.05, conditional_budget=3,
                             conditional=["tbe_recognition_probability", "hte_apply_early_factor"], held_levels=str(held))
    out = tmp_path / "cal"
    args = ["calibrate", "--config", "t", "--settings", str(settings), "--out", str(out), "--quiet"]
    assert main(args) == 0
    lines = [json.loads(line) for line in (out / "journal" / "t.jsonl").read_text().splitlines()[1:]]
    abc = [r for r in lines if r["id"] >= 0]  # the sampler's evaluations (the conditional fit's ids count down)
    assert abc and all(r["parameters"]["hte_apply_early_factor"] == 0.45 for r in abc)
    assert all("start_intercept" in r["parameters"] and r["parameters"]["start_intercept"] != -3.0 for r in abc)
    cal = tomllib.loads((out / "calibrated.toml").read_text())
    assert cal["meta"]["abc_held_levels"] == f"1 of the 1 stage-\"levels\" parameters at the values of {held}"
    report = (out / "fit_report.md").read_text()
    assert f"| level parameters held in the ABC-SMC | 1 of the 1 stage-\"levels\" parameters at the values of {held} |" in report
    section = report.split("## Conditional fit", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| hte_apply_early_factor |"))
    assert row.split("|")[3].strip() == "0.45 (*levels, held*: the held_levels value)"
    before = (out / "calibrated.toml").read_bytes()
    capsys.readouterr()
    for text, needle in (("hte_apply_early_factor = 3.0\n", "hte_apply_early_factor = 3.0: expected a number within its prior range"),
                         ("start_intercept = -3.0\n", "start_intercept: not a stage \"levels\" parameter (allowed: hte_apply_early_factor)"),
                         ("tbe = [\n", "not valid TOML")):
        held.write_text(text, encoding="utf-8")
        assert main(args) == 2
        err = capsys.readouterr().err
        assert needle in err and str(held) in err and len(err.strip().splitlines()) == 1
        assert (out / "calibrated.toml").read_bytes() == before
    held.write_text("hte_apply_early_factor = 0.45\n", encoding="utf-8")
    assert main([*args, "--oos"]) == 2
    assert "the out-of-sample refit must not hold level parameters fitted on information after 2018" in capsys.readouterr().err


def test_refit_levels_keeps_the_structural_posterior_and_refits_the_levels_on_this_code(tmp_path, capsys):
    """`qhsim calibrate --refit-levels`: the level parameters of the point and of each ensemble draw re-fitted, the
    ABC-SMC stage (structural draws, weights, [interval], convergence) carried over from the calibration in --out;
    refused with a one-line error when that calibration is missing or was made for other targets or sampled priors;
    a level parameter made free since then is re-fitted too."""
    import tomllib

    from qhsim.cli import main

    settings = write_problem(tmp_path, TINY_TARGETS, TINY_FREE, max_generations=2, max_evaluations=12,
                             validation_seeds=[5], validation_scale=0.05,
                             conditional=["tbe_recognition_probability"], conditional_budget=4, ensemble_refit_budget=3,
                             level_samples=2)
    out = tmp_path / "cal"
    args = ["calibrate", "--config", "t", "--settings", str(settings), "--out", str(out), "--quiet"]
    assert main([*args, "--refit-levels"]) == 2  # nothing to re-fit yet
    assert "calibrated.toml: no calibration whose levels could be re-fitted" in capsys.readouterr().err
    assert main(args) == 0
    old = tomllib.loads((out / "calibrated.toml").read_text())
    old_report = (out / "fit_report.md").read_text()
    # level samples: [ensemble] holds 2 per re-fitted draw ([ensemble_fits]), each with its draw's structural values
    fits, samples = old["ensemble_fits"], old["ensemble"]
    assert len(samples["draws"]) == 2 * len(fits["draws"]) and sorted(set(samples["draw_of"])) == list(range(len(fits["draws"])))
    k = fits["parameters"].index("start_intercept")
    assert all(row[k] == fits["draws"][d][k] for row, d in zip(samples["draws"], samples["draw_of"]))
    j = fits["parameters"].index("tbe_recognition_probability")
    assert any(row[j] != fits["draws"][d][j] for row, d in zip(samples["draws"], samples["draw_of"]))
    assert sum(samples["weights"]) == pytest.approx(1.0)
    # no evidence step in this configuration: the draws' sampler weights are their weights, recorded for a later one
    assert fits["sampler_weights"] == pytest.approx(fits["weights"])
    assert "### Level samples" in old_report
    # a point whose structural parameter is not its posterior's median (as the shipped point once carried a value
    # from an earlier fit): the refit's point takes the weighted median of the posterior it keeps
    from qhsim.calibration.ensemble import dumps_toml

    k = fits["parameters"].index("start_intercept")
    order = np.argsort([d[k] for d in fits["draws"]], kind="stable")
    cw = np.cumsum(np.asarray(fits["weights"])[order])
    median = fits["draws"][order[min(int(np.searchsorted(cw, 0.5)), len(order) - 1)]][k]
    edited = {**old, "point": {**old["point"], "start_intercept": median + 0.25}}
    (out / "calibrated.toml").write_text(dumps_toml(edited), encoding="utf-8")
    capsys.readouterr()
    assert main([*args, "--refit-levels"]) == 0
    new = tomllib.loads((out / "calibrated.toml").read_text())
    assert new["point"]["start_intercept"] == pytest.approx(median) and old["point"]["start_intercept"] == \
        pytest.approx(median)
    report = (out / "fit_report.md").read_text()
    assert new["meta"]["abc_stage"].startswith(f"carried over from the calibration of {old['meta']['created']}")
    for key in ("generations", "final_epsilon", "best_distance", "stop_reason", "evaluations"):
        assert new["meta"][key] == old["meta"][key]
    assert new["interval"] == old["interval"]  # the sampler's draws, not the carried ensemble's
    # the structural parameter keeps every draw; the level parameter was re-fitted from its old value
    k = old["ensemble"]["parameters"].index("start_intercept")
    assert [d[k] for d in new["ensemble_fits"]["draws"]] == [d[k] for d in fits["draws"]]
    assert new["ensemble_fits"]["weights"] == fits["weights"]
    assert new["ensemble_fits"]["sampler_weights"] == pytest.approx(fits["sampler_weights"])
    assert len(new["ensemble"]["draws"]) == len(samples["draws"])
    section = report.split("## Conditional fit", 1)[1].split("\n## ", 1)[0]
    assert "carried calibration's point" in section and "| carried point |" in section
    row = next(line for line in section.splitlines() if line.startswith("| tbe_recognition_probability |"))
    assert f"{old['point']['tbe_recognition_probability']:.4g}" in row.split("|")[3]
    assert f"{new['point']['tbe_recognition_probability']:.4g}" in row.split("|")[4]
    assert "| ABC-SMC stage | carried over from the calibration of" in report
    assert "| point, calibration seeds: mean ± sd |" in report
    # the convergence table is the carried calibration's, said once even after a second refit
    old_table = old_report.split("## Convergence", 1)[1].split("| generation |", 1)[1].split("\n\n", 1)[0]
    assert old_table in report and report.count("The ABC-SMC stage was carried over") == 1
    assert main([*args, "--refit-levels"]) == 0  # a refit of a refit: the re-fitted draws, not their samples
    assert len(tomllib.loads((out / "calibrated.toml").read_text())["ensemble_fits"]["draws"]) == len(fits["draws"])
    again = (out / "fit_report.md").read_text()
    assert old_table in again and again.count("The ABC-SMC stage was carried over") == 1
    capsys.readouterr()
    # other targets than the posterior was made with: refused, nothing written
    before = (out / "calibrated.toml").read_bytes()
    (tmp_path / "targets.toml").write_text(TINY_TARGETS + target_row("hte_count", 150, year=2018, id="w"), encoding="utf-8")
    assert main([*args, "--refit-levels"]) == 2
    err = capsys.readouterr().err
    assert "meta.targets_sha256 is not the hash of" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert (out / "calibrated.toml").read_bytes() == before
    # a sampled parameter's prior changed: refused, nothing written
    problem = dict(validation_seeds=[5], validation_scale=0.05, conditional_budget=4, ensemble_refit_budget=3,
                   level_samples=2)
    narrower = TINY_FREE.replace("[start_intercept]\n", "[start_intercept]\nrange = [-7.0, -3.0]\n")
    write_problem(tmp_path, TINY_TARGETS, narrower, conditional=["tbe_recognition_probability"], **problem)
    assert main([*args, "--refit-levels"]) == 2
    err = capsys.readouterr().err
    assert "sampled other parameters or priors" in err and "start_intercept" in err and len(err.strip().splitlines()) == 1
    assert (out / "calibrated.toml").read_bytes() == before
    # a level parameter made free since that calibration: re-fitted from the default its sampler held it at
    write_problem(tmp_path, TINY_TARGETS, TINY_FREE + '[hte_apply_early_factor]\nstage = "levels"\n',
                  conditional=["tbe_recognition_probability", "hte_apply_early_factor"], **problem)
    assert main([*args, "--refit-levels"]) == 0
    added = tomllib.loads((out / "calibrated.toml").read_text())
    assert "hte_apply_early_factor" in added["point"]
    assert "hte_apply_early_factor" in added["ensemble_fits"]["parameters"]
    assert added["interval"] == old["interval"]
    assert main([*args, "--refit-levels", "--oos"]) == 2
    assert "cannot be combined with --oos" in capsys.readouterr().err
    # a target added since (as the R&D exit rate was): refused without --new-targets, re-fitted with it, and the
    # targets the structural posterior was sampled against stay on record through a later refit
    level_free = TINY_FREE + '[hte_apply_early_factor]\nstage = "levels"\n'
    write_problem(tmp_path, TINY_TARGETS + target_row("hte_count", 150, year=2018, id="w"), level_free,
                  conditional=["tbe_recognition_probability", "hte_apply_early_factor"], **problem)
    before = (out / "calibrated.toml").read_bytes()
    assert main([*args, "--refit-levels"]) == 2
    assert "(or with --new-targets)" in capsys.readouterr().err
    assert main([*args, "--new-targets"]) == 2
    assert "--new-targets goes with --refit-levels" in capsys.readouterr().err
    assert (out / "calibrated.toml").read_bytes() == before
    for _ in range(2):
        assert main([*args, "--refit-levels", "--new-targets"]) == 0
        now = tomllib.loads((out / "calibrated.toml").read_text())
        assert now["meta"]["abc_targets_sha256"] == added["meta"]["targets_sha256"] != now["meta"]["targets_sha256"]
        assert "w" in now["meta"]["targets_fitted"] and "w" not in added["meta"]["targets_fitted"]
        stage = "it sampled against other targets (sha256 " + added["meta"]["targets_sha256"][:12]
        assert stage in now["meta"]["abc_stage"] and stage in (out / "fit_report.md").read_text()
    # the point's level fit started from other level values (--start), said in [meta] point and the fit report's
    # "carried point" column; a bad start file is refused in one line, nothing written
    start = tmp_path / "start.toml"
    before = (out / "calibrated.toml").read_bytes()
    capsys.readouterr()
    for text, needle in (("start_intercept_x = 1.0\n", "start_intercept_x: not a level parameter of [t] conditional"),
                         ("tbe_recognition_probability = 7.0\n", "expected a number within its prior range"),
                         ("[point]\nstart_intercept = -4.0\n", "no level parameter of [t] conditional"),
                         ("tbe = [\n", "not valid TOML")):
        start.write_text(text, encoding="utf-8")
        assert main([*args, "--refit-levels", "--start", str(start)]) == 2
        err = capsys.readouterr().err
        assert needle in err and str(start) in err and len(err.strip().splitlines()) == 1
        assert (out / "calibrated.toml").read_bytes() == before
    assert main([*args, "--start", str(start)]) == 2
    assert "--start goes with --refit-levels" in capsys.readouterr().err
    start.write_text("tbe_recognition_probability = 0.05\n", encoding="utf-8")
    assert main([*args, "--refit-levels", "--start", str(start)]) == 0
    point = tomllib.loads((out / "calibrated.toml").read_text())["meta"]["point"]
    assert f"started from 1 level value of {start} instead of the carried point's" in point
    section = (out / "fit_report.md").read_text().split("## Conditional fit", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| tbe_recognition_probability |"))
    assert row.split("|")[3].strip() == "0.05"  # where the fit started


def test_a_start_file_moves_every_draw_by_the_points_offset_within_the_prior():
    """--refit-levels --start: each draw's level re-fit starts in the basin the point's does, its own spread kept."""
    from qhsim.calibration.calibrate import prepare, shifted_starts

    problem = prepare(load_config("full"))
    prior = {p.name: p for p in problem.level_params}
    size = prior["stop_size_elasticity"]
    point = {"start_intercept": -4.0, "stop_size_elasticity": 0.4, "literacy_2015": 3.0}
    rows = [{"start_intercept": -4.2, "stop_size_elasticity": 0.45, "literacy_2015": 3.1},
            {"start_intercept": -3.9, "stop_size_elasticity": 0.35, "literacy_2015": 2.9}]
    given = {"start_intercept": -3.5, "stop_size_elasticity": size.low + 0.01}
    starts = shifted_starts(problem, rows, point, given)
    assert [s["start_intercept"] for s in starts] == pytest.approx([-3.7, -3.4])  # offset +0.5 each
    assert starts[0]["stop_size_elasticity"] == pytest.approx(size.low + 0.06)
    assert starts[1]["stop_size_elasticity"] == size.low  # would fall below the prior: kept at its edge
    assert [s["literacy_2015"] for s in starts] == [3.1, 2.9]  # not in the start file: the draw's own
    assert rows[0]["start_intercept"] == -4.2  # the carried rows left as they were
    assert shifted_starts(problem, rows, point, {}) == rows
    # a level parameter made free since the carried calibration: the point and the draws hold its default, so every
    # draw starts at the given value (the forty-ninth session's three new level parameters)
    growth = prior["market_external_growth"]
    held = {**problem.held, **point}
    new_rows = [{**problem.held, **r} for r in rows]
    moved = shifted_starts(problem, new_rows, held, {"market_external_growth": growth.low + 0.1})
    assert [s["market_external_growth"] for s in moved] == pytest.approx([growth.low + 0.1] * 2)


def test_sensitivity_ranks_behaviour_and_policy_factors(tmp_path):
    from qhsim.calibration.sensitivity import load_spec, run_sensitivity, write_sensitivity_report

    spec_path = tmp_path / "sensitivity.toml"
    spec_path.write_text(
        f"""
[common]
scenario = "{BASELINE}"
year = 2021
region = "province"
outputs = ["rd_intensity", "hte_count", "rd_personnel_per_10k"]
morris_behaviour = ["start_intercept", "hte_apply_probability"]
sobol_behaviour = ["start_intercept"]
morris_levels = 4
random_seed = 1
base = "data"
morris_ranges = "prior"
sobol_ranges = "prior"

[t]
scale = 0.05
seeds = [1]
morris_trajectories = 2
sobol_n = 4
out = "{tmp_path / 'out'}"

[[instrument]]
key = "policy.super_deduction.general"
range = [0.75, 2.0]
from_year = 2021
""",
        encoding="utf-8",
    )
    spec = load_spec("t", spec_path)
    assert [f.name for f in spec.sobol_factors] == ["start_intercept", "policy.super_deduction.general"]
    tables = run_sensitivity(spec, workers=1, progress=False, log=lambda s: None)
    morris = tables["morris"]
    ok = morris[morris["status"] == "ok"]
    assert set(ok["factor"]) == {"start_intercept", "hte_apply_probability", "policy.super_deduction.general"}
    # the R&D start intercept moves 2021 R&D intensity (the ranking itself is checked on a function with known
    # indices in test_calibration_checks.py)
    intensity = ok[ok["output"].str.startswith("rd_intensity")].set_index("factor")
    assert intensity.loc["start_intercept", "mu_star"] > 0
    personnel = morris[morris["output"].str.startswith("rd_personnel_per_10k")]
    if personnel["status"].eq("not_yet_modelled").all():
        assert len(personnel) == 3
    files = write_sensitivity_report(spec, tables)
    assert files["report"].exists() and files["morris_png"].exists()
    bad = spec_path.read_text().replace("policy.super_deduction.general", "policy.no_such.instrument")
    spec_path.write_text(bad)
    with pytest.raises(InputError, match="not a policy schedule"):
        load_spec("t", spec_path)


def test_abc_smc_on_a_known_function_is_deterministic():
    """The algorithm alone (no model): it concentrates on the minimum and repeats itself exactly."""
    params = (FreeParameter("a", 0.0, 1.0), FreeParameter("b", -2.0, 2.0))
    cfg = load_config("small", CONFIG_FILE).with_(particles=40, batch=40, max_generations=6, max_evaluations=2000,
                                                  epsilon_floor=0.02, random_seed=9)

    def evaluate(ids, thetas, desc):
        return [math.hypot(t["a"] - 0.3, (t["b"] - 1.0) / 4) for t in thetas]

    r1 = run_abc_smc(params, cfg, evaluate)
    r2 = run_abc_smc(params, cfg, evaluate)
    assert r1.distances == r2.distances and r1.best_id == r2.best_id
    assert r1.final.epsilon < 0.15 < r1.generations[1].epsilon
    assert abs(r1.point()["a"] - 0.3) < 0.05 and abs(r1.point()["b"] - 1.0) < 0.2


def test_abc_smc_stops_before_a_generation_whose_weights_collapse():
    """A generation with an effective sample size below min_ess_share x particles is not taken: the run stops and the
    generation before it is final (the report's stop reason says so). With no floor the same run goes on."""
    params = (FreeParameter("a", 0.0, 1.0), FreeParameter("b", -2.0, 2.0))
    cfg = load_config("small", CONFIG_FILE).with_(particles=40, batch=40, max_generations=6, max_evaluations=2000,
                                                  epsilon_floor=0.02, random_seed=9, min_ess_share=0.0)

    def evaluate(ids, thetas, desc):
        return [math.hypot(t["a"] - 0.3, (t["b"] - 1.0) / 4) for t in thetas]

    free = run_abc_smc(params, cfg, evaluate)
    essential = max(g.ess for g in free.generations[1:])  # the floor is set above every later generation's ESS
    floored = run_abc_smc(params, cfg.with_(min_ess_share=(essential + 0.5) / cfg.particles), evaluate)
    assert len(free.generations) > 2
    assert len(floored.generations) == 1 and floored.final.t == 0
    assert "importance weights collapsed" in floored.stop_reason and "generation 0 is final" in floored.stop_reason
    assert all(floored.distances[i] == free.distances[i] for i in floored.distances)  # the same proposals until then


def test_normal_prior_maps_the_unit_cube_through_its_cdf():
    """A normal prior truncated to the range: uniform draws in the unit cube become normal draws of the parameter."""
    from qhsim.calibration.settings import FreeParameter

    p = FreeParameter(name="user_cost_elasticity", low=0.3, high=2.0, prior="normal", mean=1.0, sd=0.25)
    u = (np.arange(20000) + 0.5) / 20000
    x = p.from_unit(u)
    assert x.min() >= 0.3 and x.max() <= 2.0
    assert np.mean(x) == pytest.approx(1.0, abs=0.01) and np.std(x) == pytest.approx(0.25, rel=0.03)
    np.testing.assert_allclose(p.to_unit(x), u, atol=1e-9)


def test_point_estimate_is_the_weighted_posterior_median():
    from qhsim.calibration.abc_smc import AbcResult, Generation
    from qhsim.calibration.settings import FreeParameter

    params = (FreeParameter(name="a", low=0.0, high=10.0), FreeParameter(name="k", low=1.0, high=9.0, integer=True))
    thetas = {i: {"a": float(v), "k": int(k)} for i, (v, k) in enumerate([(1, 2), (2, 3), (3, 8), (9, 9)])}
    gen = Generation(1, 1.0, [0, 1, 2, 3], np.zeros((4, 2)), np.array([0.1, 0.2, 0.4, 0.3]), np.array([5.0, 4, 3, 0.5]),
                     4, 4)
    res = AbcResult(params, [gen], {i: d for i, d in enumerate([5.0, 4, 3, 0.5])}, thetas, {i: 1 for i in thetas},
                    "test", best_id=3)
    assert res.best() == {"a": 9.0, "k": 9}  # the minimum-distance particle
    assert res.point() == {"a": 3.0, "k": 8}  # cumulative weights 0.1, 0.3, 0.7: the median is the third value


def test_a_level_refit_names_the_calibration_that_ran_its_abc_smc_stage():
    """A refit of a refit still names the ABC-SMC run, not the refit it carried (``abc_origin``)."""
    from qhsim.calibration.calibrate import abc_origin

    fresh = {"created": "2026-12-03T01:45:23Z", "model_commit": "d3461b9613a6ffff"}
    assert abc_origin(fresh) == "2026-12-03T01:45:23Z (model commit d3461b9613a6)"
    refit = {"created": "2026-12-03T16:41:33Z", "model_commit": "aad60cb5ff90",
             "abc_origin": "2026-12-03T01:45:23Z (model commit d3461b9613a6)"}
    assert abc_origin(refit) == "2026-12-03T01:45:23Z (model commit d3461b9613a6)"


def test_fit_figure_names_what_its_diamonds_are(monkeypatch, tmp_path):
    """A refit carries its ABC-SMC stage over: the fit chart's diamonds are then the point, not a best particle.
    Its labels are Chinese and English: the legend, the targets (indicator names), the axis."""
    from matplotlib.figure import Figure

    from qhsim.calibration.objective import TargetFit
    from qhsim.calibration.report import fit_figure
    from qhsim.calibration.targets import Target

    target = Target(id="t", indicator="rd_intensity", region="province", years=(2020,), value=0.71, unit="%",
                    source="test", tolerance=0.03, group="plan_2020")
    fit = TargetFit(target=target, status="fit", year=2020, mean=0.72, sd=0.01, values=(0.71, 0.73), z=0.5)
    labels: dict[str, list[str]] = {}

    def keep_labels(fig, path, **_):
        ax = fig.axes[0]
        labels[Path(path).stem] = [t.get_text() for t in fig.legends[0].get_texts()]
        labels[Path(path).stem + " axes"] = [t.get_text() for t in ax.get_yticklabels()] + [ax.get_xlabel()]

    monkeypatch.setattr(Figure, "savefig", keep_labels)
    fit_figure(tmp_path / "abc.png", [fit], {}, "abc")
    fit_figure(tmp_path / "refit.png", [fit], {}, "refit", best_label="point")
    assert "最优粒子：校准种子均值 best particle: mean over calibration seeds" in labels["abc"]
    assert "点估计：校准种子均值 point: mean over calibration seeds" in labels["refit"]
    assert not any("best particle" in text for text in labels["refit"])
    spec = data.load("indicators")["rd_intensity"]
    ticks, xlabel = labels["abc axes"][:-1], labels["abc axes"][-1]
    assert ticks == [f"{spec['zh']}\n{spec['en']} 2020"]
    assert "模拟值" in xlabel and "simulated / observed" in xlabel
