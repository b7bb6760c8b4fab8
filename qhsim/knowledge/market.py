"""Technology market 技术市场 (MODEL.md §4 step 7; docs/ODD.md §7.10.3).

Firms buy development, transfer, consulting and service contracts. Suppliers are the universities and institutes
and, per (prefecture, sector) cell, the certified tech firms of the cell taken together (most registered sellers
in China are firms); buyers may also turn to a supplier outside Qinghai (the outside option). Contracts are
registered where the seller is (技术合同认定登记管理办法, 2000), so turnover counts contracts sold by Qinghai
suppliers, to Qinghai buyers or to buyers outside the province (external demand).

 1. demand: firm i makes n_i ~ Poisson(lambda_i) contract searches a year,
    lambda_i = [psi_rd (R&D_i / 100万)^eps_d + psi_rev [rev_i >= bar] (rev_i / 1亿)^eps_r] x (1 - s_i)^-eps_p,
    (R&D performers buy development and results; large firms of every kind buy technical services) with s_i the
    expected subsidy rate (buyer subsidy on development / transfer, SME patent-conversion subsidy);
 2. type ~ shares; value v = median_type (revenue / 5,000万)^eps_v exp(sigma z);
 3. a broker joins with p_b = min(p_b0 ((fee + s_b) / fee)^eta_b, market_broker_max) (s_b: broker subsidy rate on the deal);
 4. supplier choice (multinomial logit, Gumbel draws): U_ij = a_K ln(K_j / 1亿) + a_C ln(C_j / 10) + w_fit fit_j(sector_i)
    - d_ij / D (1 - r_b broker_i) + affinity(kind_j, type) + b_past [j = last partner]; outside option U_0 = u_out;
    P_ij = exp(U_ij) / sum_k exp(U_ik), drawn by inverse CDF with one uniform per search;
 5. the deal closes with p = min(m0 (1 + u_b broker_i) e_j (1 - subsidy_i / v)^-eps_p, 1); e_j = (share_r / share_ref)^eta
    is the researchers' incentive at institutions (>= 70% of net transfer income, seed 001:L1958); 1 for firms;
 6. capacity: a supplier negotiates at most C_j deals a year itself (transfer office / seller firms), in random
    order; brokered deals are negotiated by the broker (transfer agencies do the "transfer and agency" work, seed
    001:L2127-2134) and do not use the supplier's capacity;
 7. external buyers: N_ext contract offers a year (growing), spread over suppliers by attractiveness; a supplier
    takes them up to its capacity left after local deals;
 8. subsidies within the budget (pro rata): buyer min(r_b v, cap) on development / transfer with a Qinghai seller,
    broker min(r_k v, cap) on brokered deals, SME patent conversion min(r_s v, cap) on transfer contracts of SME
    buyers in the listed prefectures;
 9. feedback: buyers' knowledge += absorb_type x v; institutions: development income funds R&D this year
    (enterprise source); transfer, consulting and service income net of costs goes share_r to the researchers (a
    bonus that retains them; such income counts as commercialisation under 国发〔2016〕16号) and the rest to the
    unit's other funds; a seller firm (picked in its cell by knowledge) learns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from qhsim.draws import KnowledgeDraws
from qhsim.knowledge.selection import rank_within, weighted_pick
from qhsim.scaling import Carry
from qhsim.soa import positions
from qhsim.units import SME_EMPLOYEES, WAN_PER_YI

DEVELOPMENT, TRANSFER, CONSULTING, SERVICES = 0, 1, 2, 3
N_SUP_MAX = 255  # suppliers per year (keys use search key * 256 + supplier)
MAX_SEARCHES = 64  # contract searches per firm per year (search keys are uid * 64 + search number)


@dataclass
class Suppliers:
    """Qinghai suppliers this year: institutions first, then firm cells (simulated world)."""

    is_inst: np.ndarray
    inst_index: np.ndarray  # institution index, -1 for cells
    cell: np.ndarray  # pref * n_sectors + sector for cells, -1 for institutions
    pref: np.ndarray
    fit: np.ndarray  # (n_sup, n_sectors)
    knowledge: np.ndarray  # full-scale equivalent
    capacity: np.ndarray  # deals per year, simulated world
    effort: np.ndarray
    scale: float = 1.0  # run scale (capacities are in the simulated world)
    members: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # cell members: (firm positions, weights, starts)

    @property
    def code(self) -> np.ndarray:
        """Stable supplier codes: institution index, or 1000 + cell."""
        return np.where(self.is_inst, self.inst_index, 1000 + self.cell)

    def __len__(self) -> int:
        return len(self.pref)


@dataclass
class Buyers:
    """The firm population as the market needs it (arrays aligned with the firm population)."""

    uid: np.ndarray
    pref: np.ndarray  # any integer dtype (cast where combined)
    sector: np.ndarray
    revenue: np.ndarray
    employees: np.ndarray
    rd: np.ndarray
    last_partner: Callable[[np.ndarray], np.ndarray]  # uids -> supplier code of the last deal (-1 none)


@dataclass
class MarketOutcome:
    """The year's deals (simulated world) and what they change."""

    turnover: np.ndarray  # 万元 by prefecture of the seller
    contracts: np.ndarray  # count by prefecture of the seller
    brokered: int
    seekers: int
    outside: int  # deals with suppliers outside Qinghai (not in turnover)
    subsidy_buyer: np.ndarray  # 万元 by prefecture of the buyer
    subsidy_broker: np.ndarray
    subsidy_sme: np.ndarray
    knowledge_to: np.ndarray  # firm positions (in the buyers' arrays) that learn from this year's deals
    knowledge_add: np.ndarray  # 万元 of knowledge each adds (buyers: absorbed value; firm sellers: learning)
    inst_rd_income: np.ndarray  # per institution: development contracts (enterprise-funded R&D)
    inst_transfer_net: np.ndarray  # per institution: transfer, consulting and service income net of costs
    partner_uid: np.ndarray  # buyers that closed a deal with a Qinghai supplier (unique uids, sorted)
    partner_code: np.ndarray  # that supplier's code (the buyer's new last partner)


