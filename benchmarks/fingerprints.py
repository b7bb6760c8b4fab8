"""Fingerprints 结果指纹 of the indicator tables of a few runs, to check that a speed-up changes no result.

    python benchmarks/fingerprints.py --save before.json    # on the code before the change
    python benchmarks/fingerprints.py --check before.json   # after it: every table must be byte-identical

Each case is a (scenario, seed, scale, end year, population seed), policy variants and prefecture rows
included (the fingerprint covers every row and column of ``RunResult.indicators``, with its dtypes).
A change meant to alter behaviour changes the fingerprints; this is for the changes that must not.
A change that adds an output column: ``--check before.json --without NEW_COLUMN`` hashes the tables without it.
A change to what the initial state reports (end-2015): ``--from-year 2016`` hashes the simulated years only (save and
check with the same options).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qhsim  # noqa: E402,F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)
import pandas as pd  # noqa: E402

from qhsim.runner import run  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402

# scenario, seed (None: the scenario's), scale, end year, population seed (None: the scenario's)
CASES = (
    ("baseline", None, 1.0, 2035, None),
    ("baseline", 3, 0.25, 2020, None),
    ("super_deduction_120", 2, 0.5, 2035, None),
    ("more_ex_ante_grants", 4, 0.25, 2030, 5),
    ("talent_grants_doubled", 5, 0.3, 2030, None),
    ("rd_reward_province_wide", 6, 1.0, 2025, None),
    ("tech_transfer_subsidy", 7, 0.2, 2035, 9),
    ("vouchers_expanded", 8, 0.2, 2035, None),
)


def fingerprint(table: pd.DataFrame) -> str:
    digest = hashlib.sha256(json.dumps([list(table.columns), [str(t) for t in table.dtypes]]).encode())
    digest.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def fingerprints(without: tuple[str, ...] = (), from_year: int | None = None) -> dict[str, str]:
    out = {}
    for name, seed, scale, end, population_seed in CASES:
        started = time.perf_counter()
        result = run(ROOT / "scenarios" / f"{name}.toml", seed=seed, scale=scale, end_year=end,
                     population_seed=population_seed)
        key = f"{name} seed={seed} scale={scale:g} end={end} population_seed={population_seed}"
        table = result.indicators.drop(columns=list(without), errors="ignore")
        if from_year is not None:
            table = table[table["year"] >= from_year]
        out[key] = fingerprint(table)
        print(f"{key:72s} {out[key]}  {time.perf_counter() - started:5.2f} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, help="write the fingerprints to this JSON file")
    action.add_argument("--check", type=Path, help="compare with the fingerprints in this JSON file")
    parser.add_argument("--without", default="", help="comma-separated columns left out of the tables (new ones)")
    parser.add_argument("--from-year", type=int, default=None, help="hash the rows of this year on only")
    args = parser.parse_args(argv)
    got = fingerprints(tuple(c for c in args.without.split(",") if c), args.from_year)
    if args.save:
        args.save.write_text(json.dumps(got, indent=1) + "\n")
        return 0
    want = json.loads(args.check.read_text())
    differ = [key for key in want if got.get(key) != want[key]]
    print("identical" if not differ else f"DIFFERENT: {len(differ)} of {len(want)}: {', '.join(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    run_script(main)
