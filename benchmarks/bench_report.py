"""Benchmark of report generation as ratios against floors measured in the same run.

    python benchmarks/bench_report.py [--repeat 7]

- in-process: read + evaluate the sample + render the report (charts included), divided by
  the floor = openpyxl load of the same workbook + docxtpl render/save of the same template
  with the same context + the same two charts drawn by matplotlib (aim ≤ 1.3×);
- process:    `perfeval-xl report SAMPLE -o OUT` divided by a bare `python` process doing
  the floor work once, imports included (aim ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import interleaved_medians

FLOOR_SCRIPT = r'''
import io, pickle, sys
from openpyxl import load_workbook
from docxtpl import DocxTemplate, InlineImage
from docx.shared import Cm
from jinja2 import Environment, StrictUndefined
from perfeval_xl.report import charts
sample, template, frozen = sys.argv[1], sys.argv[2], sys.argv[3]
with open(frozen, "rb") as fh:
    ctx, calls = pickle.load(fh)
load_workbook(sample)
pngs = [getattr(charts, name)(*args).png for name, args in calls]
tpl = DocxTemplate(template)
ctx = dict(ctx)
for key, png in zip(("budget", "scores"), pngs):
    ctx[key] = dict(ctx[key], chart=InlineImage(tpl, io.BytesIO(png), width=Cm(14)))
tpl.render(ctx, Environment(undefined=StrictUndefined, autoescape=True), autoescape=True)
tpl.save(io.BytesIO())
'''


def freeze_context(result):
    """The context the report uses, with charts replaced by the calls that drew them."""
    from perfeval_xl.report import charts, context

    calls = []
    real = {n: getattr(charts, n) for n in ("budget_chart", "score_chart")}

    def recorder(name):
        def draw(*args):
            calls.append((name, args))
            return real[name](*args)
        return draw

    for n in real:
        setattr(charts, n, recorder(n))
    try:
        from docxtpl import DocxTemplate

        from perfeval_xl.report.render import load_template

        tpl = DocxTemplate(io.BytesIO(load_template()))
        tpl.init_docx()
        ctx, _ = context.build(result, charts=True, tpl=tpl)
    finally:
        for n, f in real.items():
            setattr(charts, n, f)
    for key in ("budget", "scores"):
        ctx[key] = dict(ctx[key], chart=None)
    return ctx, calls


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
    ctx, calls = freeze_context(engine.evaluate(sample))
    frozen = tmp / "ctx.pickle"
    frozen.write_bytes(pickle.dumps((ctx, calls)))
    assert len(calls) == 2, calls

    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import Environment, StrictUndefined

    from perfeval_xl.report import charts

    def floor():
        load_workbook(sample)
        pngs = [getattr(charts, name)(*a).png for name, a in calls]
        tpl = DocxTemplate(str(template))
        c = dict(ctx)
        for key, png in zip(("budget", "scores"), pngs, strict=True):
            c[key] = dict(c[key], chart=InlineImage(tpl, io.BytesIO(png), width=Cm(14)))
        tpl.render(c, Environment(undefined=StrictUndefined, autoescape=True), autoescape=True)
        tpl.save(io.BytesIO())

    def pipeline():
        result = engine.evaluate(sample)
        render_bytes(result, charts=True)

    floor()
    pipeline()
    load_workbook(sample)
    f, p = interleaved_medians([floor, pipeline], args.repeat)
    print(f"in-process: report {p * 1000:.0f} ms / floor {f * 1000:.0f} ms = {p / f:.2f}x "
          f"(aim <= 1.3x)")

    script = tmp / "floor.py"
    script.write_text(FLOOR_SCRIPT, encoding="utf-8")
    out = tmp / "out.docx"

    def proc_floor():
        subprocess.run([sys.executable, str(script), str(sample), str(template), str(frozen)],
                       check=True, capture_output=True)

    def proc_report():
        subprocess.run([sys.executable, "-m", "perfeval_xl", "report", str(sample), "-o",
                        str(out)], check=True, capture_output=True)

    pf, pr = interleaved_medians([proc_floor, proc_report], max(3, args.repeat // 2))
    print(f"process: perfeval-xl report {pr * 1000:.0f} ms / bare floor process "
          f"{pf * 1000:.0f} ms = {pr / pf:.2f}x (aim <= 1.5x)")


if __name__ == "__main__":
    main()
