"""Open + write cost of one workbook: the package-XML path against the openpyxl path and
against the floor, as ratios measured in one run, interleaved (not a timed test).

    python benchmarks/bench_io.py [--repeat 15]

For the bundled sample (.xlsx and the .xlsm with VBA and ribbon), each round runs, in turn:

- floor: a bare openpyxl load + save of the same file;
- openpyxl path (before): ``engine.open_workbook`` (open), ``evaluate`` (evaluate), the
  plan applied with openpyxl and saved, ribbon carried over for .xlsm (write);
- XML path (now): ``engine.load`` + parsing the sheets the defined names point to (open),
  ``evaluate`` (evaluate), ``writer.scored_bytes`` patching only the target cells (write).

Medians per stage; the aim is open + write of the XML path < 0.5x the openpyxl path.
Absolute times are printed for context only (other processes on the machine skew them;
the ratios of interleaved rounds are what to compare).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    from openpyxl import load_workbook

    from perfeval_xl import engine
    from perfeval_xl.files import keep_ribbon
    from perfeval_xl.workbook.writer import (
        apply_plan_openpyxl,
        plan_writes,
        scored_bytes,
        workbook_to_bytes,
    )

    root = Path(__file__).resolve().parents[1] / "workbooks"
    tmp = Path(tempfile.mkdtemp())
    for name in ("sample_quwo_2021.xlsx", "sample_quwo_2021.xlsm"):
        path = tmp / name
        path.write_bytes((root / name).read_bytes())
        out = tmp / f"out{path.suffix}"
        xlsm = path.suffix == ".xlsm"

        def floor(path=path, xlsm=xlsm):
            t = time.perf_counter()
            wb = load_workbook(path, keep_vba=xlsm)
            wb.save(io.BytesIO())
            return {"total": time.perf_counter() - t}

        def before(path=path, xlsm=xlsm):
            t0 = time.perf_counter()
            wb = engine.open_workbook(path)
            t1 = time.perf_counter()
            result = engine.evaluate(path, wb=wb)
            t2 = time.perf_counter()
            apply_plan_openpyxl(wb, plan_writes(result))
            data = workbook_to_bytes(wb)
            if xlsm:
                data = keep_ribbon(path.read_bytes(), data)
            t3 = time.perf_counter()
            return {"open": t1 - t0, "evaluate": t2 - t1, "write": t3 - t2}

        def now(path=path, out=out):
            t0 = time.perf_counter()
            wb = engine.load(path)
            wb.source.parse_sheets()
            t1 = time.perf_counter()
            result = engine.evaluate(path, wb=wb)
            t2 = time.perf_counter()
            scored_bytes(wb, result, out, source=path)
            t3 = time.perf_counter()
            return {"open": t1 - t0, "evaluate": t2 - t1, "write": t3 - t2}

        runs = {"floor": floor, "before": before, "now": now}
        for fn in runs.values():  # warm imports and caches
            fn()
        samples: dict[str, list[dict]] = {k: [] for k in runs}
        for _ in range(args.repeat):
            for key, fn in runs.items():
                samples[key].append(fn())

        def med(key: str, stage: str, samples=samples) -> float:
            return statistics.median(s[stage] for s in samples[key])

        fl = med("floor", "total")
        b_ow = statistics.median(s["open"] + s["write"] for s in samples["before"])
        n_ow = statistics.median(s["open"] + s["write"] for s in samples["now"])
        print(f"{name}: floor (openpyxl load+save) {fl * 1000:.1f} ms")
        for key, label in (("before", "openpyxl path"), ("now", "XML path")):
            o, e, w = med(key, "open"), med(key, "evaluate"), med(key, "write")
            print(f"  {label:14s} open {o * 1000:6.1f} ms  evaluate {e * 1000:5.1f} ms  "
                  f"write {w * 1000:6.1f} ms  open+write = {(o + w) / fl:.2f}x floor")
        print(f"  open+write, XML path / openpyxl path = {n_ow / b_ow:.2f}x (aim < 0.5x)")


if __name__ == "__main__":
    main()
