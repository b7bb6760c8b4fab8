"""Policy responses of the calibrated model against the micro evidence (qhsim.calibration.responses; issue #8).

The slow checks run in a light configuration by default (2 fresh seeds at full scale); QHSIM_TEST_FULL=1 runs the fit
report's configuration (4 fresh seeds at full scale).
"""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest

from conftest import ROOT
from qhsim.calibrated import load_calibration
from qhsim.calibration.responses import EVIDENCE, RESPONSE_SEEDS, policy_responses, section_lines

FULL = os.environ.get("QHSIM_TEST_FULL") == "1"


def test_section_marks_misses_and_unmodelled_responses():
    rows = [{"response": key, "label": ev.label, "model": ev.low * 0.5 if key == "grant_leverage" else ev.low,
             "seed_sd": 0.1, "low": ev.low, "high": ev.high, "inside": key != "grant_leverage",
             "modelled": ev.modelled, "evidence": ev.source} for key, ev in EVIDENCE.items()]
    text = "\n".join(section_lines(pd.DataFrame(rows), (1, 2), 1.0, "test"))
    lines = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "**no**" in lines[EVIDENCE["grant_leverage"].label]
    assert "**not modelled**" in lines[EVIDENCE["relabelled_share"].label]
    assert "| yes |" in lines[EVIDENCE["tax_leverage"].label]
    assert "≥ 1.5" in lines[EVIDENCE["hte_bunching"].label] and math.isinf(EVIDENCE["hte_bunching"].high)


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    """Paired CRN experiments at the calibrated point estimate (light: 2 fresh seeds; full: the fit report's 4)."""
    point = load_calibration(ROOT / "calibration" / "calibrated.toml").point
    seeds = RESPONSE_SEEDS if FULL else RESPONSE_SEEDS[:2]
    return policy_responses(dict(point), seeds, 1.0, workers=2).set_index("response")


@pytest.mark.slow
def test_calibrated_point_buys_rd_per_public_yuan_inside_the_evidence(responses):
    """Business R&D per yuan of super-deduction tax expenditure and per grant yuan lie inside the documented
    ranges. The user-cost elasticity joins with QHSIM_TEST_FULL=1 only: measured from a 20-point deduction rise,
    its seed sd is ~0.5, too noisy for two seeds (the fit report shows it with four)."""
    keys = ["tax_leverage", "grant_leverage"] + (["user_cost_elasticity"] if FULL else [])
    table = responses.loc[keys]
    assert table["model"].notna().all()
    outside = table[~table["inside"]]
    assert outside.empty, "outside the evidence:\n" + outside[["model", "low", "high"]].to_string()


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known miss of the v2 calibration: 1.1-1.3 firms just above per firm just "
                   "below the HTE thresholds, not the sharp bunching of Chen et al. (2021); see the fit report")
def test_firms_bunch_sharply_above_the_hte_thresholds(responses):
    row = responses.loc["hte_bunching"]
    assert row["model"] >= row["low"]
