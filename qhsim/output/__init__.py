"""Outputs 输出: summary tables, charts and run folders (``write_run`` / ``read_run``)."""

from qhsim.output.charts import indicator_charts
from qhsim.output.report import format_summary, summary_report, summary_table
from qhsim.output.store import read_run, write_run

__all__ = ["format_summary", "indicator_charts", "read_run", "summary_report", "summary_table", "write_run"]
