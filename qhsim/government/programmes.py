"""Government programmes 政府项目 (MODEL.md §4 step 5): who applies, who is selected, who is paid.

Each function takes the budget available this year (already scaled to the simulated population) and
returns what each firm is paid, in 万元. Rationing rules: ex-ante grants go down a ranking until the
budget is spent (the ranking is the scenario's selection rule); entitlements (ex-post subsidy,
R&D-intensity rewards) are cut pro rata when claims exceed the budget.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim import data
from qhsim.draws import KeyedDraws
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.soa import nonzero_rows
from qhsim.units import SME_EMPLOYEES

XINING = data.capital()  # "weak prefectures" are all others (seed 003:L939)


def ex_ante_grants(
    f: FirmPopulation, pol: PolicyYear, rd_plan: np.ndarray, budget: float, draws: KeyedDraws, b: SimpleNamespace
) -> np.ndarray:
    """Competitive project grants: apply, rank by the selection rule, fund down the list within budget.

    Merit score (grant_merit_* in behaviour.toml): ln(1 + knowledge stock) + w_int * planned R&D intensity
    + w_hte * (valid HTE) + s_noise * z; a priority group gets grant_priority_bonus on top.
    """
    year, uid = pol.year, f.uid
    # only R&D-active firms can apply: sizes, eligibility and the application draws on their positions
    active = np.flatnonzero(f.rd_active)
    size = np.minimum(pol.grant_size, rd_plan[active] / max(pol.grant_cofunding, 1e-9))
    ok = size >= b.grant_min_share * pol.grant_size
    eligible, size = active[ok], size[ok]
    asks = draws.uniform(year, "grant_apply", uid, eligible) < b.grant_apply_probability
    idx, size = eligible[asks], size[asks]  # the applicants and their grant sizes
    paid = np.zeros(len(f))
    if budget <= 0 or not len(idx):
        return paid
    intensity = rd_plan[idx] / f.revenue[idx]
    merit = (
        np.log1p(f.knowledge[idx])
        + b.grant_merit_intensity_weight * intensity
        + b.grant_merit_hte_weight * (f.hte_until[idx] >= year)
        + b.grant_merit_noise_sd * draws.normal(year, "grant_merit", uid[idx])
    )
    score = {
        "merit": merit,
        "lottery": draws.uniform(year, "grant_merit", uid[idx]),
        "sme_first": merit + b.grant_priority_bonus * (f.employees[idx] <= SME_EMPLOYEES),
        "weak_prefecture_first": merit + b.grant_priority_bonus * (f.pref[idx] != XINING),
    }[pol.grant_selection]
    order = np.lexsort((uid[idx], -score))  # applicants (positions in idx), best first
    funded = order[np.cumsum(size[order]) <= budget]
    paid[idx[funded]] = size[funded]
    return paid


def _pro_rata(claims: np.ndarray, budget: float) -> np.ndarray:
    total = claims.sum()
    return claims if total <= budget else claims * (budget / total)


def ex_post_subsidy(f: FirmPopulation, pol: PolicyYear, budget: float, draws: KeyedDraws,
                    b: SimpleNamespace) -> np.ndarray:
    """Subsidy on this year's R&D (后补助): min(rate x R&D, cap) for claimants, pro rata within budget."""
    if budget <= 0 or pol.expost_rate <= 0:
        return np.zeros(len(f))
    rd = np.flatnonzero(f.rd > 0)  # claimants among the firms with R&D
    c = draws.pick(pol.year, "expost_apply", f.uid, b.expost_apply_probability, rd)
    entitlement = np.zeros(len(f))
    entitlement[c] = np.minimum(pol.expost_rate * f.rd[c], pol.expost_cap)
    return _pro_rata(entitlement, budget)


def rd_rewards(f: FirmPopulation, amount: np.ndarray, budget_per_prefecture: float, n_prefectures: int) -> np.ndarray:
    """Tiered R&D-intensity rewards, each listed prefecture paying from its own fund, pro rata if short."""
    paid = nonzero_rows(amount)  # zeros add nothing to a prefecture's sum (as in indicators.compute)
    claims = np.bincount(f.pref[paid], weights=amount[paid], minlength=n_prefectures)
    ratio = np.minimum(np.divide(budget_per_prefecture, claims, out=np.ones(n_prefectures), where=claims > 0), 1.0)
    if np.all(ratio == 1.0):  # every fund covers its claims: amount x 1.0 is amount
        return amount.copy()
    return amount * ratio[f.index("pref")]


def vouchers(f: FirmPopulation, pol: PolicyYear, budget: float, draws: KeyedDraws, b: SimpleNamespace) -> np.ndarray:
    """Innovation vouchers for SMEs: applicants served in random order while the budget lasts."""
    paid = np.zeros(len(f))
    if budget <= 0 or pol.voucher_value <= 0:
        return paid
    u = draws.uniform(pol.year, "voucher_apply", f.uid)
    idx = np.flatnonzero(u < b.voucher_apply_probability)  # the few who ask, then the SMEs among them
    idx = idx[f.employees[idx] <= pol.voucher_max_employees]
    n = int(budget // pol.voucher_value)
    chosen = idx[np.lexsort((f.uid[idx], u[idx]))][:n]
    paid[chosen] = pol.voucher_value
    return paid
