"""Invention patents 发明专利 (MODEL.md §4 step 6; docs/ODD.md §7.10.4).

Applications are Poisson draws from a knowledge-production function of R&D and staff:
  firms         lambda_i = theta_f (R&D_i / 100万)^beta_f m_i c_p   (m_i: effective staff / staff target, capped;
                c_p: the prefecture factor, haidong_patent_factor in Haidong, 1 elsewhere)
  institutions  lambda_j = theta_p R&D_j q_j / 100万              (q_j: effective staffing ratio)
both times the propensity (1 + tau)^(min(t, T) - 2015) of year t: applications per R&D yuan change by tau a year
until year T (the shift from patent quantity to quality as per-grant subsidies are phased out), 1 in 2015.
A share g of applications is granted, each owner-year cohort after a lag L ~ lag_weights (years 1..4, the
Chinese examination backlog). A valid patent lapses with hazard h a year (annuities); patents of firms that exit
lapse with them, and pending applications of exited firms are abandoned. The indicator is the stock of valid
invention patents held by firms and public research per 10,000 population.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim import data
from qhsim.draws import KnowledgeDraws


def firm_rate(rd: np.ndarray, staffing: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
    """Expected invention applications of firms this year."""
    return np.where(rd > 0, kp.patent_rate_firm * (np.maximum(rd, 0.0) / 100.0) ** kp.patent_rd_elasticity * staffing, 0.0)


def prefecture_factor(pref: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
    """Applications per R&D yuan of firms in prefecture ``pref`` relative to the province's: Haidong's
    ``haidong_patent_factor`` (its small firms and patent rewards), 1 elsewhere; multiplies ``firm_rate``."""
    return data.prefecture_multiplier("haidong", kp.haidong_patent_factor).take(pref, mode="wrap")


def institution_rate(rd: np.ndarray, quality: np.ndarray, kp: SimpleNamespace) -> np.ndarray:
    """Expected invention applications of universities and institutes this year."""
    return kp.patent_rate_public * rd * quality / 100.0


BASE_YEAR = 2015  # the year theta_f and theta_p refer to


def propensity(year: int, kp: SimpleNamespace) -> float:
    """Applications per R&D yuan in ``year`` relative to 2015 (also for the filings before 2016)."""
    return (1.0 + kp.patent_propensity_trend) ** (min(year, int(kp.patent_propensity_trend_end)) - BASE_YEAR)


class PatentOffice:
    """Pending applications (owner key, grant year, count) awaiting grant."""

    def __init__(self) -> None:
        self.owner = np.zeros(0, dtype=np.int64)
        self.grant_year = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int64)

    def file(self, year: int, owners: np.ndarray, applications: np.ndarray, draws: KnowledgeDraws,
             kp: SimpleNamespace) -> None:
        """Decide the fate of this year's applications: granted count and the year of the grant."""
        has = applications > 0
        owners, applications = owners[has], applications[has]
        granted = draws.binomial(year, "p_grant", owners, applications, kp.patent_grant_share)
        lag_cum = np.cumsum(np.asarray(kp.patent_grant_lag_weights, dtype=float))
        lag = 1 + np.minimum(np.searchsorted(lag_cum / lag_cum[-1], draws.uniform(year, "p_lag", owners),
                                             side="right"), len(lag_cum) - 1)
        ok = granted > 0
        self.owner = np.concatenate((self.owner, owners[ok]))
        self.grant_year = np.concatenate((self.grant_year, year + lag[ok]))
        self.count = np.concatenate((self.count, granted[ok]))

    def grants_due(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """(owner, count) of the grants issued this year; removes them from the pending table."""
        due = self.grant_year <= year
        owners, counts = self.owner[due], self.count[due]
        keep = ~due
        self.owner, self.grant_year, self.count = self.owner[keep], self.grant_year[keep], self.count[keep]
        return owners, counts

    def abandon(self, alive: np.ndarray) -> None:
        """Drop pending applications of owners that no longer exist (``alive``: bool per pending row)."""
        self.owner, self.grant_year, self.count = self.owner[alive], self.grant_year[alive], self.count[alive]

    @property
    def pending(self) -> int:
        return int(self.count.sum())


def lapse(valid: np.ndarray, keys: np.ndarray, year: int, draws: KnowledgeDraws, kp: SimpleNamespace) -> np.ndarray:
    """Valid patents left after this year's lapses (Binomial(valid, h) lapse)."""
    return valid - draws.binomial(year, "p_lapse", keys, valid, kp.patent_lapse_rate)

