"""Refuse unsafe or unusable workbook and template files before any parser touches them.

Finance bureaus open workbooks sent by other departments, so a file is checked as an
untrusted zip first: it must exist, be an Office Open XML package (not an encrypted or
legacy OLE2 file), stay within size, ratio and entry limits judged from the zip directory
*before* anything is decompressed, and contain no XML document type or entity
declarations (Office never writes them; they are how entity bombs work). Every member is
then streamed once, within the size limit, so truncated or corrupt data (bad CRC) is
found here rather than as a traceback deep inside openpyxl or python-docx.

The second line of defence is the parser itself: :func:`ensure_defused` checks that
openpyxl parses worksheets and shared strings with defusedxml.

Every refusal is an :class:`UnusableFile` with a stable ``code`` and a Chinese ``message``
that names the file and says what to do.
"""

from __future__ import annotations

import codecs
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "UnsafeXmlParser",
    "UnusableFile",
    "check_docx_file",
    "check_workbook_file",
    "ensure_defused",
]

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # first entry, or an empty archive

# Every limit below is derived from what a legal workbook can hold (Microsoft, "Excel
# specifications and limits"), with headroom, so that nothing Excel can save is called a bomb;
# docs/workbook.md lists the derivations.
#
# Total bytes all members may decompress to. Not a bomb verdict by itself (Excel has no file
# size limit), but a processing budget: the largest legal *self-evaluation* workbook is a few
# MB, and 64,000 cell formats (Excel's limit) with 64,000 cell styles and 1,024 fonts need
# under 60 MB of styles.xml even with every attribute spelled out. 256 MB leaves 4x headroom.
MAX_UNCOMPRESSED = 256 * 1024 * 1024
# Highest compression ratio of an XML member (sheets, styles, shared strings, .rels, .vml).
# Deflate, the only method Office writes, cannot exceed 1032:1; repetitive legal XML (60,000
# identical cell formats compress about 300:1) gets close to it. A higher ratio means another
# compression method or a lying directory: both only come from crafted files.
MAX_RATIO = 1100
# Non-XML members (images, OLE objects, vbaProject.bin, printer settings) are already
# compressed or sector-structured binary; over 1 MiB none compresses beyond 200:1, while a
# block of zeros dressed up as an image does.
MAX_BINARY_RATIO = 200
# Members: 65,535 is the zip format's own entry count without ZIP64 extensions. Excel has no
# sheet limit (memory only); each sheet takes at most a handful of parts, so thousands of
# sheets still fit.
MAX_ENTRIES = 65_535

# Members smaller than this cannot hurt whatever their ratio; small, very regular parts (an
# empty sheet, a style list) legitimately compress far better than any ratio limit.
_RATIO_MIN_SIZE = 1024 * 1024
_XML_MEMBER = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)
# How much of each member's start may hold the XML prolog (declaration, comments,
# processing instructions) before the root element. Office writes about 60 bytes.
_PROLOG_LIMIT = 16 * 1024
_CHUNK = 64 * 1024


