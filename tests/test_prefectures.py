"""Prefectures 市州 (issue #8 item 4): shares that add up, Haidong's structure derived from its documents, prefecture
rows that sum to the province, and Haidong's 2020 values within the calibration tolerances.

The slow check runs in a light configuration by default (2 full-scale seeds); QHSIM_TEST_FULL=1 uses 6.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from qhsim import data
from qhsim.calibration.targets import load_targets
from qhsim.firms.synthesis import initial_population
from qhsim.knowledge.params import institution_rows
from qhsim.runner import run

from conftest import ROOT, default_behaviour, policy

FULL = os.environ.get("QHSIM_TEST_FULL") == "1"
PREFS = data.prefectures()
HAIDONG = data.prefecture_ids().index("haidong")


@pytest.mark.parametrize("share", ["gdp_share", "enterprise_share"])
def test_prefecture_shares_sum_to_the_province(share):
    assert sum(getattr(p, share) for p in PREFS) == pytest.approx(1.0, abs=1e-9)


def test_carrier_shares_sum_to_one_and_haidong_follows_its_documents():
    shares = data.values("knowledge")["carrier_prefecture_share"]
    assert len(shares) == len(PREFS) and sum(shares) == pytest.approx(1.0, abs=1e-9)
    assert shares[HAIDONG] == pytest.approx(9 / 85, abs=5e-4)  # 5 + 3 + 1 carriers of the province's 85


def test_haidong_rd_share_is_derived_from_its_0_09_percent():
    """business_rd_share_2015 = (0.09% x GDP share x GDP 2020 / R&D 2020 x R&D 2015 - public R&D 2015) / business R&D."""
    haidong = PREFS[HAIDONG]
    gdp, total, business = data.observed("gdp"), data.observed("total_rd"), data.observed("business_rd")
    rows = institution_rows()
    public_2015 = data.observed("public_rd")[2015] * sum(r.rd_2015 for r in rows if r.pref == HAIDONG) / sum(
        r.rd_2015 for r in rows)
    share_of_total = 0.09 / 100 * haidong.gdp_share * gdp[2020] / total[2020]
    expected = (share_of_total * total[2015] - public_2015) / business[2015]
    assert haidong.business_rd_share_2015 == pytest.approx(expected, rel=1e-3)
    assert haidong.hte_share_2015 == pytest.approx(9 / 218, rel=1e-3)
    assert all(p.business_rd_share_2015 is None for p in PREFS if p.id != "haidong")


def test_initial_population_meets_haidong_pinned_shares():
    """Full-scale end-2015 population: Haidong holds its documented share of business R&D and of HTEs."""
    b = default_behaviour()
    f, level, propensity = initial_population(20151231, 1.0, policy("baseline", 2015), b)
    in_h = f.pref == HAIDONG
    share = f.rd[in_h].sum() / f.rd.sum()
    assert share == pytest.approx(PREFS[HAIDONG].business_rd_share_2015, rel=0.02)
    assert int((f.hte_until[in_h] >= 2015).sum()) == round(PREFS[HAIDONG].hte_share_2015 * 103)
    assert 0.2 <= propensity[HAIDONG] <= 5.0 and np.all(np.delete(propensity, HAIDONG) == 1.0)
    # smaller firms: Haidong's median revenue is below the province's
    assert np.median(f.revenue[in_h]) < np.median(f.revenue[~in_h])


def test_haidong_rd_share_factor_scales_its_pinned_2015_share():
    """haidong_rd_share_factor multiplies the documented share: at 0.7 Haidong's firms hold 0.7 x 2.667% of the 2015
    business R&D with a lower R&D propensity (which its entrants inherit); the other prefectures keep propensity 1."""
    b = default_behaviour(haidong_rd_share_factor=0.7)
    assert default_behaviour().haidong_rd_share_factor == 1.0
    f, _, propensity = initial_population(20151231, 1.0, policy("baseline", 2015), b)
    in_h = f.pref == HAIDONG
    assert f.rd[in_h].sum() / f.rd.sum() == pytest.approx(0.7 * PREFS[HAIDONG].business_rd_share_2015, rel=0.02)
    _, _, documented = initial_population(20151231, 1.0, policy("baseline", 2015), default_behaviour())
    assert propensity[HAIDONG] < documented[HAIDONG]
    assert np.all(np.delete(propensity, HAIDONG) == 1.0)


ADDITIVE = ("gdp", "business_rd", "public_rd", "enterprises", "hte_count", "tech_based_enterprises",
            "platforms", "valid_invention_patents", "rd_personnel", "tech_contract_turnover")


def test_prefecture_rows_sum_to_the_province():
    frame = run(ROOT / "scenarios" / "baseline.toml", seed=3, scale=0.1, end_year=2017).indicators
    for year, rows in frame.groupby("year"):
        prov = rows[rows.region == "province"].iloc[0]
        prefs = rows[rows.region != "province"]
        assert len(prefs) == len(PREFS)
        for col in ADDITIVE:
            assert prefs[col].sum() == pytest.approx(prov[col], rel=1e-9, abs=1e-9), (year, col)


# Haidong targets the calibrated structure claims (haidong_rd_share_factor and haidong_patent_factor fitted)
CLAIMED = ("haidong_rd_intensity_2020", "haidong_hte_count_2020", "haidong_tech_based_enterprises_2020",
           "haidong_valid_invention_patents_2020", "haidong_platforms_2020")


@pytest.mark.slow
def test_haidong_2020_within_tolerance_on_the_seed_mean(monkeypatch):
    """As an analyst runs it: the calibrated defaults (calibration/calibrated.toml), the default 2015 population.
    Light: 12 seeds (runs to 2020 take ~0.2 s each; with 2, the sample standard error of a Haidong count — seed sd
    ~13% for its patents — was itself too noisy to judge by: seeds 1-2 gave patents 101 against 81, seeds 1-12 87);
    QHSIM_TEST_FULL=1: 32."""
    monkeypatch.setenv("QHSIM_CALIBRATED", str(ROOT / "calibration" / "calibrated.toml"))
    seeds = range(1, 33) if FULL else range(1, 13)
    frames = [run(ROOT / "scenarios" / "baseline.toml", seed=s, end_year=2020).indicators for s in seeds]
    targets = {t.id: t for t in load_targets(ROOT / "calibration" / "targets.toml")}
    for tid in CLAIMED:
        t = targets[tid]
        values = [f.loc[(f.region == t.region) & (f.year == t.years[0]), t.indicator].iloc[0] for f in frames]
        mean, se = float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))
        # within the tolerance, allowing 2 standard errors of a mean over few seeds (a Haidong count's seed sd is ~25%)
        assert abs(mean - t.value) <= t.tolerance * t.value + 2 * se, (
            f"{tid}: seed mean {mean:.3g} (se {se:.2g}) vs {t.value:g} ± {t.tolerance:.0%}")
