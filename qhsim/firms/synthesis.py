"""Synthetic enterprise population 初始企业群体 at end-2015, and entrants in later years.

Structure (sector x prefecture, revenue, margins) comes from sectors.toml and geography.toml. The R&D
side is then matched to the documented end-2015 stocks (initial_state.toml, macro.toml): the share of
above-scale industrial firms doing R&D, business R&D in yuan, and the HTE / tech-based enterprise /
little-giant / tech-based SME counts. This fixes the initial condition only; during a run nothing is
rescaled to data.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

import numba
import numpy as np
from scipy.optimize import brentq
from scipy.special import betaincinv

from qhsim import data
from qhsim.draws import KeyedDraws
from qhsim.errors import InputError
from qhsim.firms import sector_table
from qhsim.firms.certification import hte_threshold
from qhsim.firms.rd import deduction_rates, sigmoid, tax_rates
from qhsim.firms.relabel import routine_relabel
from qhsim.firms.state import COLUMNS, FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.units import (ABOVE_SCALE_REVENUE, IP_RD_UNIT, REVENUE_UNIT, TECH_SME_MAX_EMPLOYEES, TECH_SME_MAX_REVENUE,
                         WAN_PER_YI)

START_YEAR = 2015
ENTRY_SLOTS = 10**6  # uids per entry year (entrant_uids); firm uids stay below 10^9, where talent keys begin


def _location_and_sector(draws: KeyedDraws, year: int, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw (prefecture, sector) per firm by inverse CDF: P(p) = enterprise share; P(s | p) ~ firm share x
    affinity. Keyed by uid, so a firm's location does not depend on how many others are drawn with it."""
    prefs, secs = data.prefectures(), data.sectors()
    p_share = np.array([p.enterprise_share for p in prefs])
    p_cum = np.cumsum(p_share / p_share.sum())
    u_pref = draws.uniform(year, "new_pref", uids)
    base = np.array([s.firm_share for s in secs])
    w = base * np.array([[p.sector_affinity[s.id] for s in secs] for p in prefs])
    s_cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    u_sector = draws.uniform(year, "new_sector", uids)
    pref, sector = np.empty(len(uids), dtype=np.int64), np.empty(len(uids), dtype=np.int64)
    _inverse_cdfs(p_cum, s_cum, u_pref, u_sector, pref, sector)
    return pref, sector


@numba.njit(cache=True, nogil=True)
def _inverse_cdfs(p_cum, s_cum, u_pref, u_sector, pref, sector):
    """pref = the number of cumulative shares ``p_cum`` below u_pref (non-decreasing: np.searchsorted, side left), at
    most the last prefecture; sector = the same in the prefecture's row of ``s_cum`` with u_sector, at most the last
    sector. One pass over the firms (numpy's searchsorted of unsorted values, and a masked pass per sector, cost
    several times more)."""
    last_pref, last_sector = len(p_cum) - 1, s_cum.shape[1] - 1
    for i in range(len(u_pref)):
        p = 0
        for c in p_cum:
            p += c < u_pref[i]
        p = min(p, last_pref)
        s = 0
        for c in s_cum[p]:
            s += c < u_sector[i]
        pref[i] = p
        sector[i] = min(s, last_sector)


BETA_GRID = 1024  # intervals of the tabulated Beta quantile function per sector


@cache
def _beta_table() -> np.ndarray:
    """Quantiles of each sector's Beta(alpha, beta) tech-orientation law on an even grid of probabilities."""
    S = sector_table()
    u = np.linspace(0.0, 1.0, BETA_GRID + 1)
    return np.stack([betaincinv(a, b, u) for a, b in zip(S.hitech_alpha, S.hitech_beta)])


