"""The micro evidence 实证依据 that the calibrated model's policy responses are set against
(/work/shared/research/policy_response_evidence.md): ``EVIDENCE``, the responses the calibration's evidence step
weighs its draws by, and ``CHECKS``, indicators shown against their evidence but not fitted. How each response is
computed: ``qhsim.calibration.responses``. Plain data, so that charts and reports can draw the ranges without the
experiment machinery."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """An evidence range [low, high] (high may be infinite), its bilingual label and its sources."""

    label: str
    low: float
    high: float
    source: str


EVIDENCE = {
    "user_cost_elasticity": Evidence(
        "long-run elasticity of reported business R&D to its user cost 研发使用成本弹性（报告口径）", 0.8, 2.5,
        "near 1-2 province-wide: ≈1 long run (Bloom, Griffith & Van Reenen 2002), ≈2 for reported R&D under China's "
        "HTE notch (Chen, Liu, Suárez Serrato & Xu 2021); UK SMEs ≈2.6, lower bound ≈1.1 (Dechezleprêtre et al. 2023)"),
    "user_cost_elasticity_real": Evidence(
        "long-run elasticity of real business R&D to its user cost 实际研发使用成本弹性", 0.7, 1.5,
        "≈1 (Bloom, Griffith & Van Reenen 2002, long run); 1.14 for real R&D under China's HTE notch (Chen et al. 2021)"),
    "tax_leverage": Evidence(
        "reported business R&D per yuan of super-deduction tax expenditure 每元加计扣除税式支出带动研发", 1.0, 2.0,
        "roughly one to two yuan of reported R&D (policy_response_evidence.md, from the elasticities above)"),
    "grant_leverage": Evidence(
        "business R&D per grant yuan 每元资助带动研发", 0.5, 1.5,
        "about one yuan: crowding-out rejected, no substantial additionality (Dimos & Pugh 2016, 52 studies)"),
    "hte_bunching": Evidence(
        "firms just above / just below the HTE R&D thresholds 高企门槛聚集", 1.5, math.inf,
        "sharp bunching just above the R&D-intensity thresholds, missing mass below (Chen et al. 2021)"),
    "relabelled_share": Evidence(
        "relabelled share of the notch firms' reported R&D 门槛企业研发费用中重新归类占比", 0.15, 0.35,
        "24.2% of the notch firms' reported R&D (structural estimate; 30% of the notch response in the 2018 working "
        "paper, ≈45% of the intent-to-treat response; Chen et al. 2021)"),
}

# checks against the evidence that the calibration does not use (shown beside the responses)
CHECKS = {
    "rd_exit_rate": Evidence(
        "yearly share of R&D-active above-scale industrial firms that stop R&D 规上工业研发企业年退出率", 0.10, 0.25,
        "≈17% a year in Spanish manufacturing, entry ≈8% (Máñez Castillejo et al. 2004, the weighted average of "
        "their small and large firms, as cited by Peters 2009, ZEW Economic Studies 38, ch. 5 n. 129); patenting "
        "spells of 9 years on average among 549 Chinese listed manufacturers, 2002-2012 (Journal of Harbin University "
        "of Commerce, Social Science Edition: a hazard ≈11%, innovation rather than R&D); the range allows for more "
        "persistence among large and certified firms"),
}
