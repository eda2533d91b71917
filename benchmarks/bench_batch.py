"""Benchmark of the batch command as ratios measured in one run (not a timed test).

    python benchmarks/bench_batch.py [--n 24] [--repeat 2] [--no-pdf] [--keep DIR]

N synthetic workbooks (the bundled sample with varied unit names, staff, spending, task
counts and tiers) are generated first (not timed). Then, interleaved round by round (each
measure keeps its best round: a busy neighbour only ever adds time):

- floors: openpyxl load of each workbook; docxtpl render + save of the bundled template
  with each workbook's context (no charts, no chart library); later one LibreOffice
  multi-file conversion of the same reports;
- batch --jobs 1 and --jobs 2, without and with reports, each from scratch (``force``);
- with PDFs: the batch's PDF step (chunks, one LibreOffice instance per job) against the
  LibreOffice floor, both as CPU seconds of the LibreOffice processes.

Printed: per-workbook cost split (open, evaluate, write, report, pdf); the 2-job speedup
from CPU time (this machine is shared: wall-time speedups would measure the neighbours),
and the wall-time one for reference; the extrapolated time for 3,000 workbooks on two free
cores — without reports, with reports, with PDFs — each against its floor and the goal
(≤ 10 min with reports, ≤ 30 min with PDFs); peak memory per worker early and late in the
run (flat, < 300 MB); the re-run of an unchanged folder; the 汇总表 of 3,000 workbooks.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

TIERS = ["优", "优", "良", "中", "差"]


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def generate(folder: Path, n: int, seed: int = 5) -> list[Path]:
    """N workbooks in ``folder`` (every tenth in a subfolder, as county folders are)."""
    from openpyxl.utils.cell import range_boundaries

    from perfeval_xl import catalogue
    from perfeval_xl.workbook.builder import build_sample, workbook_bytes
    from perfeval_xl.workbook.reader import parse_ref

    rng = random.Random(seed)
    wb = build_sample()

    def cell(name: str):
        sheet, coord = parse_ref(wb.defined_names[name].attr_text)
        return wb[sheet][coord.split(":")[0]]

    sheet, ref = parse_ref(wb.defined_names["tbl_scores"].attr_text)
    c0, r0, c1, r1 = range_boundaries(ref)
    ws = wb[sheet]
    heads = {ws.cell(r0, c).value: c for c in range(c0, c1 + 1)}
    kinds = {code: ind.kind for code, ind in catalogue.indicators().items()}
    qualitative = [r for r in range(r0 + 1, r1 + 1)
                   if kinds.get(ws.cell(r, heads["代码"]).value) == "qualitative"]
    paths = []
    for i in range(n):
        cell("unit_name").value = f"示例县第{i + 1:04d}单位"
        cell("staff_actual").value = rng.randint(28, 38)
        cell("spending_total").value = round(rng.uniform(650, 740), 2)
        cell("tasks_planned").value = 10
        done = rng.randint(5, 10)
        cell("tasks_completed").value = done
        cell("tasks_on_time").value = rng.randint(max(0, done - 2), done)
        cell("tasks_quality_ok").value = done
        tier = rng.choice(TIERS)
        for r in qualitative:
            ws.cell(r, heads["实际值"]).value = tier
        sub = folder / f"乡镇{i // 10:03d}" if i % 10 == 9 else folder
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"自评表_{i + 1:04d}.xlsx"
        path.write_bytes(workbook_bytes(wb))
        paths.append(path)
    return paths


CITY = 3000
CORES = 2
GOAL_REPORTS_S, GOAL_PDF_S = 600, 1800


def cpu_now() -> tuple[float, float]:
    """(this process, its waited-for children) CPU seconds."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def floors(paths: list[Path]) -> dict[str, float]:
    """CPU seconds per workbook of the floors: openpyxl load, and docxtpl render + save of
    the bundled template with that workbook's context (built untimed, without charts)."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined
    from openpyxl import load_workbook

    from perfeval_xl import engine
    from perfeval_xl.report import build_context
    from perfeval_xl.report.render import default_template

    template = default_template()
    contexts = [build_context(engine.evaluate(p), charts=False) for p in paths]
    load_workbook(paths[0])  # warm
    c = time.process_time()
    for p in paths:
        load_workbook(p)
    load = (time.process_time() - c) / len(paths)
    c = time.process_time()
    for ctx in contexts:
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render(ctx, Environment(undefined=StrictUndefined, autoescape=True),
                   autoescape=True)
        tpl.save(io.BytesIO())
    render = (time.process_time() - c) / len(paths)
    return {"load": load, "render": render}


def soffice_floor(docs: list[Path], work: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ONE LibreOffice call converting all ``docs``."""
    from perfeval_xl.report import pdf

    soffice = pdf.find_soffice()
    out = work / "lo-floor"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    src = out / "in"
    src.mkdir()
    inputs = []
    for k, d in enumerate(docs):
        inputs.append(src / f"d{k:04d}.docx")
        shutil.copyfile(d, inputs[-1])
    cmd = pdf._soffice_cmd(soffice, out / "profile", out, inputs)
    env = pdf._soffice_env(out)
    t, (_, kids) = time.perf_counter(), cpu_now()
    code, tail = pdf._run(cmd, env, 3600)
    wall, cpu = time.perf_counter() - t, cpu_now()[1] - kids
    made = len(list(out.glob("*.pdf")))
    assert code == 0 and made == len(docs), (code, tail, made)
    return wall, cpu


