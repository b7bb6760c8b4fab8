"""The enterprise population 企业群体 as a structure of arrays.

One row per enterprise legal person; every rule is a numpy kernel over whole columns (docs/sources/MODEL.md §7).
Exiting firms are removed within the year, after growth and before the R&D decisions (``QinghaiModel.step``);
``uid`` identifies a firm for life.
``population[i]`` gives a read-only per-firm view for inspection and the dashboard.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qhsim import data
from qhsim.soa import ColumnTable, RowView

# name -> dtype. Money in 万元, shares in [0, 1], years as int.
COLUMNS: dict[str, Any] = {
    "uid": np.int64,
    "pref": np.int8,  # index into data.prefectures()
    "sector": np.int8,  # index into data.sectors()
    "birth": np.int16,  # year founded
    "revenue": np.float64,  # this year
    "rev_l1": np.float64,  # last year
    "rev_l2": np.float64,  # two years ago
    "anchor": np.float64,  # log of the firm's normal revenue, which its revenue reverts toward
    "margin": np.float64,  # profit / revenue (after R&D expenses)
    "employees": np.float64,
    "eta": np.float64,  # persistent firm effect on log desired R&D intensity
    "tech_orient": np.float64,  # long-run high-tech product share the firm drifts toward
    "hitech_share": np.float64,  # share of revenue from high-tech products
    "encouraged": np.bool_,  # Western Development encouraged industry (15% rate)
    "deduct_excluded": np.bool_,  # industry on the super-deduction negative list
    "rd_active": np.bool_,
    "switch_clock": np.float64,  # hazard left until the firm's next R&D start (inactive) or stop (active)
    "switches": np.int16,  # R&D starts and stops so far (keys the next switching clock)
    "rd_int": np.float64,  # planned R&D intensity carried between years (partial adjustment state)
    "rd": np.float64,  # reported R&D this year: real R&D plus relabelled spending (qhsim.firms.relabel)
    "rd_real": np.float64,  # real R&D spending this year (own funds, grants, programme and platform money)
    "rd_l1": np.float64,
    "rd_l2": np.float64,
    "knowledge": np.float64,  # perpetual-inventory R&D stock
    "ip": np.int32,  # core IP items owned
    "ip_clock": np.float64,  # hazard left until the firm's next core IP item (``innovate``)
    "innovated": np.bool_,  # obtained new IP this year (raises next year's growth)
    "subsidy_l1": np.float64,  # subsidies and rewards received last year
    "subsidy": np.float64,  # received this year
    "voucher": np.bool_,  # holds an innovation voucher this year
    "research_funds": np.float64,  # talent-programme and platform money received, performed as R&D next year (万元)
    "hte_until": np.int16,  # last year of a valid HTE certificate (0 = never)
    "hte_since": np.int16,  # year of first HTE certification (0 = never)
    "tbe_until": np.int16,  # provincial tech-based enterprise recognition valid through
    "sme_year": np.int16,  # last year registered as a national tech-based SME
    "giant_until": np.int16,  # little-giant recognition valid through
}


class FirmView(RowView):
    """A read-only snapshot of one firm, with readable labels."""

    @property
    def prefecture(self) -> str:
        p = data.prefectures()[self.values["pref"]]
        return f"{p.zh} {p.en}"


class FirmPopulation(ColumnTable):
    """Columns of equal length, one entry per live firm; ``uid`` identifies a firm for life."""

    COLUMNS = COLUMNS
    ID = "uid"
    VIEW = FirmView

    def find(self, uid: int) -> FirmView:
        """The firm with this uid."""
        (idx,) = np.nonzero(self.cols["uid"] == uid)
        if not len(idx):
            raise KeyError(f"no live firm with uid {uid}")
        return self[int(idx[0])]


