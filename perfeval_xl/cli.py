"""``perfeval-xl``: the command-line door (DESIGN §4.1). Thin: parse arguments, call the
engine, print Chinese messages to stderr, return the exit code.

Exit codes: 0 ok (warnings allowed), 1 errors found in the workbook, 2 unusable input or
arguments. Heavy modules are imported inside commands so ``--help``/``--version`` stay fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
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
    s.add_argument("workbook", help="县里下发的自评表（.xlsx/.xlsm；.xls/.et/.ods 自动转换）")
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

    s = sub.add_parser("gui", help="打开“绩效评价助手”窗口（没有 Excel 宏时用按钮评分、校验、生成报告）")
    s.add_argument("workbook", nargs="?", help="打开时选中的工作簿（可不填）")
    s.add_argument("--create-shortcut", action="store_true",
                   help="在桌面创建“绩效评价助手”快捷方式后退出")

    s = sub.add_parser("excel-setup", help="（Windows）配置 Excel 调用的 Python 解释器并检查 xlwings")
    s.add_argument("workbook", nargs="?", help="要配置的工作簿（不填则写入用户级 xlwings.conf）")

    s = sub.add_parser("rule", help="查看一段评分标准文字如何解读：规则、生成的评分标准、某实际值的得分")
    s.add_argument("text", metavar="评分标准文字", help="县里表中的评分标准原文（含空格时请加引号）")
    s.add_argument("--weight", required=True, help="该指标的分值，如 5")
    s.add_argument("--value", help="实际值（比率写百分数，如 95 表示 95%%；人工等级可写等级名称）")
    s.add_argument("--target", help="本行的目标值（评分标准未写目标、按比例计分时需要）")
    s.add_argument("--unit", default="%", help="实际值的单位（默认 %%；天数、人数等写 天、人）")
    s.add_argument("--json", action="store_true",
                   help="以 JSON 输出解读结果（规则、生成的评分标准、得分或人工评分原因）")

    s = sub.add_parser("bundle", help="生成 Windows 离线安装包（zip：wheel、install.bat、使用说明、校验清单）")
    s.add_argument("-o", "--output", required=True, help="输出文件夹")
    s.add_argument("--python-embed-zip", help="python.org 的 64 位嵌入式 Python 压缩包（一并打包，免安装 Python）")
    s.add_argument("--python-embed-sha256", help="该压缩包的 SHA-256（64 位十六进制，或含该值的文件）")
    return p


def main(argv: list[str] | None = None) -> int:
    _robust_streams()
    try:
        with _quiet_library_noise():
            return _main(argv)
    except BrokenPipeError:
        # The reader went away (``perfeval-xl score --json | head -1``). Point stdout at
        # devnull so the interpreter's final flush cannot raise again (Python docs, "Note
        # on SIGPIPE"); the work itself is done, so exit as a closed console would.
        _silence(sys.stdout)
        return EXIT_UNUSABLE


def _main(argv: list[str] | None = None) -> int:
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
    except BrokenPipeError:
        raise
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


@contextlib.contextmanager
def _quiet_library_noise():
    """Library warnings (openpyxl: "Defined names for sheet index 10 cannot be located",
    "Title is more than 31 characters" …) are English and say nothing a user can act on;
    what matters is reported as Chinese problems. So are errors in finalizers ("Exception
    ignored in ZipFile.__del__ … Traceback", from the zip openpyxl leaves behind when an
    .xlsm fails to load), printed whenever the garbage collector runs. PERFEVAL_DEBUG keeps
    both."""
    if os.environ.get("PERFEVAL_DEBUG"):
        yield
        return
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.unraisablehook = hook


def _report_error(exc: Exception) -> bool:
    mod = sys.modules.get("perfeval_xl.report")
    return bool(mod) and isinstance(exc, getattr(mod, "ReportError", ()))


def _robust_streams() -> None:
    """Messages must never crash on the console's encoding (a GBK console cannot show every
    character a workbook may hold): unencodable characters become escapes."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot be reconfigured
                pass


def _silence(stream) -> None:
    """Redirect a closed pipe's file descriptor to devnull (no further BrokenPipeError)."""
    import os

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _err(msg: str) -> None:
    try:
        print(msg, file=sys.stderr)
        sys.stderr.flush()
    except BrokenPipeError:  # stderr piped into a reader that quit: stay quiet, go on
        _silence(sys.stderr)


