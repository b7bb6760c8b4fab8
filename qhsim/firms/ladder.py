"""Yearly certification round 年度认定: grants, renewals and expiries along the firm ladder.

Order: HTE renewals and new certificates (national rule), tech-based SME registration (valid one year),
provincial tech-based enterprise recognition (first recognitions more likely through ``tbe_rush_last_year``, by
``tbe_recognition_early_factor``), little-giant intake within the yearly quota.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim.draws import KeyedDraws
from qhsim.firms.certification import hte_criteria, relabel_to_threshold, revenue_growth_3y, three_year_ratio
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.units import TECH_SME_MAX_EMPLOYEES, TECH_SME_MAX_REVENUE


def granted(f: FirmPopulation, year: int, held: np.ndarray) -> np.ndarray:
    """Positions of the HTE certificates granted in ``year``'s round, first or renewed: the firms that hold a valid
    certificate now and did not before the round (``held``: ``f.hte_until >= year`` then)."""
    return np.flatnonzero((f.hte_until >= year) & ~held)


def certify(
    f: FirmPopulation, pol: PolicyYear, b: SimpleNamespace, draws: KeyedDraws, giant_quota: int, fte_cost: float
) -> np.ndarray:
    """Update certificates in place; return the positions (ascending) of the firms certified as HTE this year.
    ``fte_cost`` is the year's cost of an R&D FTE (``qhsim.macro.cost_per_fte``), for the S&T-staff criterion."""
    year = pol.year
    uid = f.uid
    # the HTE round on the positions of the few firms that meet the criteria (the draws keyed, so the same values as
    # on whole-population masks)
    meets = hte_criteria(f, pol, b, fte_cost)
    valid_until = year + pol.hte_validity - 1

    expired = meets[f.hte_until[meets] == year - 1]
    renew = draws.pick(year, "hte_renew", uid, b.hte_renewal_probability, expired)
    f.hte_until[renew] = valid_until

    take_up = b.hte_apply_probability * (b.hte_apply_early_factor if year < b.hte_push_year else 1.0)
    applicant = draws.pick(year, "hte_apply", uid, take_up, meets[f.hte_until[meets] < year])
    new_hte = draws.pick(year, "hte_approve", uid, b.hte_approval_rate, applicant)
    f.hte_until[new_hte] = valid_until
    f.hte_since[new_hte[f.hte_since[new_hte] == 0]] = year
    relabel_to_threshold(f, pol, np.concatenate((renew, new_hte)))  # disjoint: a renewed holder does not apply

    # the tech-based SME register and the tech-based enterprise recognition take R&D performers only (a few per
    # cent of the firms): their conditions and draws on those firms' positions (keyed, so the same values)
    active = np.flatnonzero(f.rd_active)
    now = f.subset(active)
    sme_ok = active[
        (now.employees <= TECH_SME_MAX_EMPLOYEES)
        & (now.revenue <= TECH_SME_MAX_REVENUE)
        & (np.divide(now.rd, now.revenue) >= b.tech_sme_min_intensity)
    ]
    registered = draws.pick(year, "sme", uid, b.tech_sme_register_probability, sme_ok)
    f.sme_year[registered] = year

    tbe_ok = active[three_year_ratio(now) >= b.tbe_min_intensity]
    tbe_draw = draws.uniform(year, "tbe", uid, tbe_ok)
    tbe_until = f.tbe_until[tbe_ok]
    renew_tbe = (tbe_until == year - 1) & (tbe_draw < b.hte_renewal_probability)  # the HTE's (behaviour.toml)
    recognition = b.tbe_recognition_probability * (
        b.tbe_recognition_early_factor if year <= b.tbe_rush_last_year else 1.0)
    new_tbe = (tbe_until < year - 1) & (tbe_draw < recognition)
    f.tbe_until[tbe_ok[renew_tbe | new_tbe]] = year + int(b.tbe_validity_years) - 1

    if giant_quota > 0:
        idx = np.flatnonzero(
            ((f.hte_until >= year) | (f.tbe_until >= year))
            & (f.giant_until < year)
            & (f.revenue >= b.giant_min_revenue)
        )
        growth = revenue_growth_3y(f.subset(idx))
        fast = growth >= b.giant_min_growth
        idx, growth = idx[fast], growth[fast]
        # fastest growers first; uid breaks ties so the order never depends on memory layout
        order = np.lexsort((uid[idx], -growth))
        chosen = idx[order[:giant_quota]]
        f.giant_until[chosen] = year + int(b.giant_validity_years) - 1
    return new_hte
