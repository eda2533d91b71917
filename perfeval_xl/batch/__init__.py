"""Batch door (issue #5): a finance bureau runs one command over every department's
self-evaluation workbook and gets scored copies, reports and one 汇总表.xlsx.

Public API::

    run_batch(in_dir, out_dir, *, jobs=None, pdf=False, report=True, force=False,
              progress=True, stream=None) -> BatchResult
    discover(in_dir, out_dir=None) -> list[str]
    BatchError, BatchResult, WorkbookRecord, Failure

Importing this package is cheap; openpyxl, docxtpl and matplotlib load only when a
workbook is processed, pandas only when 汇总表.xlsx is made (never in a worker), and
LibreOffice runs in chunks after the workbooks are done (``--pdf``).
"""

from perfeval_xl.batch.runner import (
    MANIFEST_NAME,
    SUMMARY_NAME,
    BatchError,
    BatchResult,
    discover,
    run_batch,
)
from perfeval_xl.batch.summary import Failure, WorkbookRecord

__all__ = [
    "MANIFEST_NAME",
    "SUMMARY_NAME",
    "BatchError",
    "BatchResult",
    "Failure",
    "WorkbookRecord",
    "discover",
    "run_batch",
]
