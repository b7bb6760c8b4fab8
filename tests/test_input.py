"""Input that never crashes: a corpus of malformed inputs through the CLI (run, compare, sweep, export), file
encodings, schedule years outside the horizon, and the repository's scripts (benchmarks/).

Every malformed input must give exit code 2, exactly one line on stderr, no traceback, and write nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCENARIOS
from qhsim.cli import main
from qhsim.config import load_scenario
from qhsim.errors import InputError

BASE = (SCENARIOS / "baseline.toml").as_posix()
VARIANT = f'extends = "{BASE}"\n[run]\nname = "v"\n'
EXPERIMENT = f'''description = "tiny"
scenario = "{BASE}"
from_year = 2018
seeds = [1]
scale = 0.02
end_year = 2019
[vary]
"policy.super_deduction.general" = [0.75, 1.5]
'''

# name -> (command line with {dir} for the case folder, files to create: relative path -> text or bytes)
CORPUS: dict[str, tuple[str, dict[str, str | bytes]]] = {
    # run: the scenario file itself
    "run_missing_file": ("run {dir}/nowhere.toml", {}),
    "run_directory": ("run {dir}/sub", {"sub/x.txt": "x"}),
    "run_bad_toml": ("run {dir}/s.toml", {"s.toml": "extends = \n"}),
    "run_binary": ("run {dir}/s.toml", {"s.toml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"}),
    "run_gbk": ("run {dir}/s.toml", {"s.toml": (VARIANT + 'description = "基准情景"\n').encode("gbk")}),
    "run_unknown_key": ("run {dir}/s.toml", {"s.toml": VARIANT + "colour = 1\n"}),
    "run_out_of_range": ("run {dir}/s.toml", {"s.toml": VARIANT + "[policy.tax]\nhte_rate = 2\n"}),
    "run_wrong_type": ("run {dir}/s.toml", {"s.toml": VARIANT + '[policy.tax]\nhte_rate = "low"\n'}),
    "run_year_1990": ("run {dir}/s.toml", {"s.toml": VARIANT + "[policy.tax]\nhte_rate = { 1990 = 0.1, 2040 = 0.3 }\n"}),
    "run_year_2070": ("run {dir}/s.toml", {"s.toml": VARIANT + "[policy.tax]\nhte_rate = { 2070 = 0.1 }\n"}),
    "run_year_not_a_year": ("run {dir}/s.toml", {"s.toml": VARIANT + "[policy.tax]\nhte_rate = { soon = 0.1 }\n"}),
    "run_empty_schedule": ("run {dir}/s.toml", {"s.toml": VARIANT + "[policy.tax]\nhte_rate = {}\n"}),
    "run_extends_missing": ("run {dir}/s.toml", {"s.toml": 'extends = "nothere.toml"\n'}),
    "run_extends_cycle": ("run {dir}/a.toml", {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'}),
    "run_extends_not_text": ("run {dir}/s.toml", {"s.toml": "extends = 3\n"}),
    "run_unknown_parameter": ("run {dir}/s.toml", {"s.toml": VARIANT + "[parameters]\nno_such = 1.0\n"}),
    "run_parameter_range": ("run {dir}/s.toml", {"s.toml": VARIANT + "[parameters]\nuser_cost_elasticity = 99.0\n"}),
    "run_bad_choice": ("run {dir}/s.toml", {"s.toml": VARIANT + '[policy.ex_ante_grants]\nselection = "bribes"\n'}),
    "run_bad_prefecture": ("run {dir}/s.toml", {"s.toml": VARIANT + '[policy.rd_reward]\nprefectures = ["lhasa"]\n'}),
    "run_tier_mismatch": ("run {dir}/s.toml", {"s.toml": VARIANT + "[policy.rd_reward]\ntier_intensity = [0.01, 0.02]\n"
                                                                    "tier_amount = [10.0]\n"}),
    "run_end_year_2070": ("run {dir}/s.toml", {"s.toml": VARIANT + "end_year = 2070\n"}),
    "run_scale_zero": ("run {dir}/s.toml", {"s.toml": VARIANT + "scale = 0\n"}),
    "run_empty_file": ("run {dir}/s.toml", {"s.toml": ""}),
    "run_empty_name": ("run {dir}/s.toml", {"s.toml": f'extends = "{BASE}"\n[run]\nname = ""\n'}),
    # run: the command line
    "run_cli_scale": (f"run {BASE} --scale 2", {}),
    "run_cli_seed": (f"run {BASE} --seed -1", {}),
    "run_cli_end_year": (f"run {BASE} --end-year 1999", {}),
    "run_cli_draws": (f"run {BASE} --draws 0", {}),
    "run_cli_seeds": (f"run {BASE} --seeds 1,1", {}),
    "run_cli_unknown_option": (f"run {BASE} --colour red", {}),
    "run_cli_seed_and_seeds": (f"run {BASE} --seed 3 --seeds 1,2", {}),
    "run_cli_population_seed_ensemble": (f"run {BASE} --population-seed 7 --seeds 1,2", {}),
    "run_out_is_file": (f"run {BASE} --out {{dir}}/report.txt", {"report.txt": "keep"}),
    "run_out_foreign": (f"run {BASE} --out {{dir}}/notes", {"notes/draft.md": "keep"}),
    "run_out_sweep": (f"run {BASE} --out {{dir}}/sw", {"sw/manifest.json": json.dumps({"kind": "sweep"})}),
    "run_out_under_file": (f"run {BASE} --out {{dir}}/report.txt/run", {"report.txt": "keep"}),
    # compare
    "compare_bad_variant": (f"compare {BASE} {{dir}}/s.toml", {"s.toml": VARIANT + "[policy.tax]\nhte_rate = 2\n"}),
    "compare_missing_base": ("compare {dir}/nowhere.toml {dir}/s.toml", {"s.toml": VARIANT}),
    "compare_out_run": (f"compare {BASE} {BASE} --out {{dir}}/r", {"r/manifest.json": json.dumps({"kind": "run"})}),
    # sweep
    "sweep_missing": ("sweep {dir}/nowhere.toml", {}),
    "sweep_bad_path": ("sweep {dir}/e.toml", {"e.toml": EXPERIMENT.replace("general", "nonexistent")}),
    "sweep_from_year": ("sweep {dir}/e.toml", {"e.toml": EXPERIMENT.replace("from_year = 2018", "from_year = 1999")}),
    "sweep_unknown_key": ("sweep {dir}/e.toml", {"e.toml": "colour = 1\n" + EXPERIMENT}),
    "sweep_utf16_bad": ("sweep {dir}/e.toml", {"e.toml": EXPERIMENT.replace("seeds = [1]", "seeds = []").encode("utf-16")}),
    "sweep_out_compare": ("sweep {dir}/e.toml --out {dir}/c", {"e.toml": EXPERIMENT,
                                                               "c/manifest.json": json.dumps({"kind": "compare"})}),
    # export
    "export_missing": ("export {dir}/nowhere --to xlsx", {}),
    "export_foreign": ("export {dir}/notes --to xlsx", {"notes/draft.md": "keep"}),
    "export_file": ("export {dir}/draft.md --to html", {"draft.md": "keep"}),
    "export_bad_format": ("export {dir}/notes --to pdf", {"notes/draft.md": "keep"}),
    "export_damaged_manifest": ("export {dir}/r --to csv", {"r/manifest.json": "{ not json"}),
    "export_incomplete_run": ("export {dir}/r --to csv", {"r/manifest.json": json.dumps({"kind": "run"})}),
    "export_unknown_kind": ("export {dir}/r --to csv", {"r/manifest.json": json.dumps({"kind": "hologram"})}),
    "export_sweep_without_runs": ("export {dir}/r --to parquet", {"r/manifest.json": json.dumps(
        {"kind": "sweep", "experiment": {"vary": {}}})}),
    "discover_missing": ("discover {dir}/nowhere --indicator rd_intensity --year 2030 --threshold 1", {}),
    "discover_no_manifest": ("discover {dir}/notes --indicator rd_intensity --year 2030 --threshold 1",
                             {"notes/draft.md": "keep"}),
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", list(CORPUS))
def test_malformed_input_exit_2_one_line_nothing_written(case, tmp_path, capsys, monkeypatch):
    command, files = CORPUS[case]
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    monkeypatch.chdir(tmp_path)  # default output folders (results/...) would appear here
    before = _snapshot(tmp_path)
    code = cli(command.format(dir=tmp_path).split())
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Errno" not in err and lines[0].startswith("qhsim")
    assert _snapshot(tmp_path) == before
    assert not any(p.name.startswith(".") for p in tmp_path.rglob("*")), "temporary files left behind"


def cli(argv: list[str]) -> int:
    """``qhsim`` in this process: the exit code, whether returned or raised by argparse."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_corpus_is_large_and_covers_every_command():
    assert len(CORPUS) >= 30
    assert {c.split()[0] for c, _ in CORPUS.values()} == {"run", "compare", "sweep", "export", "discover"}


