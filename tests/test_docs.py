"""Documentation stays true: README set-up commands, CI entry point, ODD parameter table."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qhsim import data

from conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Set up and go.*?```sh\n(.*?)```", text, re.S)
    assert block, "README has a 'Set up and go' sh block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_has_exactly_two_commands_and_ci_uses_the_test_one() -> None:
    assert readme_commands() == ["make baseline", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "qhsim run scenarios/baseline.toml" in makefile


def test_every_parameter_documented_in_odd() -> None:
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    for name, q in data.quantities("behaviour").items():
        assert f"| `{name}` | {q['value']} |" in odd, f"docs/ODD.md §7.9 lacks {name} = {q['value']}"


def test_baseline_command_light(tmp_path: Path) -> None:
    """The README's baseline job through the same CLI, at a small scale: table on screen, every file written."""
    out = tmp_path / "baseline"
    proc = subprocess.run(
        [sys.executable, "-m", "qhsim.cli", "run", str(ROOT / "scenarios" / "baseline.toml"),
         "--out", str(out), "--scale", "0.05", "--end-year", "2027"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    label = data.load("indicators")["rd_intensity"]
    assert label["zh"] in proc.stdout and label["en"] in proc.stdout
    for name in ("indicators.csv", "indicators.parquet", "summary.txt", "manifest.json"):
        assert (out / name).is_file(), name
    assert any((out / "charts").glob("*.png"))


@pytest.mark.slow
def test_make_baseline_full(tmp_path: Path) -> None:
    """`make baseline` itself, at full scale, using the project environment that `make test` created."""
    if not (ROOT / ".venv" / "bin" / "qhsim").exists() or shutil.which("make") is None:
        pytest.skip("needs the project environment created by `make test`")
    proc = subprocess.run(["make", "-s", "baseline"], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr
    assert (ROOT / "results" / "baseline" / "manifest.json").is_file()
