"""Relabelling 研发费用重新归类: reported versus real R&D (docs/ODD.md §7.4.1).

A firm can report as R&D some spending that is not R&D (reclassified expenses). Reporting pays in two ways:
each relabelled yuan earns the super-deduction (a tax saving of tau x d per yuan), and relabelling can lift the
3-year R&D ratio over the HTE threshold (the notch, ``qhsim.firms.certification``). It costs an expected
audit, adjustment and compliance cost that rises with how much of the firm's real R&D the claim inflates:
C(m) = gamma / 2 x m^2 / real for m relabelled yuan on ``real`` yuan of real R&D (``relabel_cost`` gamma), a
marginal cost of gamma x m / real per yuan.

- Routine relabelling (super-deduction only): m_c = real x tau d / gamma, where the marginal cost equals the
  tax saving.
- At the notch a firm relabels more when that is cheaper than real R&D: up to the amount where the marginal
  relabelling cost net of the tax saving equals the cost of a yuan of real R&D (ex ante,
  ``notch_relabel_plan``), and at year end, on its realised real R&D, it tops its books up to the 3-year
  threshold if the net cost over the certificate's life is below the value of HTE status (``reported_rd``).

Plan indicators, certification, subsidies and the super-deduction's tax expenditure count reported R&D
(``FirmPopulation.rd``); knowledge, core IP, patents, growth and R&D staff follow real R&D (``rd_real``).
Evidence: relabelling ≈ 24.2% of reported R&D of the notch firms (Chen, Liu, Suárez Serrato & Xu 2021, AER).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def routine_relabel(real: np.ndarray, tau: np.ndarray, d: np.ndarray, b: SimpleNamespace) -> np.ndarray:
    """m_c = real x tau d / gamma: relabelling for the super-deduction alone (0 without profit or deduction)."""
    return real * (tau * d) / b.relabel_cost


def net_relabel_cost(
    m: np.ndarray, real: np.ndarray, tau: np.ndarray, d: np.ndarray, b: SimpleNamespace
) -> np.ndarray:
    """Yearly cost of relabelling ``m`` instead of the routine m_c, net of the extra super-deduction saving:
    gamma/2 (m^2 - m_c^2) / real - tau d (m - m_c) (0 where there is no real R&D)."""
    m_c = routine_relabel(real, tau, d, b)
    quad = np.divide(m * m - m_c * m_c, real, out=np.zeros(len(real)), where=real > 0)
    return 0.5 * b.relabel_cost * quad - tau * d * (m - m_c)


def notch_relabel_plan(
    plan: np.ndarray, need: np.ndarray, real_cost: np.ndarray, tau: np.ndarray, d: np.ndarray, b: SimpleNamespace
) -> np.ndarray:
    """Relabelling a firm plans to reach ``need`` from real R&D ``plan``: all of the gap if relabelling stays
    cheaper than real R&D (yearly cost ``real_cost`` per yuan) all the way, else up to where its marginal cost
    net of the tax saving reaches ``real_cost``, and at most ``notch_max_stretch`` times the plan; never less
    than the routine m_c: m = max(m_c, min(need - plan, plan (real_cost + tau d) / gamma, stretch x plan))."""
    m_c = routine_relabel(plan, tau, d, b)
    m_max = np.minimum(plan * (real_cost + tau * d) / b.relabel_cost, b.notch_max_stretch * plan)
    return np.maximum(m_c, np.minimum(need - plan, m_max))
