"""Units and national thresholds 单位与统计标准, named once: the money unit, the reference points of the firms'
size and core-IP terms (behaviour.toml describes them at the parameters that use them), and the statistical and
policy cut-offs of qhsim/data/rules.toml.
"""

from __future__ import annotations

from qhsim import data

WAN_PER_YI = 1e4  # 1亿元 = 10,000万元: money is in 万元 in the model, in 亿元 in indicators
# 万元: size terms compare revenue with 1,000万元 (behaviour.toml size_elasticity, rd_size_slope, stop_size_elasticity)
REVENUE_UNIT = 1000.0
IP_RD_UNIT = 100.0  # 万元: the core-IP hazard counts R&D in 100万元 (ip_probability_scale, initial_ip_years)

_RULES = data.values("rules")
ABOVE_SCALE_REVENUE = _RULES["above_scale_revenue"]  # 万元: industrial firms at or above it are 规模以上工业企业
SME_EMPLOYEES = _RULES["sme_max_employees"]  # SME cut-off of the sme_first grants and the market's SME subsidy
TECH_SME_MAX_EMPLOYEES = _RULES["tech_sme_max_employees"]  # 国科发政〔2017〕115号 art. 6: tech-based SME register
TECH_SME_MAX_REVENUE = _RULES["tech_sme_max_revenue"]  # 万元, the register's revenue limit
