"""The knowledge system 知识与人才系统: universities, institutes, R&D personnel, the technology market, patents,
platforms, start-ups and science literacy, stepped once a year after firms' R&D is realised.

``KnowledgeSystem(model)`` is built in ``QinghaiModel.__init__`` after the firm population; ``step(year, policy,
firms, macro, vouchers)`` runs the year and returns the indicator columns it produces, one array per column with the
province first and then the prefectures in geography.toml order, at full scale (money and counts divided by the
run's scale). Yearly order (docs/ODD.md §3):

  align with the firm population (exits, entrants) -> technology market (feeds buyers' knowledge and institutions'
  contract income) -> institutions' budgets and R&D -> staff targets -> talent market and programmes ->
  platforms, spillovers, incubated start-ups and spin-offs -> institutions' knowledge -> patents -> literacy ->
  fiscal ledger and indicators.

Firms enter with their real R&D (``FirmPopulation.rd_real``): staff, patents, contract demand, platform hosting
and spillovers follow what firms really spend, not the relabelled spending in reported R&D (qhsim.firms.relabel).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim import data
from qhsim.draws import KnowledgeDraws
from qhsim.knowledge import literacy as lit
from qhsim.knowledge import market as mk
from qhsim.knowledge import patents as pt
from qhsim.knowledge import platforms as pf
from qhsim.knowledge import talent as tl
from qhsim.knowledge.institutions import INSTITUTION_KEY, InstitutionSet, create_institutions
from qhsim.knowledge.params import institution_rows, knowledge_parameters, population_shares
from qhsim.knowledge.selection import top_n, weighted_pick
from qhsim.macro import cost_per_fte, wage_index
from qhsim.policy import knowledge_policy_at
from qhsim.scaling import Carry
from qhsim.soa import nonzero_rows, positions
from qhsim.units import WAN_PER_YI

FIRM_KEY_STARTUP = 1  # ledger origin flags
FIRM_KEY_SPINOFF = 2


class FirmLedger:
    """What the knowledge system remembers about firms (valid invention patents, last technology partner, start-up
    origin), kept sparse: only firms with something to remember, sorted by uid."""

    FIELDS = {"patents": (np.int64, 0), "last_partner": (np.int64, -1), "origin": (np.int8, 0)}

    def __init__(self) -> None:
        self.uid = np.zeros(0, dtype=np.int64)
        self.cols = {name: np.zeros(0, dtype=dtype) for name, (dtype, _) in self.FIELDS.items()}

    def __len__(self) -> int:
        return len(self.uid)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    def _find(self, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.uid):
            return np.zeros(len(uids), dtype=np.int64), np.zeros(len(uids), dtype=bool)
        pos = np.minimum(np.searchsorted(self.uid, uids), len(self.uid) - 1)
        return pos, self.uid[pos] == uids

    def get(self, name: str, uids: np.ndarray) -> np.ndarray:
        dtype, default = self.FIELDS[name]
        pos, found = self._find(uids)
        out = np.full(len(uids), default, dtype=dtype)
        out[found] = self.cols[name][pos[found]]
        return out

    def set(self, name: str, uids: np.ndarray, values: np.ndarray, add: bool = False) -> None:
        """Set (or add to) the field for ``uids`` (unique), creating entries as needed."""
        uids = np.asarray(uids, dtype=np.int64)
        values = np.broadcast_to(np.asarray(values), uids.shape)
        pos, found = self._find(uids)
        if add:
            np.add.at(self.cols[name], pos[found], values[found].astype(self.cols[name].dtype))
        else:
            self.cols[name][pos[found]] = values[found]
        if (~found).any():
            order = np.argsort(uids[~found], kind="stable")
            new_uid = uids[~found][order]
            # np.insert(column, at, new values) for every column at once: the i-th new entry (at non-decreasing) goes
            # to at[i] + i, the old entries to the other places, in order
            slots = np.searchsorted(self.uid, new_uid) + np.arange(len(new_uid))
            old = np.ones(len(self.uid) + len(new_uid), dtype=bool)
            old[slots] = False
            self.uid = _inserted(self.uid, new_uid, slots, old)
            for field, (dtype, default) in self.FIELDS.items():
                extra = values[~found][order] if field == name else np.full(len(new_uid), default)
                self.cols[field] = _inserted(self.cols[field], np.asarray(extra, dtype=dtype), slots, old)

    def align(self, alive_uid: np.ndarray) -> np.ndarray:
        """Forget firms that left; return their uids (sorted)."""
        if not len(self.uid):
            return self.uid
        pos = np.minimum(np.searchsorted(alive_uid, self.uid), max(len(alive_uid) - 1, 0))
        alive = alive_uid[pos] == self.uid if len(alive_uid) else np.zeros(len(self.uid), dtype=bool)
        gone = self.uid[~alive]
        self.uid = self.uid[alive]
        self.cols = {k: v[alive] for k, v in self.cols.items()}
        return gone


def _inserted(column: np.ndarray, new: np.ndarray, slots: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``column`` with the ``new`` values at ``slots`` and its own values, in order, where ``old`` holds."""
    out = np.empty(len(old), dtype=column.dtype)
    out[slots] = new
    out[old] = column
    return out