def _beta_quantile(sector: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of the sector's Beta law at ``u``, interpolated linearly in the table (error < 1e-3 in the
    body; the exact inverse costs ~5 µs per draw, more than the rest of a firm's creation)."""
    x = u * BETA_GRID
    i = np.minimum(x.astype(np.int64), BETA_GRID - 1)
    flat = _beta_table().ravel()  # row-major: entry (s, j) at s * (BETA_GRID + 1) + j
    at = sector * (BETA_GRID + 1) + i
    lo, hi = flat.take(at), flat.take(at + 1)  # the table's [sector, i] and [sector, i + 1], without 2-d indexing
    return lo + (x - i) * (hi - lo)


def new_firms(draws: KeyedDraws, uids: np.ndarray, year: int, size_factor: float, b: SimpleNamespace,
              rd_propensity: np.ndarray) -> dict:
    """Columns for the firms ``uids`` without R&D or certificates, founded in ``year`` (the end-2015 population:
    founded before). Every attribute is a keyed draw of (seed, year, uid): an entrant's attributes do not depend
    on how many firms enter with it, so a policy variant and its base share their entrants firm by firm.
    ``rd_propensity``: multiplier on desired R&D intensity per prefecture (``initial_population`` derives it)."""
    S = sector_table()
    n = len(uids)
    pref, sector = _location_and_sector(draws, year, uids)
    # per-sector and per-prefecture values gathered with take (the same values as indexing, without bounds checks)
    sigma = S.revenue_sigma.take(sector, mode="wrap") * (1.0 if year == START_YEAR else b.entrant_sigma_factor)
    pref_size = np.array([p.firm_size_factor for p in data.prefectures()]).take(pref, mode="wrap")
    revenue = (S.revenue_median.take(sector, mode="wrap") * size_factor * pref_size
               * np.exp(sigma * draws.normal(year, "new_size", uids)))
    revenue = np.maximum(revenue, 1.0)
    margin = b.margin_mean + b.margin_sd * draws.normal(year, "new_margin", uids)
    tech_orient = _beta_quantile(sector, draws.uniform(year, "new_orient", uids))
    cols = dict(
        uid=uids,
        pref=pref,
        sector=sector,
        birth=np.full(n, year),
        revenue=revenue,
        anchor=np.log(revenue),
        rev_l1=revenue / (1 + b.history_growth),
        rev_l2=revenue / (1 + b.history_growth) ** 2,
        margin=margin,
        employees=np.maximum(revenue / S.revenue_per_employee.take(sector, mode="wrap"), 1.0),
        eta=(b.intensity_dispersion * draws.normal(year, "new_eta", uids)
             + np.log(rd_propensity).take(pref, mode="wrap")),
        tech_orient=tech_orient,
        hitech_share=b.non_rd_hitech_factor * tech_orient,
        encouraged=draws.uniform(year, "new_encouraged", uids) < S.encouraged_share.take(sector, mode="wrap"),
        deduct_excluded=draws.uniform(year, "new_excluded", uids) < S.excluded_from_deduction.take(sector, mode="wrap"),
    )
    return {name: cols[name] if name in cols else np.zeros(n, dtype=dtype) for name, dtype in COLUMNS.items()}


def entrant_uids(year: int, n: int) -> np.ndarray:
    """Uids of a year's ``n`` entrants: entry slot j of year t is uid (t - 2000) x 10^6 + j at any scale and in
    any scenario, so entrant j of a variant is the same firm as entrant j of its base (and uids keep rising with
    the year, which keeps the population sorted by uid)."""
    if n >= ENTRY_SLOTS:
        raise ValueError(f"{n} entrants in {year} exceed the {ENTRY_SLOTS} uid slots of a year")
    return (year - 2000) * ENTRY_SLOTS + np.arange(n, dtype=np.int64)


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int, weight: np.ndarray | None = None) -> np.ndarray:
    k = min(k, len(pool))
    if k == 0:
        return pool[:0]
    p = None if weight is None else weight / weight.sum()
    return rng.choice(pool, size=k, replace=False, p=p)


def _scaled_count(value: float, scale: float) -> int:
    return int(round(value * scale))


