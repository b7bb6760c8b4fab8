"""The conditional fit of the level parameters (qhsim.calibration.conditional) on problems whose answer is known
(no model runs), and its configuration check."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from types import SimpleNamespace

from qhsim.calibration.calibrate import Problem, fit_levels, prepare, refit_draws
from qhsim.calibration import conditional
from qhsim.calibration.conditional import conditional_fit
from qhsim.calibration.posterior import Posterior
from qhsim.calibration.report import conditional_lines
from qhsim.calibration.settings import FreeParameter, load_config
from qhsim.errors import InputError

PARAMS = (
    FreeParameter("a", 0.0, 1.0),
    FreeParameter("b", 1.0, 10.0, prior="loguniform"),
    FreeParameter("c", 0.0, 5.0),
    FreeParameter("k", 1.0, 9.0, integer=True),
)
START = {"a": 0.8, "b": 2.0, "c": 4.0, "k": 3}


def residuals_of(calls: list[int]):
    """Residuals with the minimum at a = 0.3, b = 7 given c (c = 4 here); c and k must not move."""

    def residuals(points):
        calls.append(len(points))
        return [np.array([(p["a"] - 0.3 + 0.01 * (p["c"] - 4.0)) / 0.1, np.log(p["b"] / 7.0) / 0.05, 0.5]) for p in points]

    return residuals


def test_conditional_fit_finds_the_level_parameters_and_leaves_the_others():
    calls: list[int] = []
    fit = conditional_fit(PARAMS, START, ["a", "b"], residuals_of(calls), budget=60)
    assert fit.point["a"] == pytest.approx(0.3, abs=0.01) and fit.point["b"] == pytest.approx(7.0, rel=0.02)
    assert fit.point["c"] == START["c"] and fit.point["k"] == START["k"]
    assert fit.start == START and fit.distance < fit.start_distance
    assert fit.distance == pytest.approx(0.5, rel=0.05)  # the residual no level parameter can move stays
    assert fit.evaluations == sum(calls) <= 60
    assert 2 in calls and max(calls) == 4  # the Jacobian's steps (one per parameter) run as one batch, the compass
    # search's (two per parameter) too


def test_conditional_fit_stops_at_its_budget_and_keeps_the_best_point():
    calls: list[int] = []
    fit = conditional_fit(PARAMS, START, ["a", "b"], residuals_of(calls), budget=4)
    assert fit.evaluations <= 4 and "budget" in fit.message
    assert fit.distance == min(d for _, d in fit.path)
    assert fit.distance <= fit.start_distance


def test_conditional_fit_never_returns_a_worse_point():
    fit = conditional_fit(PARAMS, {**START, "a": 0.3, "b": 7.0}, ["a"], lambda pts: [np.array([9.0]) for _ in pts])
    assert fit.point["a"] == pytest.approx(0.3) and fit.distance == fit.start_distance


def test_conditional_fit_moves_an_integer_parameter_by_whole_units():
    """Least squares holds an integer parameter (no useful forward difference); the compass search moves it one
    whole unit at a time to its minimum (k = 6 here, from 3), while least squares finds the continuous one."""
    def residuals(points):
        return [np.array([(p["a"] - 0.3) / 0.1, (p["k"] - 6.2) / 1.0]) for p in points]

    fit = conditional_fit(PARAMS, START, ["a", "k"], residuals, budget=80)
    assert fit.point["k"] == 6 and float(fit.point["k"]).is_integer()
    assert fit.point["a"] == pytest.approx(0.3, abs=0.01)
    assert fit.point["b"] == START["b"] and fit.point["c"] == START["c"]
    assert fit.distance == pytest.approx(0.2, abs=0.02) and "compass move" in fit.message

    alone = conditional_fit(PARAMS, START, ["k"], residuals, budget=40)  # no least squares at all
    assert alone.point["k"] == 6 and alone.point["a"] == START["a"]
    # one whole unit from the start in each direction first, then one per move: 3 -> 4 -> 5 -> 6
    assert {p["k"] for p in [START, alone.point]} == {3, 6} and alone.evaluations <= 1 + 3 * 3 + 3


def test_an_integer_scan_reaches_what_a_small_budget_of_compass_sweeps_cannot():
    """k's minimum (8) lies five units from its start (3): with 12 evaluations the compass search (one unit per
    sweep) falls short, while scanning k's nine whole values first finds it and leaves least squares the rest."""
    def residuals(points):
        return [np.array([(p["a"] - 0.3) / 0.1, (p["k"] - 8.1) / 1.0]) for p in points]

    swept = conditional_fit(PARAMS, START, ["a", "k"], residuals, budget=12)
    scanned = conditional_fit(PARAMS, START, ["a", "k"], residuals, budget=20, scan_integers=True)
    assert swept.point["k"] < 8
    assert scanned.point["k"] == 8 and scanned.point["a"] == pytest.approx(0.3, abs=0.02)
    assert scanned.path[0][1] == scanned.start_distance  # the start is the first evaluation
    assert scanned.start == START and scanned.evaluations <= 20


