"""中文 / English labels of the dashboard. ``text(key, lang)`` gives one language; indicator, region and lever
labels come from the data files (indicators.toml, geography.toml, levers.toml), never from here."""

from __future__ import annotations

from qhsim import data
from qhsim.errors import InputError
from qhsim.output.numbers import unit_of  # one table of Chinese units (also i18n.unit_of for the pages)
from qhsim.results import PROVINCE

LANGS = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("青海区域创新体系政策仿真", "Qinghai innovation-system policy simulator"),
    "language": ("English", "中文"),  # the toggle shows the other language
    "page_levers": ("政策杠杆", "Levers"),
    "page_indicators": ("指标与目标", "Indicators vs targets"),
    "page_prefectures": ("市州", "Prefectures"),
    "page_compare": ("方案比较", "Compare designs"),
    "page_experiments": ("实验", "Experiments"),
    "page_inside": ("模型内部", "Inside the model"),
    "page_export": ("导出", "Export"),
    "start_from": ("起始情景", "Start from scenario"),
    "open_file": ("打开情景文件（路径）", "Open scenario file (path)"),
    "upload": ("把情景文件（.toml）拖放到此处", "Drop a scenario file (.toml) here"),
    "open": ("打开", "Open"),
    "baseline_value": ("基准值", "baseline"),
    "allowed": ("允许范围", "allowed"),
    "from_year": ("起始年份", "from year"),
    "all_years": ("全部年份", "all years"),
    "changed": ("已修改", "changed"),
    "reset": ("恢复基准", "Reset levers"),
    "save_name": ("情景名称", "Scenario name"),
    "save": ("保存为情景TOML", "Save as scenario TOML"),
    "run": ("运行", "Run"),
    "key_levers": ("常用杠杆", "Key levers"),
    "auto_run": ("杠杆变化后自动运行", "Run automatically when a lever changes"),
    "cancel": ("取消", "Cancel"),
    "mode": ("运行方式", "Run type"),
    "single": ("单次运行", "Single run"),
    "ensemble": ("集合运行", "Ensemble"),
    "ensemble_help": ("集合：从校准后验中抽取互不相同的参数组（不超过校准集合所含组数），每组配每个种子各运行一次，各次运行按其参数组所代表的后验权重加权；显示中位数、90%区间和达标概率。",
                      "Ensemble: different parameter sets of the calibrated posterior (at most as many as it holds), each run with every seed and weighted by the posterior weight its set stands for; shows the median, the 90% band and P(target met)."),
    "scale": ("规模（模拟企业比例）", "Scale (share of firms simulated)"),
    "seed": ("随机种子", "Seed"),
    "draws": ("参数抽样数", "Parameter draws"),
    "seeds": ("种子（逗号分隔）", "Seeds (comma-separated)"),
    "running": ("运行中", "Running"),
    "cancelled": ("已取消", "Cancelled"),
    "no_run": ("尚未运行。请设置杠杆后点击“运行”。", "No run yet. Set the levers and press Run."),
    "from_cache": ("（缓存结果）", "(cached)"),
    "seconds": ("秒", "s"),
    "headline": ("2025年研发投入强度", "R&D intensity 2025"),
    "target": ("目标", "target"),
    "gap": ("差距", "gap"),
    "p_met": ("达标概率", "P(target met)"),
    # what the headline's numbers are: one run is not the median `make baseline` prints (README, "Set up and go")
    "one_run": ("单次运行（随机种子 {seed}），非 make baseline 的{n}种子中位数",
                "one run (seed {seed}), not the {n}-seed median of make baseline"),
    "reference": ("基准", "baseline"),  # the baseline run drawn beside a run with lever changes
    "change_note": ("相对基准变化：本次运行减去基准运行（{name}，同一随机种子与规模，图中虚线）的模拟值（集合运行为中位数）；"
                    "%指标的变化以个百分点（pp）计。",
                    "change vs baseline: this run minus the baseline run ({name}, same seeds and scale, dashed in the "
                    "chart), simulated values (medians for an ensemble); a change of an indicator in % is in percentage "
                    "points (pp)."),
    "median_of": ("{runs}次运行的中位数 [90%区间]", "median [90% band] of {runs} runs"),
    "band_lower_bound": ("区间与达标概率偏于自信：见“指标与目标”页说明", "band and P(target met) understate the "
                         "uncertainty: see the note on Indicators vs targets"),
    "simulated": ("模拟", "simulated"),
    "median": ("模拟中位数", "simulated median"),
    "band90": ("90%区间", "90% band"),
    "observed": ("观测值", "observed"),
    "observed_other": ("观测值口径不同", "observed on another definition"),
    "assumed": ("假设值（非观测值）", "assumed, not observed"),
    "evidence": ("实证范围", "evidence range"),
    "year": ("年份", "year"),
    "indicator": ("指标", "indicator"),
    "region": ("地区", "region"),
    "own_targets": ("本地目标", "own targets"),
    "prefectures_in": ("各市州", "Prefectures"),
    "p_first": ("排第一的概率", "P(ranks first)"),
    "extra_rd": ("额外企业研发（亿元）", "extra business R&D (亿元, 100 mn yuan)"),  # the words of comparison.txt
    "extra_cost": ("额外公共成本（亿元）", "extra public cost (亿元, 100 mn yuan)"),
    "designs": ("设计方案", "Designs"),
    "add_design": ("将当前杠杆加为方案", "Add current levers as a design"),
    "design_name": ("方案名称", "Design name"),
    "no_changes": ("无修改（同基准）", "no changes (same as the baseline)"),
    "compare_help": ("在“政策杠杆”页设置杠杆后，点击“将当前杠杆加为方案”（最多4个）；再点击“比较”。所有方案与基准使用相同的随机种子和参数抽样（共同随机数），区间为90%区间。集合运行设置（左侧）决定抽样数和种子。",
                     "Set levers on the Levers page, then add them as a design (up to 4) and press Compare. Every design runs with the same seeds and parameter draws as the baseline (common random numbers); intervals are 90%. The run settings on the left (single run or ensemble) set the draws and seeds."),
    "ranking": ("排名（按每元公共成本带来的企业研发；按平均名次排序）",
                "Ranking (by business R&D per yuan of public cost; ordered by mean rank)"),
    "ranking_total": ("排名（按每元公共成本带来的全社会研发：企业+高校院所；按平均名次排序）",
                      "Ranking (by total R&D — business + universities, institutes — per yuan of public cost; "
                      "ordered by mean rank)"),
    "ranking_indicator": ("排名（按累计区间内{indicator}相对基准的平均变化{better}；按平均名次排序）",
                          "Ranking (by the mean change of {indicator} against the baseline over the window{better}; "
                          "ordered by mean rank)"),
    "lower_is_better": ("；越低越好", "; lower is better"),  # {better} above, for an indicator whose fall is good
    "rank_total": ("按全社会研发（企业+高校院所）排名：研发投入强度的口径",
                   "Rank by total R&D (business + universities, institutes): what R&D intensity counts"),
    "window": ("累计区间", "window"),
    "runs": ("次运行", "runs"),
    "per_design": ("每方案{n}次", "{n} per design"),
    "clear_designs": ("清空方案", "Clear designs"),
    "budget_neutral": ("预算中性（各方案的预算杠杆按第一个方案的额外公共成本缩放）",
                       "Budget-neutral (each design's budget levers scaled to the first design's extra public cost)"),
    "compare_run": ("比较", "Compare"),
    "rd_per_yuan": ("每元公共成本带来的企业研发（元/元）", "business R&D per yuan of public cost (yuan/yuan)"),
    "total_rd_per_yuan": ("每元公共成本带来的全社会研发（企业+高校院所，元/元）",
                          "total R&D (business + universities, institutes) per yuan of public cost (yuan/yuan)"),
    "rank": ("排名", "rank"),
    "store": ("扫描/比较结果目录", "Sweep or compare folder"),
    "experiments_help": ("打开由 `qhsim sweep --out 目录` 或 `qhsim compare --out 目录` 写出的结果目录；选择指标和年份，查看各杠杆取值下的响应，以及PRIM找出的达到阈值的杠杆区域（覆盖率：成功点落在区域内的比例；密度：区域内成功点的比例）。",
                         "Open a folder written by `qhsim sweep --out DIR` or `qhsim compare --out DIR`; pick an indicator and a year to see the response over each lever, and the PRIM box of lever settings that reach the threshold (coverage: share of the successful points inside the box; density: share of the points inside that succeed)."),
    "threshold": ("阈值", "threshold"),
    "coverage": ("覆盖率", "coverage"),
    "density": ("密度", "density"),
    "probability": ("所需概率", "required probability"),
    "points_succeed": ("个设计点以所需概率达到阈值", "design points reach the threshold with the required probability"),
    "load": ("载入", "Load"),
    "download": ("下载", "Download"),
    "csv": ("数据（CSV）", "Data (CSV)"),
    "all_indicators": ("全部指标", "all indicators"),
    "xlsx": ("数据（XLSX）", "Data (XLSX)"),
    "png": ("图表（PNG）", "Chart (PNG)"),
    "html": ("报告（HTML）", "Report (HTML)"),
    "firms_rd_ratio": ("研发企业：三年研发费用占比 ÷ 高企门槛", "Firms with R&D: 3-year R&D ratio ÷ HTE threshold"),
    "ratio_axis": ("占门槛的倍数", "multiple of the threshold"),
    "firms_axis": ("企业数", "firms"),
    "all_rd_firms": ("有研发企业", "firms with R&D"),
    "hte_holders": ("其中高企", "of which HTE"),
    "ladder": ("认定阶梯", "Certification ladder"),
    "talent_flows": ("人才流入与流出", "Talent inflow and outflow"),
    "spending": ("项目支出与税式支出（万元）", "Programme spending and tax expenditure (万元)"),
    "year_slider": ("年份", "Year"),
    "error": ("错误", "Error"),
    "need_single": ("请先完成一次单次运行。", "Run a single run first."),
    "stale": ("结果已过期：杠杆或运行设置已修改，请点击“运行”", "Out of date: levers or run settings changed — press Run"),
    "stale_compare": ("比较结果已过期：方案或运行设置已修改，请点击“比较”",
                      "Out of date: designs or run settings changed — press Compare"),
    "allowed_range": ("允许范围", "allowed"),
    "choose_one": ("请至少选择一项", "choose at least one"),
    "list_range": ("以逗号分隔的数字，如 0.1, 0.15, 0.2", "numbers separated by commas, e.g. 0.1, 0.15, 0.2"),
    "not_a_number": ("请输入数字", "enter a number"),
    "not_a_whole_number": ("请输入整数", "enter a whole number"),
    "not_applied": ("未采用，仍使用", "not applied; still using"),
    "lists_differ": ("{a}有{n}项，{b}有{m}项：两者项数须相同，改好之前无法运行、比较或保存",
                     "number of values: {a} {n}, {b} {m} — give both the same number; until then nothing can be run, "
                     "compared or saved"),
    "design_n": ("方案{n}", "design {n}"),
    "run_name": ("{base} + {n}处修改", "{base} + {n} changes"),  # a run's name: its base and its lever changes
    "run_name_1": ("{base} + 1处修改", "{base} + 1 change"),
    "design_taken": ("方案名称“{name}”已被使用（基准：{base}；已有方案：{taken}）：请另取一个名称",
                     "Design name '{name}' is already taken (base: {base}; designs: {taken}): choose another name"),
    "designs_kept": ("已切换到{base}：保留{n}个方案（现叠加在{base}之上）", "Switched to {base}: kept {n} designs "
                     "(they now apply on top of {base})"),
    "designs_dropped": ("已删除在{base}上无效的方案：{names}", "Removed the designs not valid on {base}: {names}"),
    "changes_cleared": ("杠杆修改已清除（{n}处）", "lever changes cleared ({n})"),
    "open_failed": ("无法打开情景文件", "Cannot open the scenario file"),
    "store_failed": ("无法打开结果目录", "Cannot open the results folder"),
    "change_of": ("{indicator}相对基准的变化（{unit}；{what}）", "Change of {indicator} against the baseline ({unit}; {what})"),
    "change_band": ("均值 [90%区间]", "mean [90% band]"),
    "own_scales": ("各市州纵轴刻度不同", "each prefecture on its own vertical scale"),
    "change_one": ("每方案1次运行之差，无区间", "difference of one run each, no interval"),
    "csv_of": ("数据（CSV）：{what}", "Data (CSV): {what}"),
    "csv_changes": ("指标变化", "changes"),
    "csv_costs": ("公共成本", "costs"),
    "csv_leverage": ("每元带动", "leverage"),
    "csv_targets": ("目标达成", "targets"),
    "csv_ranking": ("排名", "ranking"),
    "kind_sweep": ("参数扫描", "sweep"),
    "kind_compare": ("方案比较", "compare"),
    "median_of_runs": ("中位数", "median"),
    "target_years": ("目标年份", "target years"),
}

