"""The Qinghai innovation-system model 青海区域创新体系模型: a ``mesa.Model`` stepping one year at a time.

Yearly schedule (docs/ODD.md §3; the numbers are the process steps of the domain brief, docs/sources/MODEL.md §4):
 1. policy update: the scenario's schedules evaluated at the year;
 11. macro closure: GDP, population, employment, enterprise count;
 9. firm growth, exit and entry;
 5. innovation vouchers (before the start decision they affect);
 2. user cost of R&D; 4. extensive margin (start / stop); 2. intensive margin (planned R&D);
 3. certification notch (HTE threshold) and reward notch (R&D-intensity tiers);
 5. ex-ante grants; realised real R&D; reported R&D (real plus relabelled spending);
 6. knowledge stock and core IP;
 5. ex-post subsidy, R&D-intensity rewards; 9. certification round, new-HTE rewards;
 6-8, 10. knowledge system (qhsim.knowledge): technology market, the services bought with vouchers, universities'
    and institutes' R&D, talent market and programmes, patents, platforms, start-ups, literacy;
 12. indicators.
"""

from __future__ import annotations

import numpy as np
import mesa

from qhsim import data, indicators
from qhsim.config import Scenario
from qhsim.draws import KeyedDraws
from qhsim.firms import behaviour, sector_table
from qhsim.firms.certification import reported_rd
from qhsim.firms.decision import decide, new_clocks
from qhsim.firms.dynamics import YEAR_FLOWS, exit_mask, first_clocks, grow, innovate, set_employees
from qhsim.firms.ladder import certify, granted
from qhsim.firms.carry_forward import CarryForward
from qhsim.firms.rd import profit, tax_expenditure, tech_sme
from qhsim.firms.rewards import reward_amount
from qhsim.firms.synthesis import entrant_uids, initial_population, new_firms
from qhsim.government.agents import PrefectureGovernment, ProvincialGovernment
from qhsim.government.programmes import ex_ante_grants, ex_post_subsidy, rd_rewards, vouchers
from qhsim.indicators import YearFlows
from qhsim.knowledge import KnowledgeSystem
from qhsim.macro import cost_per_fte, macro_paths
from qhsim.memory import keep_freed_memory
from qhsim.policy import policy_at
from qhsim.scaling import Carry
from qhsim.soa import nonzero_rows


