"""Dashboard logic without a browser: lever catalogue, lever <-> scenario round trip, session state, run cache."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from qhsim.config import load_scenario
from qhsim.dashboard import i18n
from qhsim.dashboard import levers as lv
from qhsim.dashboard.runs import RunCache, RunRequest, execute
from qhsim.dashboard.state import Session, parse_seeds
from qhsim.errors import InputError
from qhsim.output.numbers import significant
from qhsim.output.report import source_notes

from conftest import ROOT, SCENARIOS


def test_every_schema_instrument_is_a_lever_with_label_unit_and_range():
    assert sorted(lv.levers()) == sorted(lv.schema_paths())
    for lever in lv.levers().values():
        assert lever.zh and lever.en
        if lever.domain.kind in ("number", "integer"):
            assert lever.domain.lo is not None and lever.domain.hi is not None and lever.unit and lever.unit_en
    assert lv.levers()["policy.super_deduction.general"].range_text() == "[0, 3] (0%–300%)"  # a share, also in %
    assert [g.key for g in lv.groups()] == ["tax", "hte", "grants", "rewards", "talent", "tech_market", "platforms"]


def test_lever_change_applies_from_its_year():
    s = Session.start("baseline.toml").with_lever("policy.super_deduction.general", 1.5, 2027)
    sched = s.scenario.policy.super_deduction.general
    assert sched.at(2026) == 1.0 and sched.at(2027) == 1.5 and sched.at(2035) == 1.5
    assert s.base.policy.super_deduction.general.at(2027) == 1.0  # the base is untouched


def test_setting_the_base_value_removes_the_change():
    s = Session.start("baseline.toml").with_lever("policy.ex_ante_grants.budget", 30000)
    assert len(s.changes) == 1
    assert s.with_lever("policy.ex_ante_grants.budget", 15000).changes == ()


def test_out_of_range_lever_names_its_label_and_range_in_both_languages():
    with pytest.raises(i18n.Bilingual) as info:
        Session.start("baseline.toml").with_lever("policy.super_deduction.general", 5.0)
    assert info.value.pair == ("一般企业加计扣除比例 = 5 (500%)：允许范围 [0, 3] (0%–300%)", "Super-deduction, general firms = 5 (500%): allowed [0, 3] (0%–300%)")
    with pytest.raises(i18n.Bilingual) as info:  # a choice lists its options by their labels
        Session.start("baseline.toml").with_lever("policy.ex_ante_grants.selection", "bribery")
    assert "随机抽签" in info.value.pair[0] and "lottery" in info.value.pair[1] and "sme_first" not in str(info.value)
    # a budget's range and value as the tables write numbers: never 1e+07 nor 20000000.0
    with pytest.raises(i18n.Bilingual) as info:
        Session.start("baseline.toml").with_lever("policy.ex_ante_grants.budget", 2e7)
    assert info.value.pair[1] == "Ex-ante grant budget = 20,000,000: allowed [0, 10,000,000]"


def test_a_change_year_outside_the_run_is_refused():
    s = Session.start("baseline.toml")
    assert s.change_years == (2016, 2035)
    for year in (1990, 2015, 2040):
        with pytest.raises(i18n.Bilingual) as info:
            s.with_lever("policy.super_deduction.general", 1.5, year)
        assert info.value.pair[1] == f"Super-deduction, general firms · from year = {year}: allowed 2016–2035"
        assert "起始年份" in info.value.pair[0]
    assert s.with_lever("policy.super_deduction.general", 1.5, 2035).change("policy.super_deduction.general").from_year == 2035


def test_run_settings_are_checked_against_their_range():
    s = Session.start("baseline.toml")
    with pytest.raises(i18n.Bilingual) as info:
        s.with_run(seed=-5)
    assert info.value.pair[1].startswith("Seed = -5: allowed [0, 9,223,372,036,854,775,807]")
    assert info.value.pair[0].startswith("随机种子 = -5：允许范围")
    for bad in ({"scale": 0}, {"scale": 1.5}, {"seed": 1.5}, {"draws": -1}):
        with pytest.raises(i18n.Bilingual):
            s.with_run(**bad)
    assert s.with_run(seed=0, scale=0.5).seed == 0


def test_the_default_run_is_the_scenario_file_s_run():
    """Seed and scale from the file's [run], so the dashboard's baseline is ``qhsim run scenarios/baseline.toml``;
    a saved file holds the seed and scale the dashboard ran."""
    s = Session.start("baseline.toml")
    assert (s.seed, s.scale) == (20151231, 1.0) == (s.base.run.seed, s.base.run.scale)
    saved = lv.scenario_raw(SCENARIOS / "baseline.toml", SCENARIOS)
    import tomllib

    text = s.with_run(seed=7, scale=0.5).with_lever("policy.vouchers.budget", 2000).toml("")
    run = tomllib.loads(text)["run"]
    assert (run["seed"], run["scale"], run["name"]) == (7, 0.5, "baseline + 1 change")
    (line,) = lv.describe([lv.Change("policy.vouchers.budget", 2000.0, 2026)])
    assert run["description"].endswith(f"lever changes: {line}") and line.endswith("= 2,000 from 2026")
    assert saved["run"]["seed"] == 20151231


def test_a_changed_run_is_named_and_described_by_its_changes():
    s = Session.start("baseline.toml")
    assert s.scenario.run.name == "baseline"
    two = s.with_lever("policy.super_deduction.general", 2.0).with_lever("policy.super_deduction.manufacturing", 2.0)
    run = two.scenario.run
    assert run.name == "baseline + 2 changes"
    assert "杠杆修改：一般企业加计扣除比例 = 2 (200%) 自2026年起" in run.description
    assert ("lever changes: Super-deduction, general firms = 2 (200%) from 2026; Super-deduction, manufacturing = 2 (200%) "
            "from 2026") in run.description
    assert two.request().key() != s.request().key()


def test_a_changed_runs_name_follows_the_page_language():
    """The Chinese page showed "baseline + 2 changes" (headline, save placeholder, file names): the name is now made in
    the page's language, and a run shown keeps both so that switching the language renames it without a new run."""
    two = Session.start("baseline.toml").with_lever("policy.super_deduction.general", 2.0).with_lever(
        "policy.super_deduction.manufacturing", 2.0)
    assert (two.name("zh"), two.name("en")) == ("baseline + 2处修改", "baseline + 2 changes")
    assert two.reset().with_lever("policy.vouchers.budget", 2000).name("zh") == "baseline + 1处修改"
    assert Session.start("baseline.toml").name("zh") == "baseline"  # no change: the scenario's own name
    zh, en = two.request("zh"), two.request("en")
    assert zh.key() == en.key()  # the same run, whatever the page's language
    assert zh.scenario.run.name == "baseline + 2处修改" and en.scenario.run.name == "baseline + 2 changes"
    assert (zh.name("zh"), zh.name("en")) == ("baseline + 2处修改", "baseline + 2 changes")
    import tomllib

    from qhsim.dashboard.pages import file_stem

    assert file_stem(two.name("zh")) == "baseline_2处修改"  # the saved file and the downloads
    assert tomllib.loads(two.toml("", "zh"))["run"]["name"] == "baseline + 2处修改"
    assert tomllib.loads(two.toml("mine", "zh"))["run"]["name"] == "mine"


