"""Benchmark of the core engine as ratios against floors measured in the same run.

    python benchmarks/bench_core.py [--repeat 15]

- score: in-process `score` of the sample (open, read, compute, validate, write, save)
  divided by a bare openpyxl load + save of the same workbook (aim ≤ 1.5×); the open and
  write split against the openpyxl path is in bench_io.py;
- cli:   `perfeval-xl --version` process time divided by `python -c pass` (aim ≤ 4×).
Medians of N runs; absolute times are printed for context only.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import interleaved_medians, median_time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    from openpyxl import load_workbook

    from perfeval_xl import engine
    from perfeval_xl.workbook.builder import build_sample, workbook_bytes
    from perfeval_xl.workbook.writer import scored_bytes

    tmp = Path(tempfile.mkdtemp())
    sample = tmp / "sample.xlsx"
    sample.write_bytes(workbook_bytes(build_sample()))

    def floor():
        wb = load_workbook(sample)
        wb.save(io.BytesIO())

    def pipeline():  # what `score` does: package XML in, target cells patched out
        wb = engine.load(sample)
        result = engine.evaluate(sample, wb=wb)
        scored_bytes(wb, result, tmp / "scored.xlsx", source=sample)

    pipeline()  # warm imports and caches for both
    floor()
    f, p = interleaved_medians([floor, pipeline], args.repeat)
    print(f"score: pipeline {p * 1000:.1f} ms / floor (openpyxl load+save) {f * 1000:.1f} ms "
          f"= {p / f:.2f}x (aim <= 1.5x)")

    def proc(cmd):
        return lambda: subprocess.run(cmd, check=True, capture_output=True)

    base = median_time(proc([sys.executable, "-c", "pass"]), args.repeat)
    ver = median_time(proc([sys.executable, "-m", "perfeval_xl", "--version"]), args.repeat)
    print(f"cli: --version {ver * 1000:.1f} ms / python -c pass {base * 1000:.1f} ms "
          f"= {ver / base:.2f}x (aim <= 4x)")


if __name__ == "__main__":
    main()