def fmt_min(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def bench(in_dir: Path, paths: list[Path], work: Path, *, pdf: bool, repeat: int) -> None:
    from perfeval_xl.batch import run_batch
    from perfeval_xl.batch.summary import summary_bytes
    from perfeval_xl.report.pdf import find_soffice

    n = len(paths)
    print(f"\n== N={n}, best of {repeat} interleaved rounds (load {load()})")

    def run(jobs: int, report: bool, out: str, **kw):
        t = time.perf_counter()
        res = run_batch(in_dir, work / out, jobs=jobs, report=report, force=True,
                        progress=False, **kw)
        return time.perf_counter() - t, res

    measures = {
        "floor": lambda: (0.0, floors(paths)),
        "off1": lambda: run(1, False, "off1"),
        "off2": lambda: run(2, False, "off2"),
        "on1": lambda: run(1, True, "on1"),
        "on2": lambda: run(2, True, "on2"),
    }
    best: dict[str, tuple] = {}
    for _ in range(repeat):
        for key, measure in measures.items():
            got = measure()
            if key == "floor":  # the floors: lowest CPU per part
                old = best.get(key, (0.0, got[1]))[1]
                best[key] = (0.0, {k: min(v, old[k]) for k, v in got[1].items()})
            elif key not in best or got[1].cpu_seconds["critical"] < \
                    best[key][1].cpu_seconds["critical"]:
                best[key] = got
    fl = best["floor"][1]
    rerun_t = time.perf_counter()
    rerun = run_batch(in_dir, work / "on2", jobs=2, report=True, progress=False)
    rerun_t = time.perf_counter() - rerun_t
    assert rerun.skipped == n and rerun.processed == 0

    # ---- per-workbook cost split (--jobs 1, with reports)
    _, on1 = best["on1"]
    total = sum(on1.stage_cpu.values())
    parts = ", ".join(f"{k} {v / n * 1000:.0f} ms ({v / total:.0%})"
                      for k, v in on1.stage_cpu.items())
    print(f"cost per workbook (--jobs 1, with reports, CPU): {parts}")
    print(f"floors per workbook (CPU): openpyxl load {fl['load'] * 1000:.0f} ms, "
          f"docxtpl render+save {fl['render'] * 1000:.0f} ms (no chart library)")

    # ---- speedup from CPU time
    for mode in ("off", "on"):
        (t1, r1), (t2, r2) = best[f"{mode}1"], best[f"{mode}2"]
        c1, c2 = r1.cpu_seconds["critical"], r2.cpu_seconds["critical"]
        label = "with reports" if mode == "on" else "without reports"
        s2 = r2.cpu_seconds["startup"]
        print(f"2-job speedup {label}: {c1 / c2:.2f}x from CPU time (jobs 1 CPU {c1:.1f} s / "
              f"parent + busiest worker {c2:.1f} s), {c1 / (c2 - s2):.2f}x without the "
              f"workers' one-off start-up ({s2:.1f} s) [CPU-based: the machine is shared]; "
              f"wall {t1 / t2:.2f}x at load {load()}")

    # ---- 汇总表 of a city (this run's records replicated)
    recs = [r for _ in range(-(-CITY // n)) for r in best["on1"][1].records][:CITY]
    c = time.process_time()
    summary_bytes(recs, [], out_dir=work)
    summary_city = time.process_time() - c
    print(f"汇总表 of {CITY} workbooks: {summary_city:.1f} s CPU")

    # ---- extrapolation to 3000 on two free cores (CPU critical path per workbook)
    def city(res) -> float:
        """Worker start-up (spawn, imports) once, the rest scaled from N to 3000."""
        start = res.cpu_seconds["startup"]
        return start + CITY * (res.cpu_seconds["critical"] - start) / n + summary_city

    off_t, on_t = city(best["off2"][1]), city(best["on2"][1])
    off_floor = CITY * fl["load"] / CORES
    on_floor = CITY * (fl["load"] + fl["render"]) / CORES
    print(f"3000 workbooks, no reports: {fmt_min(off_t)} (floor {fmt_min(off_floor)}, "
          f"{off_t / off_floor:.2f}x)")
    print(f"3000 workbooks, with reports: {fmt_min(on_t)} (floor {fmt_min(on_floor)}, "
          f"{on_t / on_floor:.2f}x; goal {fmt_min(GOAL_REPORTS_S)}: "
          f"{'met' if on_t <= GOAL_REPORTS_S else 'NOT met'})")

    # ---- memory per worker, early and late in the run
    _, on2 = best["on2"]
    for pid in dict.fromkeys(p for p, _ in on2.rss_trace):
        trace = [mb for p, mb in on2.rss_trace if p == pid]
        print(f"worker {pid}: peak RSS {trace[0]:.0f} MB after its first workbook, "
              f"{trace[len(trace) // 2]:.0f} MB mid-run, {trace[-1]:.0f} MB at the end "
              f"(aim flat, < 300 MB)")
    print(f"re-run, all {n} up to date: {rerun_t / n * 1000:.1f} ms/workbook")

    if not pdf:
        return
    if find_soffice() is None:
        print("PDF: LibreOffice not found, skipped")
        return
    # ---- PDFs: the batch's PDF step against one LibreOffice call over the same reports
    docs = [work / "on2" / r.report for r in on2.records]
    lo_best = step_best = None
    for _ in range(repeat):
        lo = soffice_floor(docs, work)
        t = time.perf_counter()
        res = run_batch(in_dir, work / "pdf2", jobs=2, report=True, pdf=True, force=True,
                        progress=False)
        wall = time.perf_counter() - t
        assert not res.pdf_failures, res.pdf_failures
        step = (res.stage_seconds["pdf"], res.cpu_seconds["pdf"], res.pdf_starts, wall, res)
        lo_best = lo if lo_best is None or lo[1] < lo_best[1] else lo_best
        step_best = step if step_best is None or step[1] < step_best[1] else step_best
    pdf_wall, pdf_cpu, n_starts, _, res = step_best
    print(f"PDF step (--jobs 2, {n_starts} LibreOffice starts for {n} reports): "
          f"{pdf_cpu / n * 1000:.0f} ms CPU/report, {pdf_wall / n * 1000:.0f} ms wall/report; "
          f"floor one call for all: {lo_best[1] / n * 1000:.0f} ms CPU/report "
          f"({lo_best[0] / n * 1000:.0f} ms wall) -> {pdf_cpu / lo_best[1]:.2f}x")
    pdf_t = city(best["on2"][1]) + CITY * pdf_cpu / n / CORES
    pdf_floor = on_floor + CITY * lo_best[1] / n / CORES
    print(f"3000 workbooks, with PDFs: {fmt_min(pdf_t)} (floor {fmt_min(pdf_floor)}, "
          f"{pdf_t / pdf_floor:.2f}x; goal {fmt_min(GOAL_PDF_S)}: "
          f"{'met' if pdf_t <= GOAL_PDF_S else 'NOT met'})")
    print(f"(load after: {load()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--no-pdf", action="store_true", help="skip the LibreOffice part")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved rounds (best kept)")
    ap.add_argument("--keep", help="generate into this folder and keep it")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    in_dir = work / "in"
    shutil.rmtree(in_dir, ignore_errors=True)
    t = time.perf_counter()
    paths = generate(in_dir, args.n)
    print(f"generated {args.n} workbooks in {time.perf_counter() - t:.1f} s; "
          f"cores {os.cpu_count()}, Python {sys.version.split()[0]}")
    try:
        bench(in_dir, paths, work, pdf=not args.no_pdf, repeat=args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
