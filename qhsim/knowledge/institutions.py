"""Universities 高校 and research institutes 科研院所 (MODEL.md §3): Mesa agents created from institutions.toml.

The few dozen institutions are ``mesa.Agent`` objects for identity and inspection, but their yearly rules are
vectorised over all of them: the state lives in the arrays of an ``InstitutionSet`` and each agent's attributes
read its own row. Money is in 万元 of the simulated world (full-scale value x run scale).

Yearly budget (docs/ODD.md §7.10.1), spent in the year:
  R&D_j = institutional_j + competitive_j + enterprise_j + other_j
  institutional_j: provincial block funding (instrument) shared by researchers among provincial units; central
      (CAS) core funding growing at the scenario's central growth; prefecture funding growing with nominal GDP
  competitive_j: provincial competitive budget (instrument) and national competitive money, both shared by merit
      m_j = E_j * (K_j / E_j)^merit_knowledge_elasticity * exp(merit_noise * z_j)
  enterprise_j: development and service contracts sold this year (technology market)
  other_j: other sources (growing with nominal GDP), talent-programme research funds, platform subsidies
Knowledge: K_j,t = (1 - delta) K_j,t-1 + R&D_j,t * q_j, with q_j = min(E_j / N*_j, q_max) the effective staffing
ratio (E: productivity-weighted researchers incl. flexible experts; N*: the staff the budget pays for).
"""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np

from qhsim import data
from qhsim.draws import KnowledgeDraws
from qhsim.knowledge.params import SOURCES, InstitutionRow, institution_rows

CAPITAL = data.capital()  # "weak prefectures" are all others (seed 003:L939), as for the firms' grants
INSTITUTION_KEY = 10**12  # institutions' keys in keyed draws and employer keys: INSTITUTION_KEY + index


class InstitutionSet:
    """State of all institutions as arrays (one row per institution, order of institutions.toml)."""

    def __init__(self, rows: tuple[InstitutionRow, ...], scale: float, public_rd_2015: float, kp: SimpleNamespace):
        self.rows = rows
        n = len(rows)
        self.n = n
        self.scale = scale
        norm = public_rd_2015 / sum(r.rd_2015 for r in rows)  # normalise the assumed sizes to public R&D 2015
        self.pref = np.array([r.pref for r in rows], dtype=np.int64)
        self.owner = np.array([r.owner for r in rows])
        self.fields = np.array([r.fields for r in rows])  # (n, sectors)
        self.platform_prefs = np.array([r.platform_prefs for r in rows])  # (n, prefectures)
        self.graduates = np.array([r.graduates for r in rows])  # full scale, persons / yr
        self.tto_capacity = np.array([r.tto_capacity for r in rows])  # full scale, contracts / yr
        shares = np.array([r.shares for r in rows])  # (n, 4)
        rd0 = np.array([r.rd_2015 for r in rows]) * norm * scale
        self.base_sources = rd0[:, None] * shares  # 2015 funding by source (simulated 万元)
        nat = np.array([r.national_competitive for r in rows])
        self.comp_national_2015 = self.base_sources[:, 1] * nat
        self.comp_provincial_2015 = self.base_sources[:, 1] * (1.0 - nat)
        self.rd = rd0.copy()
        self.rd_l1 = rd0.copy()
        self.sources = self.base_sources.copy()  # this year's funding by source
        self.knowledge = rd0 / (kp.inst_knowledge_depreciation + kp.inst_history_growth)
        self.staff_target = np.zeros(n)
        self.effective_staff = np.zeros(n)  # productivity-weighted, incl. flexible experts
        self.headcount = np.zeros(n)  # resident R&D personnel
        self.quality = np.ones(n)
        self.pending_other = np.zeros(n)  # programme research funds / platform subsidies to spend next year
        self.patents = np.zeros(n, dtype=np.int64)
        self.central_index = 1.0  # central funding relative to 2015
        self.provincial_institutional = np.zeros(n)  # this year's provincial money by institution
        self.provincial_competitive = np.zeros(n)
        self.keys = INSTITUTION_KEY + np.arange(n)

    def set_enterprise_2015(self, enterprise: np.ndarray, max_share: float) -> None:
        """Make the 2015 enterprise source equal the development contracts of the 2015 market; rescale the other
        sources so that each unit's 2015 R&D is unchanged (at most ``max_share`` of R&D from enterprises)."""
        rd = self.base_sources.sum(axis=1)
        ent = np.minimum(enterprise, max_share * rd)
        rest = rd - self.base_sources[:, 2]
        factor = np.divide(rd - ent, rest, out=np.ones(self.n), where=rest > 0)
        nat_share = np.divide(self.comp_national_2015, self.base_sources[:, 1], out=np.zeros(self.n),
                              where=self.base_sources[:, 1] > 0)
        self.base_sources = self.base_sources * factor[:, None]
        self.base_sources[:, 2] = ent
        self.comp_national_2015 = self.base_sources[:, 1] * nat_share
        self.comp_provincial_2015 = self.base_sources[:, 1] * (1.0 - nat_share)
        self.sources = self.base_sources.copy()

    def provincial_2015(self) -> tuple[float, float]:
        """2015 provincial block funding of provincial units and provincial competitive money (simulated 万元)."""
        inst = float(self.base_sources[self.owner == "provincial", 0].sum())
        return inst, float(self.comp_provincial_2015.sum())

    # --- budgets -------------------------------------------------------------------------------------------
    def budget(
        self,
        year: int,
        kpol,
        nominal_index: float,
        enterprise_income: np.ndarray,
        draws: KnowledgeDraws,
        kp: SimpleNamespace,
    ) -> tuple[float, float]:
        """Set this year's funding by source and R&D; return the provincial (institutional, competitive) paid."""
        s = self.scale
        self.central_index *= 1.0 + kpol.central_growth
        provincial = self.owner == "provincial"
        staff = np.maximum(self.headcount, 1e-9)

        inst = np.zeros(self.n)
        weights = np.where(provincial, staff, 0.0)
        inst_paid = kpol.institutional_budget * s if weights.sum() > 0 else 0.0
        if inst_paid > 0:
            inst += inst_paid * weights / weights.sum()
        self.provincial_institutional = inst.copy()
        inst += np.where(self.owner == "central", self.base_sources[:, 0] * self.central_index, 0.0)
        inst += np.where(self.owner == "prefecture", self.base_sources[:, 0] * nominal_index, 0.0)

        merit = self.merit(year, draws, kp)
        comp_paid = kpol.competitive_budget * s
        weights = {
            "merit": merit,
            "lottery": np.exp(kp.merit_noise * draws.normal(year, "i_competitive", self.keys + self.n)) * staff,
            "weak_prefecture_first": merit * np.where(self.pref == CAPITAL, 1.0, kp.weak_prefecture_weight),
        }[kpol.competitive_selection]
        comp = comp_paid * weights / weights.sum() if weights.sum() > 0 else np.zeros(self.n)
        self.provincial_competitive = comp.copy()
        comp = comp + self.comp_national_2015.sum() * self.central_index * merit / merit.sum()

        other = self.base_sources[:, 3] * nominal_index + self.pending_other
        self.pending_other = np.zeros(self.n)
        self.sources = np.column_stack([inst, comp, enterprise_income, other])
        self.rd_l1 = self.rd
        self.rd = self.sources.sum(axis=1)
        return inst_paid, comp_paid

    def merit(self, year: int, draws: KnowledgeDraws, kp: SimpleNamespace) -> np.ndarray:
        """Merit of the units' proposals: researchers times knowledge per researcher, with review noise."""
        e = np.maximum(self.effective_staff, 1e-9)
        per_head = self.knowledge / e
        z = draws.normal(year, "i_competitive", self.keys)
        m = e * (per_head / per_head.mean()) ** kp.merit_knowledge_elasticity * np.exp(kp.merit_noise * z)
        return np.where(self.effective_staff > 0, m, 0.0)

    def update_knowledge(self, kp: SimpleNamespace) -> None:
        """K_t = (1 - delta) K_{t-1} + R&D_t * q_t (q: effective staffing ratio, capped)."""
        self.quality = np.minimum(
            np.divide(self.effective_staff, self.staff_target, out=np.ones(self.n), where=self.staff_target > 0),
            kp.inst_quality_max,
        )
        self.knowledge = (1.0 - kp.inst_knowledge_depreciation) * self.knowledge + self.rd * self.quality


