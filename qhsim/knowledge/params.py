"""Parameters, institution rows and keyed draws of the knowledge system 知识与人才系统参数.

Structural and behavioural numbers live in ``qhsim/data/talent.toml`` and ``qhsim/data/knowledge.toml``
(quantity convention, qhsim/data/README.md); the named institutions in ``qhsim/data/institutions.toml``.
A scenario's ``[parameters]`` table may override any of them by name (checked in the schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

import numba
import numpy as np
from scipy.special import ndtri

from qhsim import data
from qhsim.draws import PURPOSES, KeyedDraws
from qhsim.errors import InputError

PARAMETER_FILES = ("talent", "knowledge")
SOURCES = ("institutional", "competitive", "enterprise", "other")
KINDS = ("university", "institute")
OWNERS = ("provincial", "central", "prefecture")

# Purpose ids of the knowledge system's draws (>= 100, disjoint from qhsim.draws.PURPOSES); never renumber.
KNOWLEDGE_PURPOSES = {
    # talent
    "t_init_age": 101, "t_init_level": 102, "t_init_origin": 103, "t_init_factor": 104, "t_staff_round": 105,
    "t_depart": 106, "t_layoff": 107, "t_slot_order": 108, "t_seeker_order": 109, "t_recruit": 110,
    "t_new_age": 111, "t_new_factor": 112, "t_prog_fill": 113, "t_prog_flex": 114, "t_prog_host": 115,
    "t_prog_rank": 116, "t_flex_renew": 117, "t_grad_pool": 118, "t_init_years": 119, "t_host_kind": 120,
    # institutions and research funding
    "i_competitive": 130,
    # technology market
    "m_demand": 140, "m_type": 141, "m_value": 142, "m_broker": 143, "m_choice": 144, "m_accept": 145,
    "m_capacity": 146, "m_ext_count": 147, "m_ext_value": 148, "m_ext_type": 149, "m_seller": 150,
    "m_ext_choice": 151,
    # patents
    "p_apply": 160, "p_grant": 161, "p_lag": 162, "p_lapse": 163, "p_init": 164,
    # platforms, incubators, spin-offs
    "f_apply": 170, "f_rank": 171, "f_upgrade": 172, "f_eval": 173, "f_field": 174, "f_init": 175,
    "f_carrier": 176, "f_startup": 177, "f_spinoff": 178, "f_pref_apply": 179, "f_inst_slot": 180,
}
_ALL_PURPOSES = {**PURPOSES, **KNOWLEDGE_PURPOSES}
if len(set(_ALL_PURPOSES.values())) != len(_ALL_PURPOSES):  # pragma: no cover - guards against renumbering
    raise RuntimeError("purpose ids of qhsim.draws and qhsim.knowledge collide")


class KnowledgeDraws(KeyedDraws):
    """``KeyedDraws`` (same seed key, so common random numbers across scenarios) with the knowledge
    system's purposes, plus Poisson and binomial draws by inverse CDF of the keyed uniforms."""

    purposes = _ALL_PURPOSES

    def poisson(self, year: int, purpose: str, uids: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Poisson(lam) per uid (inverse CDF); 0 where lam <= 0."""
        lam = np.asarray(lam, dtype=float)
        out = np.zeros(lam.shape, dtype=np.int64)
        pos = lam > 0
        if pos.any():
            out[pos] = poisson_ppf(self.uniform(year, purpose, np.asarray(uids)[pos]), lam[pos])
        return out

    def binomial(self, year: int, purpose: str, uids: np.ndarray, n: np.ndarray, p: float | np.ndarray) -> np.ndarray:
        """Binomial(n, p) per uid (inverse CDF); 0 where n == 0."""
        n = np.asarray(n, dtype=np.int64)
        p = np.broadcast_to(np.asarray(p, dtype=float), n.shape)
        out = np.zeros(n.shape, dtype=np.int64)
        pos = (n > 0) & (p > 0)
        if pos.any():
            out[pos] = binomial_ppf(self.uniform(year, purpose, np.asarray(uids)[pos]), n[pos], np.minimum(p[pos], 1.0))
        return out


LARGE_MEAN = 30.0  # above this mean (variance for the binomial), the inverses use the normal approximation


def poisson_ppf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Smallest k with P(X <= k) >= u, X ~ Poisson(lam): sequential search over the pmf recursion
    p_{k+1} = p_k lam / (k + 1) (exact, fast for the small means used here); normal approximation above LARGE_MEAN."""
    u, lam = np.asarray(u, dtype=float), np.asarray(lam, dtype=float)
    k = np.zeros(u.shape, dtype=np.int64)
    big = lam > LARGE_MEAN
    if big.any():
        k[big] = np.maximum(np.floor(lam[big] + np.sqrt(lam[big]) * ndtri(u[big]) + 0.5), 0).astype(np.int64)
    idx = np.flatnonzero(~big)
    _poisson_search(u[idx], lam[idx], np.exp(-lam[idx]), idx, k)  # exp stays numpy's (its SIMD code, bit for bit)
    return k


@numba.njit(cache=True, nogil=True)
def _poisson_search(u, lam, p0, idx, k):
    """k[idx[t]] = the smallest s with u_t <= cdf_s (1 + 1e-12), cdf_s summing p_0 = exp(-lam_t) and
    p_s = p_{s-1} lam_t / s in order (at most 10,000 steps)."""
    for t in range(len(idx)):
        p = p0[t]
        cdf = p
        s = 0
        while u[t] > cdf * (1.0 + 1e-12) and s <= 10_000:
            s += 1
            p = p * lam[t] / s
            cdf = cdf + p
        k[idx[t]] = s


def binomial_ppf(u: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Smallest k with P(X <= k) >= u, X ~ Binomial(n, p): sequential search over
    p_{k+1} = p_k (n - k) / (k + 1) * p / (1 - p); normal approximation when n p (1 - p) > LARGE_MEAN."""
    u, n, p = np.asarray(u, dtype=float), np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float)
    k = np.zeros(u.shape, dtype=np.int64)
    full = p >= 1.0
    k[full] = n[full]
    var = n * p * (1.0 - p)
    big = ~full & (var > LARGE_MEAN)
    if big.any():
        approx = np.floor(n[big] * p[big] + np.sqrt(var[big]) * ndtri(u[big]) + 0.5)
        k[big] = np.clip(approx, 0, n[big]).astype(np.int64)
    idx = np.flatnonzero(~full & ~big)
    pp = p[idx]
    _binomial_search(u[idx], n[idx], (1.0 - pp) ** n[idx], pp / (1.0 - pp), idx, k)  # ** stays numpy's
    return k


@numba.njit(cache=True, nogil=True)
def _binomial_search(u, n, p0, odds, idx, k):
    """k[idx[t]] = the smallest s with u_t <= cdf_s (1 + 1e-12) or s = n_t, cdf_s summing p_0 = (1 - p)^n and
    p_s = p_{s-1} (n - s + 1) / s odds in order."""
    for t in range(len(idx)):
        p = p0[t]
        cdf = p
        s = 0
        while u[t] > cdf * (1.0 + 1e-12) and s < n[t]:
            s += 1
            p = p * (n[t] - s + 1) / s * odds[t]
            cdf = cdf + p
        k[idx[t]] = s


def knowledge_parameters(overrides: dict[str, float] | None = None) -> SimpleNamespace:
    """Values of talent.toml and knowledge.toml with a scenario's overrides (names are unique across files)."""
    values: dict[str, Any] = {}
    for name in PARAMETER_FILES:
        values.update(data.values(name))
    for key, value in (overrides or {}).items():
        if key in values:
            values[key] = value
    return SimpleNamespace(**values)


@dataclass(frozen=True)
class InstitutionRow:
    id: str
    zh: str
    en: str
    kind: str
    owner: str
    pref: int
    rd_2015: float
    shares: tuple[float, float, float, float]  # institutional, competitive, enterprise, other
    national_competitive: float
    graduates: float
    tto_capacity: float
    national: int
    key_labs: int
    ercs: int
    patents: int
    fields: np.ndarray  # weight per sector (sums to 1)
    platform_prefs: np.ndarray  # weight per prefecture (sums to 1)


@cache
def institution_rows() -> tuple[InstitutionRow, ...]:
    """The named institutions (institutions.toml), checked."""
    table = data.load("institutions")
    pref_ids, sec_ids = data.prefecture_ids(), data.sector_ids()
    rows = []
    for raw in table["institution"]:
        where = f"{data.DATA_DIR / 'institutions.toml'}: institution {raw.get('id', '?')}"
        if "source" not in raw:
            raise InputError(f"{where}: missing source")
        if raw["kind"] not in KINDS or raw["owner"] not in OWNERS or raw["pref"] not in pref_ids:
            raise InputError(f"{where}: kind, owner or pref not recognised")
        shares = tuple(float(raw[f"share_{s}"]) for s in SOURCES)
        if abs(sum(shares) - 1.0) > 1e-9:
            raise InputError(f"{where}: funding shares sum to {sum(shares)}, expected 1")
        unknown = set(raw["fields"]) - set(sec_ids)
        if unknown:
            raise InputError(f"{where}: unknown sectors in fields: {sorted(unknown)}")
        fields = np.array([float(raw["fields"].get(s, 0.0)) for s in sec_ids])
        pp = raw.get("platform_prefs", {raw["pref"]: 1.0})
        pprefs = np.array([float(pp.get(p, 0.0)) for p in pref_ids])
        rows.append(
            InstitutionRow(
                id=raw["id"], zh=raw["zh"], en=raw["en"], kind=raw["kind"], owner=raw["owner"],
                pref=pref_ids.index(raw["pref"]), rd_2015=float(raw["rd_2015"]), shares=shares,
                national_competitive=float(raw["national_competitive"]), graduates=float(raw["graduates"]),
                tto_capacity=float(raw["tto_capacity"]), national=int(raw["national"]),
                key_labs=int(raw["key_labs"]), ercs=int(raw["ercs"]), patents=int(raw["patents"]),
                fields=fields / fields.sum(), platform_prefs=pprefs / pprefs.sum(),
            )
        )
    return tuple(rows)


@cache
def population_shares() -> np.ndarray:
    """Prefecture shares of the province's population (geography.toml, as printed in seed 001)."""
    pop = np.array([p.population for p in data.prefectures()])
    return pop / pop.sum()


class Carry:
    """Turns yearly full-scale counts into whole simulated counts at the run's scale; fractions carry over."""

    def __init__(self, scale: float):
        self.scale = scale
        self._carry: dict[str, float] = {}

    def __call__(self, key: str, full_count: float) -> int:
        exact = full_count * self.scale + self._carry.get(key, 0.0)
        n = int(np.floor(exact + 1e-9))
        self._carry[key] = exact - n
        return max(n, 0)

    def whole(self, key: str, simulated_count: float) -> int:
        """Like calling the carry, for a count already in the simulated world (not to be scaled)."""
        exact = simulated_count + self._carry.get(key, 0.0)
        n = int(np.floor(exact + 1e-9))
        self._carry[key] = exact - n
        return max(n, 0)
