"""``perfeval-xl``: the command-line door (DESIGN §4.1). Thin: parse arguments, call the
engine, print Chinese messages to stderr, return the exit code.

Exit codes: 0 ok (warnings allowed), 1 errors found in the workbook, 2 unusable input or
arguments. Heavy modules are imported inside commands so ``--help``/``--version`` stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from perfeval_xl import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """Unusable arguments or input; the message is Chinese."""


# argparse looks its messages up through the module-level gettext function ``_`` at call
# time; routing that through this table makes usage, help headings and errors Chinese.
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的命令或选项：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的 %(type)s 值",
    "expected one argument": "需要一个值",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
}
_gettext = argparse._
argparse._ = lambda text: _ARGPARSE_ZH.get(text, _gettext(text))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's English errors, in Chinese, exit 2
        self.print_usage(sys.stderr)
        print(f"参数错误：{message}。用 perfeval-xl -h 查看用法。", file=sys.stderr)
        raise SystemExit(EXIT_UNUSABLE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="perfeval-xl", description="部门整体支出绩效自评：自评表 → 得分、校验、评价报告")
    p.add_argument("--version", action="version", version=f"perfeval-xl {__version__}",
                   help="显示版本号并退出")
    sub = p.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    s = sub.add_parser("new", help="新建空白自评表（.xlsx；.xlsm 为带“绩效评价”功能区的宏工作簿）")
    s.add_argument("out", help="输出文件，如 自评表.xlsx")
    s.add_argument("--preset", default="mof2013", help="评分预设：mof2013（默认）、hunan、perf2020")
    s.add_argument("--unit", default="", help="单位名称")
    s.add_argument("--year", type=int, default=None, help="评价年度，如 2021")
    s.add_argument("--force", action="store_true", help="输出文件已存在时覆盖")

    s = sub.add_parser("score", help="计算指标、得分、总分和等级，写入工作簿副本")
    s.add_argument("workbook")
    s.add_argument("-o", "--output", help="输出文件（默认：原文件名加“_已评分”）")
    s.add_argument("--in-place", action="store_true", help="直接写回原文件（先自动备份）")
    s.add_argument("--preset", help="改用指定预设的分值和规则计算")
    s.add_argument("--json", action="store_true", help="以 JSON 输出结果到标准输出")

    s = sub.add_parser("check", help="只做数据校验（勾稽关系、缺项、异常值）")
    s.add_argument("workbook")
    s.add_argument("--preset", help="改用指定预设的分值和规则校验")
    s.add_argument("--json", action="store_true", help="以 JSON 输出结果到标准输出")

    s = sub.add_parser("report", help="生成整体支出绩效自评报告（Word，可选 PDF）")
    s.add_argument("workbook")
    s.add_argument("-o", "--output", help="输出 .docx（默认：工作簿旁“<单位>_<年度>年度部门整体支出绩效自评报告.docx”）")
    s.add_argument("--pdf", action="store_true", help="同时导出 PDF（需要 LibreOffice 或 Word）")
    s.add_argument("--template", help="使用自己的报告模板 .docx")
    s.add_argument("--strict", action="store_true", help="工作簿有错误时不生成报告")
    s.add_argument("--preset", help="改用指定预设的分值和规则计算")

    s = sub.add_parser("adopt", help="接管县财政局下发的自评表：保留原表格式，识别指标和评分标准，加入输入表")
    s.add_argument("workbook", help="县里下发的自评表（.xlsx/.xlsm）")
    s.add_argument("-o", "--output", help="输出文件 .xlsx 或 .xlsm（默认：原文件名加“_接管”）")
    s.add_argument("--preset", help="评价等级等设置采用的预设（默认 mof2013）")

    s = sub.add_parser("batch", help="批量处理文件夹中的全部自评表：评分、校验、报告和汇总表.xlsx")
    s.add_argument("in_dir", metavar="IN_DIR", help="存放各单位自评表的文件夹（含子文件夹）")
    s.add_argument("-o", "--output", required=True, metavar="OUT_DIR",
                   help="输出文件夹：已评分副本、评价报告、汇总表.xlsx")
    s.add_argument("--jobs", type=int, default=None,
                   help="同时处理的文件数（默认：CPU 核数；1 为在本进程中逐个处理）")
    s.add_argument("--pdf", action="store_true", help="同时导出 PDF 报告（需要 LibreOffice 或 Word）")
    s.add_argument("--no-report", action="store_true", help="不生成 Word 报告，只评分、校验和汇总")
    s.add_argument("--force", action="store_true", help="全部重新处理（默认跳过内容未变的文件）")
    s.add_argument("--json", action="store_true", help="以 JSON 输出汇总结果到标准输出")

    s = sub.add_parser("demo", help="用内置示例（曲沃县中小企业服务中心 2021）跑通评分、校验和报告")
    s.add_argument("-o", "--output", help="输出文件夹（默认：当前目录下新建 perfeval-demo-…）")
    s.add_argument("--no-pdf", action="store_true", help="不导出 PDF")

    s = sub.add_parser("excel-setup", help="（Windows）配置 Excel 调用的 Python 解释器并检查 xlwings")
    s.add_argument("workbook", nargs="?", help="要配置的工作簿（不填则写入用户级 xlwings.conf）")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.command:
        _parser().print_help(sys.stderr)
        return EXIT_UNUSABLE
    handler = globals()["cmd_" + args.command.replace("-", "_")]
    try:
        return handler(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        _err("已取消。")
        return EXIT_UNUSABLE
    except Exception as exc:  # last resort: no traceback for the user
        from perfeval_xl.engine import NotOurWorkbook, UnusableWorkbook
        from perfeval_xl.files import OutputError

        if isinstance(exc, (UnusableWorkbook, NotOurWorkbook, OutputError)):
            _err(exc.message)
            return EXIT_UNUSABLE
        if _report_error(exc):
            _err(exc.message)
            return EXIT_UNUSABLE
        _err(f"内部错误（{type(exc).__name__}: {exc}）。原文件未被改动。"
             "请把此信息和工作簿发给维护人员；设置环境变量 PERFEVAL_DEBUG=1 可看到详细信息。")
        import os

        if os.environ.get("PERFEVAL_DEBUG"):
            raise
        return EXIT_UNUSABLE


def _report_error(exc: Exception) -> bool:
    mod = sys.modules.get("perfeval_xl.report")
    return bool(mod) and isinstance(exc, getattr(mod, "ReportError", ()))


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _print_problems(problems) -> None:
    for p in problems:
        _err(str(p))


def _input_path(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise UsageError(f"找不到文件：{text}")
    if path.is_dir():
        raise UsageError(f"{text} 是文件夹，请指定一个工作簿文件（.xlsx/.xlsm）。")
    return path


def _check_preset(name: str | None) -> None:
    from perfeval_xl.catalogue import PRESETS

    if name and name not in PRESETS:
        raise UsageError(f"未知的评分预设“{name}”，可选：{'、'.join(PRESETS)}。")


def _summary(result) -> str:
    from perfeval_xl.display import fmt_score

    errors, warnings = len(result.errors), len(result.warnings)
    unit = result.evaluation.unit_name or "（未填单位名称）"
    return (f"{unit} {result.evaluation.eval_year or ''} 年度：总分 {fmt_score(result.total) or '—'} 分，"
            f"等级 {result.grade or '—'}；错误 {errors} 个，警告 {warnings} 个。")


# --------------------------------------------------------------------------- commands


def cmd_new(args) -> int:
    _check_preset(args.preset)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".xlsm"):
        raise UsageError("输出文件扩展名应为 .xlsx 或 .xlsm。")
    if out.exists() and not args.force:
        raise UsageError(f"{out} 已存在；如需覆盖请加 --force。")
    if args.year is not None and not 2000 <= args.year <= 2100:
        raise UsageError("--year 应为四位年份，如 2021。")
    if suffix == ".xlsm":
        from perfeval_xl.excel.xlsm import write_new_xlsm

        write_new_xlsm(out, preset=args.preset, unit=args.unit, year=args.year)
    else:
        from perfeval_xl.workbook.builder import write_new

        write_new(out, preset=args.preset, unit=args.unit, year=args.year)
    _err(f"已新建自评表：{out}（预设 {args.preset}）。黄色单元格为填写项，填好后运行 perfeval-xl score {out}")
    return EXIT_OK


def _evaluate(args):
    from perfeval_xl import engine

    _check_preset(getattr(args, "preset", None))
    path = _input_path(args.workbook)
    wb = engine.open_workbook(path)
    return path, wb, engine.evaluate(path, args.preset, wb=wb)


def _exit_for(result) -> int:
    return EXIT_PROBLEMS if result.errors else EXIT_OK


def cmd_score(args) -> int:
    from perfeval_xl.files import backup_copy, default_scored_path
    from perfeval_xl.workbook.writer import write_scored

    if args.in_place and args.output:
        raise UsageError("--in-place 与 -o 不能同时使用。")
    path, wb, result = _evaluate(args)
    if args.in_place:
        backup = backup_copy(path)
        out = path
        _err(f"已备份原文件：{backup}")
    else:
        out = Path(args.output) if args.output else default_scored_path(path)
        if out.resolve() == path.resolve():
            raise UsageError("输出文件与输入相同；如需写回原文件请使用 --in-place（会先备份）。")
        if out.suffix.lower() not in (".xlsx", ".xlsm"):
            raise UsageError("输出文件扩展名应为 .xlsx 或 .xlsm。")
    write_scored(wb, result, out, source=path)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    _print_problems(result.problems)
    _err(_summary(result))
    _err(f"已写入：{out}")
    return _exit_for(result)


def cmd_check(args) -> int:
    _, _, result = _evaluate(args)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    _print_problems(result.problems)
    _err(f"校验完成：错误 {len(result.errors)} 个，警告 {len(result.warnings)} 个。")
    return _exit_for(result)


def cmd_report(args) -> int:
    from perfeval_xl import report

    path, _, result = _evaluate(args)
    out = Path(args.output) if args.output else path.parent / report.default_report_name(result)
    if out.suffix.lower() != ".docx":
        raise UsageError("报告输出文件扩展名应为 .docx。")
    template = Path(args.template) if args.template else None
    if template is not None and not template.is_file():
        raise UsageError(f"找不到报告模板：{template}")
    if report.render.same_file(out, path):
        raise UsageError(f"报告输出文件 {out} 就是输入的工作簿，会覆盖它，已拒绝。请另选报告文件名（-o）。")
    _print_problems(result.problems)
    outcome = report.render_report(result, out, template=template, pdf=args.pdf,
                                   strict=args.strict)
    _print_problems(outcome.problems)
    _err(_summary(result))
    _err(f"报告：{outcome.docx}")
    if outcome.pdf:
        _err(f"PDF：{outcome.pdf}")
    return _exit_for(result)


def cmd_adopt(args) -> int:
    from perfeval_xl.adopt import AdoptError, adopt

    _check_preset(args.preset)
    path = _input_path(args.workbook)
    out = Path(args.output) if args.output else None
    if out is not None and out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError("输出文件扩展名应为 .xlsx 或 .xlsm。")
    try:
        report = adopt(path, out, preset=args.preset)
    except AdoptError as exc:
        _err(exc.message)
        return EXIT_UNUSABLE
    for line in report.summary() + report.row_lines():
        _err(line)
    _print_problems(report.problems)
    if not report.already:
        _err(f"已写入：{report.output}。请填写新增的“基本情况”“预算执行”等表，并在县表中填写定性指标的"
             f"评定等级或得分，然后运行 perfeval-xl score {report.output}")
    return EXIT_PROBLEMS if report.errors else EXIT_OK


def cmd_batch(args) -> int:
    from perfeval_xl.batch import BatchError, run_batch

    if args.pdf and args.no_report:
        raise UsageError("--pdf 需要生成报告，不能与 --no-report 同时使用。")
    try:
        result = run_batch(args.in_dir, args.output, jobs=args.jobs, pdf=args.pdf,
                           report=not args.no_report, force=args.force)
    except BatchError as exc:
        raise UsageError(exc.message) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    for line in result.summary_lines():
        _err(line)
    return result.exit_code


def cmd_demo(args) -> int:
    from perfeval_xl.demo import run_demo

    return run_demo(Path(args.output) if args.output else None, pdf=not args.no_pdf)


def cmd_excel_setup(args) -> int:
    from perfeval_xl.excel.setup import run_setup

    return run_setup(args.workbook)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
