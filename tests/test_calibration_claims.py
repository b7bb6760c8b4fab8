"""Calibration claims are true: "calibrated" sources, how each target is met, the fit report's headline."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import pytest

from qhsim.calibration.report import classification_lines, fmt_sd, reclassify_report
from qhsim.calibration.settings import (
    fingerprint_of, load_free_parameters, model_commit, model_files, model_fingerprint, model_fingerprint_at,
    model_parameters,
)
from qhsim.calibration.targets import load_targets
from qhsim.errors import InputError

from conftest import ROOT

CAL = ROOT / "calibration"


def test_only_free_parameters_say_calibrated():
    """A data source may say "calibrated" only for a parameter `qhsim calibrate` estimates, and every free
    parameter says so."""
    free = {p.name for p in load_free_parameters(CAL / "free_parameters.toml")}
    said = {name for name, q in model_parameters().items() if str(q["source"]).lower().startswith("calibrated")}
    assert said - free == set(), f"source says 'calibrated' but not free: {sorted(said - free)}"
    assert free - said == set(), f"free but its source does not say 'calibrated': {sorted(free - said)}"


def test_hand_set_parameters_name_their_target_and_the_target_lists_them():
    """A parameter whose source says it was chosen for a calibration target appears in that target's
    set_by_hand (so the fit report cannot count the target as fitted)."""
    targets = {t.id: t for t in load_targets(CAL / "targets.toml")}
    for name, q in model_parameters().items():
        for tid in re.findall(r"calibration target (\w+)", str(q["source"])):
            assert tid in targets, f"{name}: names unknown target {tid}"
            assert name in targets[tid].set_by_hand, f"{name} was set by hand for {tid}, which does not list it"


def test_basis_of_a_target_follows_the_free_set():
    """Listing a parameter makes a target set by hand / by construction, unless the calibration estimated it."""
    t = {x.id: x for x in load_targets(CAL / "targets.toml")}
    personnel = t["rd_personnel_per_10k_2020"]
    assert personnel.basis(set(), True) == ("by construction", ("rd_cost_per_fte",))
    assert personnel.basis({"rd_cost_per_fte"}, True) == ("fitted", ())
    assert t["rd_intensity_2020"].basis(set(), False) == ("predicted", ())
    literacy = t["science_literacy_2020"]  # by construction outranks set by hand
    assert literacy.basis({"literacy_2015"}, True) == ("set by hand", ("literacy_spend_rate",))


def test_headline_counts_only_fitted_and_predicted(tmp_path):
    targets = load_targets(CAL / "targets.toml")
    in_objective = {t.id for t in targets}
    exact = {t.id: 0.0 for t in targets}  # every target hit exactly
    lines = "\n".join(classification_lines(targets, set(), in_objective, exact, "test"))
    plan = [t for t in targets if t.group == "plan_2020"]
    claim = [t for t in plan if t.basis(set(), True)[0] == "fitted"]
    assert 0 < len(claim) < len(plan)
    assert f"**{len(claim)} of {len(claim)}** fitted or predicted plan indicators" in lines
    # a hand-set target's error does not enter the claim; a fitted target's does
    hand = next(t for t in plan if t.basis(set(), True)[0] == "set by hand")
    fitted = claim[0]
    worse = "\n".join(classification_lines(targets, set(), in_objective, {**exact, hand.id: 0.5}, "test"))
    assert f"**{len(claim)} of {len(claim)}** fitted" in worse
    worse = "\n".join(classification_lines(targets, set(), in_objective, {**exact, fitted.id: 0.5}, "test"))
    assert f"**{len(claim) - 1} of {len(claim)}** fitted" in worse


def test_shipped_fit_report_carries_the_classification_of_its_calibration(tmp_path):
    """The section in calibration/fit_report.md is what the generator makes from calibrated.toml and targets.toml."""
    report = tmp_path / "fit_report.md"
    report.write_text((CAL / "fit_report.md").read_text(encoding="utf-8"), encoding="utf-8")
    reclassify_report(report, CAL / "calibrated.toml", CAL / "targets.toml")
    assert report.read_text(encoding="utf-8") == (CAL / "fit_report.md").read_text(encoding="utf-8"), (
        "regenerate: python -c \"from qhsim.calibration.report import reclassify_report as r; "
        "r('calibration/fit_report.md', 'calibration/calibrated.toml', 'calibration/targets.toml')\"")
    assert "| targets fitted |" not in report.read_text(encoding="utf-8")
    # without validation runs (the validation column empty) the section says it judged the calibration-seed means
    rows = [line if not line.startswith("| ") or line.count("|") != 14 or "---" in line or "validation mean" in line
            else "|".join(c if i != 11 else " — " for i, c in enumerate(line.split("|")))
            for line in report.read_text(encoding="utf-8").splitlines()]
    report.write_text("\n".join(rows), encoding="utf-8")
    reclassify_report(report, CAL / "calibrated.toml", CAL / "targets.toml")
    text = report.read_text(encoding="utf-8")
    assert "judged on the calibration-seed means printed below" in text and "judged on the validation means" not in text


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ('set_by_hand = ["no_such_parameter"]\nconstruction_note = "x"\n', "set_by_hand = 'no_such_parameter': unknown"),
        ('set_by_hand = ["policy.research_funding"]\nconstruction_note = "x"\n', "set_by_hand = 'policy.research_funding': unknown"),
        ('by_construction = ["rd_cost_per_fte"]\n', "construction_note"),
        ('set_by_hand = "rd_cost_per_fte"\nconstruction_note = "x"\n', "expected a list"),
    ],
)
def test_malformed_classification_raises_input_error(tmp_path, extra, needle):
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[target]]\nid = "t"\nindicator = "rd_intensity"\nregion = "province"\nyear = 2020\nvalue = 0.71\n'
        f'unit = "%"\nsource = "s"\ntolerance = 0.03\ngroup = "plan_2020"\n{extra}',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_targets(path)
    msg = str(err.value)
    assert str(path) in msg and needle in msg and "\n" not in msg


def test_reclassify_reads_validation_means(tmp_path):
    """The rewritten section uses the report's validation column (not the calibration-seed mean)."""
    text = (CAL / "fit_report.md").read_text(encoding="utf-8")
    rows = (line.strip("|").split("|") for line in text.splitlines() if line.startswith("| rd_intensity_2020 |"))
    cells = next([c.strip() for c in r] for r in rows if len(r) == 13)  # the "Every target" table
    validation = float(cells[10].split(" ± ")[0])
    section = text[text.index("## How each target is met"):]
    got = next(line for line in section.splitlines() if line.startswith("| rd_intensity_2020 |"))
    assert f"{(validation - 0.71) / 0.71:+.1%}" in got
    assert not math.isclose(float(cells[6]), validation)


