"""Benchmark of the Excel UDFs, in-process (no Excel here; the COM round trip is not included).

    python benchmarks/bench_udf.py [--repeat 2000]

- per-call cost of each UDF (plain functions behind @xw.func);
- recomputing every indicator of the sample through UDF calls (PE_INDICATOR + PE_SCORE +
  PE_RULE_TEXT per row, as the 自评表's live columns do) divided by one engine call that
  scores the whole workbook (scoring.score_all on the same Evaluation) (aim ≤ 2×);
- import time of perfeval_xl.excel.udfs on top of `import xlwings` (which the UDF server has
  loaded anyway), and whether it pulls pandas/docxtpl/matplotlib beyond what xlwings does.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_PROBE = r"""
import sys, time
import xlwings
before = set(sys.modules)
t = time.perf_counter()
import perfeval_xl.excel.udfs
dt = time.perf_counter() - t
new = set(sys.modules) - before
heavy = sorted(m for m in new if m.split('.')[0] in ('pandas', 'docxtpl', 'matplotlib', 'docx'))
print(f"{dt * 1000:.1f} {','.join(heavy) or '-'}")
"""


def per_call(fn, args, repeat: int) -> float:
    fn(*args)
    t = time.perf_counter()
    for _ in range(repeat):
        fn(*args)
    return (time.perf_counter() - t) / repeat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2000)
    args = ap.parse_args()

    from perfeval_xl import engine, indicators, scoring
    from perfeval_xl.excel import udfs
    from perfeval_xl.workbook.builder import build_sample, workbook_bytes

    tmp = Path(tempfile.mkdtemp())
    sample = tmp / "sample.xlsx"
    sample.write_bytes(workbook_bytes(build_sample()))
    result = engine.evaluate(sample)
    ev = result.evaluation
    values = scoring.input_values(ev)

    def arg(v):
        return None if v is None else float(v)

    cases = {
        "PE_RATE": (udfs.PE_RATE, (734.63, 747.43)),
        "PE_INDICATOR": (udfs.PE_INDICATOR, ("budget_completion_rate",
                                             *[arg(values[n]) for n in
                                               indicators.input_names("budget_completion_rate")])),
        "PE_SCORE": (udfs.PE_SCORE, (98.29, "阶梯扣分(基准=100,方向=低于,步长=5,每步=1)", 5)),
        "PE_RULE_TEXT": (udfs.PE_RULE_TEXT, ("逐点扣分(基准=100,方向=高于,每点=0.5)", 3)),
        "PE_GRADE": (udfs.PE_GRADE, (94.88,)),
    }
    for name, (fn, a) in cases.items():
        print(f"{name}: {per_call(fn, a, args.repeat) * 1e6:.1f} µs per call")

    calls = []
    for row in ev.rows:
        w = float(row.weight) if row.weight is not None else None
        if row.kind == "rate":
            ins = [arg(values[n]) for n in indicators.input_names(row.code)]
            calls.append(("rate", row.code, ins, row.rule_text, w))
        elif row.kind == "custom":
            calls.append(("custom", row.actual, row.target, row.rule_text, w, row.direction))
        else:
            calls.append(("manual", row.entered, row.rule_text, w))

    def via_udfs():
        for c in calls:
            if c[0] == "rate":
                v = udfs.PE_INDICATOR(c[1], *c[2])
                udfs.PE_SCORE(v, c[3], c[4])
                udfs.PE_RULE_TEXT(c[3], c[4])
            elif c[0] == "custom":
                udfs.PE_SCORE(arg(c[1]), c[3], c[4], arg(c[2]), c[5])
                udfs.PE_RULE_TEXT(c[3], c[4], "")
            else:
                udfs.PE_SCORE(c[1] if isinstance(c[1], str) else arg(c[1]), c[2], c[3])
                udfs.PE_RULE_TEXT(c[2], c[3], "")

    def via_engine():
        scoring.score_all(ev)

    n = max(20, args.repeat // 50)
    u = statistics.median(per_call(via_udfs, (), 5) for _ in range(n // 5 or 1))
    e = statistics.median(per_call(via_engine, (), 5) for _ in range(n // 5 or 1))
    print(f"all {len(calls)} rows: via UDFs {u * 1000:.2f} ms / one engine call {e * 1000:.2f} ms "
          f"= {u / e:.2f}x (aim <= 2x)")

    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"import perfeval_xl.excel.udfs after xlwings: {out[0]} ms; heavy modules it adds: "
          f"{out[1]}")


if __name__ == "__main__":
    main()
