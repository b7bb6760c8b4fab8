"""Resumable stores: a sweep killed with kill -9 (or Ctrl-C) resumes to bit-identical results, no run lost
or duplicated; --out is checked before anything runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from qhsim.experiments.store import read_runs

from conftest import SCENARIOS

EXPERIMENT = '''
description = "resume"
scenario = "baseline.toml"
from_year = 2017
seeds = [1, 2, 3]
scale = 0.05
end_year = 2019
report_years = [2019]
[lever.vouchers]
path = "policy.vouchers.budget"
values = [0, 500, 1000, 2000, 4000, 8000]
[lever.sd]
paths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]
values = [0.5, 1.0]
'''
PLANNED = (1 + 6 * 2) * 3


def _experiment(tmp_path: Path) -> Path:
    for f in SCENARIOS.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def _sweep(exp: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "qhsim.cli", "sweep", str(exp), "--out", str(out)]


def _stop_midway(cmd: list[str], out: Path, sig: int) -> subprocess.CompletedProcess:
    """Start the sweep, wait for a few more finished runs, send ``sig``; the process must not have finished."""
    def done() -> int:
        return len(list((out / "runs").glob("*.parquet"))) if (out / "runs").is_dir() else 0

    before = done()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if done() >= before + 4:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def test_kill_9_and_ctrl_c_resume_to_identical_results(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    whole = tmp_path / "whole"
    assert subprocess.run(_sweep(exp, whole), capture_output=True, text=True).returncode == 0
    reference = read_runs(whole)

    out = tmp_path / "interrupted"
    killed = _stop_midway(_sweep(exp, out), out, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    done = len(list((out / "runs").glob("*.parquet")))
    assert 4 <= done < PLANNED  # killed midway: some runs on disk, not all
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "running"

    stopped = _stop_midway(_sweep(exp, out), out, signal.SIGINT)  # Ctrl-C during the resumed run
    assert stopped.returncode in (0, 130), stopped.stderr
    if stopped.returncode == 130:
        assert "resume" in stopped.stderr and "Traceback" not in stopped.stderr

    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
    final = subprocess.run(_sweep(exp, out), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert f"qhsim: 续跑 resuming: {len(stamps)} of {PLANNED} runs already in the store, {PLANNED - len(stamps)} to run" \
        in final.stderr.splitlines()
    files = list((out / "runs").glob("*.parquet"))
    assert len(files) == PLANNED and not list((out / "runs").glob(".*"))
    assert all(p.stat().st_mtime_ns == stamps[p.name] for p in files if p.name in stamps)  # nothing run twice
    resumed = read_runs(out)
    assert resumed["run_key"].nunique() == PLANNED
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)
    assert (out / "summary.csv").read_bytes() == (whole / "summary.csv").read_bytes()


def test_out_refused_before_any_run(tmp_path: Path) -> None:
    exp = _experiment(tmp_path)
    run_folder = tmp_path / "a_run"
    run_folder.mkdir()
    (run_folder / "manifest.json").write_text(json.dumps({"scenario_name": "baseline"}), encoding="utf-8")
    (tmp_path / "file.csv").write_text("x\n")
    for out, needle in ((tmp_path / "file.csv", "existing file"), (run_folder, "holds a qhsim run folder, not a sweep folder"),
                        (SCENARIOS, "not a qhsim results folder")):
        before = sorted(p.name for p in out.parent.iterdir()) if out.is_file() else sorted(os.listdir(out))
        proc = subprocess.run(_sweep(exp, out), capture_output=True, text=True)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        after = sorted(p.name for p in out.parent.iterdir()) if out.is_file() else sorted(os.listdir(out))
        assert before == after


def _store(out: Path, seeds: tuple[int, ...], scale: float = 0.05, fingerprint: str = "model-a"):
    from qhsim.experiments.spec import RunSpec
    from qhsim.experiments.store import Store

    specs = [RunSpec({"design": d}, s, scale, 2017) for d in ("base", "v") for s in seeds]
    labels = [{"design": d, "point": i, "draw": 0, "seed": s} for i, d in enumerate(("base", "v")) for s in seeds]
    experiment = {"base": "base", "designs": ["v"], "seeds": list(seeds), "scale": scale, "end_year": 2017,
                  "rank_by": "rd_per_yuan", "scenarios": {"base": {"a": 1}, "v": {"a": 2}}}
    return Store(out, "compare", experiment, specs, labels, fingerprint)


def test_a_store_of_another_experiment_is_refused_naming_what_differs(tmp_path: Path) -> None:
    """The refusal said "other designs, seeds, scale or model version" whatever differed; now it names it."""
    import pytest

    from qhsim.errors import InputError

    out = tmp_path / "store"
    _store(out, (1,)).open()
    manifest = (out / "manifest.json").read_bytes()
    for other, says in ((_store(out, (1, 2)), "seeds 1 → 1, 2"),
                        (_store(out, (1, 2), scale=0.1), "seeds 1 → 1, 2; scale 0.05 → 0.1"),
                        (_store(out, (1,), fingerprint="model-b"), "the model's data or calibration changed")):
        with pytest.raises(InputError) as refused:
            other.open()
        assert str(refused.value) == (f"{out}: holds the store of a different compare experiment ({says}); choose "
                                      "another --out or delete it")
    assert (out / "manifest.json").read_bytes() == manifest  # nothing touched
    assert _store(out, (1,)).open() == 0  # the same experiment resumes


def _marked(mark: str) -> list[int]:
    """Processes whose environment holds ``QHSIM_TEST_MARK=mark`` (a command and every process it started)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"QHSIM_TEST_MARK={mark}".encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="finds the workers through /proc (Linux)")
def test_workers_end_with_a_sweep_killed_with_kill_9(tmp_path: Path) -> None:
    """After ``kill -9`` of the sweep, its forkserver, two workers and the resource tracker lived on (850 MB) until
    killed by hand: the workers now end with the process that started them, and the forkserver with them."""
    exp = _experiment(tmp_path)
    mark = f"{os.getpid()}-{time.monotonic_ns()}"
    out = tmp_path / "store"
    proc = subprocess.Popen([*_sweep(exp, out), "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "QHSIM_TEST_MARK": mark})
    deadline = time.monotonic() + 300
    while len(_marked(mark)) < 4 and time.monotonic() < deadline:  # the sweep, the forkserver and two workers
        assert proc.poll() is None
        time.sleep(0.05)
    started = set(_marked(mark))
    assert len(started) >= 4
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 60
    while set(_marked(mark)) & started and time.monotonic() < deadline:
        time.sleep(0.1)
    left = set(_marked(mark)) & started
    for pid in left:  # not to leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left
