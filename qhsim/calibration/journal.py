"""On-disk journal of evaluations 评估日志: append-only JSON Lines, safe if the process is killed.

Line 1 is a header that records what determines a simulated value (model fingerprint, scenario, scale,
end year, the cells recorded). Every later line is one finished evaluation, written in one ``write`` and
flushed to disk before the next starts. Evaluations are looked up by their key, a hash of (parameters,
policy settings, seeds): a journaled evaluation is reused whenever the same inputs come up again, and
never otherwise, so a resumed run cannot pick up a stale value even if the algorithm's settings changed.
A process killed mid-line leaves at most one truncated last line, which ``Journal`` drops on reopening.
Floats are written with ``repr`` precision, so a value read back is bit-identical to the value computed:
a resumed calibration replays the same path exactly.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qhsim.errors import InputError

FORMAT = "qhsim-calibration-journal/1"


class Journal:
    """Evaluations by key. ``resume=False`` starts a new journal (an old one is kept as ``*.prev``)."""

    def __init__(self, path: str | Path, header: dict[str, Any], resume: bool = False):
        self.path = Path(path)
        self.header = {"format": FORMAT, **header}
        self.records: dict[str, dict[str, Any]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            self._load()
        else:
            if self.path.exists():
                os.replace(self.path, self.path.with_suffix(self.path.suffix + ".prev"))
            with self.path.open("w", encoding="utf-8") as fh:
                fh.write(json.dumps({"type": "header", **self.header}, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        self._fh = self.path.open("a", encoding="utf-8")

    def _load(self) -> None:
        raw = self.path.read_bytes()
        good_end = 0  # byte offset just after the last complete, parseable line
        pos = 0
        n = 0
        while pos < len(raw):
            nl = raw.find(b"\n", pos)
            complete = nl >= 0
            end = nl + 1 if complete else len(raw)
            line = raw[pos:end].strip()
            n += 1
            if line:
                try:
                    rec = json.loads(line) if complete else None
                except json.JSONDecodeError:
                    rec = None
                if rec is None:
                    if raw[end:].strip():
                        raise InputError(
                            f"{self.path}: line {n}: not valid JSON; the journal is damaged (run without --resume to start afresh)"
                        )
                    break  # the last line was cut short by a kill: drop it
                if n == 1:
                    self._check_header(rec)
                elif rec.get("type") == "eval":
                    self.records[rec["key"]] = rec
            good_end = end
            pos = end
        if good_end == 0:
            raise InputError(f"{self.path}: no header line; run without --resume to start afresh")
        if good_end < len(raw):
            with self.path.open("r+b") as fh:  # cut the torn tail so appends start on a fresh line
                fh.truncate(good_end)

    def _check_header(self, rec: dict[str, Any]) -> None:
        if rec.get("type") != "header" or rec.get("format") != FORMAT:
            raise InputError(f"{self.path}: line 1: not a qhsim calibration journal (format {FORMAT})")
        for key, value in self.header.items():
            if rec.get(key) != value:
                raise InputError(
                    f"{self.path}: header.{key}: the journal was written with a different {key} "
                    f"(model code or data, scenario, scale, end year or target cells changed); run without --resume to start afresh"
                )

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: str) -> dict[str, Any] | None:
        """The journaled evaluation with this key (parameters, policy, seeds), or None."""
        return self.records.get(key)

    def append(self, record: dict[str, Any]) -> None:
        rec = {"type": "eval", **record}
        self._fh.write(json.dumps(rec, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.records[rec["key"]] = rec

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Header and evaluation records (by key) of a journal, without checking the header."""
    header: dict[str, Any] = {}
    records: dict[str, dict[str, Any]] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break
            if rec.get("type") == "header":
                header = rec
            elif rec.get("type") == "eval":
                records[rec["key"]] = rec
    return header, records


def same_cells(a: dict[str, list[float]], b: dict[str, list[float]]) -> bool:
    """Bit-identical cell values (NaN equals NaN)."""
    return a.keys() == b.keys() and all(
        len(a[c]) == len(b[c]) and all(x == y or (x != x and y != y) for x, y in zip(a[c], b[c])) for c in a)


def rekey(path: str | Path, header: dict[str, Any], rerun: Callable[[list[dict[str, Any]]], list[dict[str, list[float]]]],
          n: int, seed: int = 0) -> tuple[str, int]:
    """Carry a journal over to changed model code that gives the same results: re-run ``n`` randomly chosen
    evaluations (``rerun``: records -> their cells with the current code) and, if every one is bit-identical,
    rewrite the header's model fingerprint to ``header["model"]`` (atomically). Everything else in the header must
    already match ``header``. Returns (old fingerprint, evaluations checked); raises ``InputError`` otherwise."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no journal to re-key")
    old, records = read_records(path)
    for key, value in {"format": FORMAT, **header}.items():
        if key != "model" and old.get(key) != value:
            raise InputError(f"{path}: header.{key}: differs from the current setting; re-keying only carries a journal "
                             "over to changed model code (run without --resume to start afresh)")
    evals = sorted(records.values(), key=lambda r: r["key"])
    picked = random.Random(seed).sample(evals, min(n, len(evals)))
    for rec, cells in zip(picked, rerun(picked)):
        if not same_cells(rec["cells"], cells):
            raise InputError(f"{path}: evaluation {rec['id']} (key {rec['key'][:12]}) gives different results with the "
                             "current model code: the journal cannot be re-keyed (run without --resume to start afresh)")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = json.dumps({**old, "model": header["model"]}, sort_keys=True) + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return str(old.get("model", "")), len(picked)
