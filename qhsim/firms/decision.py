"""The yearly R&D decision of every firm 企业年度研发决策 (MODEL.md §4 steps 2-4; docs/ODD.md §7.2-7.5).

One function runs the decision sequence over the whole population — tax rate, super-deduction, user
cost, start/stop, desired and planned R&D, HTE notch, reward notch — without changing the population.
``QinghaiModel.step`` applies its result; the tests and the benchmark compare it firm by firm with
``qhsim.firms.reference.reference_firm_step``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim.firms.certification import hte_notch, reward_notch
from qhsim.firms.rd import (
    campaign_targets,
    deduction_rates,
    desired_intensity,
    expected_subsidy_rate,
    planned_rd,
    sigmoid,
    start_logit,
    stop_probability,
    tax_rates,
    user_cost,
)
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear

# What ``decide`` returns, in order (the reference returns the same keys).
STEP_FIELDS = ("tau", "tau_alt", "d", "s", "uc", "targeted", "p_start", "p_stop", "rd_active", "r_star",
               "rd_planned", "rd_hte", "rd_plan")


def decide(
    f: FirmPopulation,
    pol: PolicyYear,
    b: SimpleNamespace,
    S: SimpleNamespace,
    level: float,
    u_start: np.ndarray,
    u_stop: np.ndarray,
) -> dict[str, np.ndarray]:
    """This year's R&D decisions given the uniform draws for starting and stopping; ``f`` is unchanged."""
    tau, tau_alt = tax_rates(f, pol)
    d = deduction_rates(f, pol, S.manufacturing)
    s = expected_subsidy_rate(f, b)
    uc = user_cost(tau, d, s, b.user_cost_floor)
    targeted = campaign_targets(f, pol, S.industrial)
    p_start = sigmoid(start_logit(f, uc, S.rd_logit, targeted, b))
    p_stop = stop_probability(f, pol.year, b)
    active = np.where(f.rd_active, ~(u_stop < p_stop), u_start < p_start)
    now = FirmPopulation({**f.cols, "rd_active": active})
    r_star = desired_intensity(now, uc, S.rd_intensity, level, b)
    rd_planned = planned_rd(now, r_star, b)
    rd_hte = hte_notch(now, pol, rd_planned, uc, tau_alt, b)
    rd_plan = reward_notch(now, pol, rd_hte, uc, S.agri, b)
    values = (tau, tau_alt, d, s, uc, targeted, p_start, p_stop, active, r_star, rd_planned, rd_hte, rd_plan)
    return dict(zip(STEP_FIELDS, values))
