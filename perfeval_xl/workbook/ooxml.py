"""The workbook as a zip package: which part holds which sheet, and a byte-offset scanner.

Shared by the XML cell source (reading) and the surgical writer. Both work on the package
bytes directly instead of through openpyxl: reading only the parts the engine needs is
several times cheaper than building openpyxl's model, and writing by splicing bytes keeps
every part openpyxl does not model (shapes, text boxes, x14 validations, customUI) intact.

Every XML parse here refuses document type and entity declarations, as defusedxml does;
``safety.check_workbook_file`` has refused such parts before, this is the second line.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

import defusedxml.ElementTree as DET

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET_REL = REL_NS + "/worksheet"
SHARED_STRINGS_REL = REL_NS + "/sharedStrings"
STYLES_REL = REL_NS + "/styles"
CALC_CHAIN_REL = REL_NS + "/calcChain"
WORKBOOK_PART = "xl/workbook.xml"
OFFICE_DOCUMENT_REL = REL_NS + "/officeDocument"


class PackageError(Exception):
    """A part the engine needs is missing or is not well-formed XML; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_xml(data: bytes, part: str):
    """A part as an ElementTree element, parsed by defusedxml."""
    try:
        return DET.fromstring(data)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden …
        raise PackageError(
            f"工作簿中的 {part} 已损坏，无法读取（{type(exc).__name__}）。"
            "请在 Excel/WPS 中打开后另存为 .xlsx 再试。") from None


def rels_path(part: str) -> str:
    """xl/workbook.xml -> xl/_rels/workbook.xml.rels"""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(part: str, target: str) -> str:
    """A relationship target relative to ``part`` (or absolute from the package root)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def read_rels(zf: zipfile.ZipFile, part: str) -> list[tuple[str, str, str, str]]:
    """(Id, Type, resolved target, TargetMode) of each relationship of ``part``."""
    name = rels_path(part)
    try:
        data = zf.read(name)
    except KeyError:
        return []
    out = []
    for rel in parse_xml(data, name).iter(f"{{{PKG_REL_NS}}}Relationship"):
        mode = rel.get("TargetMode", "Internal")
        target = rel.get("Target", "")
        out.append((rel.get("Id", ""), rel.get("Type", ""),
                    target if mode == "External" else resolve_target(part, target), mode))
    return out


@dataclass
class Book:
    """What workbook.xml and its relationships say: sheets in order and their parts."""

    part: str = WORKBOOK_PART  # the workbook part (named by _rels/.rels)
    sheets: list[str] = field(default_factory=list)
    parts: dict[str, str] = field(default_factory=dict)  # sheet title -> worksheet part
    kinds: dict[str, str] = field(default_factory=dict)  # sheet title -> relationship type
    names: dict[str, str] = field(default_factory=dict)  # workbook-scoped defined names
    date1904: bool = False
    shared_strings: str | None = None
    styles: str | None = None


def main_part(zf: zipfile.ZipFile) -> str:
    """The workbook part: xl/workbook.xml, or wherever _rels/.rels says it is."""
    names = set(zf.namelist())
    if WORKBOOK_PART in names:
        return WORKBOOK_PART
    for _, typ, target, _mode in read_rels(zf, ""):
        if typ == OFFICE_DOCUMENT_REL and target in names:
            return target
    raise PackageError("工作簿缺少 xl/workbook.xml，不是完整的 Excel 工作簿，请在 Excel 中打开并另存为 .xlsx。")


def read_book(zf: zipfile.ZipFile) -> Book:
    part = main_part(zf)
    data = zf.read(part)
    root = parse_xml(data, part)
    rels = {rid: (typ, target) for rid, typ, target, _ in read_rels(zf, part)}
    book = Book(part=part)
    pr = root.find(f"{{{MAIN_NS}}}workbookPr")
    book.date1904 = pr is not None and pr.get("date1904", "0") in ("1", "true")
    for sh in root.iter(f"{{{MAIN_NS}}}sheet"):
        title = sh.get("name", "")
        typ, target = rels.get(sh.get(f"{{{REL_NS}}}id", ""), ("", ""))
        book.sheets.append(title)
        book.parts[title] = target
        book.kinds[title] = typ
    for dn in root.iter(f"{{{MAIN_NS}}}definedName"):
        if dn.get("localSheetId") is None and dn.get("name"):
            book.names[dn.get("name")] = dn.text or ""
    for typ, target in rels.values():
        if typ == SHARED_STRINGS_REL:
            book.shared_strings = target
        elif typ == STYLES_REL:
            book.styles = target
    return book


# --------------------------------------------------------------------------- byte scanner

# One markup token: comment | CDATA | processing instruction | declaration | start/end tag.
# '<' cannot occur unescaped in character data, so every '<' starts one of these.
_TOKEN = re.compile(
    rb"""<(?:(!--.*?-->)|(!\[CDATA\[.*?\]\]>)|(\?.*?\?>)|(!)|(/?)([^\s/>!?]+)"""
    rb"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>)""", re.DOTALL)