def test_a_cached_run_takes_the_name_of_the_request_that_reuses_it():
    from qhsim.dashboard.runs import named

    s = Session.start("baseline.toml")
    sc = s.base.model_copy(update={"run": s.base.run.model_copy(update={"end_year": 2017})})
    cache = RunCache()
    first = execute(RunRequest(sc, scale=0.02), cache=cache)
    other = sc.model_copy(update={"run": sc.run.model_copy(update={"name": "super_deduction_120 + 1 change",
                                                                   "description": "d"})})
    again = execute(RunRequest(other, scale=0.02), cache=cache)
    assert again.key == first.key and again.result.indicators is first.result.indicators
    assert again.request.scenario.run.name == again.result.scenario_name == "super_deduction_120 + 1 change"
    assert again.result.scenario["run"]["description"] == "d"
    assert first.result.scenario_name == "baseline"  # the cached run itself is untouched
    assert named(first, first.request) is first


def test_design_names_are_unique_and_differ_from_the_base():
    s = Session.start("baseline.toml").with_lever("policy.vouchers.budget", 2000)
    one = s.add_design("vouchers")
    for name in ("vouchers", " vouchers ", "baseline"):
        with pytest.raises(i18n.Bilingual) as info:
            one.add_design(name)
        assert "already taken" in info.value.pair[1] and "已被使用" in info.value.pair[0]
    assert [d.name for d in one.add_design("", "zh").add_design("", "en").designs] == ["vouchers", "方案2", "design 3"]


def test_switching_scenario_keeps_the_designs_that_still_apply():
    s = (Session.start("baseline.toml").with_run(draws=2, seeds=(4, 5))
         .with_lever("policy.vouchers.budget", 2000).add_design("vouchers").add_design("super_deduction_120"))
    new, note = s.switch("super_deduction_120.toml")
    assert new.base_name == "super_deduction_120.toml" and new.changes == ()
    assert [d.name for d in new.designs] == ["vouchers"]  # the other one is now the base's name
    assert (new.draws, new.seeds, new.seed) == (2, (4, 5), new.base.run.seed)
    assert "kept 1 designs" in note[1] and "super_deduction_120" in note[1] and "lever changes cleared (1)" in note[1]
    assert "保留1个方案" in note[0]
    assert Session.start("baseline.toml").switch("vouchers_expanded.toml")[1] is None  # nothing kept or lost


def test_a_file_that_cannot_be_opened_says_so_in_both_languages(tmp_path):
    with pytest.raises(i18n.Bilingual) as info:
        Session.start(tmp_path / "missing.toml")
    assert info.value.pair[0].startswith("无法打开情景文件：") and info.value.pair[1].startswith("Cannot open the scenario file: ")


def test_number_field_reads_numbers_and_says_why_not_in_both_languages():
    from qhsim.dashboard.widgets import parse

    assert parse("15,000", integer=False) == 15000.0 and parse(" 60，000 ", integer=True) == 60000  # separators
    assert parse("1.5", integer=False) == 1.5
    assert parse("20151231", integer=True) == 20151231
    assert parse("abc", integer=False) == ("请输入数字", "enter a number")
    assert parse("2026.5", integer=True) == ("请输入整数", "enter a whole number")


def test_text_typed_before_a_re_render_is_still_taken_on_enter():
    """The browser sends the typed text, then Enter; a render in between (a run finishing, under load) put the old text
    back in the field and Enter took nothing: the value was lost without a word. Driven here without a browser: each
    field's text set as the browser sets it, the page re-rendered, then Enter."""
    import ipyvuetify
    import solara

    from qhsim.dashboard.widgets import NumberInput, TextInput

    taken, render, value, name = [], solara.reactive(0), solara.reactive(1.2), solara.reactive("")

    @solara.component
    def Page():
        solara.Text(f"render {render.value}")  # anything that re-renders the page around the fields
        NumberInput("lever", value.value, lambda v: taken.append(v), "en", text=lv.number_text)
        TextInput("name", name)

    _, rc = solara.render(Page(), handle_error=False)
    number, text = (rc.find(ipyvuetify.TextField, label=label).widget for label in ("lever", "name"))
    assert (number.v_model, text.v_model) == ("1.2", "")
    number.v_model, text.v_model = "1.4", "design A"  # typed, not yet entered
    render.value += 1
    assert (number.v_model, text.v_model) == ("1.4", "design A")  # the render left the typed text alone
    for field in (number, text):
        field.fire_event("keyup.enter", {})
    assert (taken, name.value) == ([1.4], "design A")
    value.value, name.value = 15000.0, ""  # changed elsewhere (reset, the other panel): shown as the page writes it
    assert (number.v_model, text.v_model) == ("15,000", "")
    rc.close()