class KnowledgeSystem:
    """Universities, institutes, talent, technology market, patents, platforms and literacy of one run."""

    def __init__(self, model):
        self.model = model
        sc = model.config
        self.scale = model.scale
        # the end-2015 state (staff, patents, platforms, the 2015 market) is part of the synthetic population: it
        # is drawn from the population seed; the years after from the run's dynamics seed (end of __init__)
        self.draws = KnowledgeDraws(model.population_seed)
        self.kp = knowledge_parameters(vars(model.b))  # defaults, calibrated estimates, scenario overrides
        self.b = model.b
        self.macro = model.macro
        self.n_pref = len(data.prefectures())
        self.n_sec = len(data.sectors())
        self.pop_share = population_shares()
        self.carry = Carry(self.scale)
        year = self.start_year = model.year
        kp, f = self.kp, model.firms
        kpol = knowledge_policy_at(sc, year)

        public_rd_2015 = data.observed("public_rd")[year] * WAN_PER_YI
        self.inst = InstitutionSet(institution_rows(), self.scale, public_rd_2015, kp)
        self.agents = create_institutions(model, self.inst)
        self.ledger = FirmLedger()

        # talent: every employer staffed at its end-2015 target
        wi = wage_index(self.macro, year)
        emp = self._employers(f, year, np.zeros(self.inst.n))
        self.talent = tl.TalentSystem(tl.initial_population(emp, kp, self.draws, year, wi), self.scale, self.n_pref,
                                      kp)
        self._staffing(emp)

        # patents: institutions' stock from the data, firms' stock spread over R&D performers by their rate (with
        # their prefecture's factor);
        # the pending pipeline from filings of the previous years
        self.office = pt.PatentOffice()
        init_carry = Carry(self.scale)  # one carry, so that the scaled total is right even when rows round to 0
        self.inst.patents[:] = [init_carry("patents", r.patents) for r in institution_rows()]
        active = np.flatnonzero(f.rd_real > 0)
        firm_rate = pt.firm_rate(f.rd_real[active], np.ones(len(active)), kp) * pt.prefecture_factor(f.pref[active], kp)
        n_firm_patents = self.carry("init_firm_patents", kp.init_firm_patents)
        if n_firm_patents and firm_rate.sum() > 0:
            pick = weighted_pick(self.draws.uniform(year, "p_init", np.arange(n_firm_patents)), firm_rate)
            holders, counts = np.unique(pick, return_counts=True)
            self.ledger.set("patents", f.uid[active[holders]], counts)
        inst_rate = pt.institution_rate(self.inst.rd, np.ones(self.inst.n), kp)
        for back in range(len(kp.patent_grant_lag_weights), 0, -1):
            y = year - back + 1
            growth = (1.0 + kp.inst_history_growth) ** (y - year) * pt.propensity(y, kp)
            uid = f.uid[active]
            self.office.file(y, uid, self.draws.poisson(y, "p_apply", uid, firm_rate * growth), self.draws, kp)
            self.office.file(y, self.inst.keys, self.draws.poisson(y, "p_apply", self.inst.keys, inst_rate * growth),
                             self.draws, kp)
        self.office.grants_due(year)  # already in the initial stock

        self.platforms = pf.PlatformSystem(self.scale, self.n_pref, self.n_sec)
        pf.initial_platforms(self.platforms, self.inst, self._firm_view(f, year, np.flatnonzero(f.rd_real > 0)), kp,
                             self.draws, year)
        self.literacy = lit.Literacy(self.pop_share, kp, year)
        self.external_index = 1.0
        self.last = SimpleNamespace(market=None, talent=None, platforms=None, voucher_knowledge=None)
        # the end-2015 row: the 2015 market run without feedback, everything else from the initial state; the
        # institutions' 2015 enterprise funding is what that market pays them for development work (the other
        # sources are rescaled so that each unit keeps its 2015 R&D)
        market = self._market(year, kpol, f, self._certified(f, year), Carry(self.scale))
        self.inst.set_enterprise_2015(market.inst_rd_income, self.kp.inst_enterprise_max_share)
        zero = np.zeros(self.n_pref)
        self.columns = self._columns(year, f, market, None, zero, zero, {})
        self.draws = KnowledgeDraws(model.seed)

    # --- helpers ----------------------------------------------------------------------------------------------
    def _employers(self, f, year: int, bonus: np.ndarray, active: np.ndarray | None = None) -> tl.EmployerView:
        """Employers of R&D staff: the firms doing R&D this year (positions ``active`` in the firm population) and
        the institutions, with their staff targets."""
        cost = cost_per_fte(self.macro, year, self.b)
        active = np.flatnonzero(f.rd_real > 0) if active is None else active
        uid = f.uid[active]
        target = tl.staff_target(f.rd_real[active], cost, self.draws.uniform(0, "t_staff_round", uid))
        inst_target = np.round(self.inst.rd / (cost * self.kp.public_cost_ratio)).astype(np.int64)
        return tl.EmployerView(
            firm_uid=uid, firm_pref=f.pref[active].astype(np.int64), firm_rd=f.rd_real[active],
            firm_hte=f.hte_until[active] >= year, firm_knowledge=f.knowledge[active], firm_target=target,
            inst=self.inst, inst_target=inst_target, inst_bonus=bonus,
        )

    def _staffing(self, emp: tl.EmployerView) -> np.ndarray:
        """Update institutions' headcount and effective staff; return firms' staffing ratio m_i."""
        sm = self.talent.summary(emp, self.kp)
        self.inst.headcount = sm.inst_head.astype(float)
        self.inst.effective_staff = sm.inst_eff
        self.inst.staff_target = emp.inst_target.astype(float)
        self.personnel = sm.personnel
        ratio = np.divide(sm.firm_eff, np.maximum(emp.firm_target, 1))
        return np.where(emp.firm_target > 0, np.minimum(ratio, self.kp.inst_quality_max), 1.0)

    @staticmethod
    def _certified(f, year: int) -> np.ndarray:
        return (f.hte_until >= year) | (f.tbe_until >= year)

    def _firm_view(self, f, year: int, active: np.ndarray, certified: np.ndarray | None = None) -> SimpleNamespace:
        """The R&D-performing firms (positions ``active``), the only possible platform hosts."""
        cert = self._certified(f, year) if certified is None else certified
        return SimpleNamespace(
            pos=active, uid=f.uid[active], pref=f.pref[active].astype(np.int64), sector=f.sector[active].astype(np.int64),
            rd=f.rd_real[active], certified=cert[active], platform_money=np.zeros(len(active)),
        )

    def _market(self, year: int, kpol, f, certified: np.ndarray, carry: Carry) -> mk.MarketOutcome:
        sup = mk.build_suppliers(self.inst, certified, f.pref, f.sector, f.knowledge,
                                 self.n_pref, self.n_sec, kpol.researcher_share, self.kp)
        buyers = mk.Buyers(
            uid=f.uid, pref=f.pref, sector=f.sector, revenue=f.revenue,
            employees=f.employees, rd=f.rd_real,
            last_partner=lambda uids: self.ledger.get("last_partner", uids),
        )
        return mk.run_market(year, kpol, self.kp, self.draws, buyers, sup, carry, self.n_pref, self.inst.n,
                             self.external_index)

    # --- the year ---------------------------------------------------------------------------------------------
    def step(self, year: int, policy, firms, macro: dict[str, float], vouchers: np.ndarray) -> dict[str, np.ndarray]:
        """Run the knowledge system's year on the firm population after its R&D (``vouchers``: the innovation
        vouchers each firm redeemed this year, simulated 万元); return indicator columns."""
        kp, f, draws, inst = self.kp, firms, self.draws, self.inst
        kpol = policy.knowledge
        s = self.scale
        gone = self.ledger.align(f.uid)
        if len(gone):  # the pending patent applications of those firms: ``~np.isin``, by search in the sorted uids
            owner = self.office.owner
            self.office.abandon(gone[np.minimum(np.searchsorted(gone, owner), len(gone) - 1)] != owner)
        wi = wage_index(self.macro, year)
        nominal = self.macro["gdp"][year] / self.macro["gdp"][self.start_year]
        self.external_index *= 1.0 + kp.market_external_growth
        certified = self._certified(f, year)

        # technology market
        market = self._market(year, kpol, f, certified, self.carry)
        np.add.at(f.knowledge, market.knowledge_to, market.knowledge_add)
        self.ledger.set("last_partner", market.partner_uid, market.partner_code)
        bonus = kpol.researcher_share * market.inst_transfer_net / np.maximum(inst.headcount, 1.0)
        inst.pending_other += (1.0 - kpol.researcher_share) * market.inst_transfer_net

        # institutions' budgets and R&D: development contracts sold, and the R&D services bought with vouchers
        voucher_rd, voucher_knowledge = self._voucher_services(f, vouchers)
        inst.budget(year, kpol, nominal, market.inst_rd_income + voucher_rd, draws, kp)

        # talent
        active = np.flatnonzero(f.rd_real > 0)
        emp = self._employers(f, year, bonus, active)
        flows = self.talent.step(year, kpol, kp, draws, emp, wi)
        # programme research money and platform money are R&D performed by the host next year, at an institution
        # (pending_other) as at a firm (research_funds)
        inst.pending_other += flows.research_to_institutions
        if flows.research_to_firms:
            uids = np.fromiter(flows.research_to_firms.keys(), dtype=np.int64)
            money = np.fromiter(flows.research_to_firms.values(), dtype=float)
            np.add.at(f.research_funds, np.searchsorted(f.uid, uids), money)

        # platforms, spillovers, start-ups, spin-offs (spin-offs move researchers, so before the staff count)
        fv = self._firm_view(f, year, active, certified)
        pflows = self.platforms.step(year, kpol, kp, draws, fv, inst, f.uid)
        f.research_funds[active] += fv.platform_money
        strength = self.platforms.cell_strength(kp)
        cell = f.pref[active].astype(np.int64) * self.n_sec + f.sector[active]
        f.knowledge[active] += pf.spillover_gain(f.rd_real[active], strength[cell], kp)
        entrants = positions((f.birth == year) & ~f.rd_active)
        self._converted: list[tuple[np.ndarray, int]] = []
        startups = self._startups(year, f, entrants, pflows.startups)
        spinoffs = self._spinoffs(year, f, entrants, kpol)
        if self._converted:
            uids = np.concatenate([u for u, _ in self._converted])
            origin = np.concatenate([np.full(len(u), o) for u, o in self._converted])
            self.ledger.set("origin", uids, origin)

        # institutions' knowledge, patents
        staffing = self._staffing(emp)
        inst.update_knowledge(kp)
        self._patents(year, f, staffing, active)

        # literacy
        spend_pop = self.literacy.allocate(kpol.popularisation_budget, kpol.popularisation_allocation)
        population = self.macro["population"][year] * 1e4 * self.pop_share
        self.literacy.step(year, spend_pop, population, kp)

        # fiscal ledger (full scale)
        fiscal = {
            "spend_talent_programmes": flows.programme_cost / s,
            "talent_clawback": flows.clawback / s,
            "spend_research_institutional": np.bincount(inst.pref, weights=inst.provincial_institutional,
                                                        minlength=self.n_pref) / s,
            "spend_research_competitive": np.bincount(inst.pref, weights=inst.provincial_competitive,
                                                      minlength=self.n_pref) / s,
            "spend_tech_market_subsidies": (market.subsidy_buyer + market.subsidy_broker + market.subsidy_sme) / s,
            "spend_platform_subsidies": pflows.subsidy / s,
            "spend_popularisation": spend_pop,
        }
        self._book(fiscal, market, pflows)
        self.last = SimpleNamespace(market=market, talent=flows, platforms=pflows, voucher_knowledge=voucher_knowledge)
        self.columns = self._columns(year, f, market, flows, startups, spinoffs, fiscal)
        return self.columns

    def _voucher_services(self, f, vouchers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Innovation vouchers 科技创新券 buy technology services from universities and institutes (seed 003:L819):
        a voucher pays ``voucher_fee_share`` of the fee, the SME the rest. The R&D part of the services
        (``voucher_rd_service_share``) is R&D performed by the providers, enterprise-funded R&D of the year in
        proportion to their transfer capacity (returned per institution, simulated 万元); the buyer absorbs the
        services' knowledge as it does a bought development (R&D part) or service contract (the rest), returned per
        firm (``last.voucher_knowledge``)."""
        held = nonzero_rows(vouchers)  # numpy's flatnonzero of a float column is several times slower
        gain = np.zeros(len(f))
        if not len(held):
            return np.zeros(self.inst.n), gain
        kp = self.kp
        fees = vouchers[held] / kp.voucher_fee_share
        absorb = np.asarray(kp.market_absorption, dtype=float)
        q = kp.voucher_rd_service_share
        gain[held] = fees * (q * absorb[mk.DEVELOPMENT] + (1.0 - q) * absorb[mk.SERVICES])
        f.knowledge[held] += gain[held]
        capacity = self.inst.tto_capacity
        return q * float(fees.sum()) * capacity / capacity.sum(), gain

    def _patents(self, year: int, f, staffing: np.ndarray, active: np.ndarray) -> None:
        """Patent applications, grants and lapses; ``active``: positions of the firms with real R&D this year."""
        kp, draws, inst, led = self.kp, self.draws, self.inst, self.ledger
        trend = pt.propensity(year, kp)
        lam_f = pt.firm_rate(f.rd_real[active], staffing, kp) * trend * pt.prefecture_factor(f.pref[active], kp)
        uid = f.uid[active]
        self.office.file(year, uid, draws.poisson(year, "p_apply", uid, lam_f), draws, kp)
        lam_i = pt.institution_rate(inst.rd, inst.quality, kp) * trend
        self.office.file(year, inst.keys, draws.poisson(year, "p_apply", inst.keys, lam_i), draws, kp)
        owners, counts = self.office.grants_due(year)
        at_inst = owners >= INSTITUTION_KEY
        inst.patents += np.bincount(owners[at_inst] - INSTITUTION_KEY, weights=counts[at_inst],
                                    minlength=inst.n).astype(np.int64)
        if (~at_inst).any():
            u, c = np.unique(owners[~at_inst], return_inverse=True)
            led.set("patents", u, np.bincount(c, weights=counts[~at_inst]).astype(np.int64), add=True)
        held = np.flatnonzero(led.patents > 0)
        led.patents[held] = pt.lapse(led.patents[held], led.uid[held], year, draws, kp)
        inst.patents[:] = pt.lapse(inst.patents, inst.keys, year, draws, kp)

    def _convert(self, f, pick: np.ndarray, origin: int, knowledge: float) -> None:
        """Turn the entrants ``pick`` into R&D-active tech firms (they decide their R&D from next year)."""
        f.rd_active[pick] = True
        f.tech_orient[pick] = np.maximum(f.tech_orient[pick], self.kp.startup_tech_orientation)
        f.knowledge[pick] += knowledge
        self._converted.append((f.uid[pick], origin))

    def _startups(self, year: int, f, entrants: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """Incubator and maker-space graduates: that many of the year's entrants per prefecture become R&D-active
        tech start-ups, drawn with weights by sector (weighted sampling without replacement, keys log(u) / w)."""
        n = np.array([self.carry.whole(f"startup_{p}", expected[p]) for p in range(self.n_pref)])
        done = np.zeros(self.n_pref)
        if not n.any() or not len(entrants):
            return done
        w = np.asarray(self.kp.startup_sector_weight, dtype=float)[f.sector[entrants]]
        priority = np.log(self.draws.uniform(year, "f_startup", f.uid[entrants])) / np.maximum(w, 1e-9)
        pref = f.pref[entrants]
        picks = []
        for p in np.flatnonzero(n):
            cand = np.flatnonzero(pref == p)
            picks.append(entrants[cand[top_n(priority[cand], f.uid[entrants[cand]], int(n[p]))]])
            done[p] = len(picks[-1])
        self._convert(f, np.concatenate(picks), FIRM_KEY_STARTUP, self.kp.startup_knowledge)
        return done

    def _spinoffs(self, year: int, f, entrants: np.ndarray, kpol) -> np.ndarray:
        """University / institute spin-offs: Poisson per institution, each an entrant of the institution's
        prefecture (weighted by the institution's fields) that takes one of its researchers along."""
        inst, kp = self.inst, self.kp
        lam = kp.spinoff_rate * inst.rd / WAN_PER_YI * mk.effort(kpol.researcher_share, kp)
        counts = self.draws.poisson(year, "f_spinoff", inst.keys, lam)
        done = np.zeros(self.n_pref)
        if not counts.any():
            return done
        entrants = entrants[~f.rd_active[entrants]]  # not already an incubated start-up
        uid = f.uid[entrants]
        log_u = np.log(self.draws.uniform(year, "f_spinoff", uid))
        pref, sector = f.pref[entrants], f.sector[entrants]
        taken = np.zeros(len(entrants), dtype=bool)
        in_pref: dict[int, np.ndarray] = {}  # the entrants of a prefecture, found once
        pop = self.talent.pop
        # the free staff of the institutions, found once: a mover's new employer is a firm (uids below
        # INSTITUTION_KEY), so no later institution's free staff changes in the loop
        staff = np.flatnonzero(pop.resident & (pop.oblig_until < year) & (pop.employer >= INSTITUTION_KEY))
        staff_employer = pop.employer[staff]
        for j in np.flatnonzero(counts):
            p = int(inst.pref[j])
            if p not in in_pref:
                in_pref[p] = np.flatnonzero(pref == p)
            cand = in_pref[p][~taken[in_pref[p]]]
            priority = log_u[cand] / (inst.fields[j][sector[cand]] + self.kp.spinoff_field_floor)
            chosen = cand[top_n(priority, uid[cand], int(counts[j]))]
            taken[chosen] = True
            picked = entrants[chosen]
            movers = staff[staff_employer == inst.keys[j]]
            staff_u = self.draws.uniform(year, "f_spinoff", pop.key[movers] + 10**9)  # keyed: drawn for these only
            movers = movers[np.argsort(staff_u, kind="stable")][:len(picked)]
            pop.kind[movers] = tl.FIRM
            pop.employer[movers] = f.uid[picked[:len(movers)]]
            pop.since[movers] = year
            done[inst.pref[j]] += len(picked)
        self._convert(f, entrants[taken], FIRM_KEY_SPINOFF, kp.spinoff_knowledge)
        return done

    def _book(self, fiscal: dict[str, np.ndarray], market: mk.MarketOutcome, pflows: pf.PlatformFlows) -> None:
        """Record full-scale spending in the governments' ledgers (prefecture-funded items to the prefectures)."""
        s = self.scale
        prov, prefs = self.model.province, self.model.prefecture_govs
        for key in ("spend_talent_programmes", "spend_research_institutional", "spend_research_competitive",
                    "spend_popularisation"):
            prov.record(key.removeprefix("spend_"), float(fiscal[key].sum()))
        prov.record("talent_clawback", -float(fiscal["talent_clawback"].sum()))
        prov.record("tech_market_subsidies", float((market.subsidy_buyer + market.subsidy_broker).sum()) / s)
        prov.record("platform_subsidies", float((pflows.subsidy - pflows.prefecture_subsidy).sum()) / s)
        for i, gov in enumerate(prefs):
            if market.subsidy_sme[i] > 0:
                gov.record("sme_patent_subsidy", float(market.subsidy_sme[i]) / s)
            if pflows.prefecture_subsidy[i] > 0:
                gov.record("platform_subsidies", float(pflows.prefecture_subsidy[i]) / s)

    # --- indicators -------------------------------------------------------------------------------------------
    def _columns(self, year: int, f, market: mk.MarketOutcome, flows, startups: np.ndarray, spinoffs: np.ndarray,
                 fiscal: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        s, k, inst = self.scale, self.n_pref, self.inst
        nan = np.full(k + 1, np.nan)

        def wp(per_pref: np.ndarray) -> np.ndarray:
            return np.concatenate([[per_pref.sum()], per_pref])

        def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            n, d = wp(num), wp(den)
            return np.divide(n, d, out=nan.copy(), where=d > 0)

        personnel = self.personnel / s
        employment = self.macro["employment"][year] * self.pop_share  # 万人 (employment split as population)
        population = self.macro["population"][year] * self.pop_share  # 万人
        led = self.ledger
        held = led.patents > 0
        pos = np.minimum(np.searchsorted(f.uid, led.uid[held]), len(f) - 1)
        firm_patents = np.bincount(f.pref[pos], weights=led.patents[held], minlength=k)
        patents = (firm_patents + np.bincount(inst.pref, weights=inst.patents, minlength=k)) / s
        t = self.platforms.table
        cols = {
            "public_rd": wp(np.bincount(inst.pref, weights=inst.rd, minlength=k)) / s / WAN_PER_YI,
            "rd_personnel": wp(personnel),
            "rd_personnel_fte": wp(personnel) / self.kp.headcount_per_fte,
            "rd_personnel_per_10k": ratio(personnel, employment),
            "st_talent": wp(personnel) * self.b.st_staff_per_rd_staff,
            "tech_contract_turnover": wp(market.turnover) / s / WAN_PER_YI,
            "tech_contracts": wp(market.contracts) / s,
            "valid_invention_patents": wp(patents),
            "patents_per_10k": ratio(patents, population),
            "national_platforms": wp(t.count(t.level == pf.NATIONAL, k) / s),
            "provincial_platforms": wp(t.count((t.level == pf.PROVINCIAL) & pf.one_of(t.ptype, pf.RD_TYPES), k) / s),
            "incubators_maker_spaces": wp(t.count(pf.one_of(t.ptype, (pf.INCUBATOR, pf.MAKER_SPACE)), k) / s),
            "platforms": wp(t.count(np.ones(len(t), dtype=bool), k) / s),
            "science_literacy": np.concatenate([[self.literacy.province()], self.literacy.level()]) * 100.0,
            "talent_inflow": wp(flows.inflow / s) if flows else np.zeros(k + 1),
            "talent_outflow": wp(flows.outflow / s) if flows else np.zeros(k + 1),
            "incubated_startups": wp(startups / s),
            "spin_offs": wp(spinoffs / s),
        }
        for name in ("spend_talent_programmes", "talent_clawback", "spend_research_institutional",
                     "spend_research_competitive", "spend_tech_market_subsidies", "spend_platform_subsidies",
                     "spend_popularisation"):
            cols[name] = wp(fiscal[name]) if name in fiscal else np.zeros(k + 1)
        return cols

    # --- inspection -------------------------------------------------------------------------------------------
    @property
    def institutions(self) -> list:
        """The University and ResearchInstitute agents."""
        return self.agents