def test_shipped_configuration_refits_level_parameters_only():
    """The conditional fit moves levels (since the ninth session also the extensive and intensive levels of business
    R&D, start_intercept and knowledge_effect), never the structural and response parameters (size slope, user-cost
    elasticity, cash-flow multiple, HTE status value, relabelling margin): they stay at the
    evidence-checked posterior median (a variant with cash_flow_multiple in the list moved the tax leverage to 2.0)."""
    cfg = load_config("full")
    assert cfg.conditional and cfg.conditional_budget >= 2 * (len(cfg.conditional) + 1)
    responses = {"user_cost_elasticity", "cash_flow_multiple", "hte_status_value", "hitech_relabel_margin",
                 "rd_size_slope"}
    assert responses.isdisjoint(cfg.conditional)
    assert load_config("medium").conditional == cfg.conditional  # the out-of-sample check repeats the procedure
    assert set(cfg.seeds) <= set(cfg.conditional_seeds) and not set(cfg.conditional_seeds) & set(cfg.validation_seeds)


def test_bad_conditional_names_raise_input_error(tmp_path):
    free = tmp_path / "free.toml"
    free.write_text("[start_intercept]\n[giant_validity_years]\n", encoding="utf-8")
    cfg = tmp_path / "config.toml"
    common = (f'scenario = "scenarios/baseline.toml"\ntargets = "t.toml"\nfree_parameters = "{free}"\nend_year = 2020\n'
              "scale = 0.05\nseeds = [1, 2]\nparticles = 4\nbatch = 4\nmax_generations = 2\nquantile = 0.5\n"
              "epsilon_floor = 1.0\nmin_acceptance = 0.0\nmax_evaluations = 8\nsimulation_error = true\n"
              'random_seed = 1\nout = "o"\n')
    for names, needle in ((["nope"], "'nope' is not a free parameter (allowed: start_intercept, giant_validity_years)"),
                          ("start_intercept", "expected a list of distinct free-parameter names")):
        value = f'"{names}"' if isinstance(names, str) else str(names).replace("'", '"')
        cfg.write_text(f"[t]\n{common}conditional = {value}\n", encoding="utf-8")
        with pytest.raises(InputError) as err:
            load_config("t", cfg)
        msg = str(err.value)
        assert needle in msg and str(cfg) in msg and "conditional" in msg and "\n" not in msg
    cfg.write_text(f"[t]\n{common}conditional_seeds = [1, 2, 3]\nvalidation_seeds = [3, 4]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\[t\] conditional_seeds: seed 3 is also a validation seed"):
        load_config("t", cfg)
    # a parameter only the conditional fit estimates must be in its list
    free.write_text('[start_intercept]\n[hte_apply_probability]\n[patent_rate_public]\nstage = "levels"\n', encoding="utf-8")
    cfg.write_text(f'[t]\n{common}conditional = ["hte_apply_probability"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[t\] conditional: 'patent_rate_public' is missing \(free_parameters.toml gives it stage"):
        load_config("t", cfg)
    free.write_text('[start_intercept]\nstage = "late"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"start_intercept.stage = 'late': allowed abc, levels"):
        load_config("t", cfg)


def test_levels_stage_parameters_are_held_in_the_abc_and_start_the_conditional_fit_at_their_default():
    shipped = prepare(load_config("full"))
    levels = {p.name for p in shipped.level_params}
    assert levels == {"hte_apply_early_factor", "patent_rate_public", "patent_propensity_trend", "patent_lapse_rate",
                      "tbe_recognition_early_factor", "haidong_patent_factor", "haidong_rd_share_factor",
                      "platform_apply_probability", "incubator_upgrade_probability", "rd_cost_catchup",
                      "certified_stop_factor", "stop_size_elasticity", "market_external_2015",
                      "market_external_growth", "exit_size_elasticity"}
    assert levels.isdisjoint(p.name for p in shipped.params) and levels <= set(shipped.cfg.conditional)
    # [full] holds them at the shipped point's values (held_levels), the data files give the defaults
    held = tomllib.loads(shipped.cfg.held_levels.read_text(encoding="utf-8"))
    assert shipped.held == held and set(held) == levels
    assert {p.name: p.default for p in shipped.level_params} == {"hte_apply_early_factor": 1.0, "patent_rate_public": 1.0, "patent_propensity_trend": 0.0,
                            "patent_lapse_rate": 0.07, "tbe_recognition_early_factor": 1.0,
                            "haidong_patent_factor": 1.0, "haidong_rd_share_factor": 1.0,
                            "platform_apply_probability": 0.35, "incubator_upgrade_probability": 0.015,
                            "rd_cost_catchup": 0.011, "certified_stop_factor": 0.2, "stop_size_elasticity": 0.4,
                            "market_external_2015": 500.0, "market_external_growth": 0.05,
                            "exit_size_elasticity": 0.0}

    sampled = FreeParameter("s", 0.0, 1.0)
    level = FreeParameter("v", 0.0, 1.0, default=0.9, stage="levels")
    cfg = SimpleNamespace(conditional=("v",), conditional_budget=60)
    problem = Problem(cfg, (sampled,), None, None, None, {}, (level,))
    posterior = Posterior(["s"], np.array([[0.2], [0.4], [0.6]]), np.ones(3), [0, 1, 2], np.zeros(3))
    asked = []

    class Runs:  # "runs" whose cells are the parameters themselves
        seeds = (1, 2)

        def evaluate(self, items, desc=""):
            asked.extend(th for _, th, _ in items)
            return [{"cells": th} for _, th, _ in items]

    objective = SimpleNamespace(active=[SimpleNamespace(weight=1.0)],
                                residuals=lambda cells: np.array([(cells["v"] - 0.3) / 0.01]))
    fit = fit_levels(problem, objective, posterior, Runs(), log=lambda *_: None)
    assert asked[0] == {"s": 0.4, "v": 0.9}  # the ABC's median of s, the default of v
    assert all(th["s"] == 0.4 for th in asked)
    assert fit.point["v"] == pytest.approx(0.3, abs=0.01) and fit.distance < 1.0
    row = next(line for line in conditional_lines(fit, (sampled, level)) if line.startswith("| v |"))
    assert "0.9 (*levels*: the default)" in row


def test_ridge_keeps_a_parameter_no_target_informs_at_its_median():
    def residuals(points):  # c moves nothing but noise-like wiggles; a is informed
        return [np.array([(p["a"] - 0.3) / 0.1, 0.01 * np.sin(40 * p["c"])]) for p in points]

    free = conditional_fit(PARAMS, START, ["a", "c"], residuals, budget=60)
    ridged = conditional_fit(PARAMS, START, ["a", "c"], residuals, budget=60, spread=[0.2, 0.2], ridge_weight=0.01)
    assert ridged.point["a"] == pytest.approx(0.3, abs=0.02)  # one target's weight barely moves an informed one
    assert abs(ridged.point["c"] - START["c"]) < 0.02 * 5.0  # the uninformed one stays within 2% of its range
    assert abs(free.point["c"] - START["c"]) >= abs(ridged.point["c"] - START["c"])


def test_ensemble_draws_keep_a_levels_parameter_at_the_value_the_abc_held(tmp_path):
    from qhsim.calibrated import load_calibration
    from qhsim.calibration.ensemble import write_calibration

    path = tmp_path / "calibrated.toml"
    draws = np.array([[-4.0], [-5.0]])
    write_calibration(path, {"start_intercept": -4.5, "patent_rate_public": 0.36}, ["start_intercept"], draws,
                      np.array([0.5, 0.5]), np.zeros(2), {}, {}, held={"patent_rate_public": 1.0})
    cal = load_calibration(path)
    assert cal.point["patent_rate_public"] == 0.36  # the model default: the conditional fit's value
    assert set(cal.intervals) == {"start_intercept"}  # held fixed by the sampler: no posterior interval
    for draw in cal.ensemble():
        assert draw["patent_rate_public"] == 1.0 and draw["start_intercept"] in (-4.0, -5.0)


def test_each_draw_of_the_ensemble_gets_its_level_parameters_refitted_given_its_own_structure(tmp_path):
    """The level parameter v (patent_rate_public) must offset the structural s (knowledge_effect; target: s + v = 1):
    each draw's refit finds 1 - s from the held default, and the ensemble written to calibrated.toml carries the
    refitted values, while [interval] still describes the sampler's draws."""
    from qhsim.calibrated import load_calibration
    from qhsim.calibration.ensemble import write_calibration

    sampled = FreeParameter("knowledge_effect", 0.0, 1.0)
    level = FreeParameter("patent_rate_public", 0.0, 1.0, default=0.9, stage="levels")
    cfg = SimpleNamespace(conditional=("patent_rate_public",), conditional_budget=60, ensemble_refit_budget=30)
    problem = Problem(cfg, (sampled,), None, None, None, {}, (level,))
    posterior = Posterior(["knowledge_effect"], np.array([[0.2], [0.4], [0.6]]), np.array([1.0, 2.0, 1.0]), [0, 1, 2], np.zeros(3))
    asked = []

    class Runs:
        seeds = (1, 2)

        def evaluate(self, items, desc=""):
            asked.extend(th for _, th, _ in items)
            return [{"cells": th} for _, th, _ in items]

    objective = SimpleNamespace(active=[SimpleNamespace(weight=1.0)],
                                residuals=lambda cells: np.array([(cells["knowledge_effect"] + cells["patent_rate_public"] - 1.0) / 0.01]))
    fits = refit_draws(problem, objective, posterior, Runs(), log=lambda *_: None)
    assert [f.start["knowledge_effect"] for f in fits] == [0.2, 0.4, 0.6] and all(f.start["patent_rate_public"] == 0.9 for f in fits)
    assert [f.point["knowledge_effect"] for f in fits] == [0.2, 0.4, 0.6]  # the structure stays the draw's own
    assert [f.point["patent_rate_public"] for f in fits] == pytest.approx([0.8, 0.6, 0.4], abs=0.01)
    assert all(f.evaluations <= 30 and f.distance < f.start_distance for f in fits)
    assert {th["knowledge_effect"] for th in asked} == {0.2, 0.4, 0.6}

    path = tmp_path / "calibrated.toml"
    names = ["knowledge_effect", "patent_rate_public"]
    write_calibration(path, {"knowledge_effect": 0.4, "patent_rate_public": 0.6}, ["knowledge_effect"], posterior.draws, posterior.weights, np.zeros(3), {}, {},
                      held=problem.held, ensemble=(names, np.array([[f.point[n] for n in names] for f in fits]),
                                                   np.array([f.distance for f in fits])))
    cal = load_calibration(path)
    assert cal.intervals["knowledge_effect"]["median"] == pytest.approx(0.4) and "patent_rate_public" not in cal.intervals
    for draw in cal.ensemble():
        assert draw["knowledge_effect"] + draw["patent_rate_public"] == pytest.approx(1.0, abs=0.01)
    assert "re-fitted" in path.read_text(encoding="utf-8").split("[meta]")[0]


def test_the_evidence_step_runs_the_draws_with_the_levels_parameters_the_abc_held(monkeypatch):
    """The response runs put the calibration in force beneath their parameters: a levels-stage parameter must come
    with each draw at its held value, not from the calibrated point (which once flipped a draw's verdict)."""
    import math

    import qhsim.calibration.responses as responses
    from qhsim.calibration.calibrate import posterior_of

    seen, scales = [], set()

    def fake_means(points, seeds, scale, workers):
        seen.extend(points)
        scales.add(scale)
        return [{k: (ev.low + (ev.high if math.isfinite(ev.high) else 2 * ev.low)) / 2
                 for k, ev in responses.EVIDENCE.items()} for _ in points]

    monkeypatch.setattr(responses, "response_means", fake_means)
    sampled = FreeParameter("start_intercept", -8.0, -3.0)
    level = FreeParameter("patent_rate_public", 0.2, 3.0, default=1.0, stage="levels")
    cfg = SimpleNamespace(response_candidates=4, response_screen_seeds=(1,), response_scale=0.5, evidence_bandwidth=0.0)
    problem = Problem(cfg, (sampled,), None, None, None, {}, (level,))
    final = SimpleNamespace(ids=[0, 1, 2, 3], weights=np.full(4, 0.25), distances=[1.0] * 4, epsilon=1.0, ess=4.0)
    result = SimpleNamespace(params=(sampled,), final=final, thetas={i: {"start_intercept": -4.0 - i} for i in range(4)})
    posterior = posterior_of(problem, None, result, {}, 1, True, log=lambda *_: None)
    assert len(posterior.weights) == 4 and len(seen) == 4
    assert all(p["patent_rate_public"] == 1.0 for p in seen)
    assert scales == {0.5}  # at the configuration's response_scale


TWO = [FreeParameter("a", 0.0, 1.0), FreeParameter("b", 0.0, 1.0)]


def stepped_residuals(points):
    """A distance that moves in jumps: a and b act in steps of 0.02; the minimum is at a = 0.8, b = 0.2."""
    out = []
    for p in points:
        a, b = np.floor(p["a"] / 0.02) * 0.02, np.floor(p["b"] / 0.02) * 0.02
        out.append(np.array([(a - 0.8) / 0.05, (b - 0.2) / 0.05, (a + b - 1.0) / 0.02]))
    return out


def test_a_collapsed_trust_region_restarts_from_the_best_point(monkeypatch):
    """On a distance that moves in jumps (here: parameters acting in steps of 0.02) the trust region collapses before
    the minimum (xtol); restarting from the best point with a fresh one reaches it. Without restarts it does not."""
    fit = conditional_fit(TWO, {"a": 0.1, "b": 0.9}, ["a", "b"], stepped_residuals, budget=200)
    assert fit.distance < 0.1 and "restart" in fit.message
    monkeypatch.setattr(conditional, "RESTART_GAIN", 1.0)  # no run can gain that much: no restart
    monkeypatch.setattr(conditional, "POLISH_STEPS", ())  # and no compass search
    once = conditional_fit(TWO, {"a": 0.1, "b": 0.9}, ["a", "b"], stepped_residuals, budget=200)
    assert once.distance > 0.5 and "xtol" in once.message and "restart" not in once.message
    monkeypatch.undo()
    # a start on a bound: least_squares moves it just inside, so the first run's start is its first evaluation
    on_bound = conditional_fit(TWO, {"a": 0.1, "b": 1.0}, ["a", "b"], stepped_residuals, budget=200)
    assert on_bound.distance < on_bound.start_distance and "restart" in on_bound.message


def test_a_compass_search_polishes_where_least_squares_sees_only_jumps(monkeypatch):
    """On the stepped distance least squares alone stalls away from the minimum; the compass search from its best
    point moves on, within the budget, and never returns a worse point."""
    monkeypatch.setattr(conditional, "RESTART_GAIN", 1.0)
    monkeypatch.setattr(conditional, "POLISH_STEPS", ())
    plain = conditional_fit(TWO, {"a": 0.1, "b": 0.9}, ["a", "b"], stepped_residuals, budget=300)
    monkeypatch.undo()
    monkeypatch.setattr(conditional, "RESTART_GAIN", 1.0)
    polished = conditional_fit(TWO, {"a": 0.1, "b": 0.9}, ["a", "b"], stepped_residuals, budget=300)
    assert "compass move" in polished.message and "compass" not in plain.message
    assert polished.distance < 0.6 * plain.distance
    assert polished.evaluations <= 300
    # a budget that ends inside the search still returns the best point seen, counted
    short = conditional_fit(TWO, {"a": 0.1, "b": 0.9}, ["a", "b"], stepped_residuals, budget=plain.evaluations + 6)
    assert short.evaluations <= plain.evaluations + 6 and short.distance <= plain.distance
