"""Committed build outputs (workbooks/*.xlsx|xlsm, templates/report_template.docx) and the
one mechanism that rebuilds them or checks that they are byte-identical to a fresh build.

    python -m perfeval_xl.artifacts            # rebuild everything
    python -m perfeval_xl.artifacts --check    # exit 1 and name stale files
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from perfeval_xl import files

REPO = Path(__file__).resolve().parents[1]


class ArtifactSet:
    """A named group of files in one folder, each built by a function returning bytes."""

    def __init__(self, title: str, module: str, folder: Path,
                 build: Callable[[], dict[str, bytes]]):
        self.title, self.module, self.folder, self._build = title, module, folder, build
        self._fresh: dict[str, bytes] | None = None

    def fresh(self) -> dict[str, bytes]:
        """Every file freshly built (once per process): file name -> bytes."""
        if self._fresh is None:
            self._fresh = self._build()
        return dict(self._fresh)

    def stale(self, folder: Path | None = None) -> list[str]:
        """Names of the files in ``folder`` that are missing or differ from a fresh build."""
        folder = Path(folder or self.folder)
        return [name for name, data in self.fresh().items()
                if not (folder / name).is_file() or (folder / name).read_bytes() != data]

    def write_all(self, folder: Path | None = None) -> list[Path]:
        """Rebuild every file into ``folder`` (atomic writes); returns the paths."""
        folder = Path(folder or self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [files.atomic_write(folder / name, data) for name, data in self.fresh().items()]

    def main(self, argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(
            prog=f"python -m {self.module}",
            description=f"Rebuild the committed {self.title}, or check they match a fresh build.")
        parser.add_argument("--check", action="store_true",
                            help="only compare; exit 1 when a file is missing or stale")
        parser.add_argument("--dir", type=Path, default=self.folder,
                            help=f"artifact folder (default {self.folder})")
        args = parser.parse_args(argv)
        if args.check:
            names = self.stale(args.dir)
            if names:
                print(f"stale {self.title} (run python -m {self.module}): "
                      + ", ".join(str(args.dir / n) for n in names), file=sys.stderr)
                return 1
            print(f"{self.title} up to date in {args.dir}", file=sys.stderr)
            return 0
        for path in self.write_all(args.dir):
            print(path)
        return 0


def all_sets() -> list[ArtifactSet]:
    from perfeval_xl.excel import artifacts as xlsm_artifacts
    from perfeval_xl.report import template_builder
    from perfeval_xl.workbook import artifacts as xlsx_artifacts

    return [xlsx_artifacts.ARTIFACT_SET, xlsm_artifacts.ARTIFACT_SET,
            template_builder.ARTIFACT_SET]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return max(s.main(argv) for s in all_sets())


if __name__ == "__main__":
    sys.exit(main())
