"""Talent 人才: R&D personnel as a vectorised population (structure of arrays), one row per person.

The population IS the R&D staff of firms and institutions: an employer's staff target is its R&D budget divided
by the cost of one full-time R&D person, N*_e = R&D_e / c_t (firms: stochastic rounding with a fixed per-firm
uniform), and the people employed there are the rows whose ``employer`` is that firm's uid or the institution's
key. Nothing else counts R&D personnel. Flexible "migratory-bird" experts are rows too (``resident`` False,
``fte`` 0.25): they work for a host but are registered outside Qinghai, so they are not in the indicator.

Yearly order (``TalentSystem.step``; docs/ODD.md §7.10.2):
  ageing -> employer exit (staff become job seekers) -> retirement -> departure from the province (brain drain,
  with clawback of unearned programme support) -> flexible contracts ending -> layoffs to the staff target ->
  talent programmes (Thousand Talents introduced / cultivated / teams, Kunlun, flexible experts) -> hiring
  (job seekers, graduates, returnees, recruits from outside) -> seekers not rehired leave R&D work.

Kernels are plain functions of arrays; ``qhsim.knowledge.reference`` has per-person versions for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from qhsim import data
from qhsim.draws import KnowledgeDraws, arrival_keys
from qhsim.errors import InputError
from qhsim.knowledge.institutions import INSTITUTION_KEY, InstitutionSet
from qhsim.knowledge.selection import rank_within, top_n, weighted_pick
from qhsim.scaling import Carry
from qhsim.soa import ColumnTable

# employer kinds
NONE, FIRM, INSTITUTION = 0, 1, 2
# origins
LOCAL, RETURNEE, RECRUITED, FLEXIBLE = 0, 1, 2, 3
# programmes
NO_PROGRAMME, TT_INTRODUCED, TT_CULTIVATED, KUNLUN, FLEX_PROGRAMME = 0, 1, 2, 3, 4
# levels: 0 ordinary, 1 top-notch 拔尖, 2 leading 领军, 3 outstanding 杰出 (Thousand Talents tiers)
TIER_LEVEL = (3, 2, 1)  # tier index (outstanding, leading, top-notch) -> level
MAX_SLOTS = 4096  # vacancies per employer per year (slot keys are employer key * MAX_SLOTS + k)
ARRIVE_HIRED, ARRIVE_INTRODUCED, ARRIVE_FLEXIBLE = 1, 2, 3  # arrival sources of qhsim.draws.arrival_keys

COLUMNS: dict[str, Any] = {
    "pid": np.int64,
    "key": np.int64,  # the person's draw key, fixed on arrival (qhsim.draws.arrival_keys): pids count arrivals
    "kind": np.int8,  # NONE (job seeker), FIRM, INSTITUTION
    "employer": np.int64,  # firm uid, or INSTITUTION_KEY + institution index; -1 for none
    "level": np.int8,
    "origin": np.int8,
    "resident": np.bool_,  # False for flexible experts registered outside the province
    "fte": np.float64,  # 1 for residents, flexible_fte for flexible experts
    "age": np.int16,
    "since": np.int16,  # year joined the current employer
    "factor": np.float64,  # persistent personal wage factor
    "wage": np.float64,  # 万元 this year
    "prog": np.int8,  # NO_PROGRAMME, TT_INTRODUCED, TT_CULTIVATED, KUNLUN, FLEX_PROGRAMME
    "oblig_until": np.int16,  # last year of the service obligation / flexible contract (0 = none)
    "oblig_years": np.int16,  # length of the obligation
    "support": np.float64,  # programme support subject to clawback (万元)
    "living": np.float64,  # programme support received as personal income per obligation year (万元/yr)
}


class TalentPopulation(ColumnTable):
    """Columns of equal length, one entry per person; ``pid`` identifies a person for life."""

    COLUMNS = COLUMNS
    ID = "pid"


def new_columns(n: int, key: np.ndarray, **values: Any) -> dict[str, np.ndarray]:
    """Columns (except pid) for ``n`` new people with draw keys ``key``: zeros, then ``values`` (scalars
    broadcast)."""
    given = {"key": key, "employer": -1, "resident": True, "fte": 1.0, **values}
    cols = {}
    for name, dtype in COLUMNS.items():
        if name == "pid":
            continue
        value = np.asarray(given.get(name, 0), dtype=dtype)
        # a scalar fills the column; an array of n values is copied; anything else is broadcast
        if value.ndim == 0:
            cols[name] = np.full(n, value, dtype=dtype)
        else:
            cols[name] = value.copy() if value.shape == (n,) else np.broadcast_to(value, (n,)).copy()
    return cols


# --- kernels (docs/ODD.md §7.10.2; reference versions in qhsim.knowledge.reference) -------------------


def wage(kind: np.ndarray, level: np.ndarray, factor: np.ndarray, index: float, kp: SimpleNamespace) -> np.ndarray:
    """w = base(kind) * level_multiplier[level] * wage_index * personal factor (万元/yr)."""
    base = np.where(kind == INSTITUTION, kp.wage_institution, kp.wage_firm)
    return base * np.asarray(kp.level_wage_multiplier)[level] * index * factor


def outside_wage(level: np.ndarray, factor: np.ndarray, index: float, kp: SimpleNamespace) -> np.ndarray:
    """What the person would earn in the eastern provinces: the institution wage of the level x (1 + premium)."""
    premium = np.asarray(kp.outside_wage_premium)[level]
    return kp.wage_institution * np.asarray(kp.level_wage_multiplier)[level] * (1.0 + premium) * index * factor


def annual_living(living: np.ndarray, oblig_until: np.ndarray, year: int) -> np.ndarray:
    """Programme support received as income this year: while the obligation runs."""
    return np.where(oblig_until >= year, living, 0.0)


def clawback_due(support: np.ndarray, oblig_years: np.ndarray, oblig_until: np.ndarray, year: int,
                 share: float) -> np.ndarray:
    """Support recovered if the person leaves in ``year``: share x support x unserved years / obligation years."""
    remaining = np.clip(oblig_until.astype(np.int64) - year + 1, 0, None)
    years = np.maximum(oblig_years.astype(np.int64), 1)
    return share * support * np.minimum(remaining, years) / years


def departure_probability(
    level: np.ndarray,
    origin: np.ndarray,
    age: np.ndarray,
    w_eff: np.ndarray,
    w_out: np.ndarray,
    amenity: np.ndarray,
    clawback: np.ndarray,
    kp: SimpleNamespace,
) -> np.ndarray:
    """Yearly probability of leaving Qinghai (brain drain):

    logit p = a_origin + a_level + beta_w (ln w_out - ln w_eff + amenity) + beta_young [age < young_age_limit]
              - beta_c clawback / w_eff
    """
    x = (
        np.asarray(kp.depart_origin_intercept)[np.minimum(origin, RECRUITED)]
        + np.asarray(kp.depart_level_effect)[level]
        + kp.depart_wage_slope * (np.log(w_out) - np.log(w_eff) + amenity)
        + kp.depart_young_effect * (age < kp.young_age_limit)
        - kp.depart_clawback_slope * clawback / w_eff
    )
    return 1.0 / (1.0 + np.exp(-x))


def retiring(age: np.ndarray, level: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
    """Residents retire at the statutory age; leading and outstanding talent may work longer."""
    limit = np.where(level >= 2, kp.retire_age_high, kp.retire_age)
    return age >= limit


def attraction_probability(w_offer: np.ndarray, w_out: np.ndarray, amenity: np.ndarray, intercept: float,
                           kp: SimpleNamespace) -> np.ndarray:
    """Probability that an outside candidate takes a Qinghai post: logit = c + beta_w (ln w_offer - ln w_out - amenity)."""
    x = intercept + kp.depart_wage_slope * (np.log(w_offer) - np.log(w_out) - amenity)
    return 1.0 / (1.0 + np.exp(-x))


def layoff_mask(groups: np.ndarray, releasable: np.ndarray, excess: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Release ``excess`` (per person, of their employer) releasable people per employer, lowest priority first."""
    out = np.zeros(len(groups), dtype=bool)
    idx = np.flatnonzero(releasable & (excess > 0))
    if len(idx):
        out[idx] = rank_within(groups[idx], priority[idx]) < excess[idx]
    return out


