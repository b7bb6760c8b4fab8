"""What the command line tells an analyst: warnings about a run cut short, scenario names, --out that cannot be
written, help texts, seeds, error messages and the closing line (analyst audit, session 31)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qhsim import data
from qhsim.cli import main
from qhsim.config import load_scenario
from qhsim.experiments.comparison import check_designs_act
from qhsim.experiments.designs import design_from_file

from conftest import SCENARIOS

SD120 = SCENARIOS / "super_deduction_120.toml"
BASELINE = SCENARIOS / "baseline.toml"
PREFECTURES = data.prefecture_ids()


def cli(argv: list[str]) -> int:
    """``qhsim`` in this process: the exit code, whether returned or raised by argparse."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def warnings(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert all(line.startswith("qhsim: warning: ") for line in lines), err
    return [line.removeprefix("qhsim: warning: ") for line in lines]


# --- finding 1, 2: a run that --end-year cuts before the scenario's own end -----------------------------


def test_a_variant_cut_before_its_changes_act_says_the_run_is_its_bases(capsys):
    load_scenario(SD120, end_year=2022)
    assert warnings(capsys.readouterr().err) == [
        f"{SD120}: the run ends in 2022, before any setting of this file acts, so the run is its base's "
        "(baseline.toml): policy.super_deduction.general (2026), policy.super_deduction.manufacturing (2026), "
        "policy.super_deduction.tech_sme (2026)"]


def test_a_cut_short_baseline_gets_one_line_naming_its_later_schedules(capsys):
    load_scenario(BASELINE, end_year=2020)
    [line] = warnings(capsys.readouterr().err)
    assert line.startswith(f"{BASELINE}: the run ends in 2020, before these schedules change: "
                           "macro.gdp_growth (2021, 2026), ")
    listed, more = line.split(": ", 2)[2].rsplit(" and ", 1)
    assert listed.count(" (") == 6 and more.endswith(" more") and int(more.split()[0]) >= 1
    load_scenario(BASELINE, end_year=2035)  # its own end year: nothing to say
    load_scenario(BASELINE)
    assert capsys.readouterr().err == ""


def test_a_variant_with_a_setting_acting_in_the_run_is_not_called_its_bases(tmp_path, capsys):
    path = tmp_path / "v.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n[policy.vouchers]\nbudget = {{ 2018 = 900, 2030 = 1800 }}\n',
                    encoding="utf-8")
    load_scenario(path, end_year=2022)
    assert warnings(capsys.readouterr().err) == [
        f"{path}: the run ends in 2022, before these schedules change: policy.vouchers.budget (2030)"]


def test_schedule_years_after_the_scenarios_own_end_keep_one_warning_each(tmp_path, capsys):
    path = tmp_path / "v.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n[policy.vouchers]\nbudget = {{ 2030 = 900, 2040 = 1800 }}\n',
                    encoding="utf-8")
    load_scenario(path, end_year=2045)  # runs past the scenario's end: 2040 acts
    assert capsys.readouterr().err == ""
    load_scenario(path, end_year=2020)
    assert warnings(capsys.readouterr().err) == [
        f"{path}: policy.vouchers.budget: year 2040 = 1800 is after the last simulated year 2035; it never takes effect",
        f"{path}: the run ends in 2020, before any setting of this file acts, so the run is its base's "
        f"({BASELINE.as_posix()}): policy.vouchers.budget (2030)"]


def test_run_command_prints_the_one_line(tmp_path, capsys):
    out = tmp_path / "r"
    assert cli(["run", str(SD120), "--scale", "0.02", "--end-year", "2016", "--no-charts", "--out", str(out)]) == 0
    [line] = warnings(capsys.readouterr().err)
    assert "the run is its base's (baseline.toml)" in line


def test_compare_warns_once_per_design_and_not_about_the_bases_schedules(tmp_path, capsys):
    early = tmp_path / "early.toml"
    early.write_text(f'extends = "{BASELINE.as_posix()}"\n[policy.vouchers]\nbudget = {{ 2020 = 900 }}\n',
                     encoding="utf-8")
    check_designs_act(design_from_file(BASELINE), [design_from_file(SD120), design_from_file(early)], 2022)
    [line] = warnings(capsys.readouterr().err)
    assert line.startswith(f"{SD120}: the run ends in 2022, before any setting of this file acts")


# --- finding 4: an --out that cannot be written --------------------------------------------------------

SHORT = '[run]\nend_year = 2016\n'  # a scenario that ends in 2016 itself: a quick run without the cut-short warning


def short_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n{SHORT}', encoding="utf-8")
    return path


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qhsim: error: ") and "Traceback" not in err, err
    return lines[0].removeprefix("qhsim: error: ")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, a folder that refuses new files")
