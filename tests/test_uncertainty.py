"""Where a projection's uncertainty comes from (qhsim.uncertainty, benchmarks/uncertainty_report.py): the nested
variance decomposition recovers known parts of synthetic data, and the report runs end to end on a tiny design."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from qhsim.calibrated import load_calibration
from qhsim.uncertainty import PARTS, NestedRuns, drivers, share_intervals, shares, variance_parts

# synthetic nested design: posterior draws (unequal weights) x level samples x seeds, with known variances
DRAWS_VAR, LEVELS_VAR, SEEDS_VAR = 1.0, 0.5, 2.0


def synthetic(rng, n_draws=6, n_levels=4, n_seeds=2, draw_weights=None, level_factors=None):
    """(values, set weights, groups): Y = a_draw + b_set + e_run with Var a, b, e = the constants above, Var b
    times the draw's ``level_factors`` (their weighted mean 1: the weighted mean level variance is LEVELS_VAR)."""
    dw = np.full(n_draws, 1.0 / n_draws) if draw_weights is None else np.asarray(draw_weights)
    f = np.ones(n_draws) if level_factors is None else np.asarray(level_factors) / (dw @ level_factors)
    a = rng.normal(0.0, np.sqrt(DRAWS_VAR), n_draws)
    b = rng.normal(0.0, 1.0, (n_draws, n_levels)) * np.sqrt(LEVELS_VAR * f)[:, None]
    e = rng.normal(0.0, np.sqrt(SEEDS_VAR), (n_draws, n_levels, n_seeds))
    values = (a[:, None, None] + b[:, :, None] + e).reshape(n_draws * n_levels, n_seeds)
    return values, np.repeat(dw / n_levels, n_levels), np.repeat(np.arange(n_draws), n_levels)


def test_the_three_parts_are_unbiased_with_unequal_weights_and_two_seeds():
    """Averaged over 4,000 replicates of a small design (6 draws of unequal weight whose level samples spread
    unalike, 4 level samples, 2 seeds), each estimate is its true variance within 4 Monte Carlo standard errors.
    Leaving out the seed noise in the level part (+1.0), the weights' correction 1 / (1 - sum w^2) in the draws'
    part (x 0.74), or the draws' weights in the level part (x 0.57) misses by far more."""
    rng = np.random.default_rng(3)
    weights = [0.4, 0.25, 0.15, 0.1, 0.07, 0.03]
    est = pd.DataFrame([variance_parts(*synthetic(rng, draw_weights=weights, level_factors=[2, 1, 0.5, 0.2, 0.2, 0.1]))
                        for _ in range(4000)])
    truth = {"draws": DRAWS_VAR, "levels": LEVELS_VAR, "seeds": SEEDS_VAR, "total": DRAWS_VAR + LEVELS_VAR + SEEDS_VAR}
    for key, true in truth.items():
        se = est[key].std() / np.sqrt(len(est))
        assert abs(est[key].mean() - true) < 4 * se, (key, est[key].mean(), true, se)
        assert 4 * se < 0.1  # the check can see a bias of 0.1


def test_equal_weights_give_the_classical_anova_estimator():
    """One level (each set its own draw), equal weights: (MSB - MSW) / S and MSW."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=(7, 3)) + rng.normal(size=(7, 1))
    msb = 3 * y.mean(axis=1).var(ddof=1)
    msw = y.var(axis=1, ddof=1).mean()
    parts = variance_parts(y)
    assert parts["draws"] == pytest.approx((msb - msw) / 3) and parts["seeds"] == pytest.approx(msw)
    assert parts["levels"] == 0 and parts["mean"] == pytest.approx(y.mean())


def test_the_seed_part_is_weighted_by_the_sets_weights():
    """Sets of weight 0.8 with seed variance 4 and sets of weight 0.2 without noise: 3.2, not the unweighted 2."""
    rng = np.random.default_rng(7)
    noisy = rng.normal(0.0, 2.0, (50, 200))
    quiet = np.zeros((50, 200))
    w = np.r_[np.full(50, 0.8 / 50), np.full(50, 0.2 / 50)]
    parts = variance_parts(np.r_[noisy, quiet], w)
    assert parts["seeds"] == pytest.approx(3.2, rel=0.03)


def test_shares_recover_known_shares_on_a_large_design_and_the_interval_holds_them():
    rng = np.random.default_rng(11)
    values, w, groups = synthetic(rng, n_draws=300, n_levels=4, n_seeds=4)
    got = shares(variance_parts(values, w, groups))
    total = DRAWS_VAR + LEVELS_VAR + SEEDS_VAR
    for key, var in (("draws", DRAWS_VAR), ("levels", LEVELS_VAR), ("seeds", SEEDS_VAR)):
        assert got[key] == pytest.approx(var / total, abs=0.04), key
    assert sum(got[k] for k in PARTS) == pytest.approx(1.0)
    ci = share_intervals(values, w, groups, n_boot=200)
    assert ci["parameters"][0] < (DRAWS_VAR + LEVELS_VAR) / total < ci["parameters"][1]
    assert ci["parameters"][1] - ci["parameters"][0] < 0.15
    few = share_intervals(*synthetic(rng), n_boot=200)  # 6 draws: far wider
    assert few["parameters"][1] - few["parameters"][0] > 2 * (ci["parameters"][1] - ci["parameters"][0])


def test_a_negative_estimate_counts_as_no_share():
    """Sets whose means agree better than their seed noise implies: the between-set estimate is negative, its share
    0 and the seeds' 1."""
    y = np.array([[0.0, 2.0], [2.0, 0.0], [1.0, 1.0 + 1e-9]])
    parts = variance_parts(y)
    assert parts["draws"] < 0
    got = shares(parts)
    assert got["draws"] == 0 and got["seeds"] == 1


