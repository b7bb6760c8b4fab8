"""Platforms 创新平台, incubators and maker spaces 孵化器与众创空间, start-ups and spin-offs
(MODEL.md §4 steps 9-10; docs/ODD.md §7.10.5).

A platform is a row of a small table: type (key lab, engineering research centre, incubator, maker space), level
(prefecture 0, provincial 1, national 2), host (a firm, an institution, or a carrier operator), prefecture, field.

 - recognition: a firm host qualifies for a provincial platform when it holds a tech certificate (HTE or tech-based
   enterprise) and its R&D passes the bar, one platform per bar multiple (at most ``platform_firm_max``); an
   institution hosts one per ``platform_inst_rd_per_platform`` of R&D. Qualified hosts apply with
   p = p0 (1 + e_s subsidy / 100万); applicants are ranked by capacity x review noise and approved up to the yearly
   provincial quota. Listed prefectures recognise prefecture-level platforms the same way (lower bar, own quota);
 - upgrade: a provincial platform whose host passes the national bar becomes national with p_up (1 + e_s s / 100万)
   a year (national approvals); carriers upgrade with their own rate;
 - dynamic adjustment 动态调整: every ``eval_years`` a platform is evaluated; it is removed if its host has gone or
   its host's capacity fell below ``maintain`` x the bar, and otherwise fails with a small probability;
 - subsidies: provincial (new provincial), provincial matching (new national), prefecture (any new platform in a
   listed prefecture, Haixi <= 50万, seed 004:L106); they fund the host's R&D (institutions) or knowledge (firms);
 - spillovers: firms doing R&D in a (prefecture, sector) cell with platforms of that field add
   spill_max (1 - exp(-P_cell / P0)) x R&D to their knowledge (P: level-weighted platform count, full-scale);
 - incubators and maker spaces graduate start-ups each year: that many of the year's entrants in the carrier's
   prefecture become R&D-active tech start-ups; institutions spin off firms (Poisson, rising with R&D and the
   researchers' income share), each taking one researcher along.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from qhsim.draws import KnowledgeDraws, arrival_keys
from qhsim.knowledge.selection import weighted_pick
from qhsim.scaling import Carry

KEY_LAB, ERC, INCUBATOR, MAKER_SPACE, CARRIER = 0, 1, 2, 3, 4
PREFECTURE_LEVEL, PROVINCIAL, NATIONAL = 0, 1, 2
HOST_FIRM, HOST_INSTITUTION, HOST_CARRIER = 0, 1, 2
RD_TYPES = (KEY_LAB, ERC)

COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "key": np.int64,  # draw key: fixed by the award (qhsim.draws.arrival_keys), not by how many came before
    "ptype": np.int8,
    "level": np.int8,
    "host_kind": np.int8,
    "host": np.int64,  # firm uid, institution index, or -1
    "pref": np.int64,
    "sector": np.int64,  # field (sectors.toml index); -1 for carriers
    "since": np.int16,
    "eval_next": np.int16,
}


CARRIER_BLOCK = 500  # new carriers' keys come in blocks of this many, each followed by the block of their type draws


def carrier_keys(year: int, n: int) -> np.ndarray:
    """Draw keys of a year's ``n`` new incubators and maker spaces (their prefecture draw and arrival slot); the type
    draw of each uses its key + CARRIER_BLOCK. Carrier j's key is year x 1000 + j for j < CARRIER_BLOCK; the next
    CARRIER_BLOCK carriers skip the block of the first ones' type keys, and so on, so no two draws of a year share a
    key however many carriers arrive."""
    j = np.arange(n)
    return year * 1000 + (j // CARRIER_BLOCK) * 2 * CARRIER_BLOCK + j % CARRIER_BLOCK


class PlatformTable:
    def __init__(self) -> None:
        self.cols = {name: np.zeros(0, dtype=dtype) for name, dtype in COLUMNS.items()}
        self.next_id = 0

    def __len__(self) -> int:
        return len(self.cols["id"])

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    def add(self, **values: Any) -> np.ndarray:
        n = max(np.size(v) for v in values.values())
        ids = np.arange(self.next_id, self.next_id + n)
        self.next_id += n
        values["id"] = ids
        values.setdefault("key", ids)  # the 2015 platforms: their ids, fixed by the 2015 population
        for name, dtype in COLUMNS.items():  # each column extended by a scalar or n values (no broadcast_to: slow)
            old = self.cols[name]
            col = self.cols[name] = np.empty(len(old) + n, dtype=dtype)
            col[:len(old)] = old
            col[len(old):] = np.asarray(values[name], dtype=dtype)
        return ids

    def keep(self, mask: np.ndarray) -> None:
        for name in self.cols:
            self.cols[name] = self.cols[name][mask]

    def count(self, mask: np.ndarray, n_pref: int) -> np.ndarray:
        return np.bincount(self.pref[mask], minlength=n_pref).astype(float)


@dataclass
class PlatformFlows:
    subsidy: np.ndarray  # 万元 by prefecture (provincial + prefecture subsidies, incubator support)
    prefecture_subsidy: np.ndarray  # the part paid by prefecture governments, by prefecture
    new_provincial: int = 0
    new_national: int = 0
    removed: int = 0
    startups: np.ndarray | None = None  # start-ups graduated, by prefecture (expected, simulated world)


def one_of(codes: np.ndarray, values: tuple[int, ...]) -> np.ndarray:
    """``np.isin(codes, values)`` for a few small integer ``values`` (one comparison each; isin's set machinery costs
    more on the short platform columns)."""
    out = codes == values[0]
    for value in values[1:]:
        out |= codes == value
    return out


def firm_capacity_slots(rd: np.ndarray, certified: np.ndarray, bar: float, max_n: int) -> np.ndarray:
    """Provincial platforms a firm can host: floor(R&D / bar) for certified firms, at most ``max_n``."""
    return np.where(certified, np.minimum(np.floor(rd / bar), max_n), 0).astype(np.int64)


def institution_capacity_slots(rd_full: np.ndarray, per_platform: float, scale: float = 1.0,
                               u: np.ndarray | None = None) -> np.ndarray:
    """Platforms an institution can host, in simulated units: floor(R&D / bar) real platforms, times the run's
    scale with the remainder rounded by the institution's fixed uniform ``u`` (unbiased; the institutions are not
    scaled, their platforms are: each simulated platform stands for 1/scale real ones, as firms' do)."""
    full = np.floor(rd_full / per_platform)
    if u is None:
        return full.astype(np.int64)
    return np.floor(full * scale + u).astype(np.int64)


