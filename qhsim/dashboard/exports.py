"""Downloads 导出 of a dashboard run through the output layer (``qhsim.output``): the indicators CSV, the Excel
workbook and the self-contained HTML report that ``qhsim run`` / ``qhsim export`` write, as bytes for the browser."""

from __future__ import annotations

import io

import pandas as pd

from qhsim import data
from qhsim.output.html_report import render_html
from qhsim.output.store import readable_csv
from qhsim.output.tidy import from_run
from qhsim.output.workbook import workbook
from qhsim.results import RunResult


def csv(indicators: pd.DataFrame, keys: list[str] | None = None) -> bytes:
    """The run's indicators as a run folder's indicators.csv writes them (``readable_csv``: bilingual headers with
    units, the regions' bilingual names, values rounded to 6 significant digits, UTF-8 with BOM); ``keys``: only those
    indicators, after the year, region and run columns."""
    known = data.load("indicators")
    table = indicators if keys is None else indicators[[c for c in indicators.columns if c not in known or c in keys]]
    buf = io.BytesIO()
    readable_csv(table, buf)
    return buf.getvalue()


def xlsx(result: RunResult) -> bytes:
    buf = io.BytesIO()
    workbook(from_run(result)).save(buf)
    return buf.getvalue()


def html(result: RunResult) -> bytes:
    return render_html(from_run(result)).encode("utf-8")
