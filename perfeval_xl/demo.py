"""``perfeval-xl demo``: the whole job on the bundled sample (曲沃县中小企业服务中心 2021):
copy the sample workbook, score it, check it, write the report (and PDF when LibreOffice or
Word is there), and print where everything went."""

from __future__ import annotations

import sys
import time
from pathlib import Path

SAMPLE_FILE = "sample_quwo_2021.xlsx"


def _new_folder(base: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        p = base / (f"perfeval-demo-{stamp}" + (f"-{n}" if n else ""))
        if not p.exists():
            return p
    raise RuntimeError("no free demo folder name")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_demo(out_dir: Path | None, pdf: bool = True) -> int:
    """Run the demo into ``out_dir`` (created; default a new folder here). Returns 0."""
    from perfeval_xl import engine, report
    from perfeval_xl.display import fmt_score
    from perfeval_xl.files import OutputError, atomic_write, default_scored_path
    from perfeval_xl.workbook.builder import build_sample, workbook_bytes
    from perfeval_xl.workbook.writer import write_scored

    out_dir = Path(out_dir) if out_dir else _new_folder(Path.cwd())
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出文件夹 {out_dir}（{exc.strerror}）。") from exc
    _say(f"[1/4] 复制示例自评表到 {out_dir} …")
    sample = atomic_write(out_dir / SAMPLE_FILE, workbook_bytes(build_sample()))
    _say("[2/4] 读取、计算得分并校验 …")
    wb = engine.load(sample)
    result = engine.evaluate(sample, wb=wb)
    scored = write_scored(wb, result, default_scored_path(sample), source=sample)
    _say("[3/4] 生成评价报告 …")
    outcome = report.render_report(result, out_dir / report.default_report_name(result), pdf=pdf)
    _say("[4/4] 完成。")
    for p in list(result.problems) + list(outcome.problems):
        if p.severity != "info":
            _say(str(p))
    print(f"单位：{result.evaluation.unit_name}（{result.evaluation.eval_year} 年度）")
    print(f"总分：{fmt_score(result.total)} 分　等级：{result.grade}")
    print(f"示例自评表：{sample}")
    print(f"已评分自评表：{scored}")
    print(f"评价报告：{outcome.docx}")
    if outcome.pdf:
        print(f"PDF：{outcome.pdf}")
    elif pdf:
        print("PDF：未生成（未找到 LibreOffice 或 Word，见上方提示）")
    return 0
