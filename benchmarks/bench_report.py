"""Benchmark of report generation as ratios against floors measured in the same run.

    python benchmarks/bench_report.py [--repeat 7]

- process:    `perfeval-xl report SAMPLE -o OUT` divided by a bare `python` process doing the
  floor work once, imports included: openpyxl load of the workbook + docxtpl render/save of
  the built-in template with the report's context, no chart library (goal <= 1.5x);
- in-process: read + evaluate the sample + render the report (native charts included),
  divided by the same floor work in this process (aim <= 1.3x);
- the in-process split of one report: open, evaluate, context, render, charts, save.

Floor and report are timed interleaved (one slow spell of the machine hits both alike);
times are wall-clock medians, so a busy neighbour on the machine inflates both.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import interleaved_medians

FLOOR_SCRIPT = r'''
import io, pickle, sys
from openpyxl import load_workbook
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined
sample, template, frozen = sys.argv[1], sys.argv[2], sys.argv[3]
with open(frozen, "rb") as fh:
    ctx = pickle.load(fh)
load_workbook(sample)
tpl = DocxTemplate(template)
tpl.render(ctx, Environment(undefined=StrictUndefined, autoescape=True), autoescape=True)
tpl.save(io.BytesIO())
'''


def interleaved_wall_and_cpu(fns, repeat: int) -> tuple[list[float], list[float]]:
    """Median wall and child-process CPU times of functions that each run one process,
    timed in turn."""
    import resource

    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            fn()
            wall[i].append(time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[i].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return ([statistics.median(x) for x in wall], [statistics.median(x) for x in cpu])


def freeze_context(result) -> dict:
    """The context the report renders, with the chart placeholders left in (the floor
    prints them as text: docxtpl's work without any chart)."""
    from perfeval_xl.report import context

    ctx, _, _ = context.build(result, charts=True)
    return ctx


def split(sample: Path, repeat: int) -> dict[str, float]:
    """Median time of each part of one in-process report (seconds)."""
    from perfeval_xl import engine
    from perfeval_xl.report import charts, context, render

    parts: dict[str, list[float]] = {k: [] for k in
                                     ("open", "evaluate", "context", "render", "charts", "save")}
    for _ in range(repeat):
        t0 = time.perf_counter()
        wb = engine.open_workbook(sample)
        t1 = time.perf_counter()
        result = engine.evaluate(sample, wb=wb)
        t2 = time.perf_counter()
        ctx, _, specs = context.build(result, charts=True)
        t3 = time.perf_counter()
        tpl = render._fill(render.default_template(), ctx, "内置模板", False)
        t4 = time.perf_counter()
        charts.insert_charts(tpl.docx, specs)
        render.merge_indicator_groups(tpl.docx)
        t5 = time.perf_counter()
        tpl.save(io.BytesIO())
        t6 = time.perf_counter()
        for key, a, b in (("open", t0, t1), ("evaluate", t1, t2), ("context", t2, t3),
                          ("render", t3, t4), ("charts", t4, t5), ("save", t5, t6)):
            parts[key].append(b - a)
    return {k: statistics.median(v) for k, v in parts.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    import pickle

    from openpyxl import load_workbook

    from perfeval_xl import engine
    from perfeval_xl.report.render import load_template, render_bytes
    from perfeval_xl.workbook.builder import build_sample, workbook_bytes

    tmp = Path(tempfile.mkdtemp())
    sample = tmp / "sample.xlsx"
    sample.write_bytes(workbook_bytes(build_sample()))
    template = tmp / "template.docx"
    template.write_bytes(load_template())
    ctx = freeze_context(engine.evaluate(sample))
    frozen = tmp / "ctx.pickle"
    frozen.write_bytes(pickle.dumps(ctx))

    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    def floor():
        load_workbook(sample)
        tpl = DocxTemplate(str(template))
        tpl.render(dict(ctx), Environment(undefined=StrictUndefined, autoescape=True),
                   autoescape=True)
        tpl.save(io.BytesIO())

    def pipeline():
        result = engine.evaluate(sample)
        render_bytes(result, charts=True)

    script = tmp / "floor.py"
    script.write_text(FLOOR_SCRIPT, encoding="utf-8")
    out = tmp / "out.docx"
    # Both processes load compiled bytecode, as an installed package does (pip writes .pyc);
    # with PYTHONDONTWRITEBYTECODE every run would recompile our sources but not the
    # floor's libraries. The cache goes to a temporary folder, not into the source tree.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")

    def proc_floor():
        subprocess.run([sys.executable, str(script), str(sample), str(template), str(frozen)],
                       check=True, capture_output=True, env=env)

    def proc_report():
        subprocess.run([sys.executable, "-m", "perfeval_xl", "report", str(sample), "-o",
                        str(out)], check=True, capture_output=True, env=env)

    proc_floor()
    proc_report()
    (pf, pr), (cf, cr) = interleaved_wall_and_cpu([proc_floor, proc_report],
                                                 max(3, args.repeat))
    print(f"process, CPU time (user+sys, not inflated by a busy machine): perfeval-xl report "
          f"{cr * 1000:.0f} ms / bare floor process (openpyxl load + docxtpl render, no chart "
          f"library) {cf * 1000:.0f} ms = {cr / cf:.2f}x (goal <= 1.5x)")
    print(f"process, wall time: {pr * 1000:.0f} ms / {pf * 1000:.0f} ms = {pr / pf:.2f}x")

    floor()
    pipeline()
    f, p = interleaved_medians([floor, pipeline], args.repeat)
    print(f"in-process: report {p * 1000:.0f} ms / floor {f * 1000:.0f} ms = {p / f:.2f}x "
          f"(aim <= 1.3x)")

    parts = split(sample, args.repeat)
    total = sum(parts.values())
    print("in-process split of one report: " + ", ".join(
        f"{k} {v * 1000:.0f} ms ({v / total:.0%})" for k, v in parts.items())
        + f"; sum {total * 1000:.0f} ms")


if __name__ == "__main__":
    main()