def initial_population(
    population_seed: int, scale: float, pol: PolicyYear, b: SimpleNamespace
) -> tuple[FirmPopulation, float, np.ndarray]:
    """The end-2015 population drawn from ``population_seed`` (not the run's dynamics seed), the R&D level
    factor L that matched 2015 business R&D, and the R&D propensity per prefecture. Firm i's structure
    (location, sector, size, margin, orientation, eta) is a keyed draw of (population_seed, i): a reduced-scale
    population is the first part of the full one.

    R&D concentration: a prefecture with a documented share of the province's end-2015 business R&D
    (geography.toml ``business_rd_share_2015``) gets the R&D propensity (``_rd_propensity``) that gives its firms
    that share in the full-scale population of the seed (so that it does not depend on the scale); it shifts the
    firm effect eta of its firms and of its later entrants (``new_firms``)."""
    pinned = any(p.business_rd_share_2015 is not None for p in data.prefectures())
    full = _draw(population_seed, 1.0, pol, b).propensity if pinned and scale != 1.0 else None
    d = _draw(population_seed, scale, pol, b, full)
    init, cols, active, rev, floor, rng = d.init, d.cols, d.active, d.cols["revenue"], d.floor, d.rng
    propensity, n, target_rd, hte, draws, uids = d.propensity, d.n, d.target_rd, d.hte, d.draws, d.uids
    reported_per_real = d.reported_per_real
    cols["eta"] = cols["eta"] + np.log(propensity)[cols["pref"]]
    relative = d.relative0 * propensity[cols["pref"]]

    def bounded(level: float, rel: np.ndarray, fl: np.ndarray) -> np.ndarray:
        """R&D intensity of performers with relative intensities ``rel`` and floors ``fl`` at ``level``."""
        return np.maximum(np.minimum(level * rel, b.max_rd_intensity), fl)

    def intensity(level: float) -> np.ndarray:
        return np.where(active, bounded(level, relative, floor), 0.0)

    # the R&D of every firm (0 without R&D: 0 x revenue x reported/real), computed for the R&D performers only
    a = np.flatnonzero(active)
    relative_a, floor_a, rev_a, reported_a = relative[a], floor[a], rev[a], reported_per_real[a]

    def excess(level: float) -> float:
        rd_all = np.zeros(n)
        rd_all[a] = bounded(level, relative_a, floor_a) * rev_a * reported_a
        return float(np.sum(rd_all)) - target_rd

    if excess(1e-6) > 0 or excess(1e3) < 0:
        raise InputError(
            f"run.scale = {scale:g}: the {n} firms drawn cannot carry the end-2015 R&D stocks "
            "(too few or too large R&D performers); use a larger scale (0.1 or more) or another population seed"
        )
    level = brentq(excess, 1e-6, 1e3)
    rd_int = intensity(level)
    real = rd_int * rev
    rd = real * reported_per_real
    cols.update(
        rd_active=active,
        rd_int=rd_int,
        rd=rd,
        rd_real=real,
        rd_l1=rd / (1 + b.history_growth),
        rd_l2=rd / (1 + b.history_growth) ** 2,
        knowledge=real / (b.knowledge_depreciation + b.history_growth),
        hitech_share=np.where(active, cols["tech_orient"], b.non_rd_hitech_factor * cols["tech_orient"]),
    )
    p_ip = 1.0 - np.exp(-b.initial_ip_years * b.ip_probability_scale * np.sqrt(real / IP_RD_UNIT))
    cols["ip"] = (draws.uniform(START_YEAR, "new_ip", uids) < p_ip).astype(np.int32)

    _initial_certificates(rng, cols, hte, init, scale, b)
    return FirmPopulation(cols), level, propensity