def test_an_out_that_cannot_be_written_is_refused_before_the_run(monkeypatch, capsys):
    import qhsim.runner

    monkeypatch.setattr(qhsim.runner, "run", lambda *a, **k: pytest.fail("ran before --out was checked"))
    assert cli(["run", str(BASELINE), "--scale", "0.02", "--out", "/proc/a31x"]) == 2
    assert one_error(capsys.readouterr().err).startswith("/proc/a31x: cannot write in /proc (")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, a folder that refuses new files")
def test_export_to_a_file_that_cannot_be_written_is_one_line(tmp_path, capsys):
    folder = tmp_path / "r"
    assert cli(["run", str(short_scenario(tmp_path)), "--scale", "0.02", "--no-charts", "--out", str(folder)]) == 0
    capsys.readouterr()
    assert cli(["export", str(folder), "--to", "xlsx", "--out", "/proc/x.xlsx"]) == 2
    # refused before the folder is read, with no progress line before the one error
    assert one_error(capsys.readouterr().err).startswith("/proc/x.xlsx: cannot write in /proc (")


def test_a_write_that_fails_midway_names_the_results_folder_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    import errno

    import qhsim.output.store

    def full_disk(result, out, charts=True):  # the disk fills while the folder is written aside
        raise OSError(errno.ENOSPC, "No space left on device", str(out.parent / f".{out.name}.tmp-4242" / "a.csv"))

    monkeypatch.setattr(qhsim.output.store, "write_run", full_disk)
    out = tmp_path / "r"
    assert cli(["run", str(short_scenario(tmp_path)), "--scale", "0.02", "--no-charts", "--out", str(out)]) == 2
    assert one_error(capsys.readouterr().err) == (f"{out}: cannot write it (no space left on device); check the "
                                                  "folder, or choose another --out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.toml"]


# --- finding 6: help texts -----------------------------------------------------------------------------


def commands() -> dict:
    import argparse

    from qhsim.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "discover", "export", "calibrate", "sensitivity"])
def test_every_option_says_what_it_does_and_its_default(command):
    import argparse

    parser = commands()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{command} {action.dest}: no help"
        if action.option_strings and action.default not in (None, False):
            assert "default" in action.help, f"{command} {action.dest}: default {action.default!r} not stated"
    assert "%%" not in parser.format_help()


def test_help_states_the_draws_limit_the_regions_and_the_default_out():
    from qhsim import data
    from qhsim.calibrated import load_calibration
    from qhsim.cli import SHIPPED_DRAWS

    shipped = load_calibration(SCENARIOS.parent / "calibration" / "calibrated.toml")
    assert shipped.available == SHIPPED_DRAWS  # the limit the help states is the shipped calibration's
    helps = {name: {a.dest: a.help for a in p._actions} for name, p in commands().items()}
    assert f"1-{shipped.available}" in helps["run"]["draws"]
    assert all(pid in helps["discover"]["region"] for pid in data.prefecture_ids())
    assert all(pid in helps["compare"]["region"] for pid in data.prefecture_ids())
    assert "results/<scenario file name" in helps["run"]["out"]
    assert "results/compare_<base>_<designs>" in helps["compare"]["out"]


# --- finding 7: seeds ----------------------------------------------------------------------------------


def test_seed_and_seeds_together_are_refused(capsys):
    assert cli(["run", str(BASELINE), "--seed", "3", "--seeds", "1,2"]) == 2
    assert one_error(capsys.readouterr().err) == ("--seed 3 and --seeds 1,2: give one of them (--seed for one seed, "
                                                  "--seeds for several)")


@pytest.mark.parametrize(("extra", "seeds"), [([], (20151231,)), (["--seed", "0"], (0,)), (["--seeds", "4,5"], (4, 5))])
def test_draws_without_seeds_use_the_scenarios_seed(monkeypatch, tmp_path, extra, seeds):
    """``--draws N`` alone ran seed 1 rather than the scenario's seed (and ``--seed 0`` as seed 1)."""
    import qhsim.experiments.ensemble
    from qhsim.errors import InputError

    asked = {}

    def record(scenario, **kwargs):
        asked.update(kwargs, scenario_seed=scenario.run.seed)
        raise InputError("recorded")

    monkeypatch.setattr(qhsim.experiments.ensemble, "run_ensemble", record)
    assert cli(["run", str(BASELINE), "--draws", "1", *extra, "--out", str(tmp_path / "r")]) == 2
    assert asked["scenario_seed"] == 20151231 and asked["seeds"] == seeds