_ATTR = re.compile(rb"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass
class Node:
    """One element found by :func:`scan`: its name as written (prefix kept), attributes,
    and byte offsets: ``start`` ('<'), ``head_end`` (after the start tag), ``end`` (after
    the element), ``parent`` (index into the list, -1 for the root)."""

    name: str
    raw_attrs: bytes
    start: int
    head_end: int
    end: int
    depth: int
    parent: int
    empty: bool
    text: list[str] = field(default_factory=list)
    _attrs: dict[str, str] | None = None

    @property
    def local(self) -> str:
        return self.name.rsplit(":", 1)[-1]

    @property
    def attrs(self) -> dict[str, str]:
        """Attribute values, unescaped (parsed on first use: most nodes never need them)."""
        if self._attrs is None:
            self._attrs = {a.group(1).decode("utf-8"): _unescape(
                a.group(2) if a.group(2) is not None else a.group(3))
                for a in _ATTR.finditer(self.raw_attrs)}
        return self._attrs


class NotUtf8(Exception):
    pass


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def scan(data: bytes, keep, part: str, *, text_of=()) -> list[Node]:
    """Elements of ``data`` with their byte offsets, for splicing.

    A tokenizer, not a full parser: it never expands entities and refuses any document
    type declaration, so nothing in the part can make it fetch or multiply anything; it
    checks that start and end tags pair up. (Parts reaching it were parsed by defusedxml or
    openpyxl when the workbook was read.)

    Args:
        data: the part's bytes (must be UTF-8: offsets are spliced as bytes).
        keep: ``keep(path)`` says whether to record an element; ``path`` is the list of
            local names from the root down to it (do not keep a reference to it).
        part: the part name, for messages.
        text_of: local names whose character data is collected into ``Node.text``.

    Raises:
        NotUtf8: the part is in another encoding.
        PackageError: tags do not pair up, or it declares a DTD/entities.
    """
    head = data[:200]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or re.search(
            rb"encoding=[\"'](?!utf-?8[\"'])", head, re.IGNORECASE):
        raise NotUtf8(part)
    nodes: list[Node] = []
    path: list[str] = []
    names: list[bytes] = []
    kept: list[int] = []  # node index per open element, -1 when not recorded

    def broken(why: str) -> PackageError:
        return PackageError(f"工作簿中的 {part} 已损坏，无法解析（{why}）。")

    for m in _TOKEN.finditer(data):
        if m.group(1) or m.group(3):
            continue  # comment, processing instruction
        if m.group(2):
            continue  # CDATA (only inside text we do not read)
        if m.group(4):
            raise PackageError(f"工作簿中的 {part} 含有 XML 文档类型或实体声明，疑似恶意文件，已拒绝处理。")
        name = m.group(6)
        if m.group(5):  # end tag
            if not names or names[-1] != name:
                raise broken("标签不配对")
            names.pop()
            path.pop()
            i = kept.pop()
            if i >= 0:
                n = nodes[i]
                n.end = m.end()
                if n.text is not None and n.local in text_of:
                    n.text.append(_unescape(data[n.head_end:m.start()]))
            continue
        qname = name.decode("utf-8")
        local = qname.rsplit(":", 1)[-1]
        path.append(local)
        empty = bool(m.group(8))
        if keep(path):
            parent = next((i for i in reversed(kept) if i >= 0), -1)
            nodes.append(Node(qname, m.group(7), m.start(), m.end(), m.end(), len(path) - 1,
                              parent, empty))
            idx = len(nodes) - 1
        else:
            idx = -1
        if empty:
            path.pop()
        else:
            names.append(name)
            kept.append(idx)
    if names or not nodes:
        raise broken("文档不完整")
    return nodes


def escape_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(s: str) -> str:
    return escape_text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(s: str) -> str:
    """Drop characters XML 1.0 cannot hold (Excel would refuse the part)."""
    return _ILLEGAL_XML.sub("", s)