class Institution(mesa.Agent):
    """A university or research institute; its state is row ``index`` of the model's ``InstitutionSet``."""

    def __init__(self, model: mesa.Model, state: InstitutionSet, index: int):
        super().__init__(model)
        self._state = state
        self.index = index
        row = state.rows[index]
        self.id = row.id
        self.label = f"{row.zh} {row.en}"
        self.owner = row.owner
        self.prefecture = data.prefecture_ids()[row.pref]

    def _get(self, name: str):
        return getattr(self._state, name)[self.index]

    @property
    def rd(self) -> float:
        """R&D expenditure this year (万元, simulated world)."""
        return float(self._get("rd"))

    @property
    def budget_by_source(self) -> dict[str, float]:
        return dict(zip(SOURCES, (float(v) for v in self._state.sources[self.index])))

    @property
    def knowledge(self) -> float:
        return float(self._get("knowledge"))

    @property
    def researchers(self) -> int:
        """Resident R&D personnel employed here."""
        return int(self._get("headcount"))

    @property
    def transfer_capacity(self) -> float:
        """Technology contracts the unit can negotiate per year (simulated world)."""
        return float(self._get("tto_capacity")) * self._state.scale

    @property
    def patents(self) -> int:
        return int(self._get("patents"))

    @property
    def platforms_hosted(self) -> dict[str, int]:
        """Platforms this unit hosts, by level (simulated world)."""
        table = self.model.knowledge.platforms.table
        mine = (table.host_kind == 1) & (table.host == self.index)
        levels = table.level[mine]
        return {"prefecture": int((levels == 0).sum()), "provincial": int((levels == 1).sum()),
                "national": int((levels == 2).sum())}

    @property
    def graduates_per_year(self) -> float:
        return float(self._get("graduates")) * self._state.scale

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id}: R&D {self.rd:.0f}万元, {self.researchers} researchers)"


class University(Institution):
    """高校: teaches (graduates enter the talent market) and does research."""


class ResearchInstitute(Institution):
    """科研院所: a research institute (CAS, provincial academy, prefecture research and extension body)."""


def create_institutions(model: mesa.Model, state: InstitutionSet) -> list[Institution]:
    """One agent per row, of the class its kind names."""
    return [
        (University if row.kind == "university" else ResearchInstitute)(model, state, i)
        for i, row in enumerate(state.rows)
    ]


__all__ = ["InstitutionSet", "Institution", "University", "ResearchInstitute", "create_institutions", "institution_rows"]
