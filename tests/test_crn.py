"""Common random numbers 共同随机数: a firm's draws depend on (seed, year, purpose, uid) only."""

from __future__ import annotations

import numpy as np
import pytest

from qhsim.draws import KeyedDraws
from qhsim.firms.dynamics import exit_mask, innovate
from qhsim.knowledge.params import KnowledgeDraws

from conftest import random_population

UIDS = np.array([1000, 7, 42, 31337, 5])


@pytest.mark.parametrize("purpose", ["exit", "growth", "grant_merit"])
def test_a_firms_draw_ignores_the_other_firms(purpose):
    """Firm 42 draws the same number alone, among others, after others enter or leave, in any order."""
    d = KeyedDraws(3)
    alone = d.uniform(2020, purpose, np.array([42]))[0]
    for uids in (UIDS, np.array([42, 1, 2, 3]), np.array([9, 8, 42]), UIDS[::-1].copy(), np.arange(40, 60)):
        got = d.uniform(2020, purpose, uids)
        assert got[list(uids).index(42)] == alone
        assert d.normal(2020, purpose, uids)[list(uids).index(42)] == d.normal(2020, purpose, np.array([42]))[0]


def test_same_length_populations_do_not_share_draws():
    """Two different populations of the same size get their own firms' draws (no stale per-array cache)."""
    d = KeyedDraws(3)
    a = d.uniform(2020, "exit", np.array([1, 2, 3]))
    b = d.uniform(2020, "exit", np.array([4, 5, 6]))
    assert not np.any(a == b)
    assert np.array_equal(d.uniform(2020, "exit", np.array([1, 2, 3])), a)


def test_draws_change_with_seed_year_and_purpose():
    a = KeyedDraws(3).uniform(2020, "exit", UIDS)
    assert np.array_equal(a, KeyedDraws(3).uniform(2020, "exit", UIDS))
    for other in (KeyedDraws(4).uniform(2020, "exit", UIDS), KeyedDraws(3).uniform(2021, "exit", UIDS),
                  KeyedDraws(3).uniform(2020, "growth", UIDS)):
        assert not np.any(a == other)
    k = KnowledgeDraws(3)
    assert np.array_equal(k.uniform(2020, "exit", UIDS), a)  # the knowledge system shares the firm streams
    assert not np.any(KnowledgeDraws(4).poisson(2020, "p_apply", UIDS, np.full(5, 50.0))
                      == k.poisson(2020, "p_apply", UIDS, np.full(5, 50.0)))


def test_model_kernels_keep_a_firms_luck_when_others_leave(b):
    """Exit and core-IP draws of the survivors are unchanged when half of the population is removed."""
    rng = np.random.default_rng(5)
    full = random_population(rng, 400, 2020)
    keep = rng.random(400) < 0.5
    part = random_population(np.random.default_rng(5), 400, 2020)
    part.keep(keep, None)
    d = KeyedDraws(11)
    np.testing.assert_array_equal(exit_mask(full, 2021, d, b)[keep], exit_mask(part, 2021, d, b))
    innovate(full, 2021, d, b)
    innovate(part, 2021, d, b)
    np.testing.assert_array_equal(full.innovated[keep], part.innovated)
    assert full.innovated.any()
    # another seed: other luck for the same firms
    other = random_population(np.random.default_rng(5), 400, 2020)
    innovate(other, 2021, KeyedDraws(12), b)
    assert not np.array_equal(other.innovated, full.innovated)
