"""Renders the report: Result → context → docxtpl template → .docx (→ PDF).

Why it is careful:
- jinja2 runs sandboxed (sandbox.py: a template is untrusted input), with ``autoescape=True``
  (else ``&`` and ``<`` in cell text silently delete text) and ``StrictUndefined`` (else a
  misspelt variable in a user's template prints as nothing); unknown variables are reported
  by name before rendering.
- Charts are native Word charts (charts.py) put where the template printed their placeholder.
- The document is rendered in memory and written with ``files.atomic_write``: a report that
  Word holds open, or a full disk, leaves the old file untouched and nothing half-written.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from perfeval_xl.files import OutputError, atomic_write, safe_filename
from perfeval_xl.model import Problem, Result
from perfeval_xl.report import context as context_mod
from perfeval_xl.report.pdf import PdfUnavailable, convert_to_pdf


class ReportError(Exception):
    """The report cannot be produced; ``message`` is Chinese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ReportOutcome:
    docx: Path
    pdf: Path | None = None
    problems: list[Problem] = field(default_factory=list)


def outcome_notes(outcome: ReportOutcome, result: Result, *, pdf: bool,
                  where_to_fix: str) -> list[str]:
    """The lines the ribbon and the assistant show after the report's path: why the asked-for
    PDF is missing, the report's own problems (first five), and the workbook's errors.

    Args:
        where_to_fix: how this door lets the user see the problems (e.g. 请点击“数据校验”查看。).
    """
    lines: list[str] = []
    problems = list(outcome.problems or [])
    if pdf and outcome.pdf is None:
        why = [p.message for p in problems if p.code.startswith("pdf-")]
        lines.append("未能导出 PDF：" + (why[0] if why else "没有可用的转换程序。")
                     + "\nWord 报告已保存，可在 Word/WPS 中“另存为 PDF”。")
        problems = [p for p in problems if not p.code.startswith("pdf-")]
    if problems:
        lines.append(f"报告中有 {len(problems)} 处需要注意：")
        lines += [f"· {p}" for p in problems[:5]]
    if result.errors:
        lines.append(f"工作簿校验有 {len(result.errors)} 项错误，报告中相关数字可能不完整，"
                     + where_to_fix)
    return lines


def default_report_name(result: Result) -> str:
    """"<单位>_<年度>年度部门整体支出绩效自评报告.docx", safe as a file name on any system."""
    ev = result.evaluation
    unit = safe_filename(ev.unit_name)
    year = ev.eval_year
    middle = f"_{year}年度" if year else "_"
    return f"{unit}{middle}部门整体支出绩效自评报告.docx"


_template_cache: dict = {}
# The committed template (template_builder writes it; defined here so that rendering does
# not import the builder).
TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "templates" / "report_template.docx"
MAX_TEMPLATE_UNPACKED = 200 << 20   # a report template is a few hundred KB


def default_template() -> bytes:
    """The bundled template: the committed ``templates/report_template.docx`` when this is a
    source checkout, else the same template built in memory (identical bytes). Read once
    per process."""
    data = _template_cache.get(None)
    if data is None:
        if TEMPLATE_PATH.is_file():
            data = TEMPLATE_PATH.read_bytes()
        else:
            from perfeval_xl.report import template_builder

            data = template_builder.build_template()
        _template_cache[None] = data
    return data


def load_template(template=None) -> bytes:
    """Template bytes from a path (or the bundled one), checked to be a Word .docx. A user's
    template is read again only when its size or modification time changed."""
    if template is None:
        return default_template()
    path = Path(template)
    if not path.is_file():
        raise ReportError(f"报告模板 {path} 不存在。请检查模板路径，或不指定模板以使用内置模板。")
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        data = _template_cache.get(key)
        if data is None:
            data = path.read_bytes()
            _check_docx(data, path)
            if len(_template_cache) > 8:
                _template_cache.clear()
            _template_cache[key] = data
    except OSError as exc:
        raise ReportError(f"报告模板 {path} 无法读取（{exc.strerror}）。") from None
    return data


def _check_docx(data: bytes, path) -> None:
    damaged = (f"报告模板 {path} 已损坏或不是 Word 文档（.docx）。"
               "请用 Word/WPS 打开后另存为“Word 文档（*.docx）”再试。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_TEMPLATE_UNPACKED:
                raise ReportError(f"报告模板 {path} 解压后超过 {MAX_TEMPLATE_UNPACKED >> 20} MB，"
                                  "不像正常的报告模板（可能是恶意构造的压缩文件），已拒绝。")
            names = set(z.namelist())
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                raise ReportError(damaged)
            z.read("word/document.xml")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, OSError):
        raise ReportError(damaged) from None