def _draw(population_seed: int, scale: float, pol: PolicyYear, b: SimpleNamespace,
          propensity: np.ndarray | None = None) -> SimpleNamespace:
    """Structure, R&D activity, HTE holders and their R&D floors of the end-2015 population, and the pinned
    prefectures' R&D propensity (solved here unless ``propensity`` is given)."""
    S = sector_table()
    init = data.values("initial_state")
    n = _scaled_count(data.observed("enterprises")[START_YEAR], scale)
    draws, uids = KeyedDraws(population_seed), np.arange(n, dtype=np.int64)
    rng = np.random.default_rng([population_seed, START_YEAR])  # the certificate holders' draws below
    n_pref = len(data.prefectures())
    cols = new_firms(draws, uids, START_YEAR, 1.0, b, np.ones(n_pref))
    age = np.floor(-b.initial_mean_firm_age * np.log(draws.uniform(START_YEAR, "new_age", uids)))  # exponential
    cols["birth"] = (START_YEAR - age).astype(np.int16)
    rev, sector, pref = cols["revenue"], cols["sector"], cols["pref"]

    # Extensive margin: intercept a0 so that the expected share of above-scale industrial firms with R&D
    # equals the end-2015 value.
    logit_rest = S.rd_logit[sector] + b.rd_size_slope * np.log(rev / REVENUE_UNIT)
    above = S.industrial[sector] & (rev >= ABOVE_SCALE_REVENUE)
    target_share = init["share_firms_with_rd"] / 100.0
    logit_above = logit_rest[above]
    a0 = brentq(lambda a: sigmoid(a + logit_above).mean() - target_share, -30.0, 30.0)
    active = draws.uniform(START_YEAR, "new_active", uids) < sigmoid(a0 + logit_rest)

    # Intensive margin: relative intensities from sector, size and firm effect; R&D concentration (the pinned
    # prefectures' propensity) first without, then with the HTE holders' floors.
    target_rd = data.observed("business_rd")[START_YEAR] * WAN_PER_YI * scale  # 亿元 -> 万元
    relative0 = S.rd_intensity[sector] * (rev / REVENUE_UNIT) ** b.size_elasticity * np.exp(cols["eta"])
    floor = np.zeros(n)
    first = _rd_propensity(pref, active, relative0, rev, floor, target_rd, b, n_pref) if propensity is None else propensity
    # HTE holders: R&D-oriented firms (weight = relative intensity) of a size whose threshold R&D is plausible
    pool = np.flatnonzero(active & (rev >= b.hte_2015_min_revenue) & (rev <= b.hte_2015_max_revenue))
    hte = _pick_hte(rng, pool, pref, _scaled_count(init["hte"], scale), relative0 * first[pref])
    # the 2015 data count reported R&D: real R&D plus the routine relabelling of the 2015 tax rules
    # (qhsim.firms.relabel); the level L and the holders' floor apply to real R&D
    reported_per_real = _reported_per_real(cols, hte, pol, b)
    floor[hte] = b.hte_2015_threshold_margin * hte_threshold(rev[hte], pol) / reported_per_real[hte]
    if propensity is None:
        propensity = _rd_propensity(pref, active, relative0, rev * reported_per_real, floor, target_rd, b, n_pref)
    return SimpleNamespace(init=init, n=n, draws=draws, uids=uids, rng=rng, cols=cols, active=active,
                           relative0=relative0, hte=hte, floor=floor, propensity=propensity, target_rd=target_rd,
                           reported_per_real=reported_per_real)


def _pick_hte(rng: np.random.Generator, pool: np.ndarray, pref: np.ndarray, k: int, weight: np.ndarray) -> np.ndarray:
    """The end-2015 HTE holders: a prefecture with a documented share of the province's HTEs (geography.toml
    ``hte_share_2015``) gets that share of the ``k`` certificates, drawn among its own candidates; the rest of the
    province the remainder."""
    picks, rest = [], np.ones(len(pool), dtype=bool)
    for i, p in enumerate(data.prefectures()):
        if p.hte_share_2015 is not None:
            mine = pref[pool] == i
            rest &= ~mine
            picks.append(_pick(rng, pool[mine], int(round(p.hte_share_2015 * k)), weight[pool[mine]]))
    others = pool[rest]
    picks.append(_pick(rng, others, k - sum(len(x) for x in picks), weight[others]))
    return np.concatenate(picks)


# a pinned prefecture's R&D propensity is kept within these (see _rd_propensity)
PROPENSITY_BOUNDS = tuple(data.values("initial_state")["rd_propensity_bounds"])


def _rd_propensity(pref: np.ndarray, active: np.ndarray, relative: np.ndarray, rev: np.ndarray, floor: np.ndarray,
                   target_rd: float, b: SimpleNamespace, n_pref: int) -> np.ndarray:
    """R&D propensity per prefecture: 1, except for a prefecture with a documented share of the province's 2015
    business R&D (geography.toml ``business_rd_share_2015``, Haidong's times ``haidong_rd_share_factor``), where it
    is the ratio of the level factor that gives its firms that share to the level factor that gives the other firms
    the rest (intensities at least ``floor``).
    Kept within PROPENSITY_BOUNDS: when a prefecture's floors alone exceed its share (or, in a small population, its
    few R&D performers cannot carry it), its R&D misses the share instead of its firms' intensity running away."""
    factor = data.prefecture_multiplier("haidong", b.haidong_rd_share_factor)  # 1: the shares as documented
    pinned = [(i, p.business_rd_share_2015 * factor[i]) for i, p in enumerate(data.prefectures())
              if p.business_rd_share_2015 is not None]
    propensity = np.ones(n_pref)
    if not pinned:
        return propensity
    in_pinned = np.zeros(len(pref), dtype=bool)
    for i, _ in pinned:
        in_pinned |= pref == i
    rest = _level(active & ~in_pinned, relative, rev, floor, (1.0 - sum(s for _, s in pinned)) * target_rd, b)
    for i, share in pinned:
        level = _level(active & (pref == i), relative, rev, floor, share * target_rd, b)
        propensity[i] = np.clip(level / rest, *PROPENSITY_BOUNDS)
    return propensity


