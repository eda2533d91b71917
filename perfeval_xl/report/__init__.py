"""Report layer: Result → narrative Word report 整体支出绩效评价报告 (→ PDF).

Public API (used by the CLI, the Excel macros and the batch command)::

    build_context(result, *, charts=True, tpl=None) -> dict
    default_report_name(result) -> str
    render_report(result, out_path, *, template=None, pdf=False, strict=False,
                  charts=True) -> ReportOutcome
    convert_to_pdf(docx_path, out_dir=None) -> Path
    PdfUnavailable, ReportError, ReportOutcome

Only this package imports docxtpl and python-pptx (for the native charts), and only inside
functions, so importing it stays cheap (``perfeval-xl --help`` and Excel UDF calls never pay
for them). matplotlib is not used: the charts are drawn by Word, WPS or LibreOffice.
"""

from perfeval_xl.report.context import build_context
from perfeval_xl.report.pdf import PdfUnavailable, convert_to_pdf
from perfeval_xl.report.render import (
    ReportError,
    ReportOutcome,
    default_report_name,
    outcome_notes,
    render_report,
)


def preload() -> None:
    """Import the rendering libraries, build the sandboxed Jinja environment and read the
    built-in template now (a batch worker calls this once, so each workbook it renders pays
    only for its own work; the template compiles on the first render and is kept)."""
    import docxtpl  # noqa: F401
    import pptx.chart.chart  # noqa: F401
    import pptx.chart.data  # noqa: F401
    import pptx.chart.xmlwriter  # noqa: F401

    from perfeval_xl.report import render, sandbox

    sandbox.environment()
    render.default_template()


__all__ = [
    "PdfUnavailable",
    "preload",
    "ReportError",
    "ReportOutcome",
    "build_context",
    "convert_to_pdf",
    "default_report_name",
    "outcome_notes",
    "render_report",
]
