"""(Re)build the committed macro workbooks under ``workbooks/``, or check they are up to date.

    python -m perfeval_xl.excel.artifacts            # rebuild every .xlsm
    python -m perfeval_xl.excel.artifacts --check    # exit 1 and name stale files

Builds are deterministic (``xlsm.xlsm_bytes``), so "up to date" means byte-identical to a
fresh build with the same installed xlwings (its VBA is copied in at build time).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from perfeval_xl import files
from perfeval_xl.excel import xlsm
from perfeval_xl.workbook import builder

# File name -> how to build its openpyxl workbook.
ARTIFACTS: dict[str, Callable[[], Workbook]] = {
    "blank_mof2013.xlsm": lambda: builder.build("mof2013"),
    "blank_hunan.xlsm": lambda: builder.build("hunan"),
    "blank_perf2020.xlsm": lambda: builder.build("perf2020"),
    "sample_quwo_2021.xlsm": lambda: builder.build_sample("quwo2021"),
}

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "workbooks"


def fresh() -> dict[str, bytes]:
    """Every macro workbook freshly built: file name -> bytes."""
    return {name: xlsm.xlsm_bytes(make()) for name, make in ARTIFACTS.items()}


def stale(folder: Path = DEFAULT_DIR) -> list[str]:
    """Names of the artifacts in ``folder`` that are missing or differ from a fresh build."""
    out = []
    for name, data in fresh().items():
        path = Path(folder) / name
        if not path.is_file() or path.read_bytes() != data:
            out.append(name)
    return out


def write_all(folder: Path = DEFAULT_DIR) -> list[Path]:
    """Rebuild every macro workbook into ``folder`` (atomic writes); returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [files.atomic_write(folder / name, data) for name, data in fresh().items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m perfeval_xl.excel.artifacts",
        description="Rebuild the committed macro workbooks, or check they match a fresh build.")
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 when a file is missing or stale")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help=f"artifact folder (default {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.dir)
        if names:
            print("stale macro workbooks (run python -m perfeval_xl.excel.artifacts): "
                  + ", ".join(str(args.dir / n) for n in names), file=sys.stderr)
            return 1
        print(f"macro workbooks up to date in {args.dir}", file=sys.stderr)
        return 0
    for path in write_all(args.dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
