"""Policy responses of the calibrated model against the micro evidence (qhsim.calibration.responses; issue #8).

The slow checks run in a light configuration by default (2 fresh seeds at full scale); QHSIM_TEST_FULL=1 runs the fit
report's configuration (32 fresh seeds at full scale).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, benchmark_script
from qhsim import data
from qhsim.calibrated import load_calibration
from qhsim.calibration.responses import (
    CHECKS,
    EVIDENCE,
    NEAR_SE,
    RESPONSE_SEEDS,
    policy_responses,
    rd_switches,
    section_lines,
)
from qhsim.config import load_scenario
from qhsim.indicators import above_scale_industrial
from qhsim.model import QinghaiModel

FULL = os.environ.get("QHSIM_TEST_FULL") == "1"


def response_table(value, sd: float = 0.19, n: int = 32) -> pd.DataFrame:
    """A ``policy_responses`` table with ``value(key, ev)`` for each response and check, each of ``n`` seeds with
    seed sd ``sd``."""
    rows = []
    for kind, evidence in (("response", EVIDENCE), ("check", CHECKS)):
        for key, ev in evidence.items():
            v, se = value(key, ev), sd / math.sqrt(n)
            rows.append({"response": key, "kind": kind, "label": ev.label, "model": v, "seed_sd": sd,
                         "standard_error": se, "low": ev.low, "high": ev.high, "inside": ev.low <= v <= ev.high,
                         "near": ev.outside_by(v) <= NEAR_SE * se, "evidence": ev.source})
    table = pd.DataFrame(rows)
    table.attrs["seeds"] = tuple(range(n))
    return table


def test_section_marks_misses():
    """A miss is marked; one that lies within NEAR_SE standard errors of its range says so (tax leverage 2.04 ± 0.034
    here: 0.04 outside, 1.2 s.e.); each value shows its standard error."""
    table = response_table(lambda key, ev: {"grant_leverage": ev.low * 0.5, "rd_exit_rate": ev.low * 0.5,
                                            "tax_leverage": ev.high + 0.04}.get(key, ev.low))
    table.attrs.update(relabelled_share_all=0.123, tax_leverage_real=1.25)
    text = "\n".join(section_lines(table, (1, 2), 1.0, "test"))
    lines = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| **no** |" in lines[EVIDENCE["grant_leverage"].label]
    assert f"| 2.04 ± 0.034 | 0.19 | 1–2 | **no**, within {NEAR_SE:g} s.e. |" in lines[EVIDENCE["tax_leverage"].label]
    assert "| yes |" in lines[EVIDENCE["user_cost_elasticity"].label]
    assert "| yes |" in lines[EVIDENCE["relabelled_share"].label]
    assert "≥ 1.5" in lines[EVIDENCE["hte_bunching"].label] and math.isinf(EVIDENCE["hte_bunching"].high)
    assert "relabelled share of all reported business R&D 0.123" in text
    # the checks come in a table of their own, after the responses, and a miss is marked there too
    checks_at = text.index("| check |")
    assert text.index(EVIDENCE["grant_leverage"].label) < checks_at < text.index(CHECKS["rd_exit_rate"].label)
    assert "**no**" in lines[CHECKS["rd_exit_rate"].label]


def test_rd_switches_counts_firms_alive_in_both_years_only():
    """Of the population's firms alive in both years: active ones and those of them that stopped; inactive ones
    and those that started. A firm that dies, one outside the population and one born in the second year do not
    count; the second year's order does not matter."""
    uid = np.array([10, 11, 12, 13, 14, 15, 16])
    active = np.array([True, True, True, False, False, False, True])
    population = np.array([True, True, True, True, True, True, False])  # uid 16 is not above-scale industrial
    # uid 12 died, uid 20 was born; uid 11 stopped, uid 13 started; the order is shuffled
    uid_next = np.array([20, 16, 15, 13, 14, 11, 10])
    active_next = np.array([True, False, False, True, False, False, True])
    assert rd_switches(uid, active, population, uid_next, active_next).tolist() == [2, 1, 3, 1]