def distance_matrix(kp: SimpleNamespace) -> np.ndarray:
    """Road distance between prefectures (km): hub-and-spoke through Xining; within a prefecture a local value."""
    dx = np.asarray(kp.market_distance_to_xining, dtype=float)
    d = dx[:, None] + dx[None, :]
    np.fill_diagonal(d, np.asarray(kp.market_local_distance, dtype=float))
    return d


def demand_rate(rd: np.ndarray, revenue: np.ndarray, expected_subsidy: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
    """Expected contract searches a year: lambda = [psi_rd (R&D/100)^eps_d + psi_rev [rev >= bar] (rev/1亿)^eps_r]
    x (1 - s)^-eps_p."""
    lam = kp.market_demand_scale * (np.maximum(rd, 0.0) / 100.0) ** kp.market_demand_rd_elasticity
    large = revenue >= kp.market_service_min_revenue
    lam = lam + np.where(large, kp.market_service_demand * (revenue / WAN_PER_YI) ** kp.market_service_size_elasticity, 0.0)
    return lam * (1.0 - np.minimum(expected_subsidy, kp.market_max_subsidy_share)) ** (-kp.market_price_elasticity)


def choice_utility(sup: Suppliers, pref: np.ndarray, sector: np.ndarray, brokered: np.ndarray, ctype: np.ndarray,
                   kp: SimpleNamespace) -> np.ndarray:
    """U (rows: buyer profiles; columns: Qinghai suppliers, then the outside option); -inf for suppliers that
    cannot sell this year."""
    # row gathers from small per-prefecture / per-sector tables (the same values as 2-d fancy indexing, faster)
    d = distance_matrix(kp)[:, sup.pref][pref]
    fit = np.ascontiguousarray(sup.fit.T)[sector]  # = sup.fit[:, sector].T
    affinity = np.asarray(kp.market_institution_affinity, dtype=float)[ctype]
    util = (
        kp.market_knowledge_weight * np.log(np.maximum(sup.knowledge, 1e-9) / WAN_PER_YI)[None, :]
        + kp.market_capacity_weight * np.log(np.maximum(sup.capacity / sup.scale, 1e-9) / 10.0)[None, :]
        + kp.market_fit_weight * fit
        - d / kp.market_distance_scale * (1.0 - kp.market_broker_distance_relief * brokered)[:, None]
        + np.where(sup.is_inst[None, :], affinity[:, None], 0.0)
    )
    util = np.where((sup.capacity > 0) & (sup.knowledge > 0), util, -np.inf)
    return np.column_stack([util, np.full(len(pref), kp.market_outside_utility)])


def _partner_index(codes: np.ndarray, sup_codes: np.ndarray) -> np.ndarray:
    """Supplier position of each search's last partner (-1 if none or not selling this year)."""
    order = np.argsort(sup_codes)
    pos = np.minimum(np.searchsorted(sup_codes[order], codes), len(order) - 1)
    found = (codes >= 0) & (sup_codes[order][pos] == codes)
    return np.where(found, order[pos], -1)


def choose(util: np.ndarray, group: np.ndarray, partner: np.ndarray, u: np.ndarray, bonus: float) -> np.ndarray:
    """Multinomial-logit choice of each search from its group's utilities, plus ``bonus`` on its last partner,
    by inverse CDF with one uniform per search (the same draw as an inverse CDF of the
    choice probabilities on the full rows).

    With C the group's normalised cumulative weights and a = (e^bonus - 1) w_p / W the partner's extra weight,
    the search's target is t = u (1 + a): below C(p-1) the choice is found in C; up to C(p) + a it is p; above,
    it is found in C at t - a."""
    n_opt = util.shape[1]
    w = np.exp(util - util.max(axis=1, keepdims=True))
    total = w.sum(axis=1, keepdims=True)
    cum = np.cumsum(w, axis=1) / total
    flat = (cum + np.arange(len(util))[:, None]).ravel()  # row g spans (g, g + 1]
    own = partner >= 0
    p = np.maximum(partner, 0)
    a = np.where(own, (np.exp(bonus) - 1.0) * w[group, p] / total[group, 0], 0.0)
    t = u * (1.0 + a)
    before = np.where(p > 0, cum[group, np.maximum(p - 1, 0)], 0.0)
    at_p = own & (t > before) & (t <= cum[group, p] + a)
    after = own & ~at_p & (t > before)
    t = np.where(after, t - a, t)
    idx = np.searchsorted(flat, np.minimum(t, 1.0) + group, side="left") - group * n_opt
    return np.where(at_p, partner, np.clip(idx, 0, n_opt - 1))


def broker_probability(value: np.ndarray, kpol, kp: SimpleNamespace) -> np.ndarray:
    """Share of deals that involve a broker: rises with the broker's income per deal (fee + subsidy)."""
    s_b = np.where(value > 0, np.minimum(kpol.broker_rate * value, kpol.broker_cap) / np.maximum(value, 1e-9), 0.0)
    fee = kp.market_broker_fee
    return np.minimum(kp.market_broker_base * ((fee + s_b) / fee) ** kp.market_broker_elasticity, kp.market_broker_max)


def subsidies(value: np.ndarray, ctype: np.ndarray, local_seller: np.ndarray, brokered: np.ndarray,
              sme_eligible: np.ndarray, kpol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entitlements per deal (万元): buyer, broker, SME patent conversion (before the budget limit)."""
    dev_transfer = (ctype == DEVELOPMENT) | (ctype == TRANSFER)
    buyer = np.where(dev_transfer & local_seller, np.minimum(kpol.buyer_rate * value, kpol.buyer_cap), 0.0)
    broker = np.where(brokered & local_seller, np.minimum(kpol.broker_rate * value, kpol.broker_cap), 0.0)
    sme = np.where((ctype == TRANSFER) & sme_eligible, np.minimum(kpol.sme_rate * value, kpol.sme_cap), 0.0)
    return buyer, broker, sme


def effort(researcher_share: float, kp: SimpleNamespace) -> float:
    """Researchers' incentive to take on contracts: (share / share_ref)^eta."""
    return (max(researcher_share, 1e-6) / kp.market_income_share_ref) ** kp.market_effort_elasticity


def run_market(
    year: int,
    kpol,
    kp: SimpleNamespace,
    draws: KnowledgeDraws,
    buyers: Buyers,
    sup: Suppliers,
    carry: Carry,
    n_pref: int,
    n_inst: int,
    external_index: float,
) -> MarketOutcome:
    n = len(buyers.uid)
    n_sup = len(sup)
    if n_sup > N_SUP_MAX:
        raise ValueError(f"{n_sup} suppliers exceed the key space ({N_SUP_MAX})")
    shares = np.asarray(kp.market_type_shares, dtype=float)
    shares = shares / shares.sum()
    medians = np.asarray(kp.market_value_median, dtype=float)
    absorb = np.asarray(kp.market_absorption, dtype=float)
    out = MarketOutcome(
        turnover=np.zeros(n_pref), contracts=np.zeros(n_pref), brokered=0, seekers=0, outside=0,
        subsidy_buyer=np.zeros(n_pref), subsidy_broker=np.zeros(n_pref), subsidy_sme=np.zeros(n_pref),
        knowledge_to=np.zeros(0, dtype=np.int64), knowledge_add=np.zeros(0), inst_rd_income=np.zeros(n_inst),
        inst_transfer_net=np.zeros(n_inst), partner_uid=np.zeros(0, dtype=np.int64),
        partner_code=np.zeros(0, dtype=np.int64),
    )

    # 1. demand: searches per firm, each search keyed by (buyer uid, search number)
    candidate = positions((buyers.rd > 0) | (buyers.revenue >= kp.market_service_min_revenue))
    sme_c = (buyers.employees[candidate] <= SME_EMPLOYEES) & kpol.sme_prefectures[buyers.pref[candidate]]
    expected = kpol.buyer_rate * (shares[DEVELOPMENT] + shares[TRANSFER]) + kpol.sme_rate * shares[TRANSFER] * sme_c
    lam = demand_rate(buyers.rd[candidate], buyers.revenue[candidate], expected, kp)
    n_search = np.minimum(draws.poisson(year, "m_demand", buyers.uid[candidate], lam), MAX_SEARCHES - 1)
    seek = np.repeat(candidate, n_search)
    search_no = np.arange(len(seek)) - np.repeat(np.cumsum(n_search) - n_search, n_search)
    out.seekers = len(seek)
    sme_any = np.zeros(n, dtype=bool)
    sme_any[candidate] = sme_c

    code = sup.code
    cap = np.floor(sup.capacity + draws.uniform(year, "m_capacity", code + 10**9))  # deals per supplier this year
    used = np.zeros(n_sup)
    if len(seek) and n_sup:
        uid = buyers.uid[seek] * MAX_SEARCHES + search_no  # search keys
        # 2. type and value
        ctype = np.searchsorted(np.cumsum(shares), draws.uniform(year, "m_type", uid), side="right")
        ctype = np.minimum(ctype, 3)
        size = (buyers.revenue[seek] / kp.market_value_size_ref) ** kp.market_value_size_elasticity
        value = medians[ctype] * size * np.exp(kp.market_value_sigma * draws.normal(year, "m_value", uid))
        # 3. broker
        brokered = draws.uniform(year, "m_broker", uid) < broker_probability(value, kpol, kp)
        # 4. supplier choice: utilities are shared by searches of the same (prefecture, sector, broker, type)
        n_sec = sup.fit.shape[1]
        b_pref, b_sector = buyers.pref[seek].astype(np.int64), buyers.sector[seek].astype(np.int64)
        group = ((b_pref * n_sec + b_sector) * 2 + brokered) * 4 + ctype
        # the groups present (ascending) and each search's: np.unique(group, return_inverse=True) by counting the small
        # codes, without its sort
        present = np.bincount(group) > 0
        groups, inv = np.flatnonzero(present), (np.cumsum(present) - 1)[group]
        g_type, rest = groups % 4, groups // 4
        g_broker, rest = rest % 2, rest // 2
        g_sector, g_pref = rest % n_sec, rest // n_sec
        util = choice_utility(sup, g_pref, g_sector, g_broker.astype(bool), g_type, kp)
        partner = _partner_index(buyers.last_partner(buyers.uid[seek]), code)
        choice = choose(util, inv, partner, draws.uniform(year, "m_choice", uid), kp.market_past_partner_bonus)
        outside = choice == n_sup
        # 5. acceptance
        local = ~outside
        sme_ok = sme_any[seek]
        b_ent, k_ent, s_ent = subsidies(value, ctype, local, brokered, sme_ok, kpol)
        net = 1.0 - np.minimum((b_ent + s_ent) / value, kp.market_max_subsidy_share)
        e = np.where(local, sup.effort[np.minimum(choice, n_sup - 1)], 1.0)
        p_acc = np.minimum(
            kp.market_accept_base * (1.0 + kp.market_broker_uplift * brokered) * e * net ** (-kp.market_price_elasticity),
            1.0,
        )
        closed = draws.uniform(year, "m_accept", uid) < p_acc
        # 6. capacity of Qinghai suppliers (random order); brokers carry their own deals
        loc = np.flatnonzero(closed & local & ~brokered)
        if len(loc):
            rank = rank_within(choice[loc], draws.uniform(year, "m_capacity", uid[loc]))
            closed[loc[rank >= cap[choice[loc]]]] = False
            used += np.bincount(choice[closed & local & ~brokered], minlength=n_sup)
        deal = np.flatnonzero(closed)
        is_local = local[deal]
        j = choice[deal]
        v = value[deal]
        # 8. subsidies within budget
        bb, kk, ss = b_ent[deal], k_ent[deal], s_ent[deal]
        claims = bb.sum() + kk.sum() + ss.sum()
        budget = kpol.market_budget * carry.scale
        ratio = 1.0 if claims <= budget or claims == 0 else budget / claims
        bp = buyers.pref[seek][deal]
        out.subsidy_buyer += np.bincount(bp, weights=bb * ratio, minlength=n_pref)
        out.subsidy_broker += np.bincount(bp, weights=kk * ratio, minlength=n_pref)
        out.subsidy_sme += np.bincount(bp, weights=ss * ratio, minlength=n_pref)
        out.brokered = int(brokered[deal].sum())
        out.outside = int((~is_local).sum())
        # 9. feedback
        bi = seek[deal]
        out.knowledge_to = np.concatenate((out.knowledge_to, bi))
        out.knowledge_add = np.concatenate((out.knowledge_add, absorb[ctype[deal]] * v))
        rev_b, rev_j = bi[is_local][::-1], j[is_local][::-1]
        last = np.unique(rev_b, return_index=True)[1]  # each buyer's last local deal of the year
        out.partner_uid, out.partner_code = buyers.uid[rev_b[last]], code[rev_j[last]]
        jl, vl, tl = j[is_local], v[is_local], ctype[deal][is_local]
        out.turnover += np.bincount(sup.pref[jl], weights=vl, minlength=n_pref)
        out.contracts += np.bincount(sup.pref[jl], minlength=n_pref)
        _supplier_income(out, sup, jl, vl, tl, kp, n_inst)
        _seller_learning(out, year, draws, sup, jl, vl, uid[deal][is_local], kp)

    # 7. external buyers
    n_ext = carry("market_external", kp.market_external_2015 * external_index)
    if n_ext and n_sup:
        keys = year * 100000 + np.arange(n_ext)
        w = np.where(sup.capacity > 0, (np.maximum(sup.knowledge, 1e-9) / WAN_PER_YI) ** kp.market_knowledge_weight
                     * (np.maximum(sup.capacity / sup.scale, 1e-9) / 10.0) ** kp.market_capacity_weight * sup.effort, 0.0)
        if w.sum() > 0:
            j = weighted_pick(draws.uniform(year, "m_ext_choice", keys), w)
            rank = rank_within(j, draws.uniform(year, "m_capacity", keys + 10**10))
            room = rank < np.maximum(cap - used, 0)[j]
            keys, j = keys[room], j[room]
            t = np.minimum(np.searchsorted(np.cumsum(shares), draws.uniform(year, "m_ext_type", keys), side="right"), 3)
            v = kp.market_external_median * np.exp(kp.market_value_sigma * draws.normal(year, "m_ext_value", keys))
            out.turnover += np.bincount(sup.pref[j], weights=v, minlength=n_pref)
            out.contracts += np.bincount(sup.pref[j], minlength=n_pref)
            _supplier_income(out, sup, j, v, t, kp, n_inst)
            _seller_learning(out, year, draws, sup, j, v, keys + 10**11, kp)
    return out


def _supplier_income(out: MarketOutcome, sup: Suppliers, j: np.ndarray, v: np.ndarray, t: np.ndarray,
                     kp: SimpleNamespace, n_inst: int) -> None:
    at_inst = sup.is_inst[j]
    ji, vi, ti = sup.inst_index[j[at_inst]], v[at_inst], t[at_inst]
    rd_type = ti == DEVELOPMENT
    out.inst_rd_income += np.bincount(ji[rd_type], weights=vi[rd_type], minlength=n_inst)
    net = vi[~rd_type] * (1.0 - kp.market_transfer_cost_share)
    out.inst_transfer_net += np.bincount(ji[~rd_type], weights=net, minlength=n_inst)


def _seller_learning(out: MarketOutcome, year: int, draws: KnowledgeDraws, sup: Suppliers, j: np.ndarray,
                     v: np.ndarray, keys: np.ndarray, kp: SimpleNamespace) -> None:
    """A firm-cell deal is sold by one certified firm of the cell, picked in proportion to knowledge; it learns."""
    from_cell = ~sup.is_inst[j]
    if not from_cell.any() or sup.members is None:
        return
    members, weights, starts = sup.members
    cells = sup.cell[j[from_cell]]
    lo, hi = starts[cells], starts[cells + 1]
    ok = hi > lo
    cum = np.cumsum(weights)  # one cumulative sum over all members, grouped by cell
    base = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
    total = cum[np.maximum(hi - 1, 0)] - base
    target = base + draws.uniform(year, "m_seller", keys[from_cell]) * total
    pick = np.clip(np.searchsorted(cum, target, side="right"), lo, np.maximum(hi - 1, lo))
    out.knowledge_to = np.concatenate((out.knowledge_to, members[pick[ok]]))
    out.knowledge_add = np.concatenate((out.knowledge_add, kp.market_supplier_learning * v[from_cell][ok]))


def build_suppliers(inst, firm_certified: np.ndarray, firm_pref: np.ndarray, firm_sector: np.ndarray,
                    firm_knowledge: np.ndarray, n_pref: int, n_sec: int, researcher_share: float,
                    kp: SimpleNamespace) -> Suppliers:
    """Institutions plus one supplier per (prefecture, sector) cell of seller firms: certified tech firms and
    firms whose knowledge stock passes the seller bar."""
    scale = inst.scale
    cert = np.flatnonzero(firm_certified | (firm_knowledge >= kp.market_seller_min_knowledge))
    cell_of = firm_pref[cert].astype(np.int64) * n_sec + firm_sector[cert]
    n_cells = n_pref * n_sec
    k_cell = np.bincount(cell_of, weights=firm_knowledge[cert], minlength=n_cells) / scale
    n_cell = np.bincount(cell_of, minlength=n_cells)
    cells = np.flatnonzero(n_cell > 0)
    fit_cells = np.zeros((len(cells), n_sec))
    fit_cells[np.arange(len(cells)), cells % n_sec] = 1.0
    sup = Suppliers(
        is_inst=np.concatenate((np.ones(inst.n, dtype=bool), np.zeros(len(cells), dtype=bool))),
        inst_index=np.concatenate((np.arange(inst.n), np.full(len(cells), -1))),
        cell=np.concatenate((np.full(inst.n, -1), cells)),
        pref=np.concatenate((inst.pref, cells // n_sec)),
        fit=np.vstack([inst.fields, fit_cells]),
        knowledge=np.concatenate((inst.knowledge / scale, k_cell[cells])),
        capacity=np.concatenate((inst.tto_capacity * scale, n_cell[cells] * kp.market_firm_capacity)),
        effort=np.concatenate((np.full(inst.n, effort(researcher_share, kp)), np.ones(len(cells)))),
        scale=scale,
    )
    # members of each cell (firm positions, by cell), for picking the selling firm
    order = np.argsort(cell_of, kind="stable")
    starts = np.searchsorted(cell_of[order], np.arange(n_cells + 1))
    sup.members = (cert[order], np.maximum(firm_knowledge[cert[order]], 1e-9), starts)
    return sup