def _print_json(data) -> None:
    """§4.2 JSON on stdout as UTF-8 bytes, whatever the console encoding (a GBK console
    redirected to a file must still give valid UTF-8 JSON). A stream without a byte layer
    gets text, ASCII-escaped if its encoding cannot take the characters. A reader that
    closes the pipe early ends the output quietly; the command itself carries on."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    out = sys.stdout
    try:
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            out.flush()
            buffer.write(text.encode("utf-8"))
            buffer.flush()
            return
        try:
            out.write(text)
        except UnicodeEncodeError:
            out.write(json.dumps(data, ensure_ascii=True, indent=2) + "\n")
        out.flush()
    except BrokenPipeError:
        _silence(out)


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
    wb = engine.load(path)
    return path, wb, engine.evaluate(path, args.preset, wb=wb)


def _exit_for(result) -> int:
    return EXIT_PROBLEMS if result.errors else EXIT_OK


def cmd_score(args) -> int:
    from perfeval_xl.files import atomic_write, backup_copy, default_scored_path
    from perfeval_xl.workbook.writer import scored_bytes

    if args.in_place and args.output:
        raise UsageError("--in-place 与 -o 不能同时使用。")
    _refuse_in_place_conversion(args)
    path, wb, result = _evaluate(args)
    if args.in_place:
        # A link is written through: its target gets the scores and the backup beside it,
        # and the link stays a link (replacing the link itself would leave the real
        # workbook unscored).
        out = path.resolve() if path.is_symlink() else path
        data = scored_bytes(wb, result, out, source=out)  # may refuse: before the backup
        backup = backup_copy(out)
        _err(f"已备份原文件：{backup}")
    else:
        out = Path(args.output) if args.output else default_scored_path(path)
        if not args.output and out.suffix.lower() not in (".xlsx", ".xlsm"):
            out = out.with_suffix(".xlsx")  # an .xls/.et/.ods is written back as .xlsx
        if out.resolve() == path.resolve():
            raise UsageError("输出文件与输入相同；如需写回原文件请使用 --in-place（会先备份）。")
        if out.suffix.lower() not in (".xlsx", ".xlsm"):
            raise UsageError("输出文件扩展名应为 .xlsx 或 .xlsm。")
        data = scored_bytes(wb, result, out, source=path)
    atomic_write(out, data)
    if args.json:
        _print_json(result.to_json())
    _print_problems(result.problems)
    _err(_summary(result))
    _err(f"已写入：{out}")
    return _exit_for(result)


def _refuse_in_place_conversion(args) -> None:
    """An .xls/.et/.ods cannot be written back in its own format."""
    if not args.in_place:
        return
    from perfeval_xl import convert

    path = Path(args.workbook)
    if path.is_file() and convert.needs_conversion(path):
        raise UsageError(
            f"“{path.name}”是 {convert.format_label(path)}，程序只能写出 .xlsx，无法写回原文件；"
            f"请去掉 --in-place，用 -o 指定输出文件（如 -o {path.stem}.xlsx）。原文件未被改动。")


def cmd_check(args) -> int:
    _, _, result = _evaluate(args)
    if args.json:
        _print_json(result.to_json())
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
        _err(f"已写入：{report.output}。请先在“评分标准解读”表核对每条评分标准的解读，再填写新增的"
             f"“基本情况”“预算执行”等表，并在县表中填写定性指标的评定等级或得分，然后运行 "
             f"perfeval-xl score {report.output}")
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
        _print_json(result.to_json())
    for line in result.summary_lines():
        _err(line)
    return result.exit_code


def cmd_demo(args) -> int:
    from perfeval_xl.demo import run_demo

    return run_demo(Path(args.output) if args.output else None, pdf=not args.no_pdf)


def cmd_excel_setup(args) -> int:
    from perfeval_xl.excel.setup import run_setup

    return run_setup(args.workbook)


def cmd_gui(args) -> int:
    if args.create_shortcut:
        from perfeval_xl.gui.shortcut import ShortcutError, create_desktop_shortcut

        try:
            path = create_desktop_shortcut()
        except ShortcutError as exc:
            raise UsageError(exc.message) from None
        _err(f"已在桌面创建快捷方式：{path}")
        return EXIT_OK
    from perfeval_xl.gui import run_gui

    return run_gui(args.workbook)


def cmd_bundle(args) -> int:
    from perfeval_xl.bundle import run_bundle

    return run_bundle(args.output, args.python_embed_zip, args.python_embed_sha256)


def cmd_rule(args) -> int:
    """How one 评分标准 text is read: 0 read, 1 left manual (the text, or the score at the
    value: a score-range band) or contradicting the 分值, 2 bad arguments."""
    from decimal import Decimal, InvalidOperation

    from perfeval_xl.display import fmt_score
    from perfeval_xl.rules import (
        EvaluatorScore,
        Manual,
        Proportional,
        RuleError,
        deduction_text,
        describe_rule,
        evaluator_range,
        format_rule,
        read_standard_text,
        score_rule,
    )

    def number(raw: str | None, what: str) -> Decimal | None:
        if raw is None:
            return None
        try:
            d = Decimal(raw.strip().rstrip("%％"))
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite():
            raise UsageError(f"{what}“{raw}”不是数字，请写成如 --{what[2:]} 95 的形式。")
        return d

    weight = number(args.weight, "--weight")
    target = number(args.target, "--target")
    if weight <= 0:
        raise UsageError(f"--weight“{args.weight}”必须大于0（该指标的分值）。")
    reading = read_standard_text(args.text, weight, target=target)
    rule = reading.rule
    # What --json prints; the text lines below say the same.
    out = {"text": args.text, "weight": weight, "value": None, "target": target,
           "unit": args.unit, "read": rule is not None, "rule": None, "standard": None,
           "stated_weight": reading.stated_weight, "score": None, "score_range": None,
           "manual": rule is None, "reason": reading.reason or None, "deduction": None,
           "note": reading.note or None}
    lines = [f"原文：{' '.join(args.text.split())}"]

    def done(code: int) -> int:
        if args.json:
            _print_json({k: (_json_number(v) if isinstance(v, Decimal) else v)
                         for k, v in out.items()})
        else:
            print("\n".join(lines))
        return code

    if rule is None:
        lines += ["解读：人工评分（不自动计分）", f"原因：{reading.reason}"]
        return done(EXIT_PROBLEMS)
    unit = getattr(rule, "unit", "") or args.unit  # a count rule names its own unit (次, 天)
    out["unit"] = unit
    code = EXIT_OK
    if reading.stated_weight is not None:
        # Shown and scored as written; adopt reports the same contradiction at the cell.
        lines.append(f"注意：评分标准按满分 {reading.stated_weight} 分写成，与分值 {weight} 分不一致，"
                     "请核对分值或评分标准。以下按评分标准所写的满分解读。")
        weight = reading.stated_weight
        code = EXIT_PROBLEMS
    out["rule"] = format_rule(rule)
    out["standard"] = describe_rule(rule, weight, unit, target)
    lines += [f"规则：{out['rule']}", f"生成的评分标准：{out['standard']}"]
    if reading.note:
        lines.append(f"说明：{reading.note}")
    if args.value is None:
        return done(code)
    value = args.value
    if not (isinstance(rule, Manual) and any(t.label == value.strip() for t in rule.tiers)):
        value = number(args.value, "--value")
    elif isinstance(rule, Manual):
        value = value.strip()
    out["value"] = value
    if isinstance(rule, Proportional) and rule.target is None and target is None:
        raise UsageError("该评分标准按本行目标值计分，请用 --target 给出目标值，如 --target 100。")
    shown = f"{value}{unit}" if not isinstance(value, str) else value
    try:
        score = score_rule(rule, value, weight, target)
        reason = deduction_text(rule, value, weight, score, unit, target)
    except EvaluatorScore:
        # A score-range band (or a gap between bands): the evaluator scores this value.
        low, high, why = evaluator_range(rule, value, weight, unit)
        out.update(score_range=[_json_number(low), _json_number(high)], manual=True, reason=why)
        lines += [f"得分：实际值 {shown} 由评价人评定（{fmt_score(low)}至{fmt_score(high)}分）",
                  f"原因：{why}"]
        return done(EXIT_PROBLEMS)
    except RuleError as exc:
        raise UsageError(exc.message) from None
    out.update(score=score, deduction=reason or None)
    lines.append(f"得分：实际值 {shown} 得 {fmt_score(score)} 分（满分 {fmt_score(weight)} 分）")
    if reason:
        lines.append(f"扣分原因：{reason}")
    return done(code)


def _json_number(d):
    """A Decimal as a JSON number: an int when whole, else a float (full precision kept as
    far as a float can)."""
    return int(d) if d == d.to_integral_value() else float(d)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
