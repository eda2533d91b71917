"""(Re)build the committed macro workbooks under ``workbooks/``, or check they are up to date.

    python -m perfeval_xl.excel.artifacts            # rebuild every .xlsm
    python -m perfeval_xl.excel.artifacts --check    # exit 1 and name stale files

Builds are deterministic (``xlsm.xlsm_bytes``), so "up to date" means byte-identical to a
fresh build with the same installed xlwings (its VBA is copied in at build time).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from openpyxl import Workbook

from perfeval_xl.artifacts import REPO, ArtifactSet
from perfeval_xl.excel import xlsm
from perfeval_xl.workbook import artifacts as xlsx_artifacts

# The same workbooks as the .xlsx artifacts, each with the macro project and ribbon added.
ARTIFACTS: dict[str, Callable[[], Workbook]] = {
    name.removesuffix(".xlsx") + ".xlsm": make for name, make in xlsx_artifacts.ARTIFACTS.items()}

DEFAULT_DIR = REPO / "workbooks"
ARTIFACT_SET = ArtifactSet(
    "macro workbooks", "perfeval_xl.excel.artifacts", DEFAULT_DIR,
    lambda: {name: xlsm.xlsm_bytes(make()) for name, make in ARTIFACTS.items()})
fresh, stale, write_all, main = (ARTIFACT_SET.fresh, ARTIFACT_SET.stale, ARTIFACT_SET.write_all,
                                 ARTIFACT_SET.main)

if __name__ == "__main__":
    sys.exit(main())