def _level(mask: np.ndarray, relative: np.ndarray, rev: np.ndarray, floor: np.ndarray, target: float,
           b: SimpleNamespace) -> float:
    """Level factor L with sum over ``mask`` of max(min(L x relative, max intensity), floor) x revenue = ``target``
    (a tiny L when the floors alone exceed it, a huge one when the firms cannot carry it: the bounds then bind)."""
    rel, r, fl = relative[mask], rev[mask], floor[mask]

    def excess(lv: float) -> float:
        return float(np.sum(np.maximum(np.minimum(lv * rel, b.max_rd_intensity), fl) * r)) - target

    if excess(1e-9) > 0:
        return 1e-9
    return 1e3 if excess(1e3) < 0 else brentq(excess, 1e-9, 1e3)


def _reported_per_real(cols: dict, hte: np.ndarray, pol: PolicyYear, b: SimpleNamespace) -> np.ndarray:
    """Reported R&D per yuan of real R&D in 2015: 1 + tau d / gamma (routine relabelling, qhsim.firms.relabel),
    with the holders ``hte`` at the HTE rate and no firm yet registered as a tech-based SME."""
    S = sector_table()
    n = len(cols["uid"])
    hte_until = np.zeros(n, dtype=np.int16)
    hte_until[hte] = START_YEAR
    firms = FirmPopulation({**cols, "hte_until": hte_until, "sme_year": np.zeros(n, dtype=np.int16)})
    tau, _ = tax_rates(firms, pol)
    d = deduction_rates(firms, pol, S.manufacturing)
    return 1.0 + routine_relabel(np.ones(n), tau, d, b)


def _initial_certificates(
    rng: np.random.Generator, cols: dict, hte: np.ndarray, init: dict, scale: float, b: SimpleNamespace
) -> None:
    """Hand out the end-2015 certificates to R&D-active firms (weights R&D^``certificate_weight_exponent``).

    The HTE holders ``hte`` already have R&D above the threshold; their other attributes are set to satisfy
    the certification rule (they held a valid certificate), with expiries spread evenly over 2015-2017
    (3-year certificates issued 2013-2015, ``hte_age_spread``; a holder's first year is its certificate's).
    """
    active = np.flatnonzero(cols["rd_active"])
    weight = cols["rd"][active] ** init["certificate_weight_exponent"]
    spread = init["hte_age_spread"]
    cols["hte_until"][hte] = START_YEAR + rng.integers(0, spread, len(hte))
    cols["hte_since"][hte] = cols["hte_until"][hte] - (spread - 1)
    cols["hitech_share"][hte] = np.maximum(
        cols["hitech_share"][hte], b.hte_2015_hitech_share_min + b.hte_2015_hitech_share_spread * rng.random(len(hte))
    )
    cols["tech_orient"][hte] = np.maximum(cols["tech_orient"][hte], cols["hitech_share"][hte])
    cols["ip"][hte] = np.maximum(cols["ip"][hte], 1)

    tbe = _pick(rng, active, _scaled_count(init["tech_based_enterprises"], scale), weight)
    cols["tbe_until"][tbe] = START_YEAR + rng.integers(0, int(b.tbe_validity_years), len(tbe))

    certified = np.union1d(hte, tbe)
    big = certified[cols["revenue"][certified] >= b.giant_min_revenue]
    giants = _pick(rng, big if len(big) else certified, _scaled_count(init["little_giants"], scale))
    cols["giant_until"][giants] = START_YEAR + rng.integers(0, int(b.giant_validity_years), len(giants))

    small = active[
        (cols["employees"][active] <= TECH_SME_MAX_EMPLOYEES) & (cols["revenue"][active] <= TECH_SME_MAX_REVENUE)
    ]
    smes = _pick(rng, small, _scaled_count(init["tech_smes"], scale))
    cols["sme_year"][smes] = START_YEAR