class QinghaiModel(mesa.Model):
    """Enterprises (a vectorised population), governments and research institutions (Mesa agents), and R&D
    personnel (a vectorised population) under a scenario's policies.

    Two seeds: ``population_seed`` draws the synthetic end-2015 population (firms, and the institutions' staff,
    patents and platforms of 2015); ``seed`` draws everything that happens from 2016 on (growth, exits, entrants,
    decisions, certification, the knowledge system). Both default to the scenario's ``[run]`` values; by default
    every run starts from the same 2015 population, so seeds differ only in what happens afterwards.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, population_seed: int | None = None):
        seed = scenario.run.seed if seed is None else int(seed)
        population_seed = scenario.run.population_seed if population_seed is None else int(population_seed)
        keep_freed_memory()
        super().__init__(rng=seed)
        self.config = scenario
        self.seed = seed
        self.population_seed = population_seed
        self.scale = scenario.run.scale
        self.year = scenario.run.start_year
        self.b = behaviour(scenario.behaviour())
        self.sectors = sector_table()
        self.draws = KeyedDraws(seed)
        self.macro = macro_paths(scenario)
        self.firms, self.rd_level, self.rd_propensity = initial_population(
            population_seed, self.scale, policy_at(scenario, self.year), self.b)
        for name, clock in first_clocks(self.draws, self.year, self.firms.uid).items():
            self.firms.cols[name][:] = clock
        self.province = ProvincialGovernment(self)
        self.prefecture_govs = [PrefectureGovernment(self, p.id, p.zh, p.en) for p in data.prefectures()]
        self.knowledge = KnowledgeSystem(self)  # universities, institutes, talent, technology market, platforms
        self._giant_quota = Carry(self.scale, tolerance=0.0)  # floors exactly (qhsim.scaling)
        self.carried = CarryForward()  # the tax losses of the firms with a super-deduction, carried from 2016 on
        n = len(self.firms)
        zero = np.zeros(n)
        self.rows = indicators.compute(
            self.firms, self.year, self._macro_now(), YearFlows(*(zero,) * 8, np.full(n, np.nan)), self.scale,
            self.knowledge.columns, initial=True,
        )

    def _macro_now(self) -> dict[str, float]:
        return {series: values[self.year] for series, values in self.macro.items()}

    def step(self) -> None:
        self.year += 1
        year, f, b, S, scale = self.year, self.firms, self.b, self.sectors, self.scale
        pol = policy_at(self.config, year)
        macro = self._macro_now()
        rd_before = indicators.rd_performers(f)  # the R&D exit rate's panel (last year's R&D performers)
        gdp_growth = macro["gdp"] / self.macro["gdp"][year - 1] - 1.0

        # firm dynamics: growth, exit, entry
        grow(f, year, gdp_growth, S.growth_premium, self.draws, b)
        stay = ~exit_mask(f, year, self.draws, b)
        n_new = int(round(macro["enterprises"] * scale)) - int(stay.sum())
        entrants = None
        if n_new > 0:
            size_index = macro["gdp"] / self.macro["gdp"][self.config.run.start_year]  # entrants grow with the economy
            uids = entrant_uids(year, n_new)
            entrants = new_firms(self.draws, uids, year, b.entrant_size_factor * size_index, b, self.rd_propensity)
            entrants.update(first_clocks(self.draws, year, uids))
        f.keep(stay, entrants, reset=YEAR_FLOWS)  # this year's flows start at zero
        set_employees(f, S.revenue_per_employee)

        # vouchers, then the R&D decisions they and the tax system shape
        voucher_pay = vouchers(f, pol, pol.voucher_budget * scale, self.draws, b)
        f.voucher[:] = voucher_pay > 0
        fte_cost = cost_per_fte(self.macro, year, b)
        decision = decide(f, pol, b, S, self.rd_level, f.switch_clock, fte_cost, probabilities=False)
        tau, tau_alt, d = decision["tau"], decision["tau_alt"], decision["d"]
        # the switching clocks: the firms that switch draw a new one, the others spend this year's hazard
        switched = np.flatnonzero(decision["rd_active"] != f.rd_active)
        np.subtract(f.switch_clock, decision["hazard"], out=f.switch_clock)  # (``-=`` would bind an attribute)
        new_clocks(f, switched, self.draws)
        f.rd_active[:] = decision["rd_active"]
        rd_plan = decision["rd_plan"]

        grants = ex_ante_grants(f, pol, rd_plan, pol.grant_budget * scale, self.draws, b)
        # real R&D: the plan, plus the additional R&D of grants (vouchers buy services performed by universities and
        # institutes, booked there by the knowledge system)
        f.rd_real[:] = rd_plan
        paid = nonzero_rows(grants)
        f.rd_real[paid] = rd_plan[paid] + b.grant_additionality * grants[paid]
        # talent-programme research money and platform money received last year are R&D the host performs now, with a
        # project grant's additionality (a host that stopped R&D performs none of it); the knowledge step books this
        # year's
        funded = np.flatnonzero((f.research_funds > 0) & f.rd_active)
        f.rd_real[funded] += b.grant_additionality * f.research_funds[funded]
        f.research_funds[:] = 0.0
        f.cols["rd"] = reported_rd(f, pol, f.rd_real, tau, tau_alt, decision["d_use"], b, fte_cost)  # real + relabelled
        np.divide(rd_plan, f.revenue, out=f.rd_int)
        innovate(f, year, self.draws, b)

        expost = ex_post_subsidy(f, pol, pol.expost_budget * scale, self.draws, b)
        reward = rd_rewards(f, reward_amount(f, pol, S.agri), pol.reward_budget * scale, len(self.prefecture_govs))
        held = f.hte_until >= year  # the certificates the decisions saw (``tax_flags``)
        certified = certify(f, pol, b, self.draws, self._giant_quota("giant", pol.giant_quota), fte_cost)
        hte_reward = np.zeros(len(f))  # first certificates only
        hte_reward[certified[f.hte_since[certified] == year]] = pol.hte_reward
        # subsidies received: grants + expost + reward + hte_reward + voucher_pay for the firms paid anything (the
        # column starts the year at zero)
        got = nonzero_rows(grants, expost, reward, hte_reward, voucher_pay)
        f.subsidy[got] = grants[got] + expost[got] + reward[got] + hte_reward[got] + voucher_pay[got]

        used, carried, taxable = self.carried.use(year, f.uid, d * f.rd, profit(f),
                                                  (f.hte_until >= year) | tech_sme(f, year), pol.loss_carry_years,
                                                  pol.loss_carry_years_qualified)
        # a certificate granted this year, first or renewed, sets this year's rate (from the year of issue:
        # 国科发火〔2016〕32号); the decisions saw the status the firm held then
        new_certificates = granted(f, year, held)
        tau_paid = tau.replaced(new_certificates, np.minimum(tau[new_certificates], pol.hte_rate))
        tax_super_deduction, tax_hte_rate = tax_expenditure(f, year, tau_paid, tau_alt, used, taxable)
        flows = YearFlows(
            grants=grants,
            expost=expost,
            hte_reward=hte_reward,
            rd_reward=reward,
            vouchers=voucher_pay,
            tax_super_deduction=tax_super_deduction,
            tax_hte_rate=tax_hte_rate,
            super_deduction_carried=carried,
            user_cost=decision["uc"],
        )
        knowledge = self.knowledge.step(year, pol, f, macro, voucher_pay)
        self._book(flows)
        # the firms with any money flow: the subsidy payees, the two tax expenditures' and the carried deductions' (the
        # indicators sum these)
        flow_firms = np.concatenate((got, nonzero_rows(tax_super_deduction, tax_hte_rate,
                                                       carried)))
        self.rows.extend(indicators.compute(f, year, macro, flows, scale, knowledge, flow_firms,
                                            hte_granted=new_certificates, rd_before=rd_before))

    def _book(self, flows: YearFlows) -> None:
        """Record full-scale spending in the governments' ledgers."""
        for programme in ("grants", "expost", "vouchers", "hte_reward"):
            self.province.record(programme, float(getattr(flows, programme).sum()) / self.scale)
        paid = nonzero_rows(flows.rd_reward)  # zeros add nothing to a prefecture's sum
        by_pref = np.bincount(self.firms.index("pref")[paid], weights=flows.rd_reward[paid],
                              minlength=len(self.prefecture_govs))
        for gov, amount in zip(self.prefecture_govs, by_pref):
            gov.record("rd_reward", float(amount) / self.scale)
        for gov in (self.province, *self.prefecture_govs):
            gov.close_year(self.year)

    def run_to(self, end_year: int) -> None:
        while self.year < end_year:
            self.step()

    def close(self) -> None:
        """Free the firm population and the knowledge system now; the model cannot step or be inspected after.
        Mesa's agents and scheduler refer back to the model, so a finished model is reclaimed only by Python's
        cyclic garbage collector, which seldom runs: meanwhile a process that runs again (benchmarks, ensembles,
        calibration workers, the dashboard) allocates, and page-faults in, some 50 MB more per run at scale 1."""
        del self.firms, self.knowledge
