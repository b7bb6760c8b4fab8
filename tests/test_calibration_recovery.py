"""Calibration (issue #4): parameter recovery in a twin experiment, synthetic targets from the model at a known
parameter. A file of its own, as is tests/test_calibration_recovery_fresh.py: the suite's two heaviest tests, which
`pytest -n auto --dist loadfile` (``make test``) can then run beside each other and beside tests/test_calibration.py.
Marked ``slow``: light by default, QHSIM_TEST_FULL=1 for the thorough versions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qhsim.calibration.calibrate import calibrate
from qhsim.calibration.settings import load_config

from test_calibration import BASELINE, FULL, target_row, write_problem


def _synthetic_targets(names_values: dict[str, float], seeds, scale: float, cells, tolerance: float) -> str:
    from qhsim.experiments.engine import extract_cells
    from qhsim.config import load_scenario
    from qhsim.runner import run

    sc = load_scenario(BASELINE).model_copy(update={"parameters": names_values})
    per_seed = [extract_cells(run(sc, seed=s, scale=scale, end_year=2020).indicators, cells) for s in seeds]
    rows = []
    for c in cells:
        ind, region, year = c.split("|")
        value = float(np.mean([d[c] for d in per_seed]))
        rows.append(target_row(ind, value, year=int(year), region=region, tolerance=tolerance, id=c))
    return "".join(rows)


RECOVERY_CELLS = [
    "share_firms_with_rd|province|2020", "rd_intensity|province|2020", "enterprise_rd_share|province|2020",
    "tech_based_enterprises|province|2020", "tech_based_enterprises|province|2018",
]


def _recover(tmp_path: Path, truth: dict[str, float], data_seeds, scale: float, **settings):
    targets = _synthetic_targets(truth, data_seeds, scale, RECOVERY_CELLS, 0.03)
    free = "".join(f"[{n}]\n" for n in truth)
    cfg = load_config("t", write_problem(tmp_path, targets, free, scale=scale, **settings))
    outcome = calibrate(cfg, workers=2, progress=False, log=lambda s: None, write=False)
    res = outcome.result
    point = res.point()
    from qhsim.calibration.ensemble import weighted_quantiles

    report = {}
    for p in res.params:
        draws = np.array([res.thetas[i][p.name] for i in res.final.ids])
        lo, med, hi = weighted_quantiles(draws, res.final.weights, (0.05, 0.5, 0.95))
        report[p.name] = (truth[p.name], point[p.name], lo, hi, abs(point[p.name] - truth[p.name]) / (p.high - p.low), med)
    return report


@pytest.mark.slow
def test_parameter_recovery_twin_experiment(tmp_path):
    """Synthetic targets from the model at a known parameter (same seeds): ABC-SMC finds it again.

    Each parameter is recovered with the other at its default: jointly, the start intercept trades against the size
    slope along a ridge of equally good fits at these five moments (at the uncalibrated defaults one sampler run
    settled at (-5.26, 1.21) for a truth of (-4.3, 0.7), with a tight interval). One sampler run with few particles
    is still a lottery, so the median error over three sampler seeds is judged, and the truth must lie inside the
    90% posterior interval in at least two of them. 24 particles: with 16, the size slope's estimates on the
    switching clocks (docs/ODD.md §7.3) were 1.12, 0.92 and 0.74 for a truth of 0.7 (truth inside every interval;
    the posterior is wide and skewed upwards at scale 0.05), with 24 0.91, 0.80 and 0.73.

    Light by default: the size slope alone (the harder of the two; the start intercept is recovered from fresh data
    in tests/test_calibration_recovery_fresh.py); QHSIM_TEST_FULL=1 both."""
    truth = {"start_intercept": -4.3, "rd_size_slope": 0.7} if FULL else {"rd_size_slope": 0.7}
    for name, value in truth.items():
        errors, covered = [], 0
        for random_seed in (11, 12, 13):
            report = _recover(
                tmp_path / f"{name}-{random_seed}", {name: value}, data_seeds=(1, 2), scale=0.05, seeds=[1, 2],
                particles=24, batch=24, max_generations=4, max_evaluations=192, random_seed=random_seed,
            )
            _, _, lo, hi, err, _ = report[name]
            errors.append(err)
            covered += lo <= value <= hi
        assert np.median(errors) < 0.15, f"{name}: errors {[f'{e:.0%}' for e in errors]} of the prior width"
        assert covered >= 2, f"{name}: truth {value} inside the 90% interval in {covered} of 3 sampler runs"