# the options of the choice and subset levers (qhsim.config.schema: selection rules, allocation, prefectures), as the
# lever page shows them; a prefecture id is named by geography.toml (``region``)
OPTION_LABELS: dict[str, tuple[str, str]] = {
    "merit": ("择优（按评审得分）", "merit (review score)"),
    "lottery": ("随机抽签", "lottery"),
    "sme_first": ("中小企业优先", "SMEs first"),
    "weak_prefecture_first": ("西宁以外地区优先", "prefectures other than Xining first"),
    "population": ("按人口分配", "by population"),
    "need": ("向科学素质低的地区倾斜", "tilted to low-literacy prefectures"),
    "all": ("全部市州", "all prefectures"),
}

LADDER_LABELS = {
    "rd_active": ("有研发活动", "with R&D"),
    "sme": ("科技型中小企业", "tech-based SME"),
    "tbe": ("科技型企业", "tech-based enterprise"),
    "hte": ("高新技术企业", "high-tech enterprise"),
    "giant": ("科技小巨人", "little giant"),
}


# indicators.toml units in Chinese (the English ones are the file's own)
class Bilingual(InputError):
    """An input error with its message in both languages (``message`` shows the one of the page)."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.pair = (zh, en)


def message(exc: BaseException, lang: str) -> str:
    """An error as the page shows it, on one line: a ``Bilingual`` one in ``lang``, another input error as it is,
    anything else (a failed run) with its type."""
    if isinstance(exc, Bilingual):
        return pick(exc.pair, lang)
    return str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"


def out_of_range(label: tuple[str, str], value, allowed: str) -> Bilingual:
    """``Bilingual`` "<label> = <value>: allowed <range>" (label as (Chinese, English))."""
    return Bilingual(f"{label[0]} = {value}：{TEXT['allowed_range'][0]} {allowed}",
                     f"{label[1]} = {value}: {TEXT['allowed_range'][1]} {allowed}")


def run_name(base: str, changes: int, lang: str) -> str:
    """A dashboard run's name in ``lang``: its base scenario's name, with the number of lever changes when there are
    any ("baseline + 2 changes", "baseline + 2处修改")."""
    if not changes:
        return base
    return text("run_name_1" if changes == 1 else "run_name", lang).format(base=base, n=changes)


def text(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]



def indicator(key: str, lang: str, unit: bool = True) -> str:
    """An indicator's name in one language, with its unit."""
    spec = data.load("indicators")[key]
    name = spec["zh"] if lang == "zh" else spec["en"]
    return f"{name} ({unit_of(key, lang)})" if unit else name


def option(value: str, lang: str) -> str:
    """A choice or subset lever's option in ``lang``: a selection rule, an allocation, "all" or a prefecture (its
    name); anything else as it is."""
    if value in OPTION_LABELS:
        return pick(OPTION_LABELS[value], lang)
    if any(p.id == value for p in data.prefectures()):
        return region(value, lang)
    return str(value)


def level(value, lang: str) -> str:
    """A sweep lever's level as the experiments page shows it: an option by its label (``option``: 择优 for "merit"), a
    number or a year schedule as every report writes it (``lever_text``: 60,000; 2026: 1,000 → 2028: 5,000)."""
    from qhsim.output.tidy import lever_text

    label = option(str(value), lang)
    return label if label != str(value) else lever_text(value)


def region(region_id: str, lang: str) -> str:
    if region_id == PROVINCE:
        return "青海省" if lang == "zh" else "Qinghai Province"
    pref = next(p for p in data.prefectures() if p.id == region_id)
    return pref.zh if lang == "zh" else pref.en
