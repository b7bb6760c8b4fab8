"""The yearly R&D decision of every firm 企业年度研发决策 (MODEL.md §4 steps 2-4; docs/ODD.md §7.2-7.5).

One function runs the decision sequence — tax rate, super-deduction, user cost, start/stop over the whole
population; desired and planned R&D, HTE notch, reward notch over the firms doing R&D this year — without
changing the population.
``QinghaiModel.step`` applies its result; the tests and the benchmark compare it firm by firm with
``qhsim.firms.reference.reference_firm_step``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim.firms.certification import hte_notch, reward_notch
from qhsim.firms.rd import (
    campaign_targets,
    deduction_flags,
    deduction_rule,
    desired_intensity,
    expected_subsidy_rate,
    last_year_performers,
    no_rd_subsidy_rate,
    planned_rd,
    sigmoid,
    start_logit,
    stop_probability,
    tax_flags,
    tax_rule,
    usable_deduction,
    user_cost,
    user_cost_term,
)
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.soa import by_flags

# What ``decide`` returns, in order (the reference returns the same keys).
STEP_FIELDS = ("tau", "tau_alt", "d", "d_use", "s", "uc", "targeted", "p_start", "p_stop", "rd_active", "r_star",
               "rd_planned", "rd_hte", "rd_plan")


def decide(
    f: FirmPopulation,
    pol: PolicyYear,
    b: SimpleNamespace,
    S: SimpleNamespace,
    level: float,
    u_start: np.ndarray,
    u_stop: np.ndarray,
    fte_cost: float,
) -> dict[str, np.ndarray]:
    """This year's R&D decisions given the uniform draws for starting and stopping and the year's cost of an
    R&D FTE (``qhsim.macro.cost_per_fte``, for the HTE S&T-staff criterion); ``f`` is unchanged."""
    # tax rates, deduction rate, user cost and its start-logit term: for firms without R&D last year (nearly all)
    # these depend on seven conditions only (tax_flags, deduction_flags), so they are looked up per combination
    # (the same arithmetic on the same numbers); the firms with R&D last year then get their own d_use, s and uc
    s_none = no_rd_subsidy_rate(b)

    def rates(*flags: np.ndarray) -> tuple[np.ndarray, ...]:
        tau, tau_alt = tax_rule(pol, *flags[:4])
        d = deduction_rule(pol, *flags[4:])
        uc = user_cost(tau, d, np.full(len(d), s_none), b.user_cost_floor)
        return tau, tau_alt, d, uc, user_cost_term(uc, b)

    tau, tau_alt, d, uc, uc_term = by_flags(rates, *tax_flags(f, pol), *deduction_flags(f, pol, S.manufacturing))
    had = last_year_performers(f)
    d_use = usable_deduction(f, d, had)  # the statutory rate counts for the tax ledger, the usable one for decisions
    s = expected_subsidy_rate(f, b, had)
    uc[had] = user_cost(tau[had], d_use[had], s[had], b.user_cost_floor)
    uc_term[had] = user_cost_term(uc[had], b)
    targeted = campaign_targets(f, pol, S.industrial)
    p_start = sigmoid(start_logit(f, uc, S.rd_logit, targeted, b, uc_term))
    p_stop = stop_probability(f, pol.year, b)
    active = np.where(f.rd_active, ~(u_stop < p_stop), u_start < p_start)
    # the intensive margin and the notches only for the firms doing R&D this year (a few per cent of all firms);
    # the others plan nothing (r_star = 0 for them)
    act = np.flatnonzero(active)
    now = f.subset(act, rd_active=np.ones(len(act), bool))
    uc_a = uc[act]
    out = {}
    out["r_star"] = desired_intensity(now, uc_a, S.rd_intensity, level, b)
    out["rd_planned"] = planned_rd(now, out["r_star"], b)
    out["rd_hte"] = hte_notch(now, pol, out["rd_planned"], uc_a, tau[act], tau_alt[act], d_use[act], b, fte_cost)
    out["rd_plan"] = reward_notch(now, pol, out["rd_hte"], uc_a, S.agri, b)
    for key, sub in out.items():
        out[key] = np.zeros(len(f))
        out[key][act] = sub
    values = (tau, tau_alt, d, d_use, s, uc, targeted, p_start, p_stop, active)
    return {**dict(zip(STEP_FIELDS, values)), **out}