def render_bytes(result: Result, *, template=None, charts: bool = True,
                 strict: bool = False) -> tuple[bytes, list[Problem]]:
    """Render the report in memory; returns (.docx bytes, warnings).

    The built-in template is rendered in this process; a user's template (untrusted) in a
    separate process with a timeout (sandbox.render_isolated). Charts are added afterwards,
    in this process, from the data the context collected.
    """
    if strict and result.errors:
        errs = result.errors
        first = "；".join(str(p) for p in errs[:3])
        more = "等" if len(errs) > 3 else ""
        raise ReportError(f"工作簿中有 {len(errs)} 个错误，未生成报告。请先修正：{first}{more}")
    data = load_template(template)
    ctx, problems, specs = context_mod.build(result, charts=charts)
    name = str(template) if template is not None else "内置模板"
    from perfeval_xl.report import sandbox

    if template is None:
        sandbox.trusted(True)
        try:
            tpl = _fill(data, ctx, name, False)
        finally:
            sandbox.trusted(False)
        document = tpl.docx
    else:
        from docx import Document

        try:
            filled = sandbox.render_isolated(_fill_bytes, data, ctx, name)
        except sandbox.TemplateLimit as exc:
            lead = "" if exc.message.startswith(f"报告模板 {name}") else f"报告模板 {name}："
            raise ReportError(lead + exc.message) from None
        tpl = None
        document = Document(io.BytesIO(filled))
    from perfeval_xl.report import charts as charts_mod

    charts_mod.insert_charts(document, specs)
    merge_indicator_groups(document)
    buf = io.BytesIO()
    if tpl is not None:
        tpl.save(buf)
    else:
        document.save(buf)
    return buf.getvalue(), problems


def _fill_bytes(data: bytes, ctx: dict, name: str) -> bytes:
    """_fill for a user's template, returning the document's bytes (runs in the child)."""
    buf = io.BytesIO()
    _fill(data, ctx, name, True).save(buf)
    return buf.getvalue()


