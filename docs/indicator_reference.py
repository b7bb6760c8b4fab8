"""Write docs/indicator_reference.md 指标说明, the analyst's glossary of every indicator the model reports: its Chinese
and English name and unit, what the model computes (``definition_zh`` and ``definition`` of
qhsim/data/indicators.toml), the official statistic it corresponds to and that statistic's definition (口径), how the
model's definition differs, the observed 2020 values with their sources (``qhsim.output.observed``, as every output
shows them) and the plan targets of the province, Haidong and Haixi (qhsim/data/targets.toml) with the marks and notes
the outputs give them (``qhsim.output.report``).

The official statistics and how the model differs from them are written here (``STATISTICS``), once per indicator;
everything else is read from the data. Run after changing any of them: ``python docs/indicator_reference.py``.
tests/test_docs.py checks that the file is current and lists every indicator once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qhsim import data
from qhsim.cli import run_script
from qhsim.errors import InputError
from qhsim.output.lang import in_language
from qhsim.output.numbers import format_value, indicator_unit, unit_words
from qhsim.output.observed import OTHER_DEFINITION_MARK, RESTATED_MARK, observed_points, observed_source
from qhsim.output.report import (ASSUMPTION_MARK, CLOSING, NO_LINE_START, OPENING, STATUS, not_modelled_note,
                                 met_mark, plan_target_notes, region_label, target_mark, target_value)
from qhsim.output.report import display_width as width
from qhsim.results import PROVINCE
from qhsim.targets import load_not_modelled, load_targets
from scenario_reference import NBSP, paragraph, table

DOC = Path(__file__).with_name("indicator_reference.md")


@dataclass(frozen=True)
class Statistic:
    """The official statistic an indicator corresponds to, with its definition (口径) and publication (``zh``,
    ``en``; empty: none, the indicator is a model quantity), and how the model's definition differs (``differs_zh``,
    ``differs_en``; empty: it does not)."""

    zh: str = ""
    en: str = ""
    differs_zh: str = ""
    differs_en: str = ""


def _value(file: str, key: str) -> float:
    return data.values(file)[key]


def _figure(x: float) -> str:
    """A data figure as the prose writes it: 1.765, 592.4, 7,808."""
    return f"{x:,.3f}".rstrip("0").rstrip(".")


# figures the texts below quote, read from the data so that the text follows them
PER_FTE = _figure(_value("talent", "headcount_per_fte"))
ST_PER_RD = _figure(_value("behaviour", "st_staff_per_rd_staff"))
EMPLOYED_2020 = _figure(data.load("macro")["employment"]["values"]["2020"])
CENSUS_2020 = _figure(data.load("macro")["population"]["values"]["2020"])
ENTERPRISES_2020 = _figure(data.load("macro")["enterprises"]["values"]["2020"])
PATENTS_2020 = _figure(data.load("indicators")["patents_per_10k"]["value_2020"]["restated"]["numerator"])
FTE_2020 = _figure(observed_points("rd_personnel_fte")[2020])  # yearbook table 1-4 (calibration/targets.toml)
PERSONS_2020 = _figure(round(data.load("indicators")["rd_personnel_per_10k"]["value_2020"]["value"]
                             * data.load("macro")["employment"]["values"]["2020"]))

NO_STATISTIC = ("无对应的官方统计：模型量", "none: a model quantity")
FISCAL = Statistic(
    differs_zh="财政决算的“科学技术支出”口径更宽，且不按政策工具分项；此处为模型按工具记录的当年支付额（万元）。",
    differs_en="Fiscal accounts report S&T spending more broadly and not by instrument; this is what the model pays "
               "through the instrument in the year (万元).")
TAX = Statistic(
    differs_zh="无分省公布的对应序列；模型按企业当年的应纳税所得额计算少征的税款（不结转）。",
    differs_en="No published provincial series; the model computes the tax forgone on each firm's taxable profit of "
               "the year (no carry-forward).")
TALENT_FLOW = Statistic(
    differs_zh="统计不公布研发人员的流入流出；此为模型中人员流动的记录。",
    differs_en="The statistics publish no flows of R&D personnel; this is the model's record of its moves.")

# indicator -> the official statistic and how the model differs (every indicator has an entry: a new indicator
# without one stops the generator)
STATISTICS: dict[str, Statistic] = {
    "rd_intensity": Statistic(
        "研究与试验发展（R&D）经费投入强度 = R&D经费内部支出 ÷ 地区生产总值 × 100%。R&D经费内部支出指调查单位当年在"
        "单位内部开展基础研究、应用研究和试验发展活动的实际支出，按执行部门（企业、研究与开发机构、高等学校、其他）"
        "统计全社会合计。发布：国家统计局、科技部、财政部《全国科技经费投入统计公报》（分地区）和《中国科技统计年鉴》"
        "“各地区R&D经费”表。第四次全国经济普查（2018年）后地区生产总值修订，2020年0.71%和规划目标均按修订后的GDP计"
        "（public_statistics.md §1–2）。",
        "R&D intensity = intramural R&D expenditure / regional GDP x 100: what the units surveyed spent on basic "
        "research, applied research and experimental development carried out in-house, summed over all performers "
        "(enterprises, R&D institutions, higher education, others). Published in the national statistical bulletin "
        "on S&T expenditure (NBS, MOST, MOF; by region) and the China Statistical Yearbook on S&T ('R&D expenditure "
        "by region'). GDP was revised after the 4th economic census (2018); the 2020 value 0.71% and the targets are "
        "on the revised GDP (public_statistics.md §1-2).",
        "与统计一样按企业上报数计（含作为研发费用上报的非研发支出；不含的见 rd_intensity_real）。非企业部分由20家"
        "高校和科研院所代表统计中全部非企业执行部门。市州的地区生产总值为全省乘以固定比重（geography.toml）。",
        "As the statistics do, business R&D is what firms report (incl. non-R&D spending reported as R&D; without it: "
        "rd_intensity_real). The 20 universities and institutes stand for all non-business performers of the "
        "statistics. A prefecture's GDP is the province's times a fixed share (geography.toml)."),
    "share_firms_with_rd": Statistic(
        "规模以上工业企业中有R&D活动的企业占比 = 有R&D活动的规上工业企业数 ÷ 规上工业企业数 × 100%。规模以上工业企业："
        "年主营业务收入2000万元及以上的工业法人单位（国家统计局，2011年起；rules.toml above_scale_revenue）。发布："
        "《中国科技统计年鉴》规模以上工业企业R&D活动分地区表。",
        "Share of above-scale industrial enterprises with R&D activity. Above-scale industrial enterprises: "
        "industrial legal entities with main-business revenue of 2,000万元 (20 million yuan) or more (NBS, since "
        "2011; rules.toml above_scale_revenue). Published in the China Statistical Yearbook on S&T (R&D of "
        "above-scale industrial enterprises, by region).",
        "“有R&D活动”按当年上报的研发经费 > 0 判断；模型的企业只有一个营业收入，视为主营业务收入。",
        "'With R&D activity': reported R&D spending > 0 in the year; the model's firms have one revenue, taken as "
        "main-business revenue."),
    "enterprise_rd_share": Statistic(
        "企业R&D经费内部支出 ÷ 全社会R&D经费内部支出 × 100%（执行部门口径：企业、研究与开发机构、高等学校、其他）。"
        "发布：《全国科技经费投入统计公报》、《中国科技统计年鉴》。",
        "Intramural R&D expenditure of enterprises / that of all performers x 100 (by performing sector: "
        "enterprises, R&D institutions, higher education, others). Published in the national statistical bulletin "
        "on S&T expenditure and the China Statistical Yearbook on S&T.",
        "分母为企业研发经费加高校和科研院所的研发经费（见 rd_intensity）。",
        "The denominator is business R&D plus the universities' and institutes' R&D (see rd_intensity)."),
    "rd_personnel_per_10k": Statistic(
        "每万名就业人员中研发人员数 = R&D人员数 ÷ 就业人员数 × 10000。R&D人员指参与R&D项目研究、管理和辅助工作的人员，"
        "统计有两种计法：人数（人）和全时当量（人年：全时人员数加非全时人员按工作量折算）。《中国科技统计年鉴》分地区"
        f"表给全时当量（青海2020年{FTE_2020}人年，public_statistics.md §3）；规划的23.66按人数计。二者之比为"
        f"{PER_FTE}人/人年（talent.toml headcount_per_fte：23.66 × {EMPLOYED_2020}万就业人员 = {PERSONS_2020}人 ÷ "
        f"{FTE_2020}人年）。",
        "R&D personnel per 10,000 employed persons. R&D personnel: people taking part in the research, management "
        "and support work of R&D projects; the statistics count them as persons or as full-time equivalents "
        "(person-years: full-time staff plus part-time staff by their share of work). The yearbook's regional table "
        f"gives FTE (Qinghai 2020: {FTE_2020}, public_statistics.md §3); the plan's 23.66 counts persons. The ratio "
        f"is {PER_FTE} persons per FTE (talent.toml headcount_per_fte: 23.66 x {EMPLOYED_2020}万 employed = "
        f"{PERSONS_2020} persons / {FTE_2020} FTE).",
        "只计常住研发人员（在省外登记的柔性引进专家不计），且只计有研发的企业和高校院所的人员；就业人员为 macro.toml "
        f"的路径，其中2015、2020年（{EMPLOYED_2020}万）为假设；人数与全时当量之比各年相同（假设）；市州就业人员按人口"
        "比重分摊。",
        "Residents only (flexible experts registered outside Qinghai are not counted), at R&D-performing firms and "
        f"the institutions; employment is macro.toml's path, whose 2015 and 2020 values ({EMPLOYED_2020}万) are "
        "assumptions; the persons/FTE ratio is the same every year (assumption); a prefecture's employment is split "
        "by population share."),
    "tech_contract_turnover": Statistic(
        "技术合同成交额（规划称“技术合同交易额”）：经技术合同登记机构认定登记的技术开发、技术转让、技术咨询和技术"
        "服务合同的成交金额。合同由卖方（研究开发人、让与人、受托人）向其所在地的登记机构申请认定登记（seed "
        "001:L2112；《技术合同认定登记管理办法》国科发政字〔2000〕63号），地区数按技术输出地域即卖方所在地统计。"
        "发布：《中国科技统计年鉴》技术市场“按技术输出地域分”表。2019年登记规则变化造成口径断裂：2015–2018年为"
        "46.88–79.36亿元，2019年9.10亿元、2020年10.56亿元，前后不可比（public_statistics.md §5）。",
        "Turnover of registered technology contracts (development, transfer, consulting, services): the seller "
        "(developer, licensor, contractor) registers the contract where it is located (seed 001:L2112; 技术合同认定"
        "登记管理办法, 国科发政字〔2000〕63号), and regions are counted by region of export, i.e. the seller's. "
        "Published in the China Statistical Yearbook on S&T, technology market by region of export. The registration "
        "rules changed in 2019, a definitional break: 46.88-79.36亿元 in 2015-2018, 9.10 in 2019 and 10.56 in 2020 "
        "are not comparable (public_statistics.md §5).",
        "按2019年后的口径建模，只用2019–2020年值校准；2015年的起点是该口径下的假设。卖给省外买方的合同计入，青海买方"
        "向省外卖方购买的不计；合同只有开发、转让、咨询、服务四类。",
        "Modelled on the post-2019 definition and fitted to 2019-2020 only; the 2015 start on that basis is an "
        "assumption. Deals sold to buyers outside Qinghai count, deals Qinghai buyers make with sellers outside do "
        "not; contracts are of four types (development, transfer, consulting, services)."),
    "patents_per_10k": Statistic(
        "每万人口发明专利拥有量 = 年末有效发明专利数 ÷ 年末常住人口（万人）。有效发明专利指经国家知识产权局授权、年末"
        "仍维持有效的国内发明专利，按专利权人所在地统计。发布：国家知识产权局统计年报、《中国科技统计年鉴》“各地区"
        f"有效专利”表（青海2020年{PATENTS_2020}件，public_statistics.md §4）。",
        "Valid invention patents per 10,000 population = domestic invention patents granted by CNIPA and in force at "
        "year end, by the holder's region / year-end resident population (万). Published in CNIPA's statistical "
        "reports and the China Statistical Yearbook on S&T ('valid patents by region'; Qinghai 2020: "
        f"{PATENTS_2020}, public_statistics.md §4).",
        f"分母用2020年人口普查的常住人口（{CENSUS_2020}万），规划的3.04用普查前的人口估计，故2020年值重算（见下）。模型"
        "中专利由企业和高校院所持有；统计中个人和其他单位的专利也计入，模型按总数校准。",
        f"The denominator is the 2020 census population ({CENSUS_2020}万); the plan's 3.04 divides by the pre-census "
        "estimate, so the 2020 value is restated (below). In the model firms and institutions hold the patents; the "
        "statistics also count those of individuals and other units, and the model is fitted to the total."),
    "hte_count": Statistic(
        "高新技术企业数：按《高新技术企业认定管理办法》（国科发火〔2016〕32号）认定、年末证书仍在有效期（3年）内的"
        "企业数。来源：省科技厅认定与备案名单；规划指标表（seed 003:L579）。",
        "High-tech enterprises: firms certified under the HTE certification measures (国科发火〔2016〕32号) whose "
        "certificate (valid 3 years) is still valid at year end. Source: the provincial S&T department's certification "
        "and filing lists; the plan's indicator table (seed 003:L579).",
        "口径相同；认定按办法的条件（研发费用占比、科技人员占比、高新技术产品收入占比等）模拟，到期未重新认定即失效。",
        "The same definition; certification is simulated on the measures' criteria (R&D ratio, S&T staff share, "
        "high-tech revenue share and others), and a certificate not renewed lapses."),
    "national_platforms": Statistic(
        "国家级创新平台数量：规划指标表（seed 003:L580）未列出其范围；规划的“十三五”回顾提到国家重点实验室（省部共建、"
        "企业国家重点实验室）、国家双创示范基地、国家特色创新载体和国家级农业科技园区等（seed 003:L506）。",
        "National-level innovation platforms: the plan's indicator table (seed 003:L580) does not say what they "
        "include; its review of the 13th FYP names state key labs (province-ministry and enterprise ones), national "
        "mass-innovation demonstration bases, national special innovation carriers and national agricultural S&T "
        "parks (seed 003:L506).",
        "范围为假设：模型计国家级的重点实验室、工程（技术）研究中心、孵化器、众创空间和园区基地等载体"
        "（knowledge.toml init_national_carriers），规划未给出60个平台的构成。",
        "What counts is an assumption: the model counts national-level key labs, engineering research centres, "
        "incubators, maker spaces and parks or bases (knowledge.toml init_national_carriers); the plan does not "
        "break down its 60."),
    "science_literacy": Statistic(
        "公民具备科学素质的比例：中国科协组织的中国公民科学素质抽样调查，对象为18–69岁公民，按《中国公民科学素质基准》"
        "判定是否具备基本科学素质。全国2020年10.56%。",
        "Share of citizens with basic scientific literacy: CAST's sample survey of Chinese citizens' scientific "
        "literacy, ages 18-69, judged against the national civic science literacy benchmark. National 2020: 10.56%.",
        "模型不抽样，而按市州的年龄队列模拟（新队列进入、科普支出带来的转化、遗忘），各年龄人口均匀分布（假设）；海西州"
        "的水平来自假定系数（见目标注释）。",
        "The model does not sample: it simulates age cohorts by prefecture (entering cohorts, conversion through "
        "popularisation spending, forgetting), with a uniform age distribution (assumption); Haixi's level rests on "
        "an assumed factor (see the target's note)."),
    "hte_per_10k_enterprises": Statistic(
        "每万家企业法人中高新技术企业数 = 高新技术企业数 ÷ 企业法人单位数 × 10000；企业法人单位数来自国家统计局基本单位"
        "统计和经济普查。规划只给出2025年目标17.55，没有2020年值（seed 003:L564）。",
        "High-tech enterprises per 10,000 enterprise legal persons (the count of enterprise legal entities from the "
        "NBS register of basic units and the economic census). The plan gives the 2025 target 17.55 only, no 2020 "
        "value (seed 003:L564).",
        f"企业法人数为 macro.toml 的企业数路径，2015、2020年（{ENTERPRISES_2020}家）为假设；规划未给分母，260 ÷ 17.55 "
        "隐含2025年约14.8万家（plan_province.md §1.1）。",
        f"Enterprise legal persons are macro.toml's enterprise path, whose 2015 and 2020 values ({ENTERPRISES_2020}) "
        "are assumptions; the plan gives no denominator: 260 / 17.55 implies about 148,000 in 2025 "
        "(plan_province.md §1.1)."),
    "tech_based_enterprises": Statistic(
        "科技型企业数量：经青海省科技厅认定、年末仍在有效期内的科技型企业（省级认定，不是全国科技型中小企业评价，见 "
        "tech_smes）。2020年457家（seed 003:L506）。",
        "Tech-based enterprises: firms recognised by the Qinghai S&T department, recognition valid at year end (a "
        "provincial registry, not the national tech-based SME evaluation, see tech_smes). 457 in 2020 (seed "
        "003:L506).",
        "青海的认定条件不在资料中；模型以研发强度门槛等条件近似（behaviour.toml tbe_*）。",
        "Qinghai's criteria are not in the sources; the model approximates them by an R&D-intensity threshold and "
        "other conditions (behaviour.toml tbe_*)."),
    "platforms": Statistic(
        "科技创新平台：海东规划（seed 002:L501-505，2020年10个 → 2025年15个）和海西方案（seed 004:L28，2027年170个"
        "以上）的指标，二者都没有给出口径；海东的10个含2个院士工作站。",
        "S&T innovation platforms: an indicator of Haidong's plan (seed 002:L501-505, 10 in 2020 -> 15 in 2025) and "
        "Haixi's action plan (seed 004:L28, 170 or more by 2027); neither defines it; Haidong's 10 include 2 "
        "academician workstations.",
        "模型计各级重点实验室、工程（技术）研究中心、孵化器、众创空间和国家级载体；海东2020年按模型口径重算为12个，"
        "目标相应为17个（*）；海西的170个口径更宽，无法换算（†）。",
        "The model counts key labs, engineering research centres, incubators, maker spaces and national carriers at "
        "all levels; Haidong's 2020 count restated in that definition is 12 and its target 17 (*); Haixi's 170 counts "
        "a broader set and cannot be restated (†)."),
    "st_talent": Statistic(
        "科技创新型人才：海东规划的约束性指标（seed 002:L507，1000 → 2000人），规划没有给出口径；其人才目标包括引进"
        "高端创新型人才200名、培养本土科技创新型人才1800名、科技特派员达到300人（seed 002:L452-456）。",
        "S&T innovative talent: a binding indicator of Haidong's plan (seed 002:L507, 1,000 -> 2,000), which does "
        "not define it; its talent goals include 200 high-end innovative talents introduced, 1,800 local S&T "
        "innovative talents cultivated and 300 S&T commissioners (seed 002:L452-456).",
        f"模型的科技人员 = 研发人员 × {ST_PER_RD}（behaviour.toml st_staff_per_rd_staff，假设），水平与海东的1000人不可比"
        "（†）；目标按规划设定的翻番改写为2020–2025年年均增长。",
        f"The model's S&T staff = R&D personnel x {ST_PER_RD} (behaviour.toml st_staff_per_rd_staff, an assumption); "
        "its level is not comparable with Haidong's 1,000 (†); the target is restated as the doubling the plan sets, "
        "a yearly growth rate 2020-2025."),
    "tech_firms_three_types": Statistic(
        "科技“三型”企业：海西方案的指标（seed 004:L28，年均增长5%），方案没有给出定义和基数。",
        "Tech firms of the three types: an indicator of Haixi's action plan (seed 004:L28, +5% a year), which gives "
        "neither a definition nor a base.",
        "定义为假设：持有科技型企业、高新技术企业、科技小巨人企业三项认定之一的企业，每家只计一次；基年假设为2024年。",
        "The definition is an assumption: firms holding at least one of the tech-based enterprise, HTE and little-"
        "giant recognitions, each counted once; the base year 2024 is assumed too."),
    # money
    "business_rd": Statistic(
        "企业R&D经费内部支出（执行部门为企业）。发布：《全国科技经费投入统计公报》、《中国科技统计年鉴》。2020年观测值"
        "由全社会R&D经费乘以企业占比推算（macro.toml）。",
        "Intramural R&D expenditure of enterprises (performing sector). Published in the national statistical "
        "bulletin on S&T expenditure and the China Statistical Yearbook on S&T. The observed 2020 value is derived: "
        "total R&D times the enterprise share (macro.toml).",
        "与统计一样按上报数计，含作为研发费用上报的非研发支出（见 relabelled_rd_share）。",
        "As in the statistics, what firms report, incl. non-R&D spending reported as R&D (see relabelled_rd_share)."),
    "business_rd_real": Statistic(
        differs_zh="统计只有企业上报的研发经费；实际研发经费是模型量（上报数减去重新归类的支出）。",
        differs_en="The statistics have reported business R&D only; real R&D is a model quantity (reported less the "
                   "relabelled spending)."),
    "public_rd": Statistic(
        "研究与开发机构、高等学校和其他执行部门的R&D经费内部支出之和（全社会R&D经费减企业R&D经费）。2020年观测值由"
        "全社会R&D经费乘以（1 − 企业占比）推算（macro.toml）。",
        "Intramural R&D expenditure of R&D institutions, higher education and other performers (total less "
        "enterprises). The observed 2020 value is derived: total R&D times one minus the enterprise share "
        "(macro.toml).",
        "由20家高校和科研院所代表全部非企业执行部门。",
        "The 20 universities and institutes stand for all non-business performers."),
    "rd_intensity_real": Statistic(
        differs_zh="统计只有按上报数计的研发投入强度（rd_intensity）；本指标不含重新归类的支出，是模型量。",
        differs_en="The statistics have the intensity on reported R&D only (rd_intensity); this one, without "
                   "relabelled spending, is a model quantity."),
    "relabelled_rd_share": Statistic(
        differs_zh="无统计；量级依据对中国企业的研究（定义中引用）。",
        differs_en="No statistic; its size rests on research on Chinese firms (cited in the definition)."),
    "gdp": Statistic(
        "地区生产总值（当年价）：国家统计局分省年度数据，第四次全国经济普查后修订（public_statistics.md §1）。",
        "Regional GDP at current prices: NBS provincial annual data, revised after the 4th economic census "
        "(public_statistics.md §1).",
        "市州为全省乘以固定比重（geography.toml），不是各市州公布的地区生产总值。",
        "A prefecture's is the province's times a fixed share (geography.toml), not the GDP the prefecture "
        "publishes."),
    "rd_user_cost": Statistic(
        differs_zh="无统计：研发税后使用成本是分析量（MODEL.md §4.2）。",
        differs_en="No statistic: the after-tax user cost of R&D is an analytical quantity (MODEL.md §4.2)."),
    "spend_ex_ante_grants": FISCAL,
    "spend_ex_post_subsidy": FISCAL,
    "spend_hte_reward": FISCAL,
    "spend_rd_reward": FISCAL,
    "spend_vouchers": FISCAL,
    "tax_expenditure_super_deduction": TAX,
    "tax_expenditure_hte_rate": TAX,
    "super_deduction_carried": Statistic(
        differs_zh="无公开统计：税务部门不公布结转的加计扣除额；模型中为2016年起累积的存量（2015年末的存量未知，取0）。",
        differs_en="No published statistic: the tax administration does not publish carried deductions; in the model "
                   "a stock built from 2016 on (the end-2015 stock is unknown and taken as 0)."),
    "spend_talent_programmes": FISCAL,
    "talent_clawback": Statistic(
        differs_zh="无对应统计：模型中向提前离开者追回的资助（万元），不从公共成本（财政支出 + 税式支出）中扣减。",
        differs_en="No statistic: what the model recovers from people who leave early (万元); not deducted from the "
                   "public cost (spending plus tax expenditure)."),
    "spend_research_institutional": FISCAL,
    "spend_research_competitive": FISCAL,
    "spend_tech_market_subsidies": FISCAL,
    "spend_platform_subsidies": FISCAL,
    "spend_popularisation": FISCAL,
    # talent
    "rd_personnel": Statistic(
        "R&D人员（人数），定义见 rd_personnel_per_10k。《中国科技统计年鉴》分地区表给全时当量；人数可由规划指标推算"
        f"（2020年约{PERSONS_2020}人 = 23.66 × {EMPLOYED_2020}万就业人员）。",
        "R&D personnel (persons), defined under rd_personnel_per_10k. The yearbook's regional table gives FTE; the "
        f"persons follow from the plan indicator (2020: about {PERSONS_2020} = 23.66 x {EMPLOYED_2020}万 employed).",
        "只计常住人员，且只计有研发的企业和高校院所的人员。",
        "Residents only, at R&D-performing firms and the institutions."),
    "rd_personnel_fte": Statistic(
        "R&D人员全时当量（人年）：全时人员数加非全时人员按工作量折算。发布：《中国科技统计年鉴》表1-4（青海2020年"
        f"{FTE_2020}人年，public_statistics.md §3）。",
        "R&D personnel in full-time equivalents (person-years): full-time staff plus part-time staff by their share "
        f"of work. Published in the China Statistical Yearbook on S&T, table 1-4 (Qinghai 2020: {FTE_2020}, "
        "public_statistics.md §3).",
        f"模型为人数 ÷ {PER_FTE}，各年比例相同；年鉴各年的人数与全时当量之比未知。",
        f"The model's is persons / {PER_FTE}, the same ratio every year; the yearbook's ratio in other years is not "
        "known."),
    "talent_inflow": TALENT_FLOW,
    "talent_outflow": TALENT_FLOW,
    # firms
    "enterprises": Statistic(
        "企业法人单位数：国家统计局基本单位统计和经济普查。",
        "Enterprise legal entities: NBS statistics of basic units and the economic census.",
        f"资料中没有青海的企业法人数：macro.toml 的2015、2020年值（{ENTERPRISES_2020}家）为假设。",
        f"The sources give no count for Qinghai: macro.toml's 2015 and 2020 values ({ENTERPRISES_2020}) are "
        "assumptions."),
    "above_scale_industrial": Statistic(
        "规模以上工业企业单位数：年主营业务收入2000万元及以上的工业法人单位（国家统计局，2011年起）。",
        "Above-scale industrial enterprises: industrial legal entities with main-business revenue of 2,000万元 or "
        "more (NBS, since 2011).",
        "模型的企业只有一个营业收入，视为主营业务收入。",
        "The model's firms have one revenue, taken as main-business revenue."),
    "rd_active_firms": Statistic(
        "统计只公布规模以上工业企业中有R&D活动的企业数（见 share_firms_with_rd）。",
        "The statistics publish the number with R&D activity among above-scale industrial enterprises only (see "
        "share_firms_with_rd).",
        "模型计所有企业（不限规上工业）。",
        "The model counts every firm, not only above-scale industrial ones."),
    "rd_exit_rate": Statistic(
        differs_zh="无统计：研发持续性的模型量，参照值来自西班牙制造业的面板数据（定义中引用）。",
        differs_en="No statistic: a model measure of R&D persistence, against evidence from Spanish manufacturing "
                   "(cited in the definition)."),
    "hte_certificates_granted": Statistic(
        "全国高新技术企业认定管理工作领导小组办公室公布的认定名单，首次认定和重新认定都列入：青海2018年66家、2019年"
        "70家、2020年87家（public_statistics.md §6）。",
        "The national HTE certification lists, which list first certifications and re-certifications alike: "
        "Qinghai 66 in 2018, 70 in 2019, 87 in 2020 (public_statistics.md §6).",
        "口径相同。",
        "The same definition."),
    "tech_smes": Statistic(
        "科技型中小企业：按《科技型中小企业评价办法》（国科发政〔2017〕115号）自主评价、经公示入库并取得登记编号的企业"
        "（职工不超过500人、年销售收入不超过2亿元等，rules.toml）；入库当年有效，每年重新评价。",
        "Tech-based SMEs: firms that pass the national evaluation (国科发政〔2017〕115号) and are entered in its "
        "register (at most 500 employees and 2亿元 revenue among other criteria, rules.toml); valid for the year, "
        "evaluated every year.",
        "模型以研发强度近似评价得分（behaviour.toml）；2017年前没有这项评价。",
        "The model approximates the evaluation score by R&D intensity (behaviour.toml); the evaluation began in "
        "2017."),
    "little_giants": Statistic(
        "科技小巨人企业：青海省科技厅认定的科技“小巨人”企业，是科技型企业 → 高新技术企业 → 科技小巨人培育梯次的最高"
        "一级（seed 003:L819, L825）。2020年52家（seed 003:L506）。",
        "S&T little giants: firms recognised by the Qinghai S&T department, the top of the ladder tech-based "
        "enterprise -> HTE -> little giant (seed 003:L819, L825). 52 in 2020 (seed 003:L506).",
        "青海的认定条件不在资料中；模型的收入和增长门槛、有效期为假设（behaviour.toml giant_*）。",
        "Qinghai's criteria are not in the sources; the model's revenue and growth thresholds and validity are "
        "assumptions (behaviour.toml giant_*)."),
    "incubated_startups": Statistic(
        differs_zh="无对应统计：模型中孵化器和众创空间每年孵化出的有研发活动的初创企业。",
        differs_en="No statistic: the R&D-active start-ups the model's incubators and maker spaces graduate each "
                   "year."),
    "spin_offs": Statistic(
        differs_zh="无对应统计：模型中高校院所科研人员创办的企业。",
        differs_en="No statistic: the firms the model's university and institute researchers found."),
    # knowledge
    "tech_contracts": Statistic(
        "技术合同成交项数，登记口径同 tech_contract_turnover（卖方所在地，2019年口径断裂）。",
        "Number of registered technology contracts, on tech_contract_turnover's definition (the seller's region; "
        "the 2019 break).",
        "同 tech_contract_turnover。",
        "As tech_contract_turnover."),
    "valid_invention_patents": Statistic(
        "有效发明专利数（国内，年末），定义见 patents_per_10k。发布：《中国科技统计年鉴》“各地区有效专利”表（青海"
        f"2020年{PATENTS_2020}件，public_statistics.md §4）。",
        "Valid domestic invention patents at year end, defined under patents_per_10k. Published in the China "
        f"Statistical Yearbook on S&T, 'valid patents by region' (Qinghai 2020: {PATENTS_2020}, "
        "public_statistics.md §4).",
        "专利由企业和高校院所持有；统计中个人和其他单位的专利也计入，模型按总数校准。",
        "Firms and institutions hold the model's patents; the statistics also count those of individuals and "
        "other units, and the model is fitted to the total."),
    "provincial_platforms": Statistic(
        "省级重点实验室和省级工程技术研究中心数（省科技厅认定）：2020年72 + 71 = 143个（seed 003:L506）。",
        "Provincial key labs and engineering technology research centres (recognised by the provincial S&T "
        "department): 72 + 71 = 143 in 2020 (seed 003:L506).",
        "口径相同。",
        "The same definition."),
    "incubators_maker_spaces": Statistic(
        "科技企业孵化器、省级众创空间和星创天地（农村众创空间）数：2020年15 + 53 + 17 = 85个（seed 003:L506）。",
        "S&T business incubators, provincial maker spaces and rural maker spaces (星创天地): 15 + 53 + 17 = 85 in "
        "2020 (seed 003:L506).",
        "模型不区分众创空间和星创天地。",
        "The model does not tell maker spaces and rural maker spaces apart."),
}

# the groups after the plan indicators (every indicator with a plan target, in targets.toml order): (zh, en, keys)
GROUPS = {
    "money": ("资金", "Money", (
        "business_rd", "business_rd_real", "public_rd", "rd_intensity_real", "relabelled_rd_share", "gdp",
        "rd_user_cost", "spend_ex_ante_grants", "spend_ex_post_subsidy", "spend_hte_reward", "spend_rd_reward",
        "spend_vouchers", "tax_expenditure_super_deduction", "tax_expenditure_hte_rate", "super_deduction_carried",
        "spend_talent_programmes",
        "talent_clawback", "spend_research_institutional", "spend_research_competitive",
        "spend_tech_market_subsidies", "spend_platform_subsidies", "spend_popularisation")),
    "talent": ("人才", "Talent", ("rd_personnel", "rd_personnel_fte", "talent_inflow", "talent_outflow")),
    "firms": ("企业", "Firms", (
        "enterprises", "above_scale_industrial", "rd_active_firms", "rd_exit_rate", "hte_certificates_granted",
        "tech_smes", "little_giants", "incubated_startups", "spin_offs")),
    "knowledge": ("知识", "Knowledge", (
        "tech_contracts", "valid_invention_patents", "provincial_platforms", "incubators_maker_spaces")),
}
NUMERALS = "一二三四五六七八九"


def groups() -> list[tuple[str, str, list[str]]]:
    """The indicators by group, as the outputs order them: the plan indicators first (those with a target of the
    province, Haidong or Haixi, in targets.toml order), then the others by ``GROUPS``. Refuses (``InputError``) an
    indicator without both definitions, in no group or in two, or without a ``STATISTICS`` entry."""
    indicators = data.load("indicators")
    file = data.DATA_DIR / "indicators.toml"
    for key, spec in indicators.items():
        for field in ("definition", "definition_zh"):
            if not spec.get(field):
                raise InputError(f"{file}: {key}.{field}: missing (every indicator has an English and a Chinese "
                                 "definition)")
    plan = list(dict.fromkeys(load_targets()["indicator"]))
    out = [("规划指标", "Plan indicators", plan)]
    out += [(zh, en, [k for k in members if k not in plan]) for zh, en, members in GROUPS.values()]
    placed = [k for *_, members in out for k in members]
    for key in indicators:
        if placed.count(key) != 1:
            raise InputError(f"{file}: {key}: in {placed.count(key)} groups of docs/indicator_reference.py GROUPS "
                             "(allowed: exactly 1)")
        if key not in STATISTICS:
            raise InputError(f"{file}: {key}: no entry in docs/indicator_reference.py STATISTICS (its official "
                             "statistic, or none)")
    return out


# --- text layout --------------------------------------------------------------------------------------------


# an operator standing alone ("R&D + public R&D", "> 0") stays with the word before it: at the start of a line it
# would make a list item, a quote or a heading of the rest
OPERATOR = re.compile(r" (?=[-+*>#=] )")
NO_BREAK_BEFORE = NO_LINE_START | CLOSING | {"〕"}  # punctuation that ends a piece: never at the start of a line
NO_BREAK_AFTER = OPENING | {"〔"}  # punctuation that starts a piece: never at the end of a line


def _pieces(text: str, by_character: bool = False) -> list[str]:
    """``text`` in the pieces a line may break between: a run of narrow characters (a number, a Latin word, a file
    name, ``x_y``), a space, or a run of wide (Chinese) characters up to its punctuation (a line break in Markdown
    prose reads as a space, which Chinese shows after punctuation only; ``by_character``: one wide character).
    Closing punctuation joins the piece before it, opening punctuation the piece after it, a wide character a
    number before it, and "*" (a mark, bold) both."""
    pieces: list[str] = []
    for c in text:
        last = pieces[-1][-1] if pieces else ""
        narrow_run = width(c) == 1 and c != " " and width(last) == 1 and last != " "
        wide_run = not by_character and width(c) == 2 and width(last) == 2 and last not in NO_BREAK_BEFORE
        unit = width(c) == 2 and last.isdigit()  # a number keeps its Chinese unit: 2000万元, 2019年, 52家
        if pieces and (narrow_run or wide_run or unit or c in NO_BREAK_BEFORE or c in (NBSP, "*") or last in NO_BREAK_AFTER
                       or last == "*"):
            pieces[-1] += c
        else:
            pieces.append(c)
    return pieces


def fill(text: str, room: int) -> list[str]:
    """``text`` in lines of at most ``room`` display columns (a longer piece stands alone): Latin words, numbers and
    names stay whole, Chinese breaks after its punctuation or next to Latin text (between characters in a run too
    long for a line), and no line starts with an operator."""
    lines, line = [], ""
    pieces = [p for piece in _pieces(OPERATOR.sub(NBSP, text))
              for p in (_pieces(piece, by_character=True) if width(piece) > room else [piece])]
    for piece in pieces:
        if piece == " ":
            line += piece if line else ""
        elif not line or width(line + piece) <= room:
            line += piece
        else:
            lines.append(line.rstrip(" "))
            line = piece
    lines.append(line.rstrip(" "))
    return [line.replace(NBSP, " ") for line in lines]


def item(text: str, level: int = 0) -> str:
    """A list item; a leading mark "*" (a note's) is escaped, or Markdown would read a list in the item."""
    indent = "  " * level
    return indent + "- " + paragraph(re.sub(r"^\* ", r"\\* ", text), indent + "  ", fill)


def bilingual(zh: str, en: str, label_zh: str, label_en: str, level: int = 0) -> list[str]:
    """Two list items: the Chinese text, then the English."""
    return [item(f"**{label_zh}**：{zh}", level), item(f"**{label_en}**: {en}", level)]


# --- one indicator ------------------------------------------------------------------------------------------


def unit_text(key: str) -> str:
    return unit_words(indicator_unit(key))


def head_line(key: str) -> str:
    """The key, unit and what kind of indicator it is."""
    spec = data.load("indicators")[key]
    parts = [f"`{key}`", f"单位 unit: {unit_text(key)}"]
    if spec["status"] != "modelled":
        parts.append(STATUS[spec["status"]])
    if spec.get("flow"):
        parts.append("年度流量（2015年末初始状态无值） yearly flow (none at the end-2015 initial state)")
    if spec.get("better") == "lower":
        parts.append("越低越好 lower is better")
    if spec.get("policy"):
        parts.append("政策工具 instruments: " + ", ".join(f"`[policy.{p}]`" for p in spec["policy"]))
    return paragraph(" · ".join(parts), wrap=fill)


def observed_lines(key: str) -> list[str]:
    """The observed 2020 values of the province, the nation and each prefecture, with their sources and marks as
    the outputs show them (``qhsim.output.observed``), and the notes on marked values."""
    spec = data.load("indicators")[key]
    lines, notes = [], []
    for region in (PROVINCE, *data.prefecture_ids()):
        value = observed_points(key, region).get(2020)
        if value is None:
            continue
        source = observed_source(key, region)
        lines.append(item(f"{region_label(region)}: {format_value(value, key)}{source.mark}（{source.label()}；"
                          f"{source.reference}）", 1))
        if source.note():
            notes.append(item(f"{source.mark} {source.note()}", 1))
        if region == PROVINCE and "national_2020" in spec:
            national = spec["national_2020"]
            lines.append(item(f"全国 China: {format_value(national['value'], key)}（{national['source']}）", 1))
    if not lines:
        return [item("**2020年观测值 Observed 2020**：无 none")]
    return [item("**2020年观测值 Observed 2020**："), *lines, *notes]


def target_lines(key: str) -> list[str]:
    """The plan targets of the indicator, one item per (region, year), marked as the outputs mark them, with their
    notes (``plan_target_notes``, without the notes on plan targets the model does not have: the plan indicators'
    section lists those once)."""
    targets = load_targets()
    rows = targets[targets["indicator"] == key]
    if rows.empty:
        return [item("**规划目标 Plan targets**：无 none")]
    lines = [item("**规划目标 Plan targets**：")]
    for t in rows.itertuples():
        zh, en = (target_value(t.value, t.kind, key, lang) for lang in ("zh", "en"))
        mark = target_mark(t) + met_mark(t)
        if t.kind == "growth":
            when = f"{t.base_year}–{t.year}年年均{zh}{mark} / {en} {t.base_year}-{t.year}"
        else:
            when = f"{t.year}年{zh}{mark} / {en} by {t.year}"
        lines.append(item(f"{region_label(t.region)}：{when}（{t.source}）", 1))
    not_modelled = {not_modelled_note(region) for region in rows["region"]}
    notes = [n for n in plan_target_notes(zip(rows["region"], rows["indicator"], rows["year"]))
             if n not in not_modelled]
    return [*lines, *(item(note, 1) for note in notes)]


def entry(number: str, key: str) -> list[str]:
    spec = data.load("indicators")[key]
    stat = STATISTICS[key]
    out = [f"### {number} {spec['zh']} {spec['en']}", "", head_line(key), ""]
    out += bilingual(spec["definition_zh"], spec["definition"], "模型计算", "What the model computes")
    if stat.zh:
        out += bilingual(stat.zh, stat.en, "对应统计及口径", "Official statistic and its definition")
    else:
        out += [item(f"**对应统计 Official statistic**：{in_language(*NO_STATISTIC)}")]
    if stat.differs_zh:
        out += bilingual(stat.differs_zh, stat.differs_en, "与统计口径的差异", "How the model differs")
    out += [*observed_lines(key), *target_lines(key), ""]
    return out


# --- the document -------------------------------------------------------------------------------------------


def intro() -> list[str]:
    n = len(data.load("indicators"))
    return [
        "# 指标说明 Indicator reference",
        "",
        paragraph("<!-- Generated by docs/indicator_reference.py from qhsim/data/indicators.toml, "
                  "qhsim/data/targets.toml and the official statistics written in the generator. Do not edit: run "
                  "`python docs/indicator_reference.py`; tests/test_docs.py fails while this file is out of date. -->", wrap=fill),
        "",
        paragraph(f"本文件逐项说明模型输出的全部{n}个指标（指标表 indicators.csv 的列）：名称和单位，模型如何计算，"
                  "对应的官方统计及其口径（统计年鉴、统计公报、规划），模型口径与统计口径的差异，2020年观测值及来源，"
                  "以及青海省、海东市、海西州规划目标。", wrap=fill),
        "",
        paragraph(f"This file explains each of the {n} indicators the model reports (the columns of indicators.csv): "
                  "its name and unit, what the model computes, the official statistic it corresponds to and that "
                  "statistic's definition (口径: yearbooks, statistical bulletins, the plans), how the model's "
                  "definition differs, the observed 2020 values with their sources, and the plan targets of the "
                  "province, Haidong and Haixi.", wrap=fill),
        "",
        "## 阅读说明 Reading the entries",
        "",
        item("指标按输出中的顺序分组：先是有规划目标的指标，其余按资金、人才、企业、知识分组。 Indicators are "
             "grouped as the outputs order them: those with a plan target first, then the others by money, talent, "
             "firms and knowledge."),
        item("**模型计算 What the model computes**：qhsim/data/indicators.toml 的 `definition_zh` / `definition`，"
             "与 qhsim/indicators.py 和 qhsim/knowledge/system.py 的计算一致。 The `definition_zh` / `definition` of "
             "qhsim/data/indicators.toml, as qhsim/indicators.py and qhsim/knowledge/system.py compute it."),
        item("**2020年观测值 Observed 2020**：与各项输出（终端表格、report.xlsx、report.html、仪表盘）的“2020实际”"
             "相同，附来源。 As every output shows it in its observed 2020 column, with its source."),
        item("数量和金额按全规模计；比率与规模无关。 Counts and money are at full scale; ratios do not depend on "
             "the run's scale."),
        item(f"标记 Marks: {RESTATED_MARK} 按模型口径重算（附算式和规划所印数值） restated in the model's "
             f"definition (with the arithmetic and the figure the plan prints); {OTHER_DEFINITION_MARK} 口径不同，"
             "不可比，目标不作达标判断 on another definition, not comparable, a target not judged; "
             f"{ASSUMPTION_MARK} 达标判断依赖假设 the verdict rests on an assumption. The notes under an entry "
             "explain each mark, as they do below the output tables."),
        item("出处 Sources: `seed 003:L573` 指 docs/sources/seeds 中003号文件第573行 is line 573 of seed document "
             "003 in docs/sources/seeds; `public_statistics.md §5` 指 docs/sources/data/public_statistics.md 第5节 "
             "is section 5 of docs/sources/data/public_statistics.md; `macro.toml` 等指 qhsim/data/ 下的数据文件 and "
             "the like are the data files in qhsim/data/."),
        "",
    ]


def group_index(keys: list[str]) -> str:
    names = data.load("indicators")
    return table(["key", "指标 indicator"], [[f"`{k}`", f"{names[k]['zh']}\n{names[k]['en']}"] for k in keys])


def not_modelled_section() -> list[str]:
    """The plan targets the model has no indicator for (targets.toml ``[[not_modelled]]``), once."""
    regions = list(dict.fromkeys(row["region"] for row in load_not_modelled()))
    if not regions:
        return []
    return ["#### 模型未含的规划目标 Plan targets the model does not have", "",
            *(item(not_modelled_note(region)) for region in regions), ""]


def sections() -> list[str]:
    out = []
    for g, (zh, en, keys) in enumerate(groups()):
        out += [f"## {NUMERALS[g]}、{zh} {en}", "", group_index(keys), ""]
        if g == 0:
            out += not_modelled_section()
        for i, key in enumerate(keys, 1):
            out += entry(f"{g + 1}.{i}", key)
    return out


def render() -> str:
    text = "\n".join([*intro(), *sections()])
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def main() -> None:
    DOC.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    run_script(main)
