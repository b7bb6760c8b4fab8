"""Per-person reference versions of the talent kernels 人才规则参考实现 (plain Python, one person at a time).

They restate the rules of ``qhsim.knowledge.talent`` as directly as possible, for tests: the vectorised kernels
must agree with them on the same inputs. Not used by the model.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from qhsim.knowledge.talent import INSTITUTION, RECRUITED


def wage(kind: int, level: int, factor: float, index: float, kp: SimpleNamespace) -> float:
    base = kp.wage_institution if kind == INSTITUTION else kp.wage_firm
    return base * kp.level_wage_multiplier[level] * index * factor


def outside_wage(level: int, factor: float, index: float, kp: SimpleNamespace) -> float:
    return kp.wage_institution * kp.level_wage_multiplier[level] * (1.0 + kp.outside_wage_premium[level]) * index * factor


def annual_living(living: float, oblig_until: int, year: int) -> float:
    return living if year <= oblig_until else 0.0


def clawback_due(support: float, oblig_years: int, oblig_until: int, year: int, share: float) -> float:
    if year > oblig_until:
        return 0.0
    years = max(oblig_years, 1)
    unserved = min(oblig_until - year + 1, years)
    return share * support * unserved / years


def departure_probability(level: int, origin: int, age: int, w_eff: float, w_out: float, amenity: float,
                          clawback: float, kp: SimpleNamespace) -> float:
    x = kp.depart_origin_intercept[min(origin, RECRUITED)] + kp.depart_level_effect[level]
    x += kp.depart_wage_slope * (math.log(w_out) - math.log(w_eff) + amenity)
    if age < kp.young_age_limit:
        x += kp.depart_young_effect
    x -= kp.depart_clawback_slope * clawback / w_eff
    return 1.0 / (1.0 + math.exp(-x))


def retiring(age: int, level: int, kp: SimpleNamespace) -> bool:
    return age >= (kp.retire_age_high if level >= 2 else kp.retire_age)


def attraction_probability(w_offer: float, w_out: float, amenity: float, intercept: float,
                           kp: SimpleNamespace) -> float:
    x = intercept + kp.depart_wage_slope * (math.log(w_offer) - math.log(w_out) - amenity)
    return 1.0 / (1.0 + math.exp(-x))


def staff_target(rd: float, cost: float, u: float) -> int:
    return math.floor(rd / cost + u)


def layoffs(employer: list[int], releasable: list[bool], excess: dict[int, int], priority: list[float]) -> list[bool]:
    """For each employer, release its ``excess`` releasable people with the lowest priority (ties: earlier first)."""
    out = [False] * len(employer)
    for emp, n in excess.items():
        if n <= 0:
            continue
        members = [i for i in range(len(employer)) if employer[i] == emp and releasable[i]]
        members.sort(key=lambda i: (priority[i], i))
        for i in members[:n]:
            out[i] = True
    return out


def top_n(score: list[float], tiebreak: list[int], n: int) -> list[int]:
    """Positions of the n highest scores, best first; ties by ascending tiebreak."""
    order = sorted(range(len(score)), key=lambda i: (-score[i], tiebreak[i]))
    return order[:n]


def fill_order(slots: list[int], seekers: int, graduates: int, returnees: int) -> list[str]:
    """Who fills each vacancy slot, in slot order: job seekers, then graduates, then returnees, then outside."""
    out = []
    for k in range(len(slots)):
        if k < seekers:
            out.append("seeker")
        elif k < seekers + graduates:
            out.append("graduate")
        elif k < seekers + graduates + returnees:
            out.append("returnee")
        else:
            out.append("outside")
    return out