# ---------------------------------------------------------------------------------------------------
# provenance: which model the shipped calibration was estimated on


def test_model_fingerprint_covers_the_model_code_and_data_only():
    paths = ["model.py", "firms/rd.py", "data/behaviour.toml", "data/README.md", "calibration/report.py",
             "output/store.py", "cli.py", "evidence.py", "knowledge/cli.py", "data/__init__.py", "sub/data/x.toml"]
    files = [p.as_posix() for p in model_files(paths)]
    assert files == ["data/__init__.py", "firms/rd.py", "knowledge/cli.py", "model.py", "data/behaviour.toml"]
    content = {Path(p): p.encode() for p in files}
    base = fingerprint_of(model_files(paths), content.__getitem__)
    for changed in files:  # any byte of any model file, code or data, changes the fingerprint
        assert fingerprint_of(model_files(paths), lambda rel: content[rel] + (b"!" if rel.as_posix() == changed else b"")) != base
    assert len(model_fingerprint()) == 64


def test_model_commit_finds_the_commit_whose_files_a_calibration_used():
    """A commit may land while a calibration runs: the commit recorded is the one whose model files give the
    fingerprint the run started with, not whatever HEAD is when it writes; an unknown fingerprint gives ""."""
    try:
        commits = subprocess.run(["git", "log", "-n2", "--format=%H", "--", "qhsim"], cwd=ROOT, capture_output=True,
                                 check=True, text=True).stdout.split()
        older = model_fingerprint_at(commits[-1])
    except (OSError, subprocess.CalledProcessError, IndexError):
        pytest.skip("needs the git history of the repository (CI's fresh clone has it)")
    found = model_commit(older)
    assert found and model_fingerprint_at(found) == older
    assert model_commit("0" * 64) == ""


def test_shipped_calibration_names_the_commit_of_its_model():
    """calibrated.toml's model_fingerprint is the content hash of the model files at its model_commit."""
    import tomllib

    meta = tomllib.loads((CAL / "calibrated.toml").read_text(encoding="utf-8"))["meta"]
    assert len(meta["model_fingerprint"]) == 64 and len(meta["model_commit"]) == 40
    try:
        again = model_fingerprint_at(meta["model_commit"])
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs the git history of the repository (CI's fresh clone has it)")
    assert again == meta["model_fingerprint"]


def test_seed_sd_of_a_deterministic_indicator_prints_as_zero():
    """Literacy is the same in every seed up to summation order: its 1e-16 sd is rounding, printed 0; a real seed
    spread keeps its 3 significant digits, and a missing one its dash."""
    assert fmt_sd(9.73e-16, 5.42) == "0"
    assert fmt_sd(0.0295, 0.764) == "0.0295"
    assert fmt_sd(float("nan"), 1.0) == "—"
