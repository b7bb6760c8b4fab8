"""Calibration (issue #4): parameter recovery from synthetic data of seeds the calibration never uses (the twin
experiment and the helpers: tests/test_calibration_recovery.py). Marked ``slow``: light by default,
QHSIM_TEST_FULL=1 for the thorough version.
"""

from __future__ import annotations

import pytest

from test_calibration import FULL
from test_calibration_recovery import _recover


@pytest.mark.slow
def test_parameter_recovery_with_fresh_data_seeds(tmp_path):
    """Synthetic data from seeds the calibration never uses: the truth lies in the 90% posterior band.

    Light by default (2 parameters); QHSIM_TEST_FULL=1 recovers 3 parameters with more particles.
    """
    truth = {"start_intercept": -4.3, "tbe_recognition_probability": 0.55}
    settings = {"particles": 24, "batch": 24, "max_generations": 4, "max_evaluations": 300}
    if FULL:
        truth["stop_probability"] = 0.12
        settings = {"particles": 60, "batch": 60, "max_generations": 6, "max_evaluations": 1500}
    report = _recover(tmp_path, truth, data_seeds=(101, 102, 103), scale=0.25, seeds=[1, 2, 3], random_seed=5, **settings)
    for name, (true, est, lo, hi, err, med) in report.items():
        width = hi - lo
        assert lo - 0.1 * width <= true <= hi + 0.1 * width, f"{name}: truth {true:.3g} outside [{lo:.3g}, {hi:.3g}]"