class UnusableFile(Exception):
    """A file that cannot or must not be opened.

    Attributes:
        code: stable kebab-case reason, e.g. ``"zip-bomb"``.
        message: Chinese, names the file and says what to do.
        path: the path that was checked.
    """

    def __init__(self, code: str, message: str, path: str | os.PathLike[str]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = Path(path)


class UnsafeXmlParser(RuntimeError):
    """openpyxl would parse XML without defusedxml; ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Kind:
    """What one kind of Office file must look like, and how to talk about it."""

    label: str  # "Excel 工作簿"
    app: str  # the program the user should open it in
    extensions: str  # "(.xlsx/.xlsm)"
    legacy: str  # the old binary format
    main_part: str
    # Main parts of other Office kinds -> how to name the file the user actually gave.
    others: tuple[tuple[str, str], ...]


_WORKBOOK = _Kind(
    label="Excel 2007+ 工作簿",
    app="Excel",
    extensions=".xlsx/.xlsm",
    legacy=".xls",
    main_part="xl/workbook.xml",
    others=(
        ("xl/workbook.bin", "是 .xlsb 二进制工作簿，请在 Excel 中另存为 .xlsx/.xlsm"),
        ("word/document.xml", "是 Word 文档，不是 Excel 工作簿，请选择自评表工作簿 (.xlsx/.xlsm)"),
        ("ppt/presentation.xml", "是 PowerPoint 演示文稿，不是 Excel 工作簿，请选择自评表工作簿"),
    ),
)
_DOCX = _Kind(
    label="Word 2007+ 文档",
    app="Word",
    extensions=".docx",
    legacy=".doc",
    main_part="word/document.xml",
    others=(
        ("xl/workbook.xml", "是 Excel 工作簿，不是 Word 文档，请选择报告模板 (.docx)"),
        ("ppt/presentation.xml", "是 PowerPoint 演示文稿，不是 Word 文档，请选择报告模板 (.docx)"),
    ),
)


def check_workbook_file(
    path: str | os.PathLike[str],
    *,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    max_ratio: int = MAX_RATIO,
    max_entries: int = MAX_ENTRIES,
) -> None:
    """Refuse a workbook that is missing, not .xlsx/.xlsm, encrypted, corrupt or hostile.

    Args:
        path: the workbook file.
        max_uncompressed: most bytes all members may hold once decompressed.
        max_ratio: highest compression ratio accepted for an XML member over 1 MiB (binary
            members: at most MAX_BINARY_RATIO).
        max_entries: most members the zip may have.

    Raises:
        UnusableFile: with a stable code and a Chinese message naming the file.
    """
    _check(path, _WORKBOOK, max_uncompressed, max_ratio, max_entries)


def check_docx_file(
    path: str | os.PathLike[str],
    *,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    max_ratio: int = MAX_RATIO,
    max_entries: int = MAX_ENTRIES,
) -> None:
    """The checks of :func:`check_workbook_file`, for a .docx report template."""
    _check(path, _DOCX, max_uncompressed, max_ratio, max_entries)


def ensure_defused() -> None:
    """Make sure openpyxl parses worksheets and shared strings with defusedxml.

    openpyxl switches to defusedxml by itself when it is installed, unless the environment
    variable OPENPYXL_DEFUSEDXML is set to something other than "True". (Other small
    parts go through lxml with entity resolution off when lxml is installed.)

    Raises:
        UnsafeXmlParser: defusedxml is missing or openpyxl does not use it.
    """
    try:
        import defusedxml.ElementTree as defused_tree
    except ImportError as exc:
        raise UnsafeXmlParser(
            "缺少 defusedxml 组件，无法安全读取工作簿；请执行 pip install defusedxml 后重试"
        ) from exc
    import openpyxl
    from openpyxl.xml import functions

    if not openpyxl.DEFUSEDXML or functions.iterparse is not defused_tree.iterparse:
        raise UnsafeXmlParser(
            "openpyxl 未启用 defusedxml 安全解析（可能设置了环境变量 "
            "OPENPYXL_DEFUSEDXML），请删除该环境变量后重新运行"
        )


# ---------------------------------------------------------------------------------------


def _check(path, kind: _Kind, max_uncompressed: int, max_ratio: int, max_entries: int):
    path = Path(path)
    name = path.name or str(path)

    def refuse(code: str, message: str) -> UnusableFile:
        return UnusableFile(code, message, path)

    # 1. The file itself.
    if not path.exists():
        raise refuse("file-missing", f"找不到文件「{name}」，请检查路径和文件名是否正确")
    if not path.is_file():
        raise refuse(
            "not-a-file", f"「{name}」不是文件（可能是文件夹），请选择一个 {kind.extensions} 文件"
        )
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(8)
    except OSError as exc:
        raise refuse(
            "file-unreadable",
            f"无法读取文件「{name}」（{exc.strerror or exc}），"
            f"请确认文件没有被其他程序占用、且有读取权限",
        ) from None
    if size == 0:
        raise refuse(
            "file-empty",
            f"文件「{name}」是空文件（0 字节），可能保存或传输不完整，请重新获取该文件",
        )

    # 2. Format by signature, not by extension.
    if header == OLE2_SIGNATURE and kind is _WORKBOOK:
        # Legacy .xls/.et are converted before this check (perfeval_xl.convert); an OLE
        # file reaching it has a password to open, or is a damaged .xls.
        from perfeval_xl.convert import format_label, is_encrypted

        if is_encrypted(path):
            raise refuse(
                "encrypted",
                f"文件「{name}」有密码保护（设置了打开密码），无法读取；请在 Excel 或 WPS 中输入密码"
                "打开，去掉打开密码后“文件→另存为”Excel 工作簿(*.xlsx)，再用另存的文件重试",
            )
        what = (f"是 {format_label(path)}，但无法读取（可能已损坏，或设置了打开密码）"
                if path.suffix.lower() not in (".xlsx", ".xlsm")
                else "已加密（设置了打开密码）或为旧版 .xls 格式，且无法读取")
        raise refuse(
            "encrypted-or-legacy",
            f"文件「{name}」{what}；请在 Excel 中去掉密码并另存为 .xlsx/.xlsm（WPS：“文件→另存为”"
            "Excel 工作簿(*.xlsx)）后重试",
        )
    if header == OLE2_SIGNATURE:
        raise refuse(
            "encrypted-or-legacy",
            f"文件「{name}」已加密（设置了打开密码）或为旧版 {kind.legacy} 格式，请在 "
            f"{kind.app} 中去掉密码并另存为 {kind.extensions}",
        )
    if header[:4] not in _ZIP_SIGNATURES:
        raise refuse(
            "not-ooxml",
            f"文件「{name}」不是有效的 {kind.label} ({kind.extensions})，请在 {kind.app} 或 "
            f"WPS 中打开并另存为 {kind.extensions}",
        )

    def corrupt(detail: str) -> UnusableFile:
        return refuse(
            "corrupt-zip",
            f"文件「{name}」已损坏（{detail}），请重新获取该文件，或在 {kind.app} 中打开"
            f"修复后另存为 {kind.extensions}",
        )

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise corrupt("压缩结构不完整，可能下载或拷贝未完成") from None

    with zf:
        infos = zf.infolist()
        # 3. Limits judged from the zip directory alone, before decompressing anything.
        _check_directory(infos, name, refuse, corrupt, max_uncompressed, max_ratio, max_entries,
                         size)
        names = {info.filename for info in infos}
        for part, what in kind.others:
            if part in names and kind.main_part not in names:
                raise refuse("wrong-kind", f"文件「{name}」{what}")
        if "[Content_Types].xml" not in names:
            raise refuse(
                "missing-part",
                f"文件「{name}」缺少 [Content_Types].xml，不是完整的 {kind.label}，请在 "
                f"{kind.app} 中打开并另存为 {kind.extensions}",
            )
        # 4. Stream every member once: DTD scan of its start, CRC and real size overall.
        _stream_members(zf, infos, name, refuse, corrupt, max_uncompressed, size)
        # 5. The main part (found via _rels/.rels when it is not at the usual place).
        if kind.main_part not in names and _office_document(zf, names, kind) is None:
            raise refuse(
                "missing-part",
                f"文件「{name}」缺少 {kind.main_part}，不是完整的 {kind.label}，请在 "
                f"{kind.app} 中打开并另存为 {kind.extensions}",
            )


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.0f} MB"


def _too_large(name: str, limit: int, archive_size: int, produced: int) -> str:
    """The "too-large" message: a bomb warning only when no deflate stream could expand
    that much; otherwise a legal but oversized file, with what to do about it."""
    if produced > MAX_RATIO * max(archive_size, 1):
        return (f"文件「{name}」解压后超过 {_megabytes(limit)} 的上限，"
                f"疑似恶意构造的压缩炸弹，已拒绝打开；请向发送方确认文件来源并重新获取")
    return (f"文件「{name}」解压后超过 {_megabytes(limit)}，超出本工具的处理上限，已拒绝打开；"
            f"请删除无用的工作表、数据或图片后另存再试")


def _check_directory(infos, name, refuse, corrupt, max_uncompressed, max_ratio, max_entries,
                     archive_size=0):
    suspect = "疑似恶意构造的压缩炸弹，已拒绝打开；请向发送方确认文件来源并重新获取"
    if len(infos) > max_entries:
        raise refuse(
            "too-many-entries",
            f"文件「{name}」包含 {len(infos)} 个压缩条目，超过上限 {max_entries} 个，"
            f"超出本工具的处理上限，已拒绝打开；请向发送方确认文件来源，或删除无用的工作表后另存",
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise refuse(
                "encrypted-entry",
                f"文件「{name}」中的 {info.filename} 已加密，无法读取；请在 Office 中去掉密码"
                f"后另存",
            )
        total += info.file_size
        if total > max_uncompressed:
            raise refuse("too-large", _too_large(name, max_uncompressed, archive_size, total))
        # Binary members keep the tighter ratio; an explicit lower max_ratio wins for both.
        limit = max_ratio if _XML_MEMBER.search(info.filename) else min(
            max_ratio, MAX_BINARY_RATIO)
        if info.file_size > _RATIO_MIN_SIZE and info.file_size > limit * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise refuse(
                "zip-bomb",
                f"文件「{name}」中的 {info.filename} 压缩比约为 {ratio}:1，超过上限 "
                f"{limit}:1，{suspect}",
            )
    # Several directory entries sharing the same bytes are the trick of overlapping zip
    # bombs, which multiply the output without large declared sizes.
    spans = sorted((info.header_offset, info.compress_size, info.filename) for info in infos)
    for (start, length, _), (next_start, _, other) in zip(spans, spans[1:], strict=False):
        if next_start < start + length or next_start == start:
            raise refuse("zip-bomb", f"文件「{name}」中的压缩条目相互重叠（{other}），{suspect}")


def _stream_members(zf, infos, name, refuse, corrupt, max_uncompressed, archive_size=0):
    produced = 0
    for info in infos:
        head = b""
        verdict = "more"
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    produced += len(chunk)
                    if produced > max_uncompressed:  # sizes in the directory lied
                        raise refuse(
                            "too-large",
                            _too_large(name, max_uncompressed, archive_size, produced),
                        )
                    if verdict == "more":
                        head += chunk[: _PROLOG_LIMIT - len(head)]
                        verdict = _prolog_verdict(head)
                        if verdict == "more" and len(head) >= _PROLOG_LIMIT:
                            verdict = "long"
                        _refuse_prolog(verdict, info.filename, name, refuse)
        except UnusableFile:
            raise
        except NotImplementedError:
            raise corrupt(f"{info.filename} 使用了不支持的压缩方式") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            detail = "校验失败（CRC 错误）" if "CRC" in str(exc) else "数据无法解压"
            raise corrupt(f"{info.filename} {detail}") from None


def _refuse_prolog(verdict: str, member: str, name: str, refuse) -> None:
    if verdict == "dtd":
        raise refuse(
            "xml-dtd",
            f"文件「{name}」中的 {member} 含有 XML 文档类型或实体声明（<!DOCTYPE>/<!ENTITY>），"
            f"正常的 Office 文件不会包含此类内容，疑似恶意文件，已拒绝打开；"
            f"请向发送方确认并重新获取",
        )
    if verdict == "long":
        raise refuse(
            "xml-dtd",
            f"文件「{name}」中的 {member} 开头异常（根元素之前的内容超过 "
            f"{_PROLOG_LIMIT // 1024} KB），疑似恶意文件，已拒绝打开；请向发送方确认并重新获取",
        )


# (leading bytes, encoding, whether those bytes are a byte-order mark to drop). Without a
# BOM, the bytes of "<" itself tell UTF-16/32 apart (XML 1.0 appendix F).
_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", True),
    (codecs.BOM_UTF32_BE, "utf-32-be", True),
    (codecs.BOM_UTF8, "utf-8", True),
    (codecs.BOM_UTF16_LE, "utf-16-le", True),
    (codecs.BOM_UTF16_BE, "utf-16-be", True),
    (b"<\x00\x00\x00", "utf-32-le", False),
    (b"\x00\x00\x00<", "utf-32-be", False),
    (b"<\x00", "utf-16-le", False),
    (b"\x00<", "utf-16-be", False),
)


def _decode_head(raw: bytes) -> str:
    """Decode the start of a member well enough to read its markup characters."""
    for lead, encoding, is_bom in _ENCODINGS:
        if raw.startswith(lead):
            body = raw[len(lead) :] if is_bom else raw
            return codecs.getincrementaldecoder(encoding)(errors="replace").decode(body)
    # Every ASCII-compatible encoding (UTF-8, GB18030...) keeps markup bytes as they are.
    return raw.decode("latin-1")


def _prolog_verdict(raw: bytes) -> str:
    """Read an XML prolog: "dtd" if it declares a DTD or entity, "ok" once the root
    element (or anything that is not XML) starts, "more" if the prolog is not over yet."""
    text = _decode_head(raw)
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if n - i < 4:
            return "more" if text[i : i + 1] in ("", "<") else "ok"
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return "more"
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return "more"
            i = end + 3
        elif text.startswith("<!", i):
            return "dtd"  # <!DOCTYPE, <!ENTITY, or other markup no Office part starts with
        else:
            return "ok"


_REL = re.compile(rb"<Relationship\b[^>]*>", re.IGNORECASE)
_REL_TYPE = re.compile(rb'Type\s*=\s*["\'][^"\']*/officeDocument["\']')
_REL_TARGET = re.compile(rb'Target\s*=\s*["\']([^"\']+)["\']')


def _office_document(zf: zipfile.ZipFile, names: set[str], kind: _Kind) -> str | None:
    """The main part named by _rels/.rels, when it exists in the kind's folder (xl/, word/)."""
    if "_rels/.rels" not in names:
        return None
    with zf.open("_rels/.rels") as fh:
        rels = fh.read(_CHUNK)  # bounded; the streaming pass has already vetted it
    for rel in _REL.findall(rels):
        target = _REL_TARGET.search(rel)
        if _REL_TYPE.search(rel) and target:
            part = target.group(1).decode("utf-8", "replace").lstrip("/")
            folder = kind.main_part.split("/")[0] + "/"
            if part in names and part.startswith(folder):
                return part
    return None
