"""The end-2015 population 初始企业群体: the balanced draw of its R&D performers (qhsim.firms.synthesis)."""

from __future__ import annotations

import numpy as np
import pytest

from qhsim.firms import sector_table, synthesis
from qhsim.firms.rd import sigmoid

from conftest import default_behaviour, policy

POPULATIONS = (2015, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def balance(d, b, k: int) -> tuple[float, float, np.ndarray]:
    """Attempt k's performers, their potential R&D against its expectation and the above-scale industrial share
    with R&D (computed here from the drawn structure, apart from the code under test)."""
    S, rev, sector = sector_table(), d.cols["revenue"], d.cols["sector"]
    logit = S.rd_logit[sector] + b.rd_size_slope * np.log(rev / 1000.0)
    above = S.industrial[sector] & (rev >= synthesis.ABOVE_SCALE_REVENUE)
    share = d.init["share_firms_with_rd"] / 100.0
    a0 = synthesis.brentq(lambda a: sigmoid(a + logit[above]).mean() - share, -30.0, 30.0)
    p = sigmoid(a0 + logit)
    potential = d.relative0 * rev
    active = d.draws.uniform(synthesis.START_YEAR - k, "new_active", d.uids) < p
    return potential[active].sum() / (p * potential).sum(), active[above].mean(), active


@pytest.mark.parametrize("seed", POPULATIONS[:3])
def test_performers_are_the_first_typical_draw(seed):
    b = default_behaviour()
    d = synthesis._draw(seed, 1.0, policy("baseline", 2015), b)
    ratio, share, active = balance(d, b, d.attempt)
    np.testing.assert_array_equal(d.active, active)
    assert abs(ratio - 1) <= b.balance_rd_tolerance and abs(share - 0.14) <= b.balance_share_band
    for k in range(d.attempt):  # every earlier attempt misses one of the two
        ratio, share, _ = balance(d, b, k)
        assert abs(ratio - 1) > b.balance_rd_tolerance or abs(share - 0.14) > b.balance_share_band


def test_balanced_draw_frees_the_rd_level_from_the_activity_draw(monkeypatch):
    """For one population's structure, the level factor L (every later year's R&D level) hardly depends on which
    of the typical activity draws is taken, while over all draws it does (which few large firms became performers):
    without the balance L correlated 0.51 with the 2020 R&D intensity over 20 populations, with it 0.07."""
    b, pol = default_behaviour(), policy("baseline", 2015)
    d = synthesis._draw(2015, 1.0, pol, b)
    levels, typical = [], []
    for k in range(40):
        ratio, share, _ = balance(d, b, k)
        typical.append(abs(ratio - 1) <= b.balance_rd_tolerance and abs(share - 0.14) <= b.balance_share_band)
        monkeypatch.setattr(synthesis, "_balanced_attempt", lambda *_, k=k: k)
        levels.append(synthesis.initial_population(2015, 1.0, pol, b)[1])
    log_level, typical = np.log(levels), np.array(typical)
    assert typical.sum() >= 4
    assert np.std(log_level[typical]) < 0.4 * np.std(log_level)


def test_a_reduced_scale_population_is_balanced_on_its_own():
    """A reduced-scale population, the first part of the full one, balances its own performers (taking the full
    population's activity draw instead left the quarter unbalanced and its share of firms with R&D 2 standard
    errors below the full scale's in 2020)."""
    b, pol = default_behaviour(), policy("baseline", 2015)
    full, quarter = synthesis._draw(10, 1.0, pol, b), synthesis._draw(10, 0.25, pol, b)
    assert full.attempt != quarter.attempt
    ratio, share, active = balance(quarter, b, quarter.attempt)
    np.testing.assert_array_equal(quarter.active, active)
    assert abs(ratio - 1) <= b.balance_rd_tolerance and abs(share - 0.14) <= b.balance_share_band
