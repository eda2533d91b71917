"""Apply a WritePlan by patching the package bytes: only the target cells' XML changes.

Every other byte of every part stays as it was: shapes and text boxes, images, comments,
data validations (x14 ones too), conditional formats, VBA, customUI and its relationship,
defined names, styles. What changes:

- the affected sheet parts: the target ``<c>`` elements (replaced, or inserted in row and
  column order), numbers as ``<v>``, text as inline strings (``t="inlineStr"``, so the
  shared-string table is untouched and workbook text can never become a formula), the
  ``<hyperlinks>`` of the 校验结果 table (internal links need no relationship);
- styles.xml, only when a target needs a style it has not got (a number format, a 校验结果
  fill, the link font): one ``<xf>`` (and font/fill/numFmt) appended per combination;
- workbook.xml: the ``tbl_checks`` reference and ``<calcPr fullCalcOnLoad="1"/>``, so Excel
  recalculates on open;
- calcChain.xml is dropped (with its content type and relationship) when a formula cell was
  overwritten, since Excel would otherwise repair the file.

A sheet this module will not patch raises :class:`NotSurgical` naming the sheet and why;
the caller then decides between the openpyxl fallback and refusing (``--in-place``).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries

from perfeval_xl.workbook import ooxml
from perfeval_xl.workbook.plan import LINK_RGB, TONE_FILL, CellWrite, WritePlan

MAX_CELL_TEXT = 32767  # Excel's limit for one cell

# CT_Worksheet children that come after <hyperlinks> (ECMA-376 §18.3.1.99).
_AFTER_HYPERLINKS = (
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst")
# CT_Workbook children that come after <calcPr>.
_AFTER_CALCPR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
_AFTER_DEFINED_NAMES = ("calcPr",) + _AFTER_CALCPR


class NotSurgical(Exception):
    """A sheet part that cannot be patched in place. ``reason`` is Chinese."""

    def __init__(self, sheet: str, reason: str):
        super().__init__(f"{sheet}: {reason}")
        self.sheet, self.reason = sheet, reason


def _splice(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace data[start:end] by each text; insertions have start == end. Edits at one
    position keep their given order."""
    out, pos = [], 0
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1])):
        out.append(data[pos:start])
        out.append(text)
        pos = max(pos, end)
    out.append(data[pos:])
    return b"".join(out)


def _prefix(node: ooxml.Node) -> str:
    return node.name[: -len(node.local)]