# --- encodings ------------------------------------------------------------------------------------------

VARIANT_ZH = f'# 说明\nextends = "{BASE}"\n[run]\nname = "编码"\ndescription = "事前资助 ex-ante"\n'


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_utf8_bom_and_utf16_files_are_read(tmp_path, encoding):
    path = tmp_path / "s.toml"
    path.write_bytes(VARIANT_ZH.encode(encoding) if encoding != "utf-16" else VARIANT_ZH.encode("utf-16"))
    scenario = load_scenario(path)
    assert scenario.run.name == "编码" and scenario.run.description == "事前资助 ex-ante"


def test_gbk_file_gets_an_error_naming_the_encoding(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(VARIANT_ZH.encode("gbk"))
    with pytest.raises(InputError, match=r"s\.toml: not UTF-8 \(looks like GBK/GB18030\); save it as UTF-8"):
        load_scenario(path)


# --- schedule years -------------------------------------------------------------------------------------


def test_schedule_years_outside_the_horizon_warn_with_file_key_and_value(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(VARIANT + "[policy.tax]\nhte_rate = { 2010 = 0.2, 2012 = 0.15, 2040 = 0.3 }\n", encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.policy.tax.hte_rate.at(2040) == 0.3
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"qhsim: warning: {path}: policy.tax.hte_rate: year 2010 = 0.2 never takes effect (2012 replaces it "
        "by the start year 2015)",
        f"qhsim: warning: {path}: policy.tax.hte_rate: year 2040 = 0.3 is after the last simulated year 2035; "
        "it never takes effect",
    ]


def test_a_variants_prefecture_list_that_drops_its_bases_prefectures_warns(tmp_path, capsys):
    """A variant's prefecture list replaces its base's (from its first year on): "only in Haidong" written as
    { 2026 = ["haidong"] } also ends the baseline's Haixi programme. One line names the file, key, year, the
    prefectures dropped and the list that keeps them; a list that keeps them does not warn."""
    from qhsim.config import prefecture_lists

    lists = prefecture_lists()  # found in the schema by their domain, not listed by hand
    assert {"policy.rd_reward.prefectures", "policy.tech_market.sme_patent_prefectures"} <= set(lists)
    assert not any(key.startswith("policy.vouchers.") for key in lists)
    path = tmp_path / "s.toml"
    path.write_text(VARIANT + '[policy.rd_reward]\nprefectures = { 2026 = ["haidong"] }\n'
                    '[policy.tech_market]\nsme_patent_prefectures = ["xining"]\n', encoding="utf-8")
    scenario = load_scenario(path)
    assert list(scenario.policy.rd_reward.prefectures.at(2026)) == ["haidong"]  # a warning, not a change
    assert capsys.readouterr().err.strip().splitlines() == [
        f'qhsim: warning: {path}: policy.rd_reward.prefectures: from 2026 ["haidong"] drops haixi, which its base '
        f'{BASE} lists (a variant\'s list replaces the base\'s); to add to it, write ["haixi", "haidong"]',
        f'qhsim: warning: {path}: policy.tech_market.sme_patent_prefectures: in every year ["xining"] drops haixi, '
        f'which its base {BASE} lists (a variant\'s list replaces the base\'s); to add to it, write ["haixi", "xining"]',
    ]
    for kept in ('{ 2026 = ["haixi", "haidong"] }', '{ 2026 = ["all"] }', '["haidong", "haixi"]'):
        path.write_text(VARIANT + f"[policy.rd_reward]\nprefectures = {kept}\n", encoding="utf-8")
        load_scenario(path)
        assert capsys.readouterr().err == "", kept


@pytest.mark.parametrize("year", [1999, 2061])
def test_schedule_years_before_2000_or_after_2060_are_errors(tmp_path, year):
    path = tmp_path / "s.toml"
    path.write_text(VARIANT + f"[policy.tax]\nhte_rate = {{ {year} = 0.1 }}\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"s\.toml: policy\.tax\.hte_rate: year {year} outside allowed range \[2000, 2060\]"):
        load_scenario(path)


def test_a_key_without_effect_is_accepted_and_warned_about(tmp_path, capsys):
    """[macro] public_rd_growth changes nothing (public R&D is the institutions' R&D): a file may still set it, gets
    one warning naming the file, the key and what to set instead; a file without it gets none."""
    from qhsim.config import read_toml
    from qhsim.config.schema import warn_ineffective

    path = tmp_path / "s.toml"
    path.write_text(VARIANT + "[macro]\npublic_rd_growth = 0.06\n", encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.macro.public_rd_growth.at(2030) == 0.06
    capsys.readouterr()
    warn_ineffective(path, read_toml(path))
    assert capsys.readouterr().err.splitlines() == [
        f"qhsim: warning: {path}: macro.public_rd_growth has no effect (public R&D is the universities' and "
        "institutes' R&D, set by [policy.research_funding]); remove it"]
    warn_ineffective(SCENARIOS / "baseline.toml", read_toml(SCENARIOS / "baseline.toml"))
    assert capsys.readouterr().err == ""


def test_shipped_scenarios_load_without_warnings(capsys):
    for path in sorted(SCENARIOS.glob("*.toml")):
        load_scenario(path)
    assert capsys.readouterr().err == ""


def test_nothing_is_lost_when_a_run_fails_into_an_existing_folder(tmp_path):
    assert cli(["run", BASE, "--scale", "0.02", "--end-year", "2017", "--no-charts", "--out", str(tmp_path / "r")]) == 0
    first = (tmp_path / "r" / "manifest.json").read_bytes()
    assert cli(["run", f"{tmp_path}/nowhere.toml", "--out", str(tmp_path / "r")]) == 2
    assert (tmp_path / "r" / "manifest.json").read_bytes() == first


SCRIPT_CASES = {  # the repository's scripts, as a modeller runs them: bad input ends them as it ends qhsim
    "missing variant": ("benchmarks/coupling_report.py", ["--variants", "no_such_design.toml"], "scenario file not found"),
    "missing scenario": ("benchmarks/bench_run.py", ["--scenario", "no_such.toml", "--repeat", "1"], "not found"),
    "scale out of range": ("benchmarks/prefecture_report.py", ["--scale", "7"], "allowed range (0, 1]"),
    "one seed for a CV": ("benchmarks/precision_report.py", ["--seeds", "1"], "allowed range [2, ...)"),
    "one seed for a seed variance": ("benchmarks/uncertainty_report.py", ["--seeds", "1"], "allowed range [2, ...)"),
    "year out of range": ("benchmarks/coupling_report.py", ["--end-year", "2100"], "allowed range [2016, 2060]"),
    # the suite runs with QHSIM_CALIBRATED=off (conftest), which the subprocess inherits
    "no calibration": ("benchmarks/revalidate.py", ["--workers", "1"], "no calibration in force"),
    "no calibration to draw from": ("benchmarks/uncertainty_report.py", ["--draws", "2"], "no calibration in force"),
    "elasticity out of range": ("benchmarks/exit_whatif.py", ["--elasticities", "0.3,0.9"],
                                "exit_size_elasticity must lie in [0, 0.6]"),
}


@pytest.mark.parametrize("case", list(SCRIPT_CASES))
def test_scripts_end_bad_input_with_one_line_and_exit_2(case, tmp_path):
    script, args, says = SCRIPT_CASES[case]
    root = SCENARIOS.parent
    done = subprocess.run([sys.executable, str(root / script), *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"{Path(script).name}: error: ") and says in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_reader_that_closes_the_pipe_ends_no_run(tmp_path):
    """``qhsim run ... | head``: the reader goes away before the table is printed; the run still writes its results
    and exits 0, with nothing on stderr (no BrokenPipeError traceback)."""
    out = tmp_path / "r"
    short = tmp_path / "short.toml"  # a scenario that ends in 2016 itself (--end-year 2016 would warn that it cuts)
    short.write_text(VARIANT + "end_year = 2016\n", encoding="utf-8")
    with subprocess.Popen([sys.executable, "-m", "qhsim.cli", "run", str(short), "--scale",
                           "0.02", "--no-charts", "--out", str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        proc.stdout.close()  # the reader is gone before anything is written
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0, err
    assert err == "" and (out / "manifest.json").exists() and (out / "report.xlsx").exists()


@pytest.mark.parametrize(("returns", "code"), [(None, 0), (3, 3), ({"figures": 1.0}, 0)])
def test_run_script_exit_code_is_mains_whole_number(returns, code):
    from qhsim.cli import run_script

    with pytest.raises(SystemExit) as ended:
        run_script(lambda: returns)
    assert ended.value.code == code


def test_run_script_ends_bad_input_with_exit_2(capsys):
    from qhsim.cli import run_script

    def main():
        raise InputError("x.toml: run.scale = 7: allowed range (0, 1]")

    with pytest.raises(SystemExit) as ended:
        run_script(main)
    assert ended.value.code == 2
    assert capsys.readouterr().err.strip().endswith("error: x.toml: run.scale = 7: allowed range (0, 1]")


@pytest.mark.parametrize("command, kept", [("run", "nothing was written"), ("compare", "finished runs are kept")])
def test_ctrl_c_says_what_is_kept(monkeypatch, capsys, command, kept):
    """Ctrl-C: a resumable command (compare, sweep, calibrate) says its finished runs are kept; ``run``, which
    writes its folder whole or not at all, says nothing was written (exit 130, no traceback)."""
    from qhsim import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, f"cmd_{command}", interrupted)
    argv = [command, str(SCENARIOS / "baseline.toml")] + ([str(SCENARIOS / "super_deduction_120.toml")]
                                                         if command == "compare" else [])
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert kept in err and "Traceback" not in err


def test_python_dash_m_qhsim_is_the_qhsim_command(tmp_path):
    """``python -m qhsim`` takes the same command line, errors and exit codes as the ``qhsim`` script."""
    ok = subprocess.run([sys.executable, "-m", "qhsim", "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("qhsim")
    bad = subprocess.run([sys.executable, "-m", "qhsim", "run", str(tmp_path / "missing.toml")], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "missing.toml" in bad.stderr


def test_every_data_file_quantity_is_read_by_the_code():
    """Each quantity of qhsim/data/*.toml is named somewhere in qhsim/ (a name, attribute, keyword or string): an
    entry nothing reads (initial_state.toml hte_age_spread was one) documents a number the model does not use."""
    import ast
    import tomllib

    root = Path(__file__).resolve().parents[1] / "qhsim"
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.keyword) and node.arg:
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    unread = [f"{path.name}: {key}" for path in sorted((root / "data").glob("*.toml"))
              for key, entry in tomllib.loads(path.read_text(encoding="utf-8")).items()
              if isinstance(entry, dict) and "value" in entry and key not in names]
    assert unread == []


def test_every_overridable_model_parameter_has_a_range():
    """A scenario's [parameters] may override any single-number model parameter; each must state the range a value
    is checked against (a parameter without one took any value, negatives included)."""
    from qhsim.config.schema import model_parameters

    missing = [name for name, spec in model_parameters().items()
               if not isinstance(spec["value"], list) and len(spec.get("range", ())) != 2]
    assert missing == []