def spillover_gain(rd: np.ndarray, p_cell_full: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
    """Knowledge added to a firm by platforms in its cell: spill_max (1 - exp(-P / P0)) R&D."""
    return kp.platform_spill_max * (1.0 - np.exp(-p_cell_full / kp.platform_spill_scale)) * rd


class PlatformSystem:
    def __init__(self, scale: float, n_pref: int, n_sec: int):
        self.table = PlatformTable()
        self.carry = Carry(scale)
        self.scale = scale
        self.n_pref = n_pref
        self.n_sec = n_sec

    # --- queries ----------------------------------------------------------------------------------------------
    def hosted(self, host_kind: int, hosts: np.ndarray, levels: tuple[int, ...], types: tuple[int, ...]) -> np.ndarray:
        """Count of platforms per host key in ``hosts`` (sorted keys) with the given levels and types."""
        t = self.table
        sel = (t.host_kind == host_kind) & one_of(t.level, levels) & one_of(t.ptype, types)
        h = t.host[sel]
        if not len(hosts):
            return np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(hosts, h)
        pos = np.minimum(pos, len(hosts) - 1)
        ok = hosts[pos] == h
        return np.bincount(pos[ok], minlength=len(hosts))

    def cell_strength(self, kp: SimpleNamespace) -> np.ndarray:
        """Level-weighted R&D-platform count per (prefecture, sector) cell, full-scale equivalent."""
        t = self.table
        rd = one_of(t.ptype, RD_TYPES) & (t.sector >= 0)
        w = np.asarray(kp.platform_level_weight, dtype=float)[t.level[rd]]
        cell = t.pref[rd] * self.n_sec + t.sector[rd]
        return np.bincount(cell, weights=w, minlength=self.n_pref * self.n_sec) / self.scale

    # --- the year ---------------------------------------------------------------------------------------------
    def step(self, year: int, kpol, kp: SimpleNamespace, draws: KnowledgeDraws, firms: SimpleNamespace,
             inst, alive_firm_uid: np.ndarray) -> PlatformFlows:
        t = self.table
        k = self.n_pref
        flows = PlatformFlows(subsidy=np.zeros(k), prefecture_subsidy=np.zeros(k), startups=np.zeros(k))
        pref_sub = kpol.prefecture_platform_subsidy * kpol.prefecture_platform_prefectures  # per prefecture

        # hosts that disappeared
        at_f = t.host_kind == HOST_FIRM
        pos = np.minimum(np.searchsorted(alive_firm_uid, t.host), max(len(alive_firm_uid) - 1, 0))
        gone = at_f & (alive_firm_uid[pos] != t.host)
        flows.removed += int(gone.sum())
        t.keep(~gone)

        firm_slots = firm_capacity_slots(firms.rd, firms.certified, kp.platform_firm_min_rd, int(kp.platform_firm_max))
        inst_full_rd = inst.rd / self.scale
        inst_slots = institution_capacity_slots(inst_full_rd, kp.platform_inst_rd_per_platform, self.scale,
                                                draws.uniform(0, "f_inst_slot", inst.keys))

        # evaluation (dynamic adjustment)
        due = t.eval_next <= year
        if due.any():
            cap_ratio = self._capacity_ratio(firms, inst_full_rd, kp)
            failed = due & (
                (cap_ratio < kp.platform_maintain_share)
                | (draws.uniform(year, "f_eval", t.key) < np.where(t.level == NATIONAL, kp.platform_fail_national,
                                                                   kp.platform_fail_probability))
            )
            carrier = one_of(t.ptype, (INCUBATOR, MAKER_SPACE))
            support = np.exp(-kp.incubator_support_effect * kpol.incubator_subsidy / 100.0)
            failed |= due & carrier & (draws.uniform(year, "f_eval", t.key + 10**9) < kp.incubator_fail_probability * support)
            flows.removed += int(failed.sum())
            period = np.where(t.level == NATIONAL, kp.platform_eval_years_national, kp.platform_eval_years)
            t.eval_next[due & ~failed] = year + period[due & ~failed]
            t.keep(~failed)

        # provincial recognition of key labs / engineering research centres
        n_quota = self.carry("provincial", kpol.platform_quota)
        sub_prov = kpol.platform_subsidy_provincial
        apply_p = np.minimum(kp.platform_apply_probability * (1.0 + kp.platform_subsidy_effect * sub_prov / 100.0), 1.0)
        f_have = self.hosted(HOST_FIRM, firms.uid, (PROVINCIAL, NATIONAL), RD_TYPES)
        f_cand = np.flatnonzero(firm_slots > f_have)
        f_cand = f_cand[draws.uniform(year, "f_apply", firms.uid[f_cand])
                        < np.minimum(apply_p * (1.0 + kp.platform_subsidy_effect * pref_sub[firms.pref[f_cand]] / 100.0), 1.0)]
        i_have = self.hosted(HOST_INSTITUTION, np.arange(inst.n), (PROVINCIAL, NATIONAL), RD_TYPES)
        i_cand = np.flatnonzero(inst_slots > i_have)
        i_cand = i_cand[draws.uniform(year, "f_apply", inst.keys[i_cand]) < apply_p]
        if n_quota and (len(f_cand) or len(i_cand)):
            f_score = firms.rd[f_cand] / kp.platform_firm_min_rd
            i_score = inst_full_rd[i_cand] / kp.platform_inst_rd_per_platform / np.maximum(i_have[i_cand] / self.scale, 1)
            keys = np.concatenate((firms.uid[f_cand], inst.keys[i_cand]))
            score = np.concatenate((f_score, i_score))
            score *= np.exp(kp.platform_review_noise * draws.normal(year, "f_rank", keys))
            order = np.lexsort((keys, -score))[:n_quota]
            is_f = order < len(f_cand)
            fi, ii = f_cand[order[is_f]], i_cand[order[~is_f] - len(f_cand)]
            if len(fi):
                ptype = np.where(draws.uniform(year, "f_field", firms.uid[fi]) < kp.platform_firm_erc_share, ERC, KEY_LAB)
                self._new(year, ptype, PROVINCIAL, HOST_FIRM, firms.uid[fi], firms.pref[fi], firms.sector[fi], kp)
                flows.subsidy += np.bincount(firms.pref[fi], minlength=k) * sub_prov + np.bincount(
                    firms.pref[fi], weights=pref_sub[firms.pref[fi]], minlength=k)
                flows.prefecture_subsidy += np.bincount(firms.pref[fi], weights=pref_sub[firms.pref[fi]], minlength=k)
                firms.platform_money[fi] += sub_prov + pref_sub[firms.pref[fi]]
            if len(ii):
                u = draws.uniform(year, "f_field", inst.keys[ii])
                ptype = np.where(u < kp.platform_inst_key_lab_share, KEY_LAB, ERC)
                sector = np.array([weighted_pick(np.array([u2]), inst.fields[j])[0]
                                   for u2, j in zip(draws.uniform(year, "f_field", inst.keys[ii] + 10**6), ii)])
                pref = np.array([weighted_pick(np.array([u2]), inst.platform_prefs[j])[0]
                                 for u2, j in zip(draws.uniform(year, "f_field", inst.keys[ii] + 2 * 10**6), ii)])
                self._new(year, ptype, PROVINCIAL, HOST_INSTITUTION, ii, pref, sector, kp)
                money = sub_prov + pref_sub[pref]
                flows.subsidy += np.bincount(pref, weights=money, minlength=k)
                flows.prefecture_subsidy += np.bincount(pref, weights=pref_sub[pref], minlength=k)
                inst.pending_other += np.bincount(ii, weights=money, minlength=inst.n)
            flows.new_provincial += len(fi) + len(ii)

        # national upgrades
        sub_nat = kpol.platform_subsidy_national
        cap_nat = self._national_ok(firms, inst_full_rd, kp)
        up_p = kp.platform_upgrade_probability * (1.0 + kp.platform_subsidy_effect * (sub_nat + pref_sub[t.pref]) / 100.0)
        up_p = np.where(one_of(t.ptype, (INCUBATOR, MAKER_SPACE)), kp.incubator_upgrade_probability, up_p)
        cand = (t.level == PROVINCIAL) & (cap_nat | one_of(t.ptype, (INCUBATOR, MAKER_SPACE)))
        up = cand & (draws.uniform(year, "f_upgrade", t.key) < up_p)
        if up.any():
            t.level[up] = NATIONAL
            t.eval_next[up] = year + kp.platform_eval_years_national
            money = sub_nat + pref_sub[t.pref[up]]
            flows.subsidy += np.bincount(t.pref[up], weights=money, minlength=k)
            flows.prefecture_subsidy += np.bincount(t.pref[up], weights=pref_sub[t.pref[up]], minlength=k)
            self._pay_hosts(up, money, firms, inst)
            flows.new_national += int(up.sum())

        # prefecture-level platforms in listed prefectures
        if kpol.prefecture_platform_quota > 0 and kpol.prefecture_platform_prefectures.any():
            have = self.hosted(HOST_FIRM, firms.uid, (PREFECTURE_LEVEL, PROVINCIAL, NATIONAL), RD_TYPES)
            for p in np.flatnonzero(kpol.prefecture_platform_prefectures):
                n_p = self.carry(f"pref_{p}", kpol.prefecture_platform_quota)
                cand = np.flatnonzero((firms.pref == p) & (firms.rd >= kp.platform_prefecture_min_rd) & (have == 0))
                if not n_p or not len(cand):
                    continue
                score = firms.rd[cand] * np.exp(kp.platform_review_noise * draws.normal(year, "f_pref_apply", firms.uid[cand]))
                pick = cand[np.lexsort((firms.uid[cand], -score))[:n_p]]
                self._new(year, np.full(len(pick), ERC), PREFECTURE_LEVEL, HOST_FIRM, firms.uid[pick], firms.pref[pick],
                          firms.sector[pick], kp)
                flows.subsidy[p] += len(pick) * pref_sub[p]
                flows.prefecture_subsidy[p] += len(pick) * pref_sub[p]
                firms.platform_money[pick] += pref_sub[p]

        # incubators and maker spaces
        n_new = self.carry("incubators", kpol.incubator_quota)
        if n_new:
            keys = carrier_keys(year, n_new)
            pref = weighted_pick(draws.uniform(year, "f_carrier", keys), np.asarray(kp.carrier_prefecture_share, dtype=float))
            ptype = np.where(draws.uniform(year, "f_carrier", keys + CARRIER_BLOCK) < kp.incubator_share_new, INCUBATOR,
                             MAKER_SPACE)
            self._new(year, ptype, PROVINCIAL, HOST_CARRIER, np.full(n_new, -1), pref, np.full(n_new, -1), kp, keys)
        carriers = one_of(t.ptype, (INCUBATOR, MAKER_SPACE))
        flows.subsidy += t.count(carriers, k) * kpol.incubator_subsidy
        grads = np.where(t.ptype[carriers] == INCUBATOR, kp.incubator_startups, kp.maker_space_startups)
        flows.startups += np.bincount(t.pref[carriers], weights=grads, minlength=k)
        return flows

    def _new(self, year: int, ptype, level: int, host_kind: int, host, pref, sector, kp: SimpleNamespace,
             slots: np.ndarray | None = None) -> None:
        """Platforms awarded this year; their draw keys come from (year, level, host kind, host) — or ``slots``
        for carriers, which have no host — so the same award has the same draws in a variant and its base."""
        period = kp.platform_eval_years_national if level == NATIONAL else kp.platform_eval_years
        key = arrival_keys(year, 8 + 4 * level + host_kind, np.asarray(host) if slots is None else slots)
        self.table.add(ptype=ptype, level=level, host_kind=host_kind, host=host, pref=pref, sector=sector,
                       since=year, eval_next=year + period, key=key)

    def _capacity_ratio(self, firms: SimpleNamespace, inst_full_rd: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
        """Host capacity relative to the bar of the platform's level (carriers: 1)."""
        t = self.table
        ratio = np.ones(len(t))
        at_f = t.host_kind == HOST_FIRM
        if at_f.any():
            pos = np.minimum(np.searchsorted(firms.uid, t.host[at_f]), len(firms.uid) - 1)
            rd = np.where(firms.uid[pos] == t.host[at_f], firms.rd[pos], 0.0)
            bar = np.where(t.level[at_f] == PREFECTURE_LEVEL, kp.platform_prefecture_min_rd, kp.platform_firm_min_rd)
            ratio[at_f] = rd / bar
        at_i = t.host_kind == HOST_INSTITUTION
        if at_i.any():
            j = t.host[at_i]
            have = np.bincount(j, minlength=len(inst_full_rd))[j] / self.scale  # in real platforms
            ratio[at_i] = inst_full_rd[j] / kp.platform_inst_rd_per_platform / np.maximum(have, 1)
        return ratio

    def _national_ok(self, firms: SimpleNamespace, inst_full_rd: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
        """Whether each platform's host passes the national bar."""
        t = self.table
        ok = np.zeros(len(t), dtype=bool)
        at_f = t.host_kind == HOST_FIRM
        if at_f.any():
            pos = np.minimum(np.searchsorted(firms.uid, t.host[at_f]), len(firms.uid) - 1)
            rd = np.where(firms.uid[pos] == t.host[at_f], firms.rd[pos], 0.0)
            ok[at_f] = rd >= kp.platform_firm_national_rd
        at_i = t.host_kind == HOST_INSTITUTION
        ok[at_i] = inst_full_rd[t.host[at_i]] >= kp.platform_inst_national_rd
        return ok

    def _pay_hosts(self, mask: np.ndarray, money: np.ndarray, firms: SimpleNamespace, inst) -> None:
        t = self.table
        hk, host = t.host_kind[mask], t.host[mask]
        at_i = hk == HOST_INSTITUTION
        inst.pending_other += np.bincount(host[at_i], weights=money[at_i], minlength=inst.n)
        at_f = hk == HOST_FIRM
        if at_f.any():
            pos = np.searchsorted(firms.uid, host[at_f])
            ok = (pos < len(firms.uid)) & (firms.uid[np.minimum(pos, len(firms.uid) - 1)] == host[at_f])
            np.add.at(firms.platform_money, pos[ok], money[at_f][ok])


def initial_platforms(ps: PlatformSystem, inst, firms: SimpleNamespace, kp: SimpleNamespace, draws: KnowledgeDraws,
                      year: int) -> None:
    """End-2015 platforms: institutions' from institutions.toml; firms' to the largest R&D performers among
    certified firms; carriers by prefecture shares. Evaluation dates spread over the evaluation cycle."""
    carry = ps.carry
    rows = inst.rows
    for j, row in enumerate(rows):
        for level, ptype, count in ((NATIONAL, KEY_LAB, row.national), (PROVINCIAL, KEY_LAB, row.key_labs),
                                    (PROVINCIAL, ERC, row.ercs)):
            n = carry(f"init_{level}", count)  # one carry per level across hosts: scaled totals stay right
            if not n:
                continue
            keys = (j * 10 + level * 3 + ptype) * 1000 + np.arange(n)
            sector = weighted_pick(draws.uniform(year, "f_init", keys), inst.fields[j])
            pref = weighted_pick(draws.uniform(year, "f_init", keys + 10**7), inst.platform_prefs[j])
            _init_add(ps, draws, year, np.full(n, ptype), level, HOST_INSTITUTION, np.full(n, j), pref, sector, keys, kp)

    # firms: national to the largest R&D performers, then provincial key labs and ERCs down the list
    cert = np.flatnonzero(firms.certified & (firms.rd > 0))
    noise = np.exp(kp.platform_review_noise * draws.normal(year, "f_init", firms.uid[cert] + 10**8))
    ranked = cert[np.lexsort((firms.uid[cert], -(firms.rd[cert] * noise)))]
    pos = 0
    for level, ptype, full in ((NATIONAL, ERC, kp.init_firm_national), (PROVINCIAL, KEY_LAB, kp.init_firm_key_labs),
                               (PROVINCIAL, ERC, kp.init_firm_ercs)):
        n = min(carry(f"init_{level}", full), max(len(ranked) - pos, 0))
        pick = ranked[pos:pos + n]
        pos += n
        if n:
            _init_add(ps, draws, year, np.full(n, ptype), level, HOST_FIRM, firms.uid[pick], firms.pref[pick],
                      firms.sector[pick], firms.uid[pick] + 10**9 * (level * 3 + ptype), kp)

    shares = np.asarray(kp.carrier_prefecture_share, dtype=float)
    for level, ptype, full in ((NATIONAL, CARRIER, kp.init_national_carriers), (PROVINCIAL, INCUBATOR, kp.init_incubators),
                               (PROVINCIAL, MAKER_SPACE, kp.init_maker_spaces)):
        n = carry(f"init_{level}", full)
        if n:
            keys = 5 * 10**9 + (level * 5 + ptype) * 1000 + np.arange(n)
            pref = weighted_pick(draws.uniform(year, "f_init", keys), shares)
            _init_add(ps, draws, year, np.full(n, ptype), level, HOST_CARRIER, np.full(n, -1), pref, np.full(n, -1), keys, kp)


def _init_add(ps: PlatformSystem, draws: KnowledgeDraws, year: int, ptype, level, host_kind, host, pref, sector,
              keys, kp: SimpleNamespace) -> None:
    period = kp.platform_eval_years_national if level == NATIONAL else kp.platform_eval_years
    offset = np.floor(period * draws.uniform(year, "f_eval", np.asarray(keys) + 3 * 10**9)).astype(np.int64)
    ps.table.add(ptype=ptype, level=level, host_kind=host_kind, host=host, pref=pref, sector=sector,
                 since=year - offset, eval_next=year + 1 + offset)
