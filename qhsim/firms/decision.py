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

from qhsim.draws import KeyedDraws
from qhsim.firms.certification import hte_notch
from qhsim.firms.rd import (
    CombinationRates,
    campaign_targets,
    capped_deduction,
    deduction_flags,
    deduction_rule,
    desired_intensity,
    expected_subsidy_rate,
    last_year_performers,
    planned_rd,
    sigmoid,
    start_hazard,
    start_logit,
    starter_deduction,
    stop_hazard,
    stop_probability,
    tax_flags,
    tax_rule,
    user_cost,
    user_cost_term,
)
from qhsim.firms.rewards import reward_notch
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.soa import Lookup, flag_code

# What ``decide`` returns, in order (the reference returns the same keys).
STEP_FIELDS = ("tau", "tau_alt", "d", "d_use", "s", "uc", "targeted", "p_start", "p_stop", "hazard", "rd_active",
               "r_star", "rd_planned", "rd_hte", "rd_plan")
# What ``decide(..., probabilities=False)`` returns (the fields the model's step uses).
MODEL_FIELDS = ("tau", "tau_alt", "d", "d_use", "uc", "hazard", "rd_active", "rd_plan")


def decide(
    f: FirmPopulation,
    pol: PolicyYear,
    b: SimpleNamespace,
    S: SimpleNamespace,
    level: float,
    clock: np.ndarray,
    fte_cost: float,
    probabilities: bool = True,
) -> dict[str, np.ndarray]:
    """This year's R&D decisions given each firm's switching clock and the year's cost of an R&D FTE
    (``qhsim.macro.cost_per_fte``, for the HTE S&T-staff criterion); ``f`` is unchanged.

    Extensive margin: an inactive firm starts, an active one stops, when its ``clock`` (the hazard left until its
    next switch, Exp(1) when drawn) is at most this year's hazard (``start_hazard``, ``stop_hazard``): with
    probability p_start or p_stop, as a yearly draw below the probability would, but a variant that raises a firm's
    hazard a little advances its switch a little instead of drawing it at another time (common random numbers that
    stay coupled; docs/ODD.md §7.3). ``hazard`` is returned: the model takes it off the clocks of the firms that do
    not switch.

    ``probabilities=False`` (the model's step): only the MODEL_FIELDS, the same values, tau, tau_alt and d as
    ``qhsim.soa.Lookup`` (gathered where read); the stop probabilities are then computed for the active firms
    only."""
    # tax rates, deduction rate, user cost and its start-logit term: for firms without R&D last year (nearly all)
    # these depend on seven conditions only (tax_flags, deduction_flags), so they are looked up per combination
    # (the same arithmetic on the same numbers); the firms with R&D last year then get their own d_use, s and uc, and
    # so do the others whose taxable profit could not absorb the statutory rate (``starter_deduction``)
    def rates(*flags: np.ndarray) -> CombinationRates:
        tau, tau_alt = tax_rule(pol, *flags[:4])
        d = deduction_rule(pol, *flags[4:])
        zero = np.zeros(len(d))
        uc = user_cost(tau, d, zero, b.user_cost_floor)  # s = 0 without R&D last year
        uc_none = user_cost(tau, zero, zero, b.user_cost_floor)
        return CombinationRates(tau, tau_alt, d, uc, user_cost_term(uc, b), uc_none, user_cost_term(uc_none, b))

    code, combinations = flag_code(*tax_flags(f, pol), *deduction_flags(f, pol, S.manufacturing))
    tables = rates(*combinations)
    had = last_year_performers(f)
    # each firm's user cost and term from its combination, in the pass that finds the others whose taxable profit
    # would not cover the statutory deduction on a first year's R&D: the loss-makers' set to their combination's
    # without a deduction, the rest's computed below
    new, d_new, uc, uc_term = starter_deduction(f, tables, code, S.rd_intensity, level, b)
    if probabilities:
        tau, tau_alt, d = (t.take(code, mode="wrap") for t in (tables.tau, tables.tau_alt, tables.d))
    else:  # the model reads these at a few positions only: looked up where read
        tau, tau_alt, d = (Lookup(t, code) for t in (tables.tau, tables.tau_alt, tables.d))
    d_use = tables.d.take(code, mode="wrap")  # statutory rate for the tax ledger, usable for decisions
    d_use[had] = capped_deduction(f, d[had], had)
    d_use[new] = d_new
    s = expected_subsidy_rate(f, b, had)
    uc[had] = user_cost(tau[had], d_use[had], s[had], b.user_cost_floor)
    uc_term[had] = user_cost_term(uc[had], b)
    part = np.flatnonzero(d_new > 0)  # the starters who can use part of the deduction
    at = new[part]
    uc[at] = user_cost(tau[at], d_new[part], np.zeros(len(at)), b.user_cost_floor)
    uc_term[at] = user_cost_term(uc[at], b)
    targeted = campaign_targets(f, pol, S.industrial)
    logit = start_logit(f, uc, S.rd_logit, targeted, b, uc_term)
    hazard = start_hazard(logit)
    was = np.flatnonzero(f.rd_active)
    if probabilities:
        p_start = sigmoid(logit)
        p_stop = stop_probability(f, pol.year, b)
        hazard[was] = stop_hazard(p_stop[was])
    else:
        hazard[was] = stop_hazard(stop_probability(f.subset(was), pol.year, b))
    active = f.rd_active ^ (clock <= hazard)
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
        if probabilities or key in MODEL_FIELDS:
            out[key] = np.zeros(len(f))
            out[key][act] = sub
    values = (tau, tau_alt, d, d_use, s, uc, targeted, *((p_start, p_stop) if probabilities else (None, None)), hazard,
              active)
    fields = {name: value for name, value in zip(STEP_FIELDS, values)}
    return {name: value for name, value in {**fields, **out}.items() if probabilities or name in MODEL_FIELDS}


def new_clocks(f: FirmPopulation, switched: np.ndarray, draws: KeyedDraws) -> None:
    """After the firms at positions ``switched`` started or stopped R&D: count the switch and draw each one's next
    clock, keyed by the number of the switch — not by the year, so a variant that moves a firm's switch by a year
    gives it the same next clock as its base, and the two stay coupled."""
    f.switches[switched] += 1
    f.switch_clock[switched] = draws.counted_exponential("switch", f.uid, switched, f.switches[switched])
