"""Scenario files: every shipped scenario validates; bad input gives one clear line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qhsim.config import load_scenario
from qhsim.errors import InputError
from qhsim.policy import policy_at

from conftest import SCENARIOS


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_validate(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.run.name == path.stem
    assert sc.run.description, "every scenario says what it tests"
    assert path.read_text(encoding="utf-8").startswith("#"), "every scenario opens with a comment"


def test_variant_changes_only_what_it_lists() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml")
    variant = load_scenario(SCENARIOS / "super_deduction_120.toml")
    assert policy_at(variant, 2025).deduction_general == policy_at(base, 2025).deduction_general == 1.0
    assert policy_at(variant, 2026).deduction_general == pytest.approx(1.2)
    assert policy_at(variant, 2030).hte_rate == policy_at(base, 2030).hte_rate
    assert variant.macro == base.macro


def write(tmp_path: Path, text: str, name: str = "variant.toml") -> Path:
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD = [
    ('extends = "baseline.toml"\n[policy.tax]\nstandard_rate = 0.9\n', ["policy.tax.standard_rate", "0.9", "allowed range [0, 0.5]"]),
    ('extends = "baseline.toml"\n[run]\nscale = 0\n', ["run.scale", "allowed range (0, 1]"]),
    ('extends = "baseline.toml"\n[policy.super_deduction]\ngeneral = { 2030 = -1 }\n', ["policy.super_deduction.general", "-1"]),
    ('extends = "baseline.toml"\n[policy.ex_ante_grants]\nselection = "random"\n', ["policy.ex_ante_grants.selection", "merit"]),
    ('extends = "baseline.toml"\n[policy.hte]\nunknown_key = 1\n', ["policy.hte.unknown_key", "unknown key (allowed: "]),
    ('extends = "baseline.toml"\n[policy.ex_ante_grants]\nbudjet = 1\n', ["ex_ante_grants.budjet: unknown key (did you mean 'budget'?)"]),
    ('extends = "baseline.toml"\n[policy.zzz]\nx = 1\n', ["policy.zzz: unknown key (allowed: tax, super_deduction, "]),
    ('extends = "baseline.toml"\n[policy.rd_reward]\nprefectures = ["atlantis"]\n', ["rd_reward.prefectures", "atlantis"]),
    ('extends = "missing.toml"\n', ["missing.toml", "not found"]),
    ('extends = "baseline"\n', ["extends = 'baseline'", "not found", 'did you mean "baseline.toml"?']),
    ('scenario = "baseline.toml"\n[lever.x]\npath = "policy.tax.hte_rate"\n', ["an experiment file",
                                                                               "qhsim sweep"]),
    ('extends = "variant.toml"\n', ["cycle"]),
    ("[run\nname = 1\n", ["not valid TOML"]),
    ('extend = "baseline.toml"\n', ["variant.toml: extend: unknown key (did you mean 'extends'?)"]),
    ('extends = "baseline.toml"\n[run]\nseed = "abc"\n', ["run.seed = 'abc': must be a whole number in [0, 9223372036854775807]"]),
    ('extends = "baseline.toml"\n[run]\nscale = "big"\n', ["run.scale = 'big': must be a number in (0, 1]"]),
    # the R&D reward's tier lists: the file, the key, the list, the value at fault and the allowed range (they said
    # "[0.2, 0.1] must be ascending shares in (0, 1]" or "[20.0, 20000.0]: each amount must lie in [0, 10000] 万元",
    # and a length mismatch named the table only)
    ('extends = "baseline.toml"\n[policy.rd_reward]\ntier_intensity = [0.2, 0.1, 0.3]\n',
     ["variant.toml: policy.rd_reward.tier_intensity: [0.2, 0.1, 0.3]: 0.1 after 0.2; the thresholds must be ascending"]),
    ('extends = "baseline.toml"\n[policy.rd_reward]\ntier_intensity = [0.1, 0.15, 1.5]\n',
     ["variant.toml: policy.rd_reward.tier_intensity: [0.1, 0.15, 1.5]: 1.5 outside allowed range (0, 1] (R&D / revenue)"]),
    ('extends = "baseline.toml"\n[policy.rd_reward]\ntier_amount = [20, 35, 20000]\n',
     ["variant.toml: policy.rd_reward.tier_amount: [20, 35, 20000]: 20000 outside allowed range [0, 10000] (万元 per "
      "firm per year)"]),
    ('extends = "baseline.toml"\n[policy.rd_reward]\ntier_amount = [20, 35]\n',
     ["variant.toml: policy.rd_reward.tier_amount: [20, 35]: 2 amounts for the 3 thresholds of tier_intensity "
      "[0.1, 0.15, 0.2]; give one amount per threshold"]),
    ('extends = "baseline.toml"\n[policy.rd_reward]\ntier_amount = { 2026 = [20, 35, 60] }\n',
     ["variant.toml: policy.rd_reward.tier_amount: a year schedule: must be a list such as [20, 35, 50], one value "
      "per tier, that holds in every year (not a year schedule)"]),
]


@pytest.mark.parametrize("text,expected", BAD, ids=[e[0] for _, e in BAD])
def test_bad_scenario_one_line_error(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert "variant.toml" in message or "missing.toml" in message
    for fragment in expected:
        assert fragment in message, message


def test_extends_not_found_says_it_is_read_relative_to_the_files_folder(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, "")
    (tmp_path / "sub").mkdir()
    path = write(tmp_path, 'extends = "baseline.toml"\n', "sub/v.toml")
    monkeypatch.chdir(tmp_path)  # where baseline.toml is: the analyst wrote the path from here
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert str(info.value).endswith(f"scenario file {tmp_path / 'sub' / 'baseline.toml'} not found (extends is read "
                                    'relative to the folder of v.toml) (did you mean "../baseline.toml"?)')


def test_cli_bad_scenario_exit_code_2_no_traceback_nothing_written(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "baseline.toml"\n[policy.tax]\nhte_rate = 2\n')
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "qhsim.cli", "run", str(path), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "policy.tax.hte_rate" in proc.stderr and "allowed range [0, 0.5]" in proc.stderr
    assert not out.exists()


def test_cli_missing_file_exit_code_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qhsim.cli", "run", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_command_line_override_out_of_range() -> None:
    from qhsim.runner import run

    with pytest.raises(InputError, match=r"command line: run.end_year = 1999"):
        run(SCENARIOS / "baseline.toml", end_year=1999)


def test_variant_schedule_replaces_base_from_its_first_year(tmp_path: Path) -> None:
    """{ 2026 = x } holds from 2026 on even where the base has later changes; earlier years keep the base."""
    (tmp_path / "base.toml").write_text(
        (SCENARIOS / "baseline.toml").read_text(encoding="utf-8").replace(
            "general = { 2015 = 0.50, 2018 = 0.75, 2023 = 1.00 }", "general = { 2015 = 0.50, 2018 = 0.75, 2030 = 1.50 }"
        ),
        encoding="utf-8",
    )
    path = tmp_path / "v.toml"
    path.write_text('extends = "base.toml"\n[policy.super_deduction]\ngeneral = { 2026 = 1.2 }\n', encoding="utf-8")
    sc = load_scenario(path)
    assert [policy_at(sc, y).deduction_general for y in (2016, 2020, 2026, 2031)] == [0.5, 0.75, 1.2, 1.2]


def test_a_file_is_named_after_itself_and_does_not_take_its_bases_description(tmp_path: Path) -> None:
    """A variant without [run] name was reported as "baseline" with the baseline's description; now it is named after
    its file and has no description unless it gives one. A file that names and describes itself keeps both."""
    sc = load_scenario(write(tmp_path, 'extends = "baseline.toml"\n[policy.vouchers]\nbudget = { 2026 = 900 }\n',
                             "my_vouchers.toml"))
    assert (sc.run.name, sc.run.description) == ("my_vouchers", "")
    sc = load_scenario(write(tmp_path, 'extends = "baseline.toml"\n[run]\nname = "x"\ndescription = "说明 / note"\n'))
    assert (sc.run.name, sc.run.description) == ("x", "说明 / note")
    alone = tmp_path / "alone.toml"  # a complete file without [run] name
    alone.write_text((SCENARIOS / "baseline.toml").read_text(encoding="utf-8").replace('name = "baseline"', ""),
                     encoding="utf-8")
    assert load_scenario(alone).run.name == "alone"


@pytest.mark.parametrize("name", ['""', '"  "'])
def test_an_empty_scenario_name_is_an_error(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f'extends = "baseline.toml"\n[run]\nname = {name}\n')
    with pytest.raises(InputError, match=r"variant\.toml: run\.name = '\s*': a scenario needs a name; give one, or "
                                         r"leave the key out to use the file's name \(variant\)"):
        load_scenario(path)


def test_reward_prefectures_follow_their_schedule() -> None:
    sc = load_scenario(SCENARIOS / "rd_reward_province_wide.toml")
    assert policy_at(sc, 2025).reward_prefectures.sum() == 1
    assert policy_at(sc, 2026).reward_prefectures.all()