# --- finding 9: the closing line follows --lang ---------------------------------------------------------


@pytest.mark.parametrize(("lang", "says", "not_said"), [("en", "Results written to", "结果已写入"),
                                                        ("zh", "结果已写入", "Results written"),
                                                        ("both", "结果已写入 Results written to", None)])
def test_the_closing_line_of_run_follows_lang(tmp_path, capsys, lang, says, not_said):
    out = tmp_path / "r"
    assert cli(["run", str(short_scenario(tmp_path)), "--scale", "0.02", "--no-charts", "--lang", lang,
                "--out", str(out)]) == 0
    closing = " ".join(capsys.readouterr().out.strip().split("\n\n")[-1].split())  # wrapped to the terminal
    assert closing.startswith(f"{says} {out} (") and (not_said is None or not_said not in closing), closing


# --- prefecture audit (session 32), W1: qhsim compare --region -------------------------------------------


@pytest.mark.parametrize(("region", "hint"), [("lhasa", ""), ("xinning", " (did you mean xining?)")])
def test_compare_refuses_an_unknown_region_in_one_line_before_anything_runs(tmp_path, capsys, region, hint):
    out = tmp_path / "cmp"
    code = cli(["compare", str(BASELINE), str(SD120), "--region", region, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0]
    assert err[0] == f"qhsim: error: --region {region}: not a region{hint}; allowed: province, {', '.join(PREFECTURES)}"
    assert not out.exists()  # nothing written


def test_discover_checks_its_region_as_compare_does_before_reading_the_store(tmp_path, capsys):
    """compare and discover checked --region in two functions, only discover's with a did-you-mean hint: one check
    (``check_region``), the same line from both, before discover reads its store."""
    store = tmp_path / "sweep"  # no store: the region is refused first
    code = cli(["discover", str(store), "--indicator", "rd_intensity", "--year", "2030", "--threshold", "1",
                "--region", "xinning"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0] == ("qhsim: error: --region xinning: not a region (did you mean xining?); allowed: province, "
                      f"{', '.join(PREFECTURES)}")
    assert not store.exists()


# --- session 33: an unreachable --scheduler ---------------------------------------------------------------------


def test_compare_refuses_an_unreachable_scheduler_before_writing_its_store(tmp_path, monkeypatch, capsys):
    """compare wrote its store (manifest and runs folder) and only then found the Dask scheduler unreachable; it now
    reaches the scheduler first, as sweep does (``Engine.connect``): one line, exit 2, nothing written."""
    import distributed

    def refused(address, timeout=None, **kwargs):  # what Client says after its timeout, without waiting 20 s
        raise OSError(f"Timed out trying to connect to {address} after {timeout}")

    monkeypatch.setattr(distributed, "Client", refused)
    out = tmp_path / "cmp"
    code = cli(["compare", str(BASELINE), str(SD120), "--scheduler", "tcp://127.0.0.1:1", "--end-year", "2027",
                "--scale", "0.02", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith("qhsim: error: --scheduler tcp://127.0.0.1:1: cannot reach a Dask scheduler there (")
    assert not out.exists()  # nothing written


# --- session 40: the dashboard's address ------------------------------------------------------------------------


def test_dashboard_refuses_a_bad_port_or_host_in_one_line_before_the_server_starts(monkeypatch, capsys):
    """--port 99999 ended in the web server's traceback (exit 1), a port in use in its error after the address had
    been printed as if the server were up (exit 3): each is now one line, exit 2, and the server is not started."""
    import os
    import socket

    from qhsim.dashboard import assets

    monkeypatch.setattr(assets, "missing", lambda: [])  # as after `make dashboard-assets`
    started = []
    monkeypatch.setattr(os, "execve", lambda *a: started.append(a))  # never replace the test process
    monkeypatch.setattr("subprocess.call", lambda *a, **k: started.append(a))

    def refused(argv: list[str]) -> str:
        code = cli(["dashboard", *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
        return err[0]

    assert refused(["--port", "99999"]).endswith("argument --port: 99999: allowed range [1, 65535] "
                                                 "(see qhsim dashboard --help)")
    assert "expected a port number 1-65535" in refused(["--port", "http"])
    with socket.socket() as held:  # another program listening on the port
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert refused(["--port", str(taken)]) == (
            f"qhsim: error: --port {taken}: 127.0.0.1:{taken} is in use (another dashboard?); choose another port, "
            f"e.g. --port {taken + 1}")
    # an address that is not this machine's (TEST-NET-1, RFC 5737)
    assert refused(["--host", "192.0.2.1"]).startswith("qhsim: error: --host 192.0.2.1: cannot listen there (")
    assert started == []