def _set_attr(head: bytes, name: str, value: str) -> bytes:
    """A start tag with attribute ``name`` set (replaced or added before the closing '>')."""
    pat = re.compile(rb"(\s" + re.escape(name.encode()) + rb"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    enc = ooxml.escape_attr(value).encode()
    if pat.search(head):
        return pat.sub(lambda m: m.group(1) + b'"' + enc + b'"', head, count=1)
    end = len(head) - (2 if head.endswith(b"/>") else 1)
    return head[:end].rstrip() + b" " + name.encode() + b'="' + enc + b'"' + head[end:]


def _cell_pos(coord: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", coord)
    if not m:
        raise ValueError(coord)
    return column_index_from_string(m.group(1).upper()), int(m.group(2))


# --------------------------------------------------------------------------- styles


class _Styles:
    """Appends the few cell formats the targets need to styles.xml; reuses any that exist."""

    def __init__(self, data: bytes, part: str):
        self.data, self.part = data, part
        keep = {("styleSheet",), ("styleSheet", "numFmts"), ("styleSheet", "numFmts", "numFmt"),
                ("styleSheet", "fonts"), ("styleSheet", "fonts", "font"),
                ("styleSheet", "fills"), ("styleSheet", "fills", "fill"),
                ("styleSheet", "cellXfs"), ("styleSheet", "cellXfs", "xf")}
        nodes = ooxml.scan(data, lambda p: len(p) <= 3 and tuple(p) in keep, part)
        self.root = nodes[0]
        self.sections = {n.local: n for n in nodes if n.depth == 1}
        self.items = {k: [n for n in nodes if n.depth == 2 and nodes[n.parent].local == k]
                      for k in ("numFmts", "fonts", "fills", "cellXfs")}
        self.numfmts = {int(n.attrs.get("numFmtId", -1)): n.attrs.get("formatCode", "")
                        for n in self.items["numFmts"] if n.attrs.get("numFmtId", "").isdigit()}
        self.added: dict[str, list[bytes]] = {"numFmts": [], "fonts": [], "fills": [],
                                              "cellXfs": []}
        self.xf_text = [data[n.start:n.end] for n in self.items["cellXfs"]]
        self.fill_text = [data[n.start:n.end] for n in self.items["fills"]]
        self._memo: dict[tuple, int] = {}
        self.pfx = _prefix(self.root)

    @property
    def changed(self) -> bool:
        return any(self.added.values())

    def _count(self, key: str) -> int:
        return len(self.items[key]) + len(self.added[key])

    def _xf_attrs(self, s: int) -> dict[str, str]:
        xfs = self.items["cellXfs"]
        if s < len(xfs):
            return xfs[s].attrs
        return ooxml.parse_xml(self.added["cellXfs"][s - len(xfs)], self.part).attrib

    def _num_fmt_id(self, code: str) -> int:
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        for fid, c in self.numfmts.items():
            if c == code:
                return fid
        for fid, c in BUILTIN_FORMATS.items():
            if c == code:
                return fid
        fid = max([163, *self.numfmts]) + 1
        self.numfmts[fid] = code
        self.added["numFmts"].append(
            f'<{self.pfx}numFmt numFmtId="{fid}" formatCode="{ooxml.escape_attr(code)}"/>'
            .encode())
        return fid

    def _fill_id(self, rgb: str | None) -> int:
        """Index of a solid fill in ``rgb``, or of the empty fill for None."""
        for i, text in enumerate(self.fill_text):
            if rgb is None and (b"patternType" not in text or b'patternType="none"' in text):
                return i
            if rgb and b'patternType="solid"' in text and rgb.encode() in text \
                    and text.count(b"rgb=") == 1:
                return i
        p = self.pfx
        text = (f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>').encode() if rgb else \
            f'<{p}fill><{p}patternFill patternType="none"/></{p}fill>'.encode()
        self.fill_text.append(text)
        self.added["fills"].append(text)
        return len(self.fill_text) - 1

    def _link_font(self, font_id: int) -> int:
        fonts = self.items["fonts"]
        base = self.data[fonts[font_id].start:fonts[font_id].end] if font_id < len(fonts) \
            else f"<{self.pfx}font></{self.pfx}font>".encode()
        base = re.sub(rb"<(?:\w+:)?(?:color|u)\b[^>]*?(?:/>|>.*?</(?:\w+:)?(?:color|u)>)", b"",
                      base)
        if base.endswith(b"/>"):
            base = base[:-2] + f"></{self.pfx}font>".encode()
        head_end = base.index(b">") + 1
        text = (base[:head_end] + f'<{self.pfx}u/><{self.pfx}color rgb="{LINK_RGB}"/>'.encode()
                + base[head_end:])
        known = [self.data[n.start:n.end] for n in fonts] + self.added["fonts"]
        if text in known:  # a workbook scored before already has it
            return known.index(text)
        self.added["fonts"].append(text)
        return self._count("fonts") - 1

    def derive(self, s: int, *, fmt: str | None = None, fill: str | None | bool = False,
               link: bool = False) -> int:
        """The cellXfs index of style ``s`` with a number format, a fill (an RGB string,
        None for no fill, False to keep) and/or the link font applied."""
        key = (s, fmt, fill, link)
        if key in self._memo:
            return self._memo[key]
        if "cellXfs" not in self.sections or self.sections["cellXfs"].empty:
            raise NotSurgical("", "styles.xml 中没有单元格格式表（cellXfs）")
        s = s if 0 <= s < self._count("cellXfs") else 0
        attrs = self._xf_attrs(s)
        new: dict[str, str] = {}
        if fmt is not None:
            cur = int(attrs.get("numFmtId", "0") or 0)
            from openpyxl.styles.numbers import BUILTIN_FORMATS

            if (self.numfmts.get(cur) or BUILTIN_FORMATS.get(cur, "General")) != fmt:
                new["numFmtId"] = str(self._num_fmt_id(fmt))
                new["applyNumberFormat"] = "1"
        if fill is not False:
            want = self._fill_id(fill)
            if int(attrs.get("fillId", "0") or 0) != want:
                new["fillId"], new["applyFill"] = str(want), "1"
        if link:
            new["fontId"], new["applyFont"] = str(self._link_font(
                int(attrs.get("fontId", "0") or 0))), "1"
        if not new:
            self._memo[key] = s
            return s
        xfs = self.items["cellXfs"]
        base = self.xf_text[s] if s < len(xfs) else self.added["cellXfs"][s - len(xfs)]
        head_end = re.match(rb"<[^>]*?>", base).end()
        head = base[:head_end]
        for k, v in new.items():
            head = _set_attr(head, k, v)
        text = head + base[head_end:]
        all_xf = self.xf_text + self.added["cellXfs"]
        idx = all_xf.index(text) if text in all_xf else -1
        if idx < 0:
            self.added["cellXfs"].append(text)
            idx = len(all_xf)
        self._memo[key] = idx
        return idx

    def to_bytes(self) -> bytes:
        edits = []
        for key, extra in self.added.items():
            if not extra:
                continue
            sec = self.sections.get(key)
            if sec is None and key == "numFmts":
                text = (f'<{self.pfx}numFmts count="{len(extra)}">'.encode() + b"".join(extra)
                        + f"</{self.pfx}numFmts>".encode())
                edits.append((self.root.head_end, self.root.head_end, text))
                continue
            if sec is None or sec.empty:
                raise NotSurgical("", f"styles.xml 中缺少 {key}")
            close = self.data.rindex(b"<", sec.start, sec.end)
            edits.append((close, close, b"".join(extra)))
            head = self.data[sec.start:sec.head_end]
            if b"count" in head:
                edits.append((sec.start, sec.head_end,
                              _set_attr(head, "count", str(self._count(key)))))
        return _splice(self.data, edits)


# --------------------------------------------------------------------------- one sheet


@dataclass
class _Target:
    write: CellWrite | None  # None: only cleared
    cleared: bool


def _keep_sheet(path: tuple) -> bool:
    n = len(path)
    if n <= 2:
        return True
    if path[1] == "sheetData":
        return n <= 4 or (n == 5 and path[4] == "f")
    return path[1] == "hyperlinks" and n == 3


def _value_xml(pfx: str, value) -> tuple[str | None, str]:
    """(t attribute, inner XML) of a cell value."""
    from decimal import Decimal

    if value is None or value == "":  # as openpyxl: an empty text leaves the cell blank
        return None, ""
    if isinstance(value, bool):
        return "b", f"<{pfx}v>{int(value)}</{pfx}v>"
    if isinstance(value, (int, float, Decimal)):
        f = float(value)
        if f != f or f in (float("inf"), float("-inf")):
            return "e", f"<{pfx}v>#NUM!</{pfx}v>"
        return None, f"<{pfx}v>{int(value) if isinstance(value, int) else repr(f)}</{pfx}v>"
    text = ooxml.xml_safe(str(value))[:MAX_CELL_TEXT]
    return "inlineStr", (f'<{pfx}is><{pfx}t xml:space="preserve">{ooxml.escape_text(text)}'
                         f"</{pfx}t></{pfx}is>")


class _SheetPatch:
    def __init__(self, sheet: str, part: str, data: bytes, styles: _Styles | None):
        self.sheet, self.part, self.data, self.styles = sheet, part, data, styles
        try:
            nodes = ooxml.scan(data, _keep_sheet, part, text_of=("f",))
        except ooxml.NotUtf8:
            raise NotSurgical(sheet, "工作表不是 UTF-8 编码") from None
        self.nodes = nodes
        root = nodes[0]
        if root.local != "worksheet" or root.attrs.get(
                "xmlns" + (":" + _prefix(root)[:-1] if _prefix(root) else "")) != ooxml.MAIN_NS:
            raise NotSurgical(sheet, "工作表不是常规（Transitional）格式")
        self.root, self.pfx = root, _prefix(root)
        self.top = [n for n in nodes if n.depth == 1]
        self.sheet_data = next((n for n in self.top if n.local == "sheetData"), None)
        if self.sheet_data is None:
            raise NotSurgical(sheet, "工作表缺少 sheetData")
        self.rows: dict[int, ooxml.Node] = {}
        self.cells: dict[tuple[int, int], ooxml.Node] = {}
        self.formula: dict[int, ooxml.Node] = {}  # index of <c> -> its <f>
        index = {id(n): i for i, n in enumerate(nodes)}
        for n in nodes:
            if n.depth == 2 and n.local == "row" and nodes[n.parent] is self.sheet_data:
                if "r" not in n.attrs:
                    raise NotSurgical(sheet, "工作表的行缺少行号属性")
                self.rows[int(n.attrs["r"])] = n
            elif n.depth == 3 and n.local == "c":
                if "r" not in n.attrs:
                    raise NotSurgical(sheet, "工作表的单元格缺少位置属性")
                self.cells[_cell_pos(n.attrs["r"])] = n
            elif n.depth == 4 and n.local == "f":
                self.formula[n.parent] = n
        self.index = index
        self.edits: list[tuple[int, int, bytes]] = []
        self.formula_overwritten = False

    def _f_of(self, cell: ooxml.Node) -> ooxml.Node | None:
        return self.formula.get(self.index[id(cell)])

    def apply(self, targets: dict[tuple[int, int], _Target]) -> None:
        self._check_arrays(targets)
        self._unshare(targets)
        new_by_row: dict[int, list[tuple[int, bytes]]] = {}
        for (col, row), t in sorted(targets.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            node = self.cells.get((col, row))
            if node is None:
                if t.write is None:
                    continue  # clearing a cell that does not exist: nothing to do
                new_by_row.setdefault(row, []).append((col, self._cell_xml(col, row, 0, t)))
                continue
            if self._f_of(node) is not None:
                self.formula_overwritten = True
            s = node.attrs.get("s", "0")
            style = int(s) if s.isdigit() else 0
            self.edits.append((node.start, node.end, self._cell_xml(col, row, style, t, node)))
        self._insert(new_by_row)

    def _cell_xml(self, col: int, row: int, style: int, t: _Target,
                  node: ooxml.Node | None = None) -> bytes:
        w = t.write
        value = w.value if w else None
        fill: str | None | bool = False
        if w and w.tone:
            fill = TONE_FILL.get(w.tone, "FFFFFFFF")
        elif t.cleared:
            fill = None
        if self.styles is not None:
            style = self.styles.derive(style, fmt=w.number_format if w else None, fill=fill,
                                       link=bool(w and w.link))
        typ, inner = _value_xml(self.pfx, value)
        attrs = {"r": f"{get_column_letter(col)}{row}"}
        if node is not None:  # keep what we do not change (cm, vm, ph …) except the value
            attrs.update({k: v for k, v in node.attrs.items() if k not in ("r", "s", "t")})
            attrs.pop("cm", None)
            attrs.pop("vm", None)
        if style:
            attrs["s"] = str(style)
        if typ:
            attrs["t"] = typ
        head = "".join(f' {k}="{ooxml.escape_attr(v)}"' for k, v in attrs.items())
        p = self.pfx
        return (f"<{p}c{head}/>" if not inner else f"<{p}c{head}>{inner}</{p}c>").encode()

    def _check_arrays(self, targets) -> None:
        for i, f in self.formula.items():
            if f.attrs.get("t") == "array" and ":" in f.attrs.get("ref", ""):
                c0, r0, c1, r1 = range_boundaries(f.attrs["ref"])
                master = _cell_pos(self.nodes[i].attrs["r"])
                for (col, row) in targets:
                    if c0 <= col <= c1 and r0 <= row <= r1 and (col, row) != master:
                        raise NotSurgical(
                            self.sheet, f"结果单元格 {get_column_letter(col)}{row} 位于数组公式 "
                            f"{f.attrs['ref']} 之内")

    def _unshare(self, targets) -> None:
        """A target that is the master of a shared formula: write the formula out in each
        cell that shares it, so those cells keep working once the master is overwritten."""
        from openpyxl.formula.translate import Translator

        masters = {}
        for i, f in self.formula.items():
            if f.attrs.get("t") == "shared" and "ref" in f.attrs:
                pos = _cell_pos(self.nodes[i].attrs["r"])
                if pos in targets:
                    masters[f.attrs.get("si")] = (pos, "=" + "".join(f.text))
        if not masters:
            return
        for i, f in self.formula.items():
            si = f.attrs.get("si")
            if f.attrs.get("t") != "shared" or si not in masters:
                continue
            cell = self.nodes[i]
            pos = _cell_pos(cell.attrs["r"])
            if pos in targets:
                continue
            (mc, mr), text = masters[si]
            moved = Translator(text, f"{get_column_letter(mc)}{mr}").translate_formula(
                cell.attrs["r"])
            self.edits.append((f.start, f.end, f"<{self.pfx}f>{ooxml.escape_text(moved[1:])}"
                                               f"</{self.pfx}f>".encode()))

    def _insert(self, new_by_row: dict[int, list[tuple[int, bytes]]]) -> None:
        p = self.pfx.encode()
        sd = self.sheet_data
        new_rows: list[tuple[int, bytes]] = []
        for row, cells in new_by_row.items():
            rnode = self.rows.get(row)
            if rnode is None:
                new_rows.append((row, b'<' + p + b'row r="' + str(row).encode() + b'">'
                                 + b"".join(x for _, x in cells) + b"</" + p + b"row>"))
                continue
            existing = sorted((c, n) for (c, r), n in self.cells.items() if r == row)
            if rnode.empty:
                slash = self.data.rindex(b"/", rnode.start, rnode.head_end)
                self.edits.append((slash, rnode.head_end, b">" + b"".join(x for _, x in cells)
                                   + b"</" + p + b"row>"))
            else:
                close = self.data.rindex(b"<", rnode.start, rnode.end)
                for col, xml in cells:
                    after = next((n for c, n in existing if c > col), None)
                    pos = after.start if after is not None else close
                    self.edits.append((pos, pos, xml))
            self._widen_spans(rnode, [c for c, _ in cells])
        if new_rows:
            new_rows.sort()
            if sd.empty:
                slash = self.data.rindex(b"/", sd.start, sd.head_end)
                self.edits.append((slash, sd.head_end, b">" + b"".join(x for _, x in new_rows)
                                   + b"</" + p + b"sheetData>"))
            else:
                close = self.data.rindex(b"<", sd.start, sd.end)
                for row, xml in new_rows:
                    after = next((self.rows[r] for r in sorted(self.rows) if r > row), None)
                    pos = after.start if after is not None else close
                    self.edits.append((pos, pos, xml))
        self._widen_dimension(new_by_row)

    def _widen_spans(self, rnode: ooxml.Node, cols: list[int]) -> None:
        spans = rnode.attrs.get("spans", "")
        m = re.fullmatch(r"(\d+):(\d+)", spans)
        if not m:
            return
        lo, hi = min(int(m.group(1)), *cols), max(int(m.group(2)), *cols)
        if (lo, hi) != (int(m.group(1)), int(m.group(2))):
            head = self.data[rnode.start:rnode.head_end]
            self.edits.append((rnode.start, rnode.head_end, _set_attr(head, "spans",
                                                                      f"{lo}:{hi}")))

    def _widen_dimension(self, new_by_row) -> None:
        dim = next((n for n in self.top if n.local == "dimension"), None)
        if dim is None or not new_by_row:
            return
        try:
            c0, r0, c1, r1 = range_boundaries(dim.attrs.get("ref", ""))
        except (ValueError, TypeError):
            return
        if None in (c0, r0, c1, r1):
            return
        cols = [c for cells in new_by_row.values() for c, _ in cells]
        rows = list(new_by_row)
        n0, m0 = min(c0, *cols), min(r0, *rows)
        n1, m1 = max(c1, *cols), max(r1, *rows)
        if (n0, m0, n1, m1) != (c0, r0, c1, r1):
            ref = f"{get_column_letter(n0)}{m0}:{get_column_letter(n1)}{m1}"
            head = self.data[dim.start:dim.head_end]
            self.edits.append((dim.start, dim.head_end, _set_attr(head, "ref", ref)))

    def hyperlinks(self, remove, add: list[CellWrite]) -> None:
        """Drop the links at cells where ``remove(pos)`` holds, add the ``add`` ones."""
        node = next((n for n in self.top if n.local == "hyperlinks"), None)
        p = self.pfx
        new = b"".join(
            (f'<{p}hyperlink ref="{w.cell}" location="{ooxml.escape_attr(w.link.lstrip("#"))}" '
             f'display="{ooxml.escape_attr(ooxml.xml_safe(str(w.value))[:255])}"/>').encode()
            for w in add)
        if node is None:
            if not add:
                return
            after = next((n for n in self.top if n.local in _AFTER_HYPERLINKS), None)
            pos = after.start if after is not None else self.data.rindex(b"<", 0, self.root.end)
            self.edits.append((pos, pos, f"<{p}hyperlinks>".encode() + new
                               + f"</{p}hyperlinks>".encode()))
            return
        links = [n for n in self.nodes if n.depth == 2 and self.nodes[n.parent] is node]
        gone = []
        for n in links:
            try:
                pos = _cell_pos(n.attrs.get("ref", "").split(":")[0])
            except ValueError:
                continue
            if remove(pos):
                gone.append(n)
        if len(gone) == len(links) and not add:
            self.edits.append((node.start, node.end, b""))
            return
        for n in gone:
            self.edits.append((n.start, n.end, b""))
        if add:
            if node.empty:
                slash = self.data.rindex(b"/", node.start, node.head_end)
                self.edits.append((slash, node.head_end,
                                   b">" + new + f"</{p}hyperlinks>".encode()))
            else:
                close = self.data.rindex(b"<", node.start, node.end)
                self.edits.append((close, close, new))

    def to_bytes(self) -> bytes:
        return _splice(self.data, self.edits)


# --------------------------------------------------------------------------- the package


def merged_ranges(data: bytes, sheets) -> dict[str, list[tuple[int, int, int, int]]]:
    """Merged ranges (min_col, min_row, max_col, max_row) of each named sheet."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    book = ooxml.read_book(zf)
    out = {}
    for sheet in sheets:
        part = book.parts.get(sheet)
        if not part or part not in zf.namelist():
            out[sheet] = []
            continue
        raw = zf.read(part)
        out[sheet] = [range_boundaries(m.decode()) for m in re.findall(
            rb"<(?:\w+:)?mergeCell\b[^>]*?\sref=\"([A-Za-z]{1,3}\d+:[A-Za-z]{1,3}\d+)\"", raw)]
    return out


def apply_plan_xml(data: bytes, plan: WritePlan) -> bytes:
    """The package ``data`` with ``plan`` applied by patching only what the plan changes.

    Raises:
        NotSurgical: a target sheet this module will not patch (the caller falls back or
            refuses).
        ooxml.PackageError: a part is not well-formed.
    """
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    book = ooxml.read_book(zf)
    # Clear ranges stay ranges: they are matched against the cells that exist, so a
    # table name reaching row 1,048,576 costs nothing extra.
    clears: dict[str, list[tuple[int, int, int, int]]] = {}
    for sheet, r0, r1, lo, hi in plan.clear:
        if sheet in book.parts:
            clears.setdefault(sheet, []).append(
                (column_index_from_string(lo), r0, column_index_from_string(hi), r1))
    by_sheet: dict[str, dict[tuple[int, int], CellWrite]] = {s: {} for s in clears}
    links: dict[str, list[CellWrite]] = {}
    for w in plan.writes:
        if w.sheet not in book.parts:
            continue
        by_sheet.setdefault(w.sheet, {})[_cell_pos(w.cell)] = w
        if w.link:
            links.setdefault(w.sheet, []).append(w)
    styles = None
    if book.styles and book.styles in names:
        try:
            styles = _Styles(zf.read(book.styles), book.styles)
        except ooxml.NotUtf8:
            raise NotSurgical("", "styles.xml 不是 UTF-8 编码") from None
    elif any(w.number_format or w.tone or w.link for w in plan.writes):
        raise NotSurgical("", "工作簿缺少样式表 styles.xml")
    replaced: dict[str, bytes] = {}
    formula_overwritten = False
    for sheet, writes in by_sheet.items():
        part = book.parts[sheet]
        if book.kinds.get(sheet) != ooxml.WORKSHEET_REL or part not in names:
            raise NotSurgical(sheet, "不是普通工作表")
        try:
            patch = _SheetPatch(sheet, part, zf.read(part), styles)
        except (ValueError, KeyError, IndexError) as exc:  # e.g. r="A0", a row r="x"
            raise NotSurgical(sheet, f"工作表中有无法识别的单元格位置（{type(exc).__name__}）") \
                from None
        ranges = clears.get(sheet, [])

        def cleared(pos, ranges=ranges) -> bool:
            return any(c0 <= pos[0] <= c1 and r0 <= pos[1] <= r1 for c0, r0, c1, r1 in ranges)

        targets = {pos: _Target(w, cleared(pos)) for pos, w in writes.items()}
        for pos in patch.cells:
            if pos not in targets and cleared(pos):
                targets[pos] = _Target(None, True)
        patch.apply(targets)
        patch.hyperlinks(lambda pos, cleared=cleared, writes=writes: cleared(pos) or (
            pos in writes and bool(writes[pos].link)), links.get(sheet, []))
        formula_overwritten |= patch.formula_overwritten
        replaced[part] = patch.to_bytes()
    if styles is not None and styles.changed:
        replaced[book.styles] = styles.to_bytes()
    replaced[book.part] = _patch_workbook(zf.read(book.part), plan.names, book.part)
    drop: set[str] = set()
    if formula_overwritten:
        drop = _drop_calc_chain(zf, replaced, book.part)
    return _rezip(zf, replaced, drop)


def _patch_workbook(data: bytes, names: dict[str, str], part: str) -> bytes:
    nodes = ooxml.scan(data, lambda p: len(p) <= 2 or (len(p) == 3 and p[1] == "definedNames"),
                       part)
    root = nodes[0]
    pfx = _prefix(root)
    top = [n for n in nodes if n.depth == 1]
    edits = []
    dnames = next((n for n in top if n.local == "definedNames"), None)
    missing = []
    for name, ref in names.items():
        hit = next((n for n in nodes if n.depth == 2 and dnames is not None
                    and nodes[n.parent] is dnames and n.attrs.get("name") == name
                    and "localSheetId" not in n.attrs), None)
        if hit is None:
            missing.append(f'<{pfx}definedName name="{ooxml.escape_attr(name)}">'
                           f"{ooxml.escape_text(ref)}</{pfx}definedName>".encode())
        elif hit.empty:
            head = data[hit.start:hit.head_end - 2].rstrip()
            edits.append((hit.start, hit.end, head + b">" + ooxml.escape_text(ref).encode()
                          + f"</{pfx}definedName>".encode()))
        else:
            close = data.rindex(b"<", hit.start, hit.end)
            edits.append((hit.head_end, close, ooxml.escape_text(ref).encode()))
    if missing:
        if dnames is not None and not dnames.empty:
            close = data.rindex(b"<", dnames.start, dnames.end)
            edits.append((close, close, b"".join(missing)))
        else:
            text = f"<{pfx}definedNames>".encode() + b"".join(missing) \
                + f"</{pfx}definedNames>".encode()
            if dnames is not None:
                edits.append((dnames.start, dnames.end, text))
            else:
                after = next((n for n in top if n.local in _AFTER_DEFINED_NAMES), None)
                pos = after.start if after else data.rindex(b"<", 0, root.end)
                edits.append((pos, pos, text))
    calc = next((n for n in top if n.local == "calcPr"), None)
    if calc is not None:
        head = data[calc.start:calc.head_end]
        edits.append((calc.start, calc.head_end, _set_attr(head, "fullCalcOnLoad", "1")))
    else:
        after = next((n for n in top if n.local in _AFTER_CALCPR), None)
        pos = after.start if after else data.rindex(b"<", 0, root.end)
        if dnames is not None and dnames.end > pos:  # keep schema order
            pos = dnames.end
        edits.append((pos, pos, f'<{pfx}calcPr fullCalcOnLoad="1"/>'.encode()))
    return _splice(data, edits)


def _drop_calc_chain(zf: zipfile.ZipFile, replaced: dict[str, bytes], part: str) -> set[str]:
    """Remove calcChain.xml, its content-type override and its relationship."""
    rels_name = ooxml.rels_path(part)
    chains = [t for _, typ, t, _ in ooxml.read_rels(zf, part)
              if typ == ooxml.CALC_CHAIN_REL]
    if not chains:
        return set()
    rels = zf.read(rels_name)
    rels = re.sub(rb"<(?:\w+:)?Relationship\b[^>]*" + re.escape(ooxml.CALC_CHAIN_REL.encode())
                  + rb"\"[^>]*/>", b"", rels)
    replaced[rels_name] = rels
    types = zf.read("[Content_Types].xml")
    for part in chains:
        types = re.sub(rb"<(?:\w+:)?Override\b[^>]*PartName=\"/" + re.escape(part.encode())
                       + rb"\"[^>]*/>", b"", types)
    replaced["[Content_Types].xml"] = types
    return set(chains)


def _rezip(zf: zipfile.ZipFile, replaced: dict[str, bytes], drop: set[str]) -> bytes:
    """The package with ``replaced`` members rewritten, ``drop`` left out, and every other
    member copied as its original compressed bytes (no recompression, same order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in zf.infolist():
            if info.filename in drop:
                continue
            data = replaced.get(info.filename)
            if data is not None or not _copy_raw(zf, info, dst):
                dst.writestr(info, data if data is not None else zf.read(info),
                             compress_type=info.compress_type)
    return out.getvalue()


def _copy_raw(src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile) -> bool:
    """Append ``info``'s compressed bytes to ``dst`` unchanged. False when the member is
    not a plain stored/deflated one (then the caller recompresses it)."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
            or info.file_size >= zipfile.ZIP64_LIMIT or info.compress_size >= zipfile.ZIP64_LIMIT:
        return False
    fp = src.fp
    fp.seek(info.header_offset)
    header = fp.read(zipfile.sizeFileHeader)
    if len(header) != zipfile.sizeFileHeader or header[:4] != zipfile.stringFileHeader:
        return False
    skip = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    fp.seek(info.header_offset + zipfile.sizeFileHeader + skip)
    raw = fp.read(info.compress_size)
    if len(raw) != info.compress_size:
        return False
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type, new.external_attr = info.compress_type, info.external_attr
    new.create_system, new.flag_bits = info.create_system, info.flag_bits & 0x800  # utf-8 name
    new.CRC, new.compress_size, new.file_size = info.CRC, info.compress_size, info.file_size
    # zipfile offers no public raw copy; this is what ZipFile.writestr does around its
    # compressor (header, data, bookkeeping for the central directory).
    new.header_offset = dst.fp.tell()
    dst.fp.write(new.FileHeader())
    dst.fp.write(raw)
    dst.filelist.append(new)
    dst.NameToInfo[new.filename] = new
    dst.start_dir = dst.fp.tell()
    dst._didModify = True
    return True


def openpyxl_losses(data: bytes) -> list[tuple[str, str, str]]:
    """What an openpyxl round trip of the package would lose: (code, sheet, what) in
    Chinese, per sheet. Used to warn before the fallback, or to refuse ``--in-place``."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    book = ooxml.read_book(zf)
    out = []
    for sheet in book.sheets:
        part = book.parts.get(sheet)
        if not part or part not in names:
            continue
        raw = zf.read(part)
        for _, typ, target, mode in ooxml.read_rels(zf, part):
            if mode == "External" or target not in names:
                continue
            if typ.endswith("/drawing"):
                d = zf.read(target)
                if re.search(rb"<(?:\w+:)?sp[\s>]", d):
                    out.append(("shapes-dropped", sheet, "文本框或形状"))
            elif typ.endswith("/ctrlProp") or typ.endswith("/control"):
                out.append(("controls-dropped", sheet, "表单控件"))
        if b"x14:dataValidation" in raw:
            out.append(("validation-dropped", sheet, "Excel 2010 格式的下拉列表（数据验证）"))
        if b"x14:conditionalFormatting" in raw:
            out.append(("format-dropped", sheet, "Excel 2010 格式的条件格式"))
        if b"x14:sparklineGroup" in raw:
            out.append(("sparklines-dropped", sheet, "迷你图"))
    return _dedupe(out)


def _dedupe(items):
    seen, out = set(), []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out