def test_drivers_name_the_level_parameter_that_moves_the_outcome_within_draws():
    """10 draws x 20 level samples x 4 seeds: y = 2 b + 0.2 c + the draw's own shift (its structural parameter a and
    an outlying draw 0 of weight 0.3) + seed noise; d does nothing. Within draws b leads, then c; neither the
    structural a, constant within a draw, nor d is named; draw 0 makes most of the spread between draws."""
    rng = np.random.default_rng(13)
    n_draws, n_levels, n_seeds = 10, 20, 4
    groups = np.repeat(np.arange(n_draws), n_levels)
    a = np.repeat(rng.normal(size=n_draws), n_levels)
    b, c, d = rng.normal(size=(3, n_draws * n_levels))
    shift = np.where(groups == 0, 8.0, 0.0) + a
    y = 2 * b + 0.2 * c + shift
    values = y[:, None] + rng.normal(0.0, 0.5, (len(y), n_seeds))
    w = np.where(groups == 0, 0.3 / n_levels, 0.7 / (n_levels * (n_draws - 1)))
    runs = NestedRuns([2025], {"x": values[None]}, pd.DataFrame({"a": a, "b": b, "c": c, "d": d}), w, groups,
                      np.arange(len(y) * n_seeds).reshape(len(y), n_seeds) + 1, "synthetic")
    found = drivers(runs, "x", 2025)
    assert list(found["coefficients"]) == ["b", "c"]
    (beta_b, t_b), (beta_c, t_c) = found["coefficients"].values()
    assert beta_b > 4 * beta_c > 0 and t_b > t_c >= 3
    assert 0.9 < found["r2"] <= found["r2_ceiling"] + 0.05
    assert found["heaviest"]["draw"] == 0 and found["heaviest"]["share"] > 0.5


CALIBRATED = {**os.environ, "QHSIM_CALIBRATED": str(ROOT / "calibration" / "calibrated.toml")}


def report(args: list[str], cwd) -> subprocess.CompletedProcess:
    """The script as a modeller runs it, with the shipped calibration (its own process: the engine's check of the
    calibration in force is made once per process, and this suite's runs so far had it off)."""
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "uncertainty_report.py"), *args], cwd=cwd,
                          env=CALIBRATED, capture_output=True, text=True, timeout=300)


def test_the_report_runs_end_to_end_on_a_tiny_design(tmp_path):
    """3 parameter sets x 2 seeds at scale 0.05 to 2025: the Markdown and the CSV, one row per plan indicator, each
    with shares that sum to 1 and the sets' distinct seeds."""
    out = tmp_path / "u.md"
    done = report(["--draws", "3", "--seeds", "2", "--scale", "0.05", "--years", "2025", "--boot", "50",
                   "--point-seeds", "2", "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out.with_suffix(".csv"))
    assert len(table) == 9 and set(table["year"]) == {2025}
    parts = table[[f"share_{k}" for k in PARTS]]
    assert np.allclose(parts.sum(axis=1), 1.0) and (parts >= 0).all().all()
    assert (table["share_parameters_lo"] <= table["share_parameters"]).all()
    text = out.read_text(encoding="utf-8")
    assert "参数不确定性" in text and "own seeds (1-2, 3-4, 5-6)" in text and text.startswith(done.stdout[:40])


def test_more_draws_than_the_ensemble_holds_is_one_line_and_exit_2(tmp_path):
    done = report(["--draws", "500", "--out", str(tmp_path / "u.md")], tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    held = load_calibration(ROOT / "calibration" / "calibrated.toml").available  # the shipped ensemble's sets
    assert lines[0].startswith("uncertainty_report.py: error: ") and f"allowed 1-{held}" in lines[0]
    assert list(tmp_path.iterdir()) == []