def test_exit_rate_indicator_is_the_checks_switch_count():
    """The model's yearly rd_exit_rate column (the calibration target) is rd_switches' stopped / active of the same
    firms, year by year: the target and the check measure one thing."""
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"seed": 7, "scale": 0.25})}))
    for year in range(2016, 2019):
        f = model.firms
        before = (f.uid.copy(), f.rd > 0, above_scale_industrial(f))
        model.run_to(year)
        active, stopped, _, _ = rd_switches(*before, model.firms.uid, model.firms.rd > 0)
        assert active > 0
        assert model.rows[-len(data.prefecture_ids()) - 1]["rd_exit_rate"] == pytest.approx(100.0 * stopped / active,
                                                                                           rel=1e-12)


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    """Paired CRN experiments at the calibrated point estimate (light: 2 fresh seeds; full: the fit report's 32)."""
    point = load_calibration(ROOT / "calibration" / "calibrated.toml").point
    seeds = RESPONSE_SEEDS if FULL else RESPONSE_SEEDS[:2]
    return policy_responses(dict(point), seeds, 1.0, workers=2).set_index("response")


@pytest.mark.slow
def test_calibrated_point_sits_inside_the_evidence(responses):
    """Every response lies inside its documented range, or so near it that its seeds cannot tell (within NEAR_SE
    standard errors of the mean): the long-run user-cost elasticities of reported and real R&D, reported R&D per tax
    yuan and per grant yuan, bunching above the HTE thresholds and the relabelled share of the notch firms' reported
    R&D. The seeds matter: R&D per tax yuan varies by ~0.2 from seed to seed, so 4 seeds (201-204) put the point of
    the forty-fourth session at 1.85, inside, and 32 (201-232) at 2.04 ± 0.033; the shipped point gives 2.01 ± 0.036,
    just above 2, and the fit report says so."""
    table = responses.loc[list(EVIDENCE)]
    assert table["model"].notna().all() and (table["standard_error"] > 0).all()
    outside = table[~(table["inside"] | table["near"])]
    assert outside.empty, "outside the evidence:\n" + outside[["model", "standard_error", "low", "high"]].to_string()


@pytest.mark.slow
def test_checks_are_reported_beside_the_responses(responses):
    """The participation check is measured on the same runs and judged against its own range (the shipped model's
    exit rate is below it: reported, not asserted inside); the entry rate is shown beside it."""
    checks = responses[responses["kind"] == "check"]
    assert list(checks.index) == list(CHECKS)
    exit_rate = checks.at["rd_exit_rate", "model"]
    assert 0.0 < exit_rate < 1.0
    assert checks.at["rd_exit_rate", "inside"] == (CHECKS["rd_exit_rate"].low <= exit_rate <= CHECKS["rd_exit_rate"].high)
    assert 0.0 < responses.attrs["rd_entry_rate"] < 1.0


@pytest.mark.slow
def test_reported_exceeds_real_response_to_the_super_deduction(responses):
    """Relabelling answers the super-deduction too: reported R&D responds more than real R&D (by more than a fifth),
    and real R&D per tax yuan is below the reported one but not far below one yuan."""
    reported, real = responses.at["user_cost_elasticity", "model"], responses.at["user_cost_elasticity_real", "model"]
    assert reported > 1.2 * real  # Chen et al. 2021: reported ≈2, real 1.14
    assert 0.8 <= responses.attrs["tax_leverage_real"] <= responses.at["tax_leverage", "model"]