def test_saved_scenario_round_trips_and_runs(tmp_path):
    s = (Session.start("super_deduction_120.toml")
         .with_lever("policy.super_deduction.general", 1.5, 2027)
         .with_lever("policy.rd_reward.prefectures", ["haixi", "haidong"], 2026)
         .with_lever("policy.rd_reward.tier_amount", [10.0, 20.0, 30.0])
         .with_lever("policy.ex_ante_grants.selection", "lottery", 2028))
    path = tmp_path / "my_design.toml"
    path.write_text(s.toml("my_design"), encoding="utf-8")
    loaded = load_scenario(path)
    expected = s.scenario.model_dump(mode="json", exclude={"extends", "run"})
    assert loaded.model_dump(mode="json", exclude={"extends", "run"}) == expected
    assert loaded.run.name == "my_design"
    out = tmp_path / "out"
    # without the PNG charts (70 of them, most of the command's time): they plot the indicator table every run has
    # (test_docs.py's baseline command writes them); this test is about the saved design loading and running
    done = subprocess.run([sys.executable, "-m", "qhsim.cli", "run", str(path), "--scale", "0.02", "--end-year", "2017",
                           "--out", str(out), "--no-charts"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (out / "manifest.json").is_file()


def test_uploaded_file_extends_a_shipped_scenario():
    text = (SCENARIOS / "super_deduction_120.toml").read_bytes()
    s = Session.start(text, name="upload.toml")
    assert s.base.policy.super_deduction.general.at(2026) == 1.2
    bom = Session.start(b"\xef\xbb\xbf" + text, name="excel.toml")  # saved by a Windows editor
    assert bom.base.policy.super_deduction.general.at(2026) == 1.2
    with pytest.raises(InputError, match="not valid TOML"):
        Session.start(b"[policy\n", name="bad.toml")
    # a variant that names and describes nothing is named after its file, not "baseline" with the base's description,
    # as qhsim run names it
    plain = Session.start(b'extends = "baseline.toml"\n[policy.vouchers]\nbudget = { 2026 = 2000 }\n',
                          name="more_vouchers.toml")
    assert plain.base.run.name == "more_vouchers" and plain.base.run.description == ""
    assert Session.start(text, name="x.toml").base.run.name == "super_deduction_120"  # its own name kept


def test_seeds_text():
    assert parse_seeds("1, 2,3") == (1, 2, 3) == parse_seeds("1，2，3")
    for bad in ("1;2", "-1", ""):
        with pytest.raises(i18n.Bilingual, match="1,2,3"):
            parse_seeds(bad)


def test_run_key_ignores_the_name_but_not_levers_or_settings():
    s = Session.start("baseline.toml").with_run(scale=0.02)
    key = s.request().key()
    named = lv.build_scenario(s.base_raw, [], {"name": "other"})
    assert RunRequest(named, scale=0.02, seed=s.seed).key() == key
    assert s.with_run(seed=2).request().key() != key
    assert s.with_lever("policy.vouchers.budget", 2000).request().key() != key
    assert s.with_run(draws=2).request().key() != key


def test_cache_returns_the_same_run_and_cancel_stops(monkeypatch):
    import dataclasses

    from qhsim.dashboard import runs

    given_back = []
    monkeypatch.setattr(runs, "give_back_freed_memory", lambda: given_back.append(True))
    s = Session.start("baseline.toml")
    sc = s.base.model_copy(update={"run": s.base.run.model_copy(update={"end_year": 2018})})
    req = RunRequest(sc, scale=0.02, seed=3)
    cache, seen = RunCache(size=2), []
    first = execute(req, progress=seen.append, cache=cache)
    assert seen[-1] == pytest.approx(1.0) and len(seen) == 3
    assert first.inside.years == [2016, 2017, 2018]
    assert given_back == [True]  # the server gives the run's memory back to the system
    assert execute(req, cache=cache) is first  # cached: no new run
    assert given_back == [True]  # and nothing to give back
    from qhsim.runner import run

    direct = run(sc, seed=3, scale=0.02)
    assert direct.indicators.equals(first.result.indicators)  # the dashboard shows what qhsim run computes
    from qhsim.dashboard.runs import Cancelled

    with pytest.raises(Cancelled):
        execute(dataclasses.replace(req, seed=4), cancelled=lambda: True, cache=cache)
    assert len(cache) == 1
    assert given_back == [True, True]  # a cancelled run's memory goes back too, not at the next completed run


def test_shipped_chart_font_has_every_character_the_dashboard_draws():
    """Charts use the shipped CJK subset (qhsim.output.charts); a label character missing from it would be
    drawn as an empty box on machines without Chinese fonts (rebuild with docs/font_subset.py)."""
    from fontTools.ttLib import TTFont

    from qhsim.output.charts import SHIPPED_FONT

    cmap = TTFont(ROOT / "qhsim" / "output" / "fonts" / SHIPPED_FONT).getBestCmap()
    files = [*(ROOT / "qhsim" / "dashboard").glob("*.py"), *(ROOT / "qhsim" / "dashboard").glob("*.toml")]
    missing = {c for p in files for c in p.read_text(encoding="utf-8") if ord(c) > 0x7F and ord(c) not in cmap}
    assert not missing, f"not in {SHIPPED_FONT}: {''.join(sorted(missing))} (run docs/font_subset.py)"


def test_ensemble_runs_on_the_engine_with_progress_and_cancel():
    import dataclasses

    from qhsim.dashboard.runs import Cancelled

    s = Session.start("baseline.toml")
    sc = s.base.model_copy(update={"run": s.base.run.model_copy(update={"end_year": 2017})})
    req = RunRequest(sc, scale=0.02, draws=1, seeds=(1, 2))
    seen = []
    done = execute(req, progress=seen.append, cache=RunCache())
    assert sorted(done.result.indicators["draw"].unique()) == [0, 1] and done.inside is None
    assert seen == [0.5, 1.0]
    with pytest.raises(Cancelled):
        execute(dataclasses.replace(req, seeds=(3, 4)), cancelled=lambda: True, cache=RunCache())


# --- result tables an analyst can read (qhsim.dashboard.tables) ----------------------------------------------


@pytest.fixture(scope="module")
def small_run():
    from qhsim.runner import run

    return run(SCENARIOS / "baseline.toml", scale=0.05, end_year=2035).indicators


COUNT = r"(—|\d{1,3}(,\d{3})*)"  # a whole number with thousands separators
TWO_DECIMALS = r"(—|[-+]?\d{1,3}(,\d{3})*\.\d\d)"


def test_target_table_is_text_with_headers_in_the_language_and_numbers_by_unit(small_run):
    import re

    import pandas as pd

    from qhsim import data
    from qhsim.dashboard import figures, tables
    from qhsim.output.report import HEADERS, column_header

    rows = figures.target_rows(small_run, "province")
    for lang, index in (("zh", 0), ("en", 1)):
        table = tables.target_table(rows, lang)
        assert list(table.index) == list(range(len(rows)))  # no indicator or year index carried along
        assert list(table.columns)[0] == HEADERS["label"][index]
        assert set(table.columns) <= {column_header(c)[index] for c in [*HEADERS, "sim_2025", "sim_2035"]}
        spec = data.load("indicators")["hte_count"]
        (hte,) = [i for i, k in enumerate(rows["indicator"]) if k == "hte_count"]
        assert table.iloc[hte, 0].startswith(spec["zh" if lang == "zh" else "en"])
        assert all(isinstance(v, str) for v in table.to_numpy().ravel())
    table = tables.target_table(rows, "en")
    sim = table["sim 2025"]
    for i, key in enumerate(rows["indicator"]):
        pattern = COUNT if key in ("hte_count", "national_platforms") else TWO_DECIMALS
        assert re.fullmatch(pattern, sim[i]), (key, sim[i])
    assert table["target (year)"][hte] == f"{rows['target'][hte]:,.0f} ({rows['target_year'][hte]})"  # year as 2025
    ensemble = pd.concat([small_run.assign(draw=d) for d in range(3)])
    probs = tables.target_table(figures.target_rows(ensemble, "province"), "zh")["达标概率"]
    assert all(re.fullmatch(r"\d{1,3}%§?", p) for p in probs)  # § copies of one run: identical in every run


def test_target_table_names_the_observed_source_and_notes_the_restated_patents(small_run):
    """The dashboard's indicator table: a source column, "*" on a restated value, the note below it."""
    from qhsim.dashboard import figures, tables

    rows = figures.target_rows(small_run, "province")
    (patents,) = [i for i, k in enumerate(rows["indicator"]) if k == "patents_per_10k"]
    (rd,) = [i for i, k in enumerate(rows["indicator"]) if k == "rd_intensity"]
    table = tables.target_table(rows, "en")
    assert list(table.columns)[1:3] == ["observed 2020", "observed source"]
    assert table["observed 2020"][patents] == "3.12*" and table["observed 2020"][rd] == "0.71"
    assert table["observed source"][patents] == "restated on the 2020 census population (the plan prints 3.04)"
    assert table["observed source"][rd] == "14th FYP S&T plan, indicator table"
    assert tables.is_numeric_text("3.12*")  # still right-aligned
    assert source_notes(rows, "en") == [
        "* Valid invention patents per 10,000 population: 3.12 = 1,848 valid invention patents / 5.924 million "
        "(2020 census); the plan prints 3.04 (= 1,848 / 6.079 million, pre-census estimate)"]
    (zh,) = source_notes(rows, "zh")
    assert zh.startswith("* 每万人口发明专利拥有量：3.12 = 1,848件有效发明专利") and "规划表印3.04" in zh
    assert tables.target_table(rows, "zh")["2020实际来源"][patents] == "按2020年人口普查人口重算（规划印3.04）"
    haidong = figures.target_rows(small_run, "haidong")
    assert any("Haidong's plan prints 10" in n for n in source_notes(haidong, "en"))


def test_prefecture_table_formats_each_indicator_by_its_unit(small_run):
    import re

    from qhsim import data
    from qhsim.dashboard import i18n, tables

    keys = ["rd_intensity", "hte_count", "st_talent"]
    table = tables.prefecture_table(small_run, keys, 2025, "zh")
    # one row per indicator, the 8 prefectures and then the province as columns
    assert list(table.columns) == [i18n.text("indicator", "zh"), *(p.zh for p in data.prefectures()), "青海省"]
    assert list(table.iloc[:, 0]) == [i18n.indicator(k, "zh") for k in keys]
    assert all(re.fullmatch(TWO_DECIMALS, v) for v in table.iloc[0, 1:])
    assert all(re.fullmatch(COUNT, v) for row in (1, 2) for v in table.iloc[row, 1:])
    at_2025 = small_run[small_run["year"] == 2025].set_index("region")["st_talent"]
    assert table.iloc[2, 1] == f"{at_2025['xining']:,.0f}" and table.iloc[2, -1] == f"{at_2025['province']:,.0f}"


def test_generic_result_tables_plain_years_points_percent_and_yes_no():
    import pandas as pd

    from qhsim.dashboard import tables

    frame = pd.DataFrame({"point": [1, 2], "policy.vouchers.budget": [1500.0, 12345.678], "p_reach": [0.5, 1.0],
                          "success": [False, True]})
    table = tables.text_table(frame, "en")
    assert list(table.columns) == ["point", "policy.vouchers.budget", "P(reach threshold)", "success"]
    assert table.to_numpy().tolist() == [["1", "1,500", "50%", "no"], ["2", "12,346", "100%", "yes"]]
    assert [significant(x) for x in (12345.6, 1.2345, 0.012345, -0.5, 0.0)] == \
        ["+12,346", "+1.23", "+0.0123", "-0.500", "0"]
    assert tables.is_numeric_text("1.00 (2025)") and tables.is_numeric_text("+0.12 [-0.05, +0.30]")
    assert tables.is_numeric_text("+10.0%/yr 2024-2027") and not tables.is_numeric_text("海东市")
    assert tables.is_numeric_text("+7.8%/年 [+4.7, +10.8]")  # a growth rate in Chinese, right-aligned as in English


def test_a_design_is_described_with_readable_numbers():
    """The compare page lists each design's changes: thousands separators, no trailing ".0", the year it holds from."""
    lines = lv.describe([lv.Change("policy.ex_ante_grants.budget", 45000.0, 2026),
                         lv.Change("policy.super_deduction.general", 2.0, 2026),
                         lv.Change("policy.super_deduction.manufacturing", 1.25, None)])
    assert lines == ["Ex-ante grant budget = 45,000 from 2026", "Super-deduction, general firms = 2 (200%) from 2026",
                     "Super-deduction, manufacturing = 1.25 (125%)"]
    assert lv.describe([lv.Change("policy.ex_ante_grants.budget", 45000.0, 2026)], "zh")[0].endswith("= 45,000 自2026年起")


def test_compare_summary_marks_an_unstable_r_and_d_per_yuan():
    """The dashboard's comparison table shows comparison.txt's mark where the extra cost makes R&D per yuan
    unstable (``qhsim.results.ratio_unstable``), and the ratio with its interval otherwise."""
    from types import SimpleNamespace

    import pandas as pd

    from qhsim.dashboard import compare
    from qhsim.results import UNSTABLE_CELL

    row = {"instrument": "total", "extra_cost": 1.0, "extra_cost_p05": 0.5, "extra_cost_p95": 1.5, "extra_rd": 2.0,
           "extra_rd_p05": 1.0, "extra_rd_p95": 3.0, "rd_per_yuan": 2.0, "p05": 1.5, "p95": 2.5,
           "total_rd_per_yuan": 2.1, "total_p05": 1.6, "total_p95": 2.6}
    leverage = pd.DataFrame([{**row, "design": "a", "unstable": False}, {**row, "design": "b", "unstable": True}])
    ranking = pd.DataFrame({"design": ["a", "b"], "rank": [1, 2], "p_first": [0.6, 0.4]})
    table = compare.summary(SimpleNamespace(designs=["a", "b"], leverage=leverage, ranking=ranking), "en")
    per_yuan = [c for c in table.columns if "per yuan" in c]
    assert len(per_yuan) == 2
    assert all(table.at[1, c] == UNSTABLE_CELL for c in per_yuan)
    assert all(table.at[0, c] != UNSTABLE_CELL and table.at[0, c].startswith("2") for c in per_yuan)
    # below the table, what the mark means, as comparison.txt says it (the page showed the mark unexplained)
    (notes,) = compare.summary_notes(table)
    assert notes.startswith(f"“{UNSTABLE_CELL}”：额外成本不足所动用资金") and "25% of the money the design moves" in notes
    assert compare.summary_notes(table.iloc[:1]) == []


def test_discovery_notes_come_in_both_languages_and_the_page_shows_its_own() -> None:
    """The dashboard translated ``qhsim.experiments.discovery``'s English notes through a table of its own, keyed by
    their text: discovery now writes each note as a (Chinese, English) pair, which the PRIM line shows in the page's
    language, and ``qhsim discover`` prints both."""
    import math

    import pandas as pd

    from qhsim.dashboard.pages import prim_line
    from qhsim.experiments import discovery

    assert not hasattr(i18n, "DISCOVERY_NOTES")
    points = pd.DataFrame({"point": [1, 2], "sd": [0.75, 1.5], "p_reach": [0.0, 0.0], "runs": [2, 2],
                           "success": [False, False]})
    empty = pd.DataFrame(columns=["lever", "kind", "low", "high", "levels"])
    for note in discovery.NOTES:
        zh, en = note
        assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii() and en, note  # Chinese, then English
        res = discovery.DiscoveryResult("rd_intensity", 2030, 1.0, 0.8, "province", points, pd.DataFrame(), empty,
                                        None, math.nan, math.nan, note)
        assert prim_line(res, "zh").endswith(f" · {zh}") and prim_line(res, "en").endswith(f" · {en}")
        text = " ".join(discovery.format_discovery(res).split())
        assert zh in text and en[0].upper() + en[1:] in text
    assert len(set(discovery.NOTES)) == 3


def test_lever_numbers_read_as_the_tables_write_them_and_type_back_exactly():
    """A budget showed as "15000.0" in its field, "baseline: 15000.0" and "allowed: [0, 1e+07]" beside it: numbers now
    carry thousands separators, no trailing ".0" and no exponent, and what a field shows parses back to the same
    number (else leaving the field would change the lever)."""
    from qhsim.dashboard.widgets import parse

    assert [lv.number_text(v) for v in (15000.0, 1e7, 0.25, 300, 27848.3, 1.0)] == \
        ["15,000", "10,000,000", "0.25", "300", "27,848.3", "1"]
    for v in (15000.0, 1e7, 0.25, 27848.3, 0.123456789, 1234567.891):
        assert parse(lv.number_text(v), False) == v
    budget = lv.levers()["policy.ex_ante_grants.budget"]
    assert budget.range_text("zh") == "[0, 10,000,000]" and "e+" not in budget.range_text()
    assert lv.levers()["policy.rd_reward.tier_amount"].value_text([20.0, 35.0, 50.0], "en") == "20, 35, 50"
    for bad in ("nan", "inf", "-inf"):  # parse as floats, but no number to set or compare a threshold with
        assert parse(bad, False) == i18n.TEXT["not_a_number"]


def test_choice_and_subset_levers_show_their_options_by_label():
    """Selection rules and prefectures showed as the schema's codes (merit, weak_prefecture_first, haixi) and a
    subset's baseline as a Python list (['haixi'])."""
    prefs = lv.levers()["policy.rd_reward.prefectures"]
    assert prefs.range_text("zh").startswith("全部市州 | 西宁市 | 海东市") and "haixi" not in prefs.range_text("zh")
    assert prefs.value_text(["haixi"], "zh") == "海西州" and prefs.value_text(["haixi"], "en") == "Haixi"
    rule = lv.levers()["policy.ex_ante_grants.selection"]
    assert rule.value_text("weak_prefecture_first", "zh") == "西宁以外地区优先"
    assert all(i18n.option(o, "en") != o or o == "lottery" for o in rule.domain.options)  # every code has a label
    s = Session.start("baseline.toml").with_lever("policy.rd_reward.prefectures", ["haixi", "haidong"], 2026)
    assert lv.describe(list(s.changes), "zh") == ["实施地区 = 海西州, 海东市 自2026年起"]
    with pytest.raises(i18n.Bilingual) as info:  # no prefecture left: said "Prefectures offering it = : allowed ..."
        s.with_lever("policy.rd_reward.prefectures", [])
    assert info.value.pair[1].startswith("Prefectures offering it: choose at least one (all prefectures | Xining")
    assert info.value.pair[0].startswith("实施地区：请至少选择一项（全部市州 | 西宁市")


def test_a_list_lever_refuses_bad_text_and_tiers_of_different_lengths_stop_runs_not_the_page():
    """Typing "abc" into a tier list raised ValueError in the event handler (nothing shown); tiers of 2 values against
    3 amounts were taken and the next render of the page died on the scenario's error (a full-page traceback). Now:
    text that is no list of numbers and a list the scenario rejects are refused naming the lever; lists of different
    lengths are kept (the analyst edits one, then the other) with ``problem`` saying why nothing can run."""
    from types import SimpleNamespace

    from qhsim.dashboard.app import Context

    tiers, amounts = lv.levers()["policy.rd_reward.tier_intensity"], lv.levers()["policy.rd_reward.tier_amount"]
    with pytest.raises(i18n.Bilingual) as info:
        lv.parse_list(tiers, "0.1, abc")
    assert info.value.pair[1].startswith("Reward tiers (R&D intensity) = 0.1, abc: numbers separated by commas")
    assert lv.parse_list(tiers, "0.1，0.2、0.3") == [0.1, 0.2, 0.3]  # full-width separators too
    s = Session.start("baseline.toml")
    with pytest.raises(i18n.Bilingual) as info:
        s.with_lever(tiers.path, [0.1, 0.05])
    # each half in its own language (the Chinese one said "情景不接受此值" and then the scenario's English reason)
    assert info.value.pair == ("奖励档次（研发强度） = 0.1, 0.05：0.05 排在 0.1 之后，各档门槛须递增",
                               "Reward tiers (R&D intensity) = 0.1, 0.05: 0.05 after 0.1; the thresholds must be ascending")
    with pytest.raises(i18n.Bilingual) as info:
        s.with_lever(amounts.path, [10.0, 20.0, 2e5])
    assert info.value.pair[0].endswith("：200000 超出允许范围 [0, 10000]（万元/家/年）")
    assert not re.search("[A-Za-z]", info.value.pair[0]), info.value.pair[0]
    assert info.value.pair[1].endswith(": 200000 outside allowed range [0, 10000] (万元 per firm per year)")
    two = s.with_lever(tiers.path, [0.1, 0.2])
    assert two.problem is not None and "奖励档次（研发强度）有2项，各档奖励金额有3项" in two.problem[0]
    assert Context(two, "zh", SimpleNamespace(key="an earlier run"), None, None, None, None).stale  # no InputError
    with pytest.raises(i18n.Bilingual):  # a design must be a scenario that runs
        two.add_design("two tiers")
    fixed = two.with_lever(amounts.path, [20.0, 40.0])
    assert fixed.problem is None and fixed.scenario.policy.rd_reward.tier_amount == [20.0, 40.0]
    assert s.problem is None


def test_the_prim_box_shows_a_lever_kept_at_one_value_as_that_value():
    """A box that keeps a lever at one tested value showed it as "3.00" under low and "3.00" under high (the command
    line's discover prints the same); the box table now gives each lever's values in one column, "1.00 – 2.50" for a
    range and the value alone for one, with the kind in the page's language."""
    import math

    import pandas as pd

    from qhsim.dashboard import tables

    box = pd.DataFrame([
        {"lever": "sd", "kind": "range", "low": 3.0, "high": 3.0, "levels": ""},
        {"lever": "budget", "kind": "range", "low": 15000.0, "high": 60000.0, "levels": ""},
        {"lever": "rule", "kind": "levels", "low": math.nan, "high": math.nan, "levels": "lottery; merit"}])
    en = tables.box_table(box, {"sd": "Super-deduction"}, "en")
    assert list(en.columns) == ["lever", "kind", "values in the box"]
    assert en.to_numpy().tolist() == [["Super-deduction", "one value", "3.00"],
                                      ["budget", "range", "15,000 – 60,000"],
                                      ["rule", "levels", "lottery; merit (review score)"]]
    zh = tables.box_table(box, {}, "zh")
    assert zh.iloc[:, 1].tolist() == ["单一取值", "范围", "水平"] and zh.iloc[0, 2] == "3.00"
    assert zh.iloc[2, 2] == "随机抽签; 择优（按评审得分）"  # a selection rule by its label, as on the levers page


def test_sweep_levels_are_named_as_the_levers_page_names_them():
    """The sweep's points table and response chart showed a selection rule as its code (merit, sme_first) on the
    Chinese page: ``i18n.level`` gives an option's label, a number or schedule as the reports write it."""
    assert [i18n.level(v, "zh") for v in ("merit", "sme_first", "haixi")] == ["择优（按评审得分）", "中小企业优先", "海西州"]
    assert i18n.level(60000.0, "zh") == "60,000" and i18n.level("something else", "en") == "something else"


def test_the_compare_chart_draws_no_bar_for_a_ratio_the_table_marks():
    """The table shows "— 不稳定 unstable" where R&D per yuan is not to be read, but the chart drew its bar (-2.8 yuan
    per yuan for a design whose table cell says unstable); the designs also ran bottom-up against the table's top-down."""
    from types import SimpleNamespace

    import pandas as pd

    from qhsim.dashboard import compare
    from qhsim.results import UNSTABLE_CELL

    row = {"instrument": "total", "extra_cost_p05": 0.4, "extra_cost_p95": 0.6, "rd_per_yuan": 1.5, "p05": 1.2,
           "p95": 1.8}
    leverage = pd.DataFrame([{**row, "design": "a", "extra_cost": 2.0, "unstable": False},
                             {**row, "design": "b", "extra_cost": 0.5, "rd_per_yuan": -2.8, "unstable": True}])
    changes = pd.DataFrame([{"design": d, "indicator": "rd_intensity", "period": "2030", "mean": 0.02, "p05": 0.01,
                             "p95": 0.03} for d in "ab"])
    result = SimpleNamespace(designs=["a", "b"], leverage=leverage, changes=changes, years=[2029, 2030],
                             ranking=pd.DataFrame({"metric": ["rd_per_yuan"]}))
    ax = compare.figure(result, "rd_intensity", "en").axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [1.5, 0.0]  # no bar for b
    assert [t.get_text() for t in ax.texts] == [UNSTABLE_CELL]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"] and ax.yaxis_inverted()  # a on top


def test_comparison_chart_marks_a_ratio_outside_the_evidence():
    """The table marked a super-deduction's 3.71↑, the chart beside it showed the bar unmarked: its name now carries
    the mark (the note below the table explains it); the indicator panel's names stay plain."""
    from types import SimpleNamespace

    import pandas as pd

    from qhsim.dashboard import compare

    row = {"instrument": "total", "extra_cost": 50.0, "extra_cost_p05": 45.0, "extra_cost_p95": 55.0, "unstable": False}
    leverage = pd.DataFrame([
        {**row, "design": "sd_120", "rd_per_yuan": 1.8, "p05": 1.5, "p95": 2.0},
        {**row, "design": "sd_300", "rd_per_yuan": 3.7, "p05": 3.6, "p95": 3.8},
        {**row, "design": "sd_120", "instrument": "tax_expenditure_super_deduction", "design_sets_instrument": True},
        {**row, "design": "sd_300", "instrument": "tax_expenditure_super_deduction", "design_sets_instrument": True}])
    changes = pd.DataFrame([{"design": d, "indicator": "rd_intensity", "period": "2030", "mean": 0.02, "p05": 0.01,
                             "p95": 0.03} for d in ("sd_120", "sd_300")])
    result = SimpleNamespace(designs=["sd_120", "sd_300"], leverage=leverage, changes=changes, years=[2029, 2030],
                             ranking=pd.DataFrame({"metric": ["rd_per_yuan"]}))
    ratio, change = compare.figure(result, "rd_intensity", "en").axes
    assert [t.get_text() for t in ratio.get_yticklabels()] == ["sd_120", "sd_300 ↑"]
    assert [t.get_text() for t in change.get_yticklabels()] == ["sd_120", "sd_300"]


def test_sweep_chart_wraps_a_long_lever_label_and_names_the_threshold():
    """A tied pair's label ran past its panel ("Super-deduction, general firms + Super-deduction, manufacturing (share
    of" and no more); the dashed line had no legend."""
    import pandas as pd

    from qhsim.dashboard import explore

    runs = pd.DataFrame([{"region": "province", "year": 2030, "point": p, "sd": v, "rd_intensity": y}
                         for p, v, y in ((1, 1.0, 0.8), (1, 1.0, 0.9), (2, 3.0, 1.1), (2, 3.0, 1.2))])
    manifest = {"experiment": {"lever": {"sd": {"paths": ["policy.super_deduction.general",
                                                          "policy.super_deduction.manufacturing"]}}}}
    st = explore.Store(ROOT, "sweep", manifest, runs=runs, levers=("sd",))
    fig = explore.response_figure(st, "rd_intensity", 2030, 1.0, "en")
    (ax,) = fig.axes
    label = ax.get_xlabel()
    assert "\n" in label and label.replace("\n", " ") == st.lever_label("sd", "en")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["threshold 1.00"]


def test_default_threshold_is_the_plan_target_else_a_round_median():
    """Without a plan target in the year, the threshold field showed the runs' median as 1.448505718044854."""
    import pandas as pd

    from qhsim.dashboard import explore

    runs = pd.DataFrame([{"region": "province", "year": y, "point": p, "rd_intensity": v, "hte_count": 16589.0 + p}
                         for y in (2025, 2035) for p, v in ((1, 1.3), (2, 1.448505718044854), (3, 1.6))])
    assert explore.default_threshold("rd_intensity", 2025, runs) == 1.0  # the plan's 2025 target
    assert explore.default_threshold("rd_intensity", 2035, runs) == 1.45
    assert explore.default_threshold("hte_count", 2035, runs) == 16600.0


def test_target_labels_follow_the_tables_number_format_and_years_fall_on_the_plan_periods(small_run):
    """Haixi's 2027 target was labelled "0.7" beside "0.15" for Haidong (a %g-style format of the chart's own); the
    year axis ran 2016, 2019, 2022, ... past the plan years 2020 and 2030."""
    from qhsim.dashboard import figures

    fig = figures.prefecture_figure(small_run, "rd_intensity", "zh")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "目标 2027: 0.70" in texts and "目标 2025: 0.15" in texts
    assert fig.get_suptitle() == "研发投入强度 (%) · 各市州纵轴刻度不同"  # the panels' own scales are said
    fig = figures.indicator_figure(small_run, "rd_intensity", "province", "en")
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert {"2020", "2025", "2030", "2035"} <= set(ticks) and "2019" not in ticks


def test_the_dashboard_places_target_labels_off_the_simulated_path(small_run):
    """In the prefectures' small multiples Haixi's label "目标 2027: 0.70" sat at a fixed place left of and above its
    star, on the rising R&D intensity path, which ran through its digits. The labels are now placed as the report
    charts place theirs (``qhsim.output.charts.label_targets``): where they cross no drawn line."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from qhsim.dashboard import figures
    from qhsim.output.charts import chart_style

    rising = small_run.copy()  # a path through where the fixed label sat: 0.2% in 2015 to 1.3% in 2035
    haixi = rising["region"] == "haixi"
    rising.loc[haixi, "rd_intensity"] = 0.2 + (rising.loc[haixi, "year"] - 2015) * 0.055
    for fig, title in ((figures.prefecture_figure(rising, "rd_intensity", "zh"), "海西州"),
                       (figures.indicator_figure(rising, "rd_intensity", "haixi", "zh"), None)):
        canvas = FigureCanvasAgg(fig)
        with chart_style():  # in the shipped CJK font, as the dashboard draws it (``figures.png``)
            canvas.draw()
        ax = next(a for a in fig.axes if title is None or a.get_title() == title)
        path = ax.get_lines()[0]
        x, y = (np.asarray(v, dtype=float) for v in path.get_data())
        fine = np.linspace(0, len(x) - 1, 20 * (len(x) - 1) + 1)  # along the segments, not only at the years
        along = ax.transData.transform(np.column_stack([np.interp(fine, np.arange(len(x)), x),
                                                        np.interp(fine, np.arange(len(y)), y)]))
        labels = [t for t in ax.texts if t.get_text().startswith("目标 2027: 0.70")]
        assert len(labels) == 1
        box = labels[0].get_window_extent(canvas.get_renderer())
        inside = ((along[:, 0] > box.x0) & (along[:, 0] < box.x1) & (along[:, 1] > box.y0) & (along[:, 1] < box.y1))
        assert not inside.any(), (title, box, along[inside][:3])


def test_the_dashboard_marks_a_restated_target_and_draws_one_not_judged_hollow(small_run):
    """Haixi's >=170 platforms (another definition, not judged in the tables) were a plain star labelled "target 2027:
    170" (no floor), and Haidong's 17 (the plan prints 15) carried no mark."""
    from qhsim.dashboard import figures

    ax = figures.indicator_figure(small_run, "platforms", "haixi", "en").axes[0]
    star = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(star) == 1 and star[0].get_markerfacecolor() == "none"
    assert [t.get_text() for t in ax.texts] == ["target 2027: ≥170†"]  # the floor's ≥ too, as the tables
    ax = figures.indicator_figure(small_run, "platforms", "haidong", "en").axes[0]
    star = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(star) == 1 and star[0].get_markerfacecolor() != "none"
    assert [t.get_text() for t in ax.texts][0].startswith("target 2025: 17*")


def test_an_empty_or_missing_results_folder_is_named_in_both_languages():
    """An empty path opened the server's working folder ("."), and the messages were English on the Chinese page."""
    from qhsim.dashboard import explore

    for path, words in (("", "请输入结果目录的路径"), ("/no/such/folder", "没有这个目录")):
        with pytest.raises(i18n.Bilingual) as info:
            explore.open_store(path)
        assert words in info.value.pair[0] and info.value.pair[1].isascii()


def test_the_dashboard_draws_assumed_values_apart_from_observed_ones(small_run):
    """macro.toml's assumptions (the enterprise counts, the 2015 split of R&D) are not observations: the output charts
    draw them as hollow squares, and the dashboard's charts did not draw them at all."""
    from qhsim import data
    from qhsim.dashboard import figures

    ax = figures.indicator_figure(small_run, "enterprises", "province", "en").axes[0]
    squares = [line for line in ax.lines if line.get_marker() == "s" and line.get_markerfacecolor() == "none"]
    assert [line.get_label() for line in squares] == ["assumed, not observed"]
    assert list(zip(squares[0].get_xdata(), squares[0].get_ydata())) == list(data.observed("enterprises").items())
    assert all(line.get_marker() != "o" for line in ax.lines)  # nothing drawn as observed


def test_csv_downloads_are_the_run_folders_indicators_csv(small_run, tmp_path):
    """The Export page's CSVs were the raw table (rd_intensity, "xining", 0.5760815514669319): they are written as a run
    folder's indicators.csv is (bilingual headers with units, region names, 6 significant digits)."""
    from qhsim.dashboard import exports
    from qhsim.output.report import indicator_label
    from qhsim.output.store import readable_csv

    readable_csv(small_run, tmp_path / "indicators.csv")
    assert exports.csv(small_run) == (tmp_path / "indicators.csv").read_bytes()
    lines = exports.csv(small_run, ["rd_intensity"]).decode("utf-8-sig").splitlines()
    assert lines[0] == f"年份 year,地区 region,地区名称 region name,{indicator_label('rd_intensity')}"
    assert lines[1].startswith("2015,province,青海省 Qinghai Province,")
    values = [line.rsplit(",", 1)[1] for line in lines[1:]]
    assert all(len(v.replace(".", "").lstrip("0")) <= 6 for v in values), values  # not 16 digits


def test_the_server_silences_solaras_samesite_warning_and_no_other():
    """`qhsim dashboard` printed Solara's 12-line samesite=none warning at the first page load."""
    from qhsim.dashboard.server import QUIET

    code = ("import warnings; warnings.warn('Cookies with samesite=none require https, but according to the asgi "
            "framework, the scheme is http'); warnings.warn('another warning'); "
            "warnings.warn('Cookies with samesite=none require https', DeprecationWarning)")
    done = subprocess.run([sys.executable, *QUIET, "-W", "always::DeprecationWarning", "-c", code],
                          capture_output=True, text=True)
    assert "another warning" in done.stderr and "DeprecationWarning" in done.stderr
    assert "UserWarning: Cookies" not in done.stderr


GIVE_BACK = """
import os
import numpy as np
from qhsim.memory import give_back_freed_memory, keep_freed_memory

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

keep_freed_memory()  # as a model does: 1 MB arrays stay on the heap, which is not trimmed below 256 MB free
held = [np.ones(131_072) for _ in range(150)]  # 150 MB in 1 MB arrays, freed as a closed model's are
del held
before = rss()
assert give_back_freed_memory()
print(before - rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim and /proc/self/statm")
def test_the_server_gives_a_finished_runs_memory_back():
    """The dashboard server lives on after its runs; without giving freed memory back, it kept the peak of its runs
    (about 150 MB at scale 1: the server at 612 MB after three sessions' full-scale runs, 389 MB with it)."""
    done = subprocess.run([sys.executable, "-c", GIVE_BACK], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 120  # MB back to the system, of the 150 MB freed


def test_the_dashboard_command_becomes_the_server(monkeypatch):
    """`qhsim dashboard` waited beside the Solara server as a second Python process (~60 MB); it now execs it."""
    import argparse
    import os

    from qhsim.dashboard import assets, server

    class Replaced(Exception):  # what follows an exec that worked is never reached
        pass

    def execve(path, argv, env):
        raise Replaced(path, argv, env)

    monkeypatch.setattr(assets, "missing", lambda: [])
    monkeypatch.setattr(os, "name", "posix")
    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setattr(server.subprocess, "call", lambda *a, **k: pytest.fail("a second process was started"))
    with pytest.raises(Replaced) as replaced:
        server.cmd_dashboard(argparse.Namespace(host="127.0.0.1", port=8765, open=False))
    path, argv, env = replaced.value.args
    assert path == sys.executable and argv == server.command("127.0.0.1", 8765, False)
    assert env["MALLOC_ARENA_MAX"] == "2" and env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_a_share_lever_shows_its_per_cent_beside_the_share():
    """Analysts think of a super-deduction of 100%, the schema of 1: the notes, ranges, change lines and messages write
    both; the field's text stays the share, which is what the scenario file saves."""
    general = lv.levers()["policy.super_deduction.general"]
    rate = lv.levers()["policy.tax.standard_rate"]
    budget = lv.levers()["policy.ex_ante_grants.budget"]
    assert general.share and rate.share and not budget.share
    assert general.shown(1.0, "zh") == "1 (100%)" and rate.shown(0.25, "en") == "0.25 (25%)"
    assert general.value_text(1.2, "zh") == "1.2"  # the field: typed back, it is the same number
    assert lv.levers()["policy.rd_reward.tier_intensity"].shown([0.1, 0.125], "en") == "0.1, 0.125 (10%, 12.5%)"
    assert budget.shown(45000.0, "en") == "45,000" and budget.range_text() == "[0, 10,000,000]"
    assert lv.describe([lv.Change(general.path, 1.2, 2026)], "zh") == ["一般企业加计扣除比例 = 1.2 (120%) 自2026年起"]
    with pytest.raises(InputError, match=re.escape("= 5 (500%)：允许范围 [0, 3] (0%–300%)")):
        lv.check_value(general, 5.0)
    with pytest.raises(InputError, match="= abc"):
        lv.check_value(general, "abc")


def test_the_headline_says_it_shows_one_run_not_make_baselines_median():
    """The dashboard's 2035 R&D intensity (one run, seed 20151231) differed from the 8-seed median `make baseline`
    prints, and nothing said so."""
    from qhsim.dashboard.app import MAKE_BASELINE_SEEDS, headline_basis

    seeds = re.search(r"qhsim run scenarios/baseline.toml --seeds ([\d,]+)", (ROOT / "Makefile").read_text()).group(1)
    assert MAKE_BASELINE_SEEDS == len(seeds.split(","))
    assert headline_basis(1, 20151231, "zh") == f"单次运行（随机种子 20151231），非 make baseline 的{len(seeds.split(','))}种子中位数"
    assert headline_basis(1, 7, "en") == "one run (seed 7), not the 8-seed median of make baseline"
    assert headline_basis(6, 7, "en") == "median [90% band] of 6 runs"


def test_compare_changes_are_in_percentage_points_with_the_indicators_decimals():
    """"+0.0229 / +0.0504" under "研发投入强度 (%)相对基准的变化（均值 [90%区间]）" with one run per design and no
    interval: a change of a % indicator is in 百分点 / pp, with one decimal more than the indicator, and a comparison
    of single runs says it shows their difference."""
    from types import SimpleNamespace

    import pandas as pd

    from qhsim.dashboard import compare

    def result(runs: int, rows: list[tuple]) -> SimpleNamespace:
        changes = pd.DataFrame([{"design": d, "indicator": k, "period": p, "mean": m, "p05": a, "p95": b}
                                for d, k, p, m, a, b in rows])
        return SimpleNamespace(designs=["d200", "m200"], changes=changes, runs_per_design=runs)

    one = result(1, [("d200", "rd_intensity", "2035", 0.0229, 0.0229, 0.0229),
                     ("m200", "rd_intensity", "2035", 0.0504, 0.0504, 0.0504),
                     ("d200", "rd_intensity", "2027", 0.0004, 0.0004, 0.0004),
                     ("m200", "rd_intensity", "2027", 0.0, 0.0, 0.0),
                     ("d200", "hte_count", "2035", 12.34, 12.34, 12.34), ("m200", "hte_count", "2035", -3.0, -3, -3)])
    assert compare.changes_title(one, "rd_intensity", "zh") == "研发投入强度相对基准的变化（百分点；每方案1次运行之差，无区间）"
    assert compare.changes_title(one, "hte_count", "en") == ("Change of High-tech enterprises against the "
                                                            "baseline (firms; difference of one run each, no interval)")
    table = compare.changes(one, "rd_intensity", "zh")
    # one rule for the table's decimals (``change_digits`` of its means, as comparison.txt's rows): a change too small
    # for them reads 0.000 beside +0.023, not +0.0004
    assert table["2035"].tolist() == ["+0.023", "+0.050"] and table["2027"].tolist() == ["0.000", "0.000"]
    assert compare.changes(one, "hte_count", "en")["2035"].tolist() == ["+12.3", "-3.0"]
    counts = result(1, [("d200", "hte_count", y, m, m, m) for y, m in (("2027", 3.0), ("2030", 2.5), ("2035", 0.04))])
    row = compare.changes(counts, "hte_count", "en").iloc[0]  # was +3.0, +2.5 and +0.04: a cell's own decimals
    assert [row["2027"], row["2030"], row["2035"]] == ["+3.0", "+2.5", "0.0"]
    band = result(6, [("d200", "rd_intensity", "2035", 0.0229, 0.011, 0.034), ("m200", "rd_intensity", "2035", 0.05, 0.04, 0.06)])
    assert compare.changes_title(band, "rd_intensity", "en").endswith("(pp; mean [90% band])")
    assert compare.changes(band, "rd_intensity", "en")["2035"].tolist() == ["+0.023 [+0.011, +0.034]",
                                                                            "+0.050 [+0.040, +0.060]"]


def test_a_short_table_header_stays_on_one_line():
    """"排名" stood one character per line above its narrow column."""
    from qhsim.dashboard.pages import TABLE_CSS, table_headers

    heads = table_headers(["设计方案", "排名", "每元公共成本带来的企业研发（元/元）"], [False, True, True])
    assert [h["class"] for h in heads] == ["qh-nowrap", "qh-nowrap", ""]  # a long header still wraps
    assert [h["align"] for h in heads] == ["start", "end", "end"]
    assert "th.qh-nowrap" in TABLE_CSS


def test_a_run_with_lever_changes_comes_with_its_baseline(small_run, tmp_path):
    """After a lever change the Indicators page showed only the new run: the baseline (the starting scenario, same run
    settings) runs beside it, and the target table gets its change in the target year, in pp for an indicator in %."""
    from qhsim.dashboard import figures, tables
    from qhsim.dashboard.runs import with_reference

    s = Session.start("baseline.toml").with_run(scale=0.05)
    cache = RunCache()
    run, reference = with_reference(s.request(), s.base_request(), cache=cache)
    assert reference is None  # the run is the baseline itself
    changed = s.with_lever("policy.super_deduction.general", 3.0)
    progress = []
    run, reference = with_reference(changed.request(), changed.base_request(), progress.append, cache=cache)
    assert reference.key == s.request().key() and run.key == changed.request().key() != reference.key
    assert progress[0] <= 0.5 and progress[-1] == 1.0  # the baseline came from the cache: straight to half
    assert reference.request.name("zh") == "baseline" and run.request.name("zh") == "baseline + 1处修改"
    rows, base = (figures.target_rows(r.result.indicators, "province") for r in (run, reference))
    table = tables.target_table(rows, "zh", base)
    change = table["2035相对基准变化"]  # the last year: levers change from 2026, after most targets' year (2025)
    assert list(table.columns).index("2035相对基准变化") == list(table.columns).index("2035模拟") + 1
    (i,) = [j for j, k in enumerate(rows["indicator"]) if k == "rd_intensity"]
    expected = rows.at[i, "sim_2035"] - base.at[i, "sim_2035"]
    assert change[i] == f"{expected:+.3f} pp" and expected > 0.001
    (h,) = [j for j, k in enumerate(rows["indicator"]) if k == "hte_count"]
    assert re.fullmatch(r"([-+]\d+(,\d{3})*|0)\.\d+", change[h])  # firms: no pp
    assert "2035相对基准变化" not in tables.target_table(rows, "zh").columns  # not without a baseline
    assert "change vs baseline 2035" in tables.target_table(rows, "en", base).columns
    ax = figures.indicator_figure(run.result.indicators, "rd_intensity", "province", "en", reference.result.indicators,
                                  "baseline").axes[0]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_label() for line in dashed] == ["baseline: baseline"]
    # the baseline's line is the path its own chart draws (``simulated_band``: one computation for both)
    own = figures.indicator_figure(reference.result.indicators, "rd_intensity", "province", "en").axes[0].get_lines()[0]
    assert list(dashed[0].get_xdata()) == list(own.get_xdata()) and list(own.get_xdata())[0] == figures.START_YEAR
    assert list(dashed[0].get_ydata()) == list(own.get_ydata())
    assert not any(line.get_linestyle() == "--" for line in
                   figures.indicator_figure(run.result.indicators, "rd_intensity", "province", "en").axes[0].get_lines())