def uniform_age(age_range: list[int], u: np.ndarray) -> np.ndarray:
    """Whole ages drawn uniformly from ``age_range`` = [youngest, oldest] (both included) with the uniforms ``u``."""
    youngest, oldest = age_range
    return youngest + np.floor((oldest - youngest + 1) * u)


def programme_host_amenity(amenity: np.ndarray, kp: SimpleNamespace) -> float:
    """Mean amenity cost of the prefectures that host introduced talent (talent.toml programme_host_prefectures)."""
    ids = data.prefecture_ids()
    unknown = [p for p in kp.programme_host_prefectures if p not in ids]
    if unknown:
        raise InputError(f"{data.DATA_DIR / 'talent.toml'}: programme_host_prefectures: {', '.join(unknown)} not one "
                         f"of {', '.join(ids)}")
    return float(np.mean(amenity[[ids.index(p) for p in kp.programme_host_prefectures]]))


def staff_target(rd: np.ndarray, cost: float, u: np.ndarray) -> np.ndarray:
    """Whole R&D persons an R&D budget pays for: floor(R&D / cost + u), u a fixed uniform per employer."""
    return np.floor(rd / cost + u).astype(np.int64)


# --- yearly process ---------------------------------------------------------------------------------------------


@dataclass
class EmployerView:
    """What the talent market needs to know about employers this year (simulated world)."""

    firm_uid: np.ndarray  # sorted; the firms doing R&D this year (staff of other firms are released)
    firm_pref: np.ndarray
    firm_rd: np.ndarray
    firm_hte: np.ndarray  # bool: valid HTE
    firm_knowledge: np.ndarray
    firm_target: np.ndarray  # staff targets
    inst: InstitutionSet
    inst_target: np.ndarray
    inst_bonus: np.ndarray  # transfer-income bonus per resident researcher this year (万元)