def test_revalidation_counts_the_responses_apart_from_the_checks():
    """benchmarks/revalidate.py: "policy responses inside" counts the responses only; a check outside its range is
    named on a line of its own and listed in a table of its own, with the entry rate beside it."""
    module = benchmark_script("revalidate")
    table = response_table(lambda key, ev: ev.low if key in EVIDENCE else ev.low / 2)
    table.attrs.update(rd_entry_rate=0.0216)
    text = module.markdown([], table, {}, [101, 132], "f" * 12)
    assert f"policy responses inside the evidence ranges: {len(EVIDENCE)} of {len(EVIDENCE)} (32 seeds)\n" in text
    # one just above its range: named with its standard error, and whether the seeds can tell it from inside
    tax = EVIDENCE["tax_leverage"]
    for above, near in ((0.04, f", within {NEAR_SE:g} s.e."), (0.2, "")):
        table = response_table(lambda key, ev: (ev.high + above if key == "tax_leverage" else ev.low)
                               if key in EVIDENCE else ev.low / 2)
        table.attrs.update(rd_entry_rate=0.0216)
        text = module.markdown([], table, {}, [101, 132], "f" * 12)
        assert (f"policy responses inside the evidence ranges: {len(EVIDENCE) - 1} of {len(EVIDENCE)} (32 seeds); "
                f"{tax.label} {tax.high + above:.3g} ± 0.034 outside 1–2{near}\n") in text
    assert f"check (not fitted), {CHECKS['rd_exit_rate'].label}: {CHECKS['rd_exit_rate'].low / 2:.3g}" in text
    # fitted as targets: named by them
    rows = [{"id": f"rd_exit_rate_{y}", "group": "micro_evidence", "indicator": "rd_exit_rate", "fitted": True,
             "observed": 17.5, "tolerance": 0.43, "mean": 12.0, "sd": 1.0, "error": -0.31, "inside": True,
             "within5": False} for y in (2016, 2017, 2020)]
    fitted = module.markdown(rows, table, {}, [101, 132], "f" * 12)
    assert f"check (fitted: targets rd_exit_rate_2016 … rd_exit_rate_2020), {CHECKS['rd_exit_rate'].label}" in fitted
    assert "**outside**" in text and "start R&D 0.0216" in text
    assert text.index("| check |") > text.index(EVIDENCE["relabelled_share"].label)


def test_the_ensembles_draws_are_weighed_against_the_evidence_by_draw(monkeypatch):
    """``ensemble_responses`` runs each posterior draw once (its first parameter set), weighs it by all its sets, and
    ``ensemble_summary`` gives the weighted mean and the share of the weight inside each range."""
    from pathlib import Path

    from qhsim.calibrated import Calibration
    from qhsim.calibration import responses as R
    from qhsim.evidence import EVIDENCE

    cal = Calibration(path=Path("x.toml"), meta={}, point={}, names=["start_intercept"],
                      draws=np.array([[-4.0], [-4.1], [-5.0]]), weights=np.array([0.3, 0.2, 0.5]),
                      draw_of=np.array([7, 7, 9]))
    inside = {k: (ev.low + (ev.high if math.isfinite(ev.high) else ev.low + 1.0)) / 2 for k, ev in EVIDENCE.items()}
    seen = []

    def means(points, seeds, scale, workers):
        seen.extend(points)
        return [inside, {**inside, "tax_leverage": 2.4}]

    monkeypatch.setattr(R, "response_means", means)
    table = R.ensemble_responses(cal, (301, 302))
    assert [p["start_intercept"] for p in seen] == [-4.0, -5.0]  # each draw's first set
    assert table["draw"].tolist() == [7, 9] and table["weight"].tolist() == pytest.approx([0.5, 0.5])
    assert table["inside"].tolist() == [True, False]
    summary = R.ensemble_summary(table).set_index("response")
    assert summary.at["tax_leverage", "share_inside"] == pytest.approx(0.5)
    assert summary.at["tax_leverage", "weighted_mean"] == pytest.approx(0.5 * inside["tax_leverage"] + 0.5 * 2.4)
    assert summary.at["grant_leverage", "share_inside"] == pytest.approx(1.0)
