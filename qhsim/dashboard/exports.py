"""Downloads 导出 of a dashboard run through the output layer (``qhsim.output``): the Excel workbook and the
self-contained HTML report that ``qhsim run`` / ``qhsim export`` write, as bytes for the browser."""

from __future__ import annotations

import io

from qhsim.output.html_report import render_html
from qhsim.output.tidy import from_run
from qhsim.output.workbook import workbook
from qhsim.results import RunResult


def xlsx(result: RunResult) -> bytes:
    buf = io.BytesIO()
    workbook(from_run(result)).save(buf)
    return buf.getvalue()


def html(result: RunResult) -> bytes:
    return render_html(from_run(result)).encode("utf-8")
