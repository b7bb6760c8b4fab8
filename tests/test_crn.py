"""Common random numbers 共同随机数: a firm's draws depend on (seed, year, purpose, uid) only."""

from __future__ import annotations

import numpy as np
import pytest

from qhsim.draws import KeyedDraws, KnowledgeDraws
from qhsim.firms.dynamics import exit_mask, innovate

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
    """Exit draws and core-IP clocks of the survivors are unchanged when half of the population is removed."""
    from qhsim.firms.dynamics import first_clocks

    rng = np.random.default_rng(5)
    full = random_population(rng, 400, 2020)
    keep = rng.random(400) < 0.5
    part = random_population(np.random.default_rng(5), 400, 2020)
    d = KeyedDraws(11)
    for f in (full, part):
        f.cols.update(first_clocks(d, 2020, f.uid))
        f.ip_clock[:5] = 0.0  # a few firms whose clock runs out this year, so their next clock is drawn
    part.keep(keep, None)
    np.testing.assert_array_equal(exit_mask(full, 2021, d, b)[keep], exit_mask(part, 2021, d, b))
    innovate(full, 2021, d, b)
    innovate(part, 2021, d, b)
    np.testing.assert_array_equal(full.innovated[keep], part.innovated)
    np.testing.assert_array_equal(full.ip_clock[keep], part.ip_clock)
    assert full.innovated.any()
    # another seed: other luck for the same firms
    other = random_population(np.random.default_rng(5), 400, 2020)
    other.cols.update(first_clocks(KeyedDraws(12), 2020, other.uid))
    innovate(other, 2021, KeyedDraws(12), b)
    assert not np.array_equal(other.innovated, full.innovated)


def test_a_clock_is_keyed_by_its_event_number_not_the_year():
    """The n-th switch (or core IP item) of a firm draws the same next clock whatever year it happens in, and the
    (n+1)-th another one; different firms, other clocks."""
    d = KeyedDraws(3)
    uids = np.array([7, 42, 1000])
    at = np.arange(3)
    first = d.counted_exponential("switch", uids, at, np.array([1, 1, 1]))
    mixed = d.counted_exponential("switch", uids, at, np.array([1, 2, 1]))
    assert (first > 0).all() and len(set(first.tolist())) == 3
    assert mixed[0] == first[0] and mixed[2] == first[2] and mixed[1] != first[1]
    assert d.counted_exponential("switch", uids, at[1:], np.array([1, 1]))[0] == first[1]  # alone, the same


def test_an_arrivals_draw_key_ignores_how_many_arrived_before():
    """People and platforms are keyed by their arrival (year, route, slot), not by a running counter: one more
    arrival in a variant leaves every other arrival's key, hence its draws, as in the base."""
    from qhsim.draws import arrival_keys
    from qhsim.knowledge import platforms as pf
    from qhsim.knowledge.params import knowledge_parameters

    base = arrival_keys(2030, 1, np.array([5, 9, 12]))
    more = arrival_keys(2030, 1, np.array([3, 5, 7, 9, 12]))
    assert list(more[[1, 3, 4]]) == list(base)
    assert len(set(more.tolist())) == 5 and (more >= 0).all()
    assert arrival_keys(2031, 1, np.array([5]))[0] != base[0] != arrival_keys(2030, 2, np.array([5]))[0]

    kp = knowledge_parameters({})
    tables = []
    for hosts in ([11, 40], [11, 25, 40]):  # the variant awards one more platform, to host 25, in between
        ps = pf.PlatformSystem(1.0, 2, 2)
        ps._new(2030, np.full(len(hosts), pf.ERC), pf.PROVINCIAL, pf.HOST_FIRM, np.array(hosts), np.zeros(len(hosts)),
                np.zeros(len(hosts)), kp)
        tables.append(dict(zip(ps.table.host.tolist(), ps.table.key.tolist())))
    assert tables[1][11] == tables[0][11] and tables[1][40] == tables[0][40]
    assert list(tables[1]) == [11, 25, 40]


def test_compiled_draws_are_splitmix64_bit_for_bit():
    """The compiled uniform kernel gives, for any integer uid dtype and with ``at`` as positions or a mask, the
    SplitMix64 value computed with plain Python integers: (mix(uid x golden + stream) >> 11 + 1/2) 2^-53."""
    from qhsim.draws import _GOLDEN_INT, _MASK, _mix_int

    d = KeyedDraws(3)
    uids = np.array([0, 1, 42, -7, 2**62 + 12345, -(2**63)], dtype=np.int64)
    stream = int(d._stream(2024, "growth"))
    want = [(float(_mix_int((u * _GOLDEN_INT + stream) & _MASK) >> 11) + 0.5) * 2.0**-53 for u in uids.tolist()]
    assert d.uniform(2024, "growth", uids).tolist() == want
    assert d.uniform(2024, "growth", uids.astype(np.uint64)).tolist() == want
    assert d.uniform(2024, "growth", uids[:3].astype(np.int16)).tolist() == want[:3]
    at = np.array([4, 1])
    assert d.uniform(2024, "growth", uids, at).tolist() == [want[4], want[1]]
    assert d.uniform(2024, "growth", uids, uids > 1).tolist() == [want[2], want[4]]
    assert len(d.uniform(2024, "growth", uids, np.zeros(0, dtype=np.intp))) == 0


def test_compiled_ndtri_is_scipys_bit_for_bit():
    """The compiled inverse normal CDF behind ``KeyedDraws.normal`` returns scipy.special.ndtri's bits: on keyed
    uniforms, deep in both tails (both tail formulas), a few ulps around the branch points e^-2, 1 - e^-2 and e^-32,
    and at the domain's ends and outside it."""
    from scipy.special import ndtri as scipy_ndtri

    from qhsim.draws import ndtri

    rng = np.random.default_rng(11)
    e2 = 0.13533528323661269189
    around = [c + np.arange(-64, 65) * np.spacing(c) for c in (e2, 1.0 - e2, np.exp(-32.0), 1.0 - np.exp(-32.0))]
    u = np.concatenate([
        KeyedDraws(5).uniform(2030, "growth", np.arange(200_000)),
        np.exp(-rng.random(100_000) * 745.0),  # down to the smallest subnormal
        1.0 - np.exp(-rng.random(100_000) * 37.0),
        *around,
        [0.0, -0.0, 1.0, 0.5, 5e-324, 2.0**-53, 1.0 - 2.0**-53, -1e-300, 1.0 + 2.0**-52, 3.0, np.inf, -np.inf, np.nan],
    ])
    want = scipy_ndtri(u)
    got = ndtri(u.copy())
    differ = np.flatnonzero(got.view(np.uint64) != want.view(np.uint64))
    first = differ[0] if len(differ) else 0
    assert not len(differ), f"{len(differ)} differ, first at u = {u[first]!r}: {got[first]!r}, not {want[first]!r}"
    d = KeyedDraws(5)
    assert np.array_equal(d.normal(2030, "margin", UIDS), scipy_ndtri(d.uniform(2030, "margin", UIDS)))
