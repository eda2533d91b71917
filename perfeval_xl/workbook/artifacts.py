"""(Re)build the committed workbooks under ``workbooks/``, or check they are up to date.

    python -m perfeval_xl.workbook.artifacts            # rebuild every artifact
    python -m perfeval_xl.workbook.artifacts --check    # exit 1 and name stale files

Builds are deterministic (``builder.workbook_bytes``), so "up to date" means byte-identical
to a fresh build.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from openpyxl import Workbook

from perfeval_xl.artifacts import REPO, ArtifactSet
from perfeval_xl.workbook import builder

# File name -> how to build it.
ARTIFACTS: dict[str, Callable[[], Workbook]] = {
    "blank_mof2013.xlsx": lambda: builder.build("mof2013"),
    "blank_hunan.xlsx": lambda: builder.build("hunan"),
    "blank_perf2020.xlsx": lambda: builder.build("perf2020"),
    "sample_quwo_2021.xlsx": lambda: builder.build_sample("quwo2021"),
}

DEFAULT_DIR = REPO / "workbooks"
ARTIFACT_SET = ArtifactSet(
    "workbook artifacts", "perfeval_xl.workbook.artifacts", DEFAULT_DIR,
    lambda: {name: builder.workbook_bytes(make()) for name, make in ARTIFACTS.items()})
fresh, stale, write_all, main = (ARTIFACT_SET.fresh, ARTIFACT_SET.stale, ARTIFACT_SET.write_all,
                                 ARTIFACT_SET.main)

if __name__ == "__main__":
    sys.exit(main())