@dataclass
class TalentFlows:
    """People and money moved this year (simulated world), by prefecture where relevant."""

    inflow: np.ndarray  # new residents in the province's R&D workforce, by prefecture of the employer
    outflow: np.ndarray  # residents who left the province, by prefecture
    retired: np.ndarray
    programme_cost: np.ndarray  # 万元 paid by the talent programmes, by prefecture of the recipient
    clawback: np.ndarray  # 万元 recovered
    vacancies: np.ndarray  # unfilled at year end, by prefecture
    left_rd: int = 0  # job seekers not rehired this year (leave R&D work, stay in the province)
    research_to_institutions: np.ndarray = field(default_factory=lambda: np.zeros(0))  # 万元 per institution
    research_to_firms: dict[int, float] = field(default_factory=dict)  # firm uid -> 万元 (programme research funds)
    introduced: int = 0


class TalentSystem:
    """The R&D-personnel population and its yearly market."""

    def __init__(self, pop: TalentPopulation, scale: float, n_pref: int, kp: SimpleNamespace):
        self.pop = pop
        self.carry = Carry(scale)
        self.n_pref = n_pref
        self.amenity = amenity_by_prefecture(kp)  # per prefecture, log points of wage
        self.host_amenity = programme_host_amenity(self.amenity, kp)  # of the programmes' host prefectures

    # --- helpers ----------------------------------------------------------------------------------------------
    def employer_index(self, emp: EmployerView, start: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(is_firm, firm position, institution index) per person from position ``start`` on; firm position -1 where
        the firm is gone."""
        kind, employer = self.pop.kind[start:], self.pop.employer[start:]
        is_firm = kind == FIRM
        pos = np.full(len(kind), -1, dtype=np.int64)
        if is_firm.any() and len(emp.firm_uid):
            at = np.flatnonzero(is_firm)  # positions: each boolean index would scan the population again
            uid = employer[at]
            i = np.minimum(np.searchsorted(emp.firm_uid, uid), len(emp.firm_uid) - 1)
            ok = emp.firm_uid[i] == uid
            pos[at[ok]] = i[ok]
        inst = np.where(kind == INSTITUTION, employer - INSTITUTION_KEY, -1)
        return is_firm, pos, inst

    def _pref(self, emp: EmployerView, index: tuple) -> np.ndarray:
        is_firm, pos, inst = index
        pref = np.zeros(len(self.pop), dtype=np.int64)
        at_firm = np.flatnonzero(is_firm & (pos >= 0))  # positions: the mask once, then plain gathers
        pref[at_firm] = emp.firm_pref[pos[at_firm]]
        at_inst = np.flatnonzero(inst >= 0)
        pref[at_inst] = emp.inst.pref[inst[at_inst]]
        return pref

    def headcounts(self, emp: EmployerView, index: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Resident staff per firm (aligned with firm_uid) and per institution."""
        p = self.pop
        is_firm, pos, inst = index if index is not None else self.employer_index(emp)
        firm = np.bincount(pos[is_firm & (pos >= 0) & p.resident], minlength=len(emp.firm_uid))
        ins = np.bincount(inst[(inst >= 0) & p.resident], minlength=emp.inst.n)
        return firm, ins

    def summary(self, emp: EmployerView, kp: SimpleNamespace) -> SimpleNamespace:
        """Headcounts, productivity-weighted staff (incl. flexible experts' fte) per firm and per institution, and
        resident R&D personnel by prefecture, from one pass over the population."""
        p = self.pop
        index = self.employer_index(emp)
        is_firm, pos, inst = index
        firm_head, inst_head = self.headcounts(emp, index)
        w = p.fte * np.asarray(kp.level_productivity)[p.level]
        at_firm, at_inst = np.flatnonzero(is_firm & (pos >= 0)), np.flatnonzero(inst >= 0)
        firm_eff = np.bincount(pos[at_firm], weights=w[at_firm], minlength=len(emp.firm_uid))
        inst_eff = np.bincount(inst[at_inst], weights=w[at_inst], minlength=emp.inst.n)
        pref = self._pref(emp, index)
        # R&D personnel: residents at the institutions and at R&D-performing firms (``emp``). A researcher who just
        # moved to a spin-off counts from the year the new firm does R&D.
        counted = p.resident & (p.kind != NONE) & ~(is_firm & (pos < 0))
        personnel = np.bincount(pref[counted], minlength=self.n_pref)
        return SimpleNamespace(firm_head=firm_head, inst_head=inst_head, firm_eff=firm_eff, inst_eff=inst_eff,
                               personnel=personnel)

    # --- the year ---------------------------------------------------------------------------------------------
    def step(self, year: int, kpol, kp: SimpleNamespace, draws: KnowledgeDraws, emp: EmployerView,
             wage_index: float) -> TalentFlows:
        p = self.pop
        k = self.n_pref
        flows = TalentFlows(*(np.zeros(k) for _ in range(6)), research_to_institutions=np.zeros(emp.inst.n))
        p.age[:] += 1

        # firms that closed or stopped R&D: their staff become job seekers
        is_firm, pos, inst = self.employer_index(emp)
        gone = is_firm & (pos < 0)
        at_gone = np.flatnonzero(gone)
        p.kind[at_gone] = NONE
        p.employer[at_gone] = -1
        keep = ~(gone & ~p.resident)  # flexible experts' contracts end with the host
        p.keep(keep)
        index = (is_firm[keep] & ~gone[keep], pos[keep], inst[keep])

        pref = self._pref(emp, index)
        p.wage[:] = wage(p.kind, p.level, p.factor, wage_index, kp)
        inst_idx = np.where(p.kind == INSTITUTION, p.employer - INSTITUTION_KEY, -1)
        bonus = np.where(inst_idx >= 0, emp.inst_bonus[np.maximum(inst_idx, 0)], 0.0)
        employed_res = p.resident & (p.kind != NONE)

        # retirement
        retire = p.resident & retiring(p.age, p.level, kp)
        flows.retired += np.bincount(pref[retire], minlength=k)

        # departure from the province
        w_eff = np.maximum(p.wage, 1e-6) + annual_living(p.living, p.oblig_until, year) + bonus
        w_out = outside_wage(p.level, p.factor, wage_index, kp)
        claw = clawback_due(p.support, p.oblig_years, p.oblig_until, year, kpol.tt_clawback_share)
        prob = departure_probability(p.level, p.origin, p.age, w_eff, w_out, self.amenity[pref], claw, kp)
        depart = employed_res & ~retire & (draws.uniform(year, "t_depart", p.key) < prob)
        flows.outflow += np.bincount(pref[depart], minlength=k)
        flows.clawback += np.bincount(pref[depart], weights=claw[depart], minlength=k)

        # flexible contracts ending this year (performance subsidy, then renewal or exit)
        ending = ~p.resident & (p.oblig_until < year)
        renew = ending & (draws.uniform(year, "t_flex_renew", p.key) < kp.flexible_renew_probability)
        flows.programme_cost += np.bincount(pref[ending], minlength=k) * kpol.flex_subsidy
        p.oblig_until[renew] = year + kpol.flex_contract_years - 1
        keep = ~(retire | depart | (ending & ~renew))
        p.keep(keep)
        index = tuple(a[keep] for a in index)

        # layoffs where staff exceed the target (only people without a running obligation)
        out = self._layoffs(year, emp, draws, index)
        is_firm, pos, inst = index
        index = (is_firm & ~out, np.where(out, -1, pos), np.where(out, -1, inst))  # the laid-off have no employer

        # talent programmes (they append their arrivals)
        before = len(p)
        self._programmes(year, kpol, kp, draws, emp, wage_index, flows)
        index = tuple(np.concatenate(pair) for pair in zip(index, self.employer_index(emp, before)))

        # hiring
        self._hire(year, kp, draws, emp, wage_index, flows, index)

        # seekers not rehired leave R&D work
        seeker = self.pop.kind == NONE
        flows.left_rd = int(seeker.sum())
        self.pop.keep(~seeker)
        self.pop.wage[:] = wage(self.pop.kind, self.pop.level, self.pop.factor, wage_index, kp)
        return flows

    def _layoffs(self, year: int, emp: EmployerView, draws: KnowledgeDraws, index: tuple) -> np.ndarray:
        """Lay off staff above their employer's target; return the mask of the laid-off."""
        p = self.pop
        is_firm, pos, inst = index
        firm_head, inst_head = self.headcounts(emp, index)
        excess = np.zeros(len(p), dtype=np.int64)
        at_firm, at_inst = np.flatnonzero(is_firm & (pos >= 0)), np.flatnonzero(inst >= 0)
        excess[at_firm] = (firm_head - emp.firm_target)[pos[at_firm]]
        excess[at_inst] = (inst_head - emp.inst_target)[inst[at_inst]]
        releasable = p.resident & (p.kind != NONE) & (p.oblig_until < year)
        out = layoff_mask(p.employer, releasable, excess, draws.uniform(year, "t_layoff", p.key))
        p.kind[out] = NONE
        p.employer[out] = -1
        return out

    def _host(self, year: int, keys: np.ndarray, inst_share: float, emp: EmployerView,
              draws: KnowledgeDraws) -> tuple[np.ndarray, np.ndarray]:
        """Employers (kind, key) for programme entrants with quota-slot keys ``keys``: an institution (prob.
        inst_share, weighted by knowledge) or a valid HTE firm (weighted by R&D); institutions when no HTE exists.
        The draws are keyed by the entrant's slot, so an entrant admitted in a variant and its base gets the
        same draws whichever other slots are filled."""
        n = len(keys)
        u_kind = draws.uniform(year, "t_host_kind", keys)
        u_pick = draws.uniform(year, "t_prog_host", keys)
        hte = np.flatnonzero(emp.firm_hte & (emp.firm_rd > 0))
        to_firm = (u_kind >= inst_share) & (len(hte) > 0)
        kind = np.where(to_firm, FIRM, INSTITUTION).astype(np.int8)
        key = np.empty(n, dtype=np.int64)
        if (~to_firm).any():
            j = weighted_pick(u_pick[~to_firm], np.maximum(emp.inst.knowledge, 1e-9))
            key[~to_firm] = INSTITUTION_KEY + j
        if to_firm.any():
            i = weighted_pick(u_pick[to_firm], emp.firm_rd[hte])
            key[to_firm] = emp.firm_uid[hte[i]]
        return kind, key

    def _pref_of(self, kind: np.ndarray, key: np.ndarray, emp: EmployerView) -> np.ndarray:
        pref = np.zeros(len(kind), dtype=np.int64)
        f = kind == FIRM
        if f.any():
            pref[f] = emp.firm_pref[np.searchsorted(emp.firm_uid, key[f])]
        pref[~f] = emp.inst.pref[key[~f] - INSTITUTION_KEY]
        return pref

    def _programmes(self, year: int, kpol, kp: SimpleNamespace, draws: KnowledgeDraws, emp: EmployerView,
                    wage_index: float, flows: TalentFlows) -> None:
        p, k = self.pop, self.n_pref
        share = kp.programme_rd_share
        oy = kpol.tt_obligation_years
        arrivals: list[dict[str, np.ndarray]] = []  # new people, added at the end (they are not yet eligible below)
        mean_amenity = self.host_amenity

        # Thousand Talents, introduced: quota slots filled with a probability rising with the support
        for tier, level in enumerate(TIER_LEVEL):
            n = self.carry(f"tt_in_{tier}", kpol.tt_introduced[tier] * share)
            if n == 0:
                continue
            grant = kpol.tt_grant_introduced[tier] + kpol.tt_housing
            lv = np.full(n, level)
            w_in = wage(np.full(n, INSTITUTION), lv, np.ones(n), wage_index, kp)
            w_out = outside_wage(lv, np.ones(n), wage_index, kp)
            p_fill = attraction_probability(w_in + grant / oy, w_out, mean_amenity, kp.programme_fill_intercept, kp)
            keys = (year * 10 + tier) * 100000 + np.arange(n)
            filled = draws.uniform(year, "t_prog_fill", keys) < p_fill
            m = int(filled.sum())
            if m == 0:
                continue
            flexible = draws.uniform(year, "t_prog_flex", keys[filled]) < kp.tt_flexible_share
            kind, key = self._host(year, keys[filled], kp.tt_institution_share, emp, draws)
            pref = self._pref_of(kind, key, emp)
            ages = uniform_age(kp.introduced_age_range, draws.uniform(year, "t_new_age", keys[filled]))
            support = np.where(flexible, kpol.tt_grant_introduced[tier], grant)
            cols = new_columns(
                m, arrival_keys(year, ARRIVE_INTRODUCED, keys[filled]), kind=kind, employer=key, level=level,
                age=ages, since=year,
                factor=np.exp(kp.wage_factor_sd * draws.normal(year, "t_new_factor", keys[filled])),
                prog=TT_INTRODUCED, oblig_until=year + oy - 1, oblig_years=oy, support=support, living=support / oy,
            )
            cols["origin"] = np.where(flexible, FLEXIBLE, RECRUITED).astype(np.int8)
            cols["resident"] = ~flexible
            cols["fte"] = np.where(flexible, kp.flexible_fte, 1.0)
            arrivals.append(cols)
            flows.programme_cost += np.bincount(pref, weights=support, minlength=k) / share
            flows.inflow += np.bincount(pref[~flexible], minlength=k)
            flows.introduced += m

        # Thousand Talents, cultivated: best-placed staff promoted to the tier; living share is personal income,
        # the rest is research money for the employer
        self._review_noise = draws.normal(year, "t_prog_rank", p.key)  # one review draw per person and year
        for tier, level in enumerate(TIER_LEVEL):
            n = self.carry(f"tt_cu_{tier}", kpol.tt_cultivated[tier] * share)
            if n == 0:
                continue
            limit = kp.cultivated_age_limit[tier]
            grant = kpol.tt_grant_cultivated[tier]
            chosen = self._select(year, n, (p.age <= limit) & (p.level < level))
            self._enrol(year, chosen, level, TT_CULTIVATED, grant, kp.cultivated_living_share * grant, oy,
                        grant * (1 - kp.cultivated_living_share), emp, flows, cost_weight=1.0 / share)

        # innovation teams: research money to institutions (weighted by knowledge)
        n = self.carry("tt_team", kpol.tt_teams * share)
        if n:
            u = draws.uniform(year, "t_prog_host", 9000000 + np.arange(n))
            j = weighted_pick(u, np.maximum(emp.inst.knowledge, 1e-9))
            money = np.bincount(j, minlength=emp.inst.n) * kpol.tt_team_grant
            flows.research_to_institutions += money
            flows.programme_cost += np.bincount(emp.inst.pref, weights=money, minlength=k) / share

        # Kunlun Talents leaders: promoted to leading level, personal grant + project funds to the employer
        n = self.carry("kunlun", kpol.kunlun_quota)
        if n:
            chosen = self._select(year, n, p.age <= kp.kunlun_age_limit)
            self._enrol(year, chosen, 2, KUNLUN, kpol.kunlun_grant, kpol.kunlun_grant / max(kpol.kunlun_obligation_years, 1),
                        max(kpol.kunlun_obligation_years, 1), kpol.kunlun_project, emp, flows, cost_weight=1.0,
                        keep_level=True)

        # flexible "migratory-bird" experts
        n = self.carry("flex", kpol.flex_quota)
        if n:
            keys = 8000000 + year * 10000 + np.arange(n)
            filled = draws.uniform(year, "t_prog_fill", keys) < kp.flexible_fill_probability
            m = int(filled.sum())
            if m:
                kind, key = self._host(year, keys[filled], kp.flexible_institution_share, emp, draws)
                ages = uniform_age(kp.flexible_age_range, draws.uniform(year, "t_new_age", keys[filled]))
                arrivals.append(new_columns(
                    m, arrival_keys(year, ARRIVE_FLEXIBLE, keys[filled]), kind=kind, employer=key, level=2, origin=FLEXIBLE, resident=False, fte=kp.flexible_fte,
                    age=ages, since=year, factor=1.0, prog=FLEX_PROGRAMME, oblig_until=year + kpol.flex_contract_years - 1,
                    oblig_years=kpol.flex_contract_years,
                ))
        self._arrive(arrivals)

    def _arrive(self, arrivals: list[dict[str, np.ndarray]]) -> None:
        if arrivals:
            self.pop.append({name: np.concatenate([c[name] for c in arrivals]) for name in arrivals[0]})

    def _select(self, year: int, n: int, extra: np.ndarray) -> np.ndarray:
        """Up to ``n`` eligible residents (employed >= 1 year, not yet in a programme), best score first:
        score = level + N(0, 1), one review draw per person and year (a stand-in for expert review)."""
        p = self.pop
        eligible = np.flatnonzero(
            p.resident & (p.kind != NONE) & (p.prog == NO_PROGRAMME) & (p.since <= year - 1) & extra
        )
        if not len(eligible):
            return eligible
        score = p.level[eligible] + self._review_noise[eligible]
        return eligible[top_n(score, p.key[eligible], n)]

    def _enrol(self, year: int, chosen: np.ndarray, level: int, prog: int, support: float, living: float,
               oblig_years: int, research: float, emp: EmployerView, flows: TalentFlows, cost_weight: float,
               keep_level: bool = False) -> None:
        p, k = self.pop, self.n_pref
        if not len(chosen):
            return
        p.level[chosen] = np.maximum(p.level[chosen], level) if keep_level else level
        p.prog[chosen] = prog
        p.oblig_until[chosen] = year + oblig_years - 1
        p.oblig_years[chosen] = oblig_years
        p.support[chosen] = support
        p.living[chosen] = living
        pref = self._pref_of(p.kind[chosen], p.employer[chosen], emp)
        flows.programme_cost += np.bincount(pref, minlength=k) * (support + research) * cost_weight
        at_inst = p.kind[chosen] == INSTITUTION
        j = p.employer[chosen][at_inst] - INSTITUTION_KEY
        flows.research_to_institutions += np.bincount(j, minlength=emp.inst.n) * research
        for uid in p.employer[chosen][~at_inst]:
            flows.research_to_firms[int(uid)] = flows.research_to_firms.get(int(uid), 0.0) + research

    def _hire(self, year: int, kp: SimpleNamespace, draws: KnowledgeDraws, emp: EmployerView, wage_index: float,
              flows: TalentFlows, index: tuple | None = None) -> None:
        """Fill the employers' vacancies; ``index``: ``employer_index(emp)`` if already known."""
        p, k = self.pop, self.n_pref
        firm_head, inst_head = self.headcounts(emp, index)
        v_firm = np.maximum(emp.firm_target - firm_head, 0)
        v_inst = np.maximum(emp.inst_target - inst_head, 0)
        v_firm = np.minimum(v_firm, MAX_SLOTS - 1)
        v_inst = np.minimum(v_inst, MAX_SLOTS - 1)
        slot_emp = np.concatenate([np.repeat(emp.firm_uid, v_firm), np.repeat(emp.inst.keys, v_inst)])
        slot_kind = np.concatenate([np.full(int(v_firm.sum()), FIRM), np.full(int(v_inst.sum()), INSTITUTION)])
        slot_pref = np.concatenate([np.repeat(emp.firm_pref, v_firm), np.repeat(emp.inst.pref, v_inst)])
        n_slots = len(slot_emp)
        if n_slots == 0:
            return
        # each employer's slots numbered 0, 1, ... along their run (the employers' keys are distinct: what rank_within
        # of the slots by position gives, without its sort)
        counts = np.concatenate((v_firm, v_inst))
        slot_no = np.arange(n_slots) - np.repeat(np.cumsum(counts) - counts, counts)
        slot_key = slot_emp * MAX_SLOTS + slot_no
        order = np.lexsort((slot_key, draws.uniform(year, "t_slot_order", slot_key)))
        slot_emp, slot_kind, slot_pref, slot_key = slot_emp[order], slot_kind[order], slot_pref[order], slot_key[order]

        # 1. job seekers already in the province
        seekers = np.flatnonzero((p.kind == NONE) & p.resident)
        seekers = seekers[np.argsort(draws.uniform(year, "t_seeker_order", p.key[seekers]), kind="stable")]
        m = min(len(seekers), n_slots)
        p.kind[seekers[:m]] = slot_kind[:m]
        p.employer[seekers[:m]] = slot_emp[:m]
        p.since[seekers[:m]] = year
        used = m

        # 2. graduates of Qinghai universities, 3. returnees: new local people
        n_grad = self.carry("graduates", float(emp.inst.graduates.sum()) * kp.graduate_rd_share)
        n_ret = self.carry("returnees", kp.returnees_per_year)
        new_kind, new_emp, new_pref, new_origin, new_key = [], [], [], [], []
        for n_pool, origin in ((n_grad, LOCAL), (n_ret, RETURNEE)):
            m = min(n_pool, n_slots - used)
            sl = slice(used, used + m)
            new_kind.append(slot_kind[sl]), new_emp.append(slot_emp[sl]), new_pref.append(slot_pref[sl])
            new_origin.append(np.full(m, origin)), new_key.append(slot_key[sl])
            used += m

        # 4. recruits from outside the province: each remaining slot filled with the attraction probability
        rest = slice(used, n_slots)
        lv0 = np.zeros(n_slots - used, dtype=np.int64)
        w_offer = wage(slot_kind[rest], lv0, np.ones(len(lv0)), wage_index, kp)
        w_out = outside_wage(lv0, np.ones(len(lv0)), wage_index, kp)
        p_att = attraction_probability(w_offer, w_out, self.amenity[slot_pref[rest]], kp.recruit_intercept, kp)
        take = draws.uniform(year, "t_recruit", slot_key[rest]) < p_att
        new_kind.append(slot_kind[rest][take]), new_emp.append(slot_emp[rest][take])
        new_pref.append(slot_pref[rest][take]), new_origin.append(np.full(int(take.sum()), RECRUITED))
        new_key.append(slot_key[rest][take])
        unfilled = slot_pref[rest][~take]
        flows.vacancies += np.bincount(unfilled, minlength=k)

        kind = np.concatenate(new_kind)
        n_new = len(kind)
        if n_new:
            key = np.concatenate(new_key)
            origin = np.concatenate(new_origin)
            u_age = draws.uniform(year, "t_new_age", key)
            age = np.where(origin == LOCAL, uniform_age(kp.graduate_age_range, u_age),
                           uniform_age(kp.recruit_age_range, u_age))
            p.append(new_columns(
                n_new, arrival_keys(year, ARRIVE_HIRED, key), kind=kind, employer=np.concatenate(new_emp), origin=origin, age=age, since=year,
                factor=np.exp(kp.wage_factor_sd * draws.normal(year, "t_new_factor", key)),
            ))
            flows.inflow += np.bincount(np.concatenate(new_pref), minlength=k)


def initial_population(emp: EmployerView, kp: SimpleNamespace, draws: KnowledgeDraws, year: int,
                       wage_index: float) -> TalentPopulation:
    """End-2015 staff: every employer fully staffed at its target, ages, levels and origins drawn per person."""
    n_firm = int(emp.firm_target.sum())
    n_inst = int(emp.inst_target.sum())
    kind = np.concatenate((np.full(n_firm, FIRM), np.full(n_inst, INSTITUTION))).astype(np.int8)
    employer = np.concatenate((np.repeat(emp.firm_uid, emp.firm_target), np.repeat(emp.inst.keys, emp.inst_target)))
    n = len(kind)
    pid = np.arange(n)
    age = uniform_age(kp.init_age_range, draws.uniform(year, "t_init_age", pid))
    u_lv = draws.uniform(year, "t_init_level", pid)
    cum = np.where(kind[:, None] == INSTITUTION, np.cumsum(kp.init_level_share_institution[::-1])[None, :],
                   np.cumsum(kp.init_level_share_firm[::-1])[None, :])  # cumulative shares of levels 3, 2, 1
    level = np.where(u_lv < cum[:, 0], 3, np.where(u_lv < cum[:, 1], 2, np.where(u_lv < cum[:, 2], 1, 0)))
    u_or = draws.uniform(year, "t_init_origin", pid)
    origin = np.where(u_or < kp.init_origin_share[0], LOCAL,
                      np.where(u_or < kp.init_origin_share[0] + kp.init_origin_share[1], RETURNEE, RECRUITED))
    tenure = np.minimum(age - kp.init_age_range[0], kp.max_initial_tenure)
    since = year - np.floor(tenure * draws.uniform(year, "t_init_years", pid))
    cols = new_columns(n, pid, kind=kind, employer=employer, level=level, origin=origin, age=age, since=since,
                       factor=np.exp(kp.wage_factor_sd * draws.normal(year, "t_init_factor", pid)))
    cols["pid"] = pid
    pop = TalentPopulation(cols)
    pop.wage[:] = wage(pop.kind, pop.level, pop.factor, wage_index, kp)
    return pop


def amenity_by_prefecture(kp: SimpleNamespace) -> np.ndarray:
    values = np.asarray(kp.amenity_cost, dtype=float)
    if len(values) != len(data.prefectures()):
        raise ValueError("talent.toml amenity_cost must list one value per prefecture (geography.toml order)")
    return values