def _fill(data: bytes, ctx: dict, name: str, check: bool):
    """docxtpl render of ``data`` with ``ctx`` in the sandbox; returns the DocxTemplate.
    ``check``: report every unknown variable at once before rendering (user templates; the
    built-in template's variables are checked by the tests)."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import SecurityError

    from perfeval_xl.report import sandbox

    env = sandbox.environment()
    tpl = _template_class(DocxTemplate)(io.BytesIO(data))
    try:
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise ReportError(f"报告模板 {name} 已损坏或不是 Word 文档（.docx）：{exc}") from None
    try:
        missing = tpl.get_undeclared_template_variables(env, context=ctx) if check else set()
    except TemplateSyntaxError:
        missing = set()  # rendering raises it again, with the paragraph and its text
    if missing:
        raise ReportError(
            f"报告模板 {name} 使用了不存在的变量：{'、'.join(sorted(missing))}。"
            "可用的变量见 docs/report.md。")
    sandbox.start_budget()
    try:
        tpl.render(ctx, env, autoescape=True)
    except sandbox.TemplateLimit as exc:
        raise ReportError(f"报告模板 {name}：{exc.message}") from None
    except SecurityError as exc:
        raise ReportError(f"报告模板 {name} 使用了不允许的操作（{_short(exc)}）{_where(exc)}。"
                          "模板只能读取报告变量，不能访问内部属性或调用系统功能。") from None
    except UndefinedError as exc:
        raise ReportError(f"报告模板 {name} 使用了不存在的变量：{exc.message}{_where(exc)}。"
                          "可用的变量见 docs/report.md。") from None
    except TemplateSyntaxError as exc:
        raise ReportError(f"报告模板 {name} 有语法错误：{exc.message}{_where(exc)}。"
                          "请检查 {{ }} 和 {% %} 标记是否成对、表达式是否完整。") from None
    except TemplateError as exc:
        raise ReportError(f"报告模板 {name} 无法填充：{_short(exc)}{_where(exc)}。") from None
    except (OverflowError, ValueError, TypeError, ArithmeticError, LookupError,
            AttributeError, RecursionError) as exc:
        raise ReportError(f"报告模板 {name} 无法填充：表达式出错（{type(exc).__name__}: "
                          f"{_short(exc)}）{_where(exc)}。") from None
    return tpl


_classes: dict = {}
_patched: dict[str, str] = {}


def _template_class(base):
    """DocxTemplate whose XML clean-up (``patch_xml``, a dozen regular expressions over the
    whole document) is done once per distinct XML per process: every report of a batch
    worker renders the same template."""
    cls = _classes.get(base)
    if cls is None:
        class Template(base):
            def patch_xml(self, src_xml):
                out = _patched.get(src_xml)
                if out is None:
                    out = super().patch_xml(src_xml)
                    if len(_patched) >= 16:
                        _patched.clear()
                    _patched[src_xml] = out
                return out

        cls = _classes[base] = Template
    return cls


def _short(exc: Exception, limit: int = 160) -> str:
    s = str(getattr(exc, "message", None) or exc)
    return s if len(s) <= limit else s[:limit] + "…"


def _where(exc: Exception) -> str:
    """Where docxtpl says the error is: paragraph number and the text around it."""
    lineno = getattr(exc, "lineno", None)
    if not lineno:
        return ""
    # docxtpl starts a new line at every <w:p>: line 1 is the body's start, line n+1 is
    # paragraph n; docx_context holds the tag-stripped lines lineno-3 … lineno+3.
    where = f"（模板第 {max(lineno - 1, 1)} 段"
    lines = list(getattr(exc, "docx_context", None) or [])
    own = (lineno - 1) - max(lineno - 4, 0)
    text = lines[own].strip() if 0 <= own < len(lines) else ""
    if text:
        where += f"：“{text[:80]}{'…' if len(text) > 80 else ''}”"
    return where + "）"


def merge_indicator_groups(document) -> None:
    """In an indicator table (header 一级指标 | 二级指标 | …) merge each 一级/二级指标 cell
    down over the blank cells below it, as county tables print them. The context prints a
    name only on the first row of its group; a 小计 row (cells merged across) ends a group.
    Done after rendering because docxtpl cannot merge by group. Works on the XML directly:
    python-docx's cell grid costs more than the rest of the step."""
    from docx.oxml.ns import qn

    w_t, w_tc, w_tr = qn("w:t"), qn("w:tc"), qn("w:tr")

    def text(tc) -> str:
        return "".join(t.text or "" for t in tc.iter(w_t)).strip()

    for tbl in document.element.body.findall(qn("w:tbl")):
        rows = tbl.findall(w_tr)
        if len(rows) < 3:
            continue
        head = rows[0].findall(w_tc)
        if len(head) < 3 or [text(tc) for tc in head[:2]] != ["一级指标", "二级指标"]:
            continue
        for col in (0, 1):
            run: list = []
            for tr in rows[1:] + [None]:
                tcs = tr.findall(w_tc) if tr is not None else []
                spanned = bool(tcs) and tcs[0].grid_span > 1
                if tr is None or spanned or len(tcs) <= col or text(tcs[col]):
                    _vmerge(run)
                    run = [] if tr is None or spanned or len(tcs) <= col else [tcs[col]]
                elif run:
                    run.append(tcs[col])


def _vmerge(tcs: list) -> None:
    if len(tcs) < 2:
        return
    for n, tc in enumerate(tcs):
        tc.vMerge = "restart" if n == 0 else "continue"


def render_report(result: Result, out_path, *, template=None, pdf: bool = False,
                  strict: bool = False, charts: bool = True) -> ReportOutcome:
    """Render the narrative report of ``result`` to ``out_path`` (.docx; a folder gets
    default_report_name). With ``pdf`` also convert it; a missing converter is a warning.

    Raises:
        ReportError: strict and the result has errors; template missing, damaged, using
            unknown variables or forbidden operations, too slow or too big; output path is
            the template itself.
        files.OutputError: the .docx cannot be written (open in Word, no permission); a PDF
            that cannot be written is a "pdf-failed" warning instead.
    """
    out = Path(out_path)
    if out.is_dir():
        out = out / default_report_name(result)
    if template is not None and same_file(out, Path(template)):
        raise ReportError(f"报告输出文件 {out} 就是报告模板本身，会覆盖模板，已拒绝。"
                          "请为报告另选文件名（-o）。")
    data, problems = render_bytes(result, template=template, charts=charts, strict=strict)
    atomic_write(out, data)
    pdf_path = None
    if pdf:
        try:
            pdf_path = convert_to_pdf(out, out.parent)
        except PdfUnavailable as exc:
            problems.append(Problem("warning", exc.code, exc.message))
        except OutputError as exc:  # e.g. the old PDF is open in a viewer; the .docx is done
            problems.append(Problem("warning", "pdf-failed", exc.message))
    return ReportOutcome(docx=out, pdf=pdf_path, problems=problems)


def same_file(a: Path, b: Path) -> bool:
    """Same file: equal resolved paths (links followed), or one file under two names."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False
