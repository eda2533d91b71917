"""Builds ``templates/report_template.docx``, the docxtpl template of the narrative report.

The template is a real Word document that a county office can open and restyle: every
paragraph uses a named style (标题 / Heading 1-3 / 正文 / 表格 …), so Word's navigation pane
shows the outline, and every docxtpl tag sits in a run of its own. Formatting follows
GB/T 9704-2012 (DESIGN §6). The build is deterministic (fixed core properties, then
``files.normalize_zip``), so a test can compare the committed file with a fresh build.

    python -m perfeval_xl.report.template_builder           # rebuild templates/…docx
    python -m perfeval_xl.report.template_builder --check   # exit 1 when the file is stale
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from perfeval_xl.report import fonts
from perfeval_xl.report.render import TEMPLATE_PATH  # noqa: F401  (defined once, used here)

# GB/T 9704-2012: 3号 = 16 pt, 2号 = 22 pt, 4号 = 14 pt, 小四 = 12 pt.
BODY_PT = 16
TITLE_PT = 22
TABLE_PT = 12
CAPTION_PT = 14
PAGE_NO_PT = 14
LINE_TWIPS = 579            # 28.95 pt exact: 22 lines in the 225 mm type area
CHAR_SPACING = -5           # −0.25 pt (twentieths of a point): 28 characters per line
INDENT_CHARS = 200          # first-line indent of 2 characters (hundredths of a character)

# Table column widths in mm (type area is 210 − 28 − 26 = 156 mm wide).
# A 小四 character is 4.2 mm; cells have 1 mm padding each side. "\n" breaks a header.
DEPARTMENT_COLS = [("序号", 14), ("内设机构", 40), ("主要职责", 102)]
ECONOMY_COLS = [("序号", 12), ("指标名称", 52), ("单位", 14), ("本期累计", 24),
                ("同比增长\n(%)", 22), ("说明", 32)]
SCORE_COLS = [("一级\n指标", 11), ("二级指标", 19), ("三级指标", 33), ("分值", 11),
              ("实际值", 19), ("得分", 14), ("扣分原因", 49)]

# Style names (English built-ins keep Word's outline and navigation pane working).
S_BODY = "Normal"
S_TITLE = "报告标题"
S_H1, S_H2, S_H3 = "Heading 1", "Heading 2", "Heading 3"
S_FIGURE = "图片"
S_CAPTION = "图表标题"
S_TABLE = "表格文字"
S_TABLE_C = "表格居中"
S_TABLE_HEAD = "表头"
S_ANNEX_MARK = "附件标识"
S_ANNEX_TITLE = "附件标题"
S_TAG = "模板标记"   # paragraphs holding only {%p %} tags; docxtpl removes them

_SUBTOTAL_ROW = object()
_ITEM_ROW = object()


def build_template() -> bytes:
    """Build the report template and return the .docx bytes (deterministic)."""
    from docx import Document

    doc = Document()
    _drop_thumbnail(doc)
    _page_setup(doc)
    _styles(doc)
    _font_table(doc)
    _footer(doc)
    body = _Body(doc)
    _outline(body)
    _core_properties(doc)
    buf = io.BytesIO()
    doc.save(buf)
    from perfeval_xl.files import normalize_zip

    return normalize_zip(buf.getvalue())


# --------------------------------------------------------------------------- the outline

def _outline(b: _Body) -> None:
    """The report, paragraph by paragraph (DESIGN §6). Numbers come from the context."""
    b.p(S_TITLE, "{{ unit }}")
    b.p(S_TITLE, "{{ report_title }}")
    b.p(S_BODY)

    # 一、基本情况
    with b.block("basic.show"):
        b.p(S_H1, "{{ basic.num }}", "基本情况")
        with b.section("overview", "概况"):
            b.paragraphs("overview.paragraphs")
            with b.block("overview.table"):
                b.p(S_CAPTION, "{{ overview.table_caption }}", keep_next=True)
                b.table("overview.table", DEPARTMENT_COLS,
                        ["{{ r.no }}", "{{ r.name }}", "{{ r.duty }}"], centred=(0,))
        with b.section("systems", "管理制度"):
            b.paragraphs("systems.paragraphs")
        with b.section("budget", "预算资金"):
            b.paragraphs("budget.paragraphs")
            b.figure("budget")

    # 二、实际工作绩效
    with b.block("performance.show"):
        b.p(S_H1, "{{ performance.num }}", "实际工作绩效")
        b.paragraphs("performance.paragraphs")
        with b.section("economy", "经济指标完成情况"):
            b.paragraphs("economy.paragraphs")
            with b.block("economy.rows"):
                b.p(S_CAPTION, "{{ economy.table_caption }}", keep_next=True)
                b.table("economy.rows", ECONOMY_COLS,
                        ["{{ r.no }}", "{{ r.name }}", "{{ r.unit }}", "{{ r.value }}",
                         "{{ r.growth }}", "{{ r.note }}"], centred=(0, 2, 3, 4))
        for key, title in (("key_work", "重点工作开展情况"), ("other_work", "其他工作开展情况")):
            with b.section(key, title):
                b.paragraphs(f"{key}.paragraphs")
                b.tag("{%p for item in " + key + ".entries %}")
                b.p(S_H3, "{{ item.num }}", "{{ item.title }}")
                b.paragraphs("item.paragraphs", var="line")
                b.tag("{%p endfor %}")

    # 三、职能职责  四、整体支出绩效目标
    with b.chapter("duties", "职能职责"):
        b.paragraphs("duties.paragraphs")
    with b.chapter("goals", "整体支出绩效目标"):
        b.paragraphs("goals.paragraphs")

    # 五、评价思路
    with b.block("approach.show"):
        b.p(S_H1, "{{ approach.num }}", "评价思路")
        for key, title in (("focus", "评价思路及关注点"), ("method", "评价方法"),
                           ("process", "评价过程"), ("indicator_system", "指标体系"),
                           ("grade_levels", "评价等级")):
            with b.section(key, title):
                b.paragraphs(f"{key}.paragraphs")

    # 六、评价结论
    with b.block("conclusion.show"):
        b.p(S_H1, "{{ conclusion.num }}", "评价结论")
        with b.section("verdict", "评价结论"):
            b.paragraphs("verdict.paragraphs")
        with b.section("analysis", "绩效分析"):
            b.paragraphs("analysis.paragraphs")
        with b.section("scores", "指标得分情况"):
            b.paragraphs("scores.paragraphs")
            b.p(S_CAPTION, "{{ scores.table_caption }}", keep_next=True)
            b.score_table()
            b.figure("scores")

    # 七、主要经验及做法、存在问题和建议
    with b.block("lessons.show"):
        b.p(S_H1, "{{ lessons.num }}", "主要经验及做法、存在问题和建议")
        for key, title in (("experience", "主要经验及做法"), ("problems", "存在的问题"),
                           ("suggestions", "建议和改进举措")):
            with b.section(key, title):
                b.paragraphs(f"{key}.paragraphs")

    # 附件：指标计算过程
    with b.block("appendix.show"):
        b.p(S_ANNEX_MARK, "附件")
        b.p(S_ANNEX_TITLE, "指标计算过程")
        b.paragraphs("appendix.paragraphs")
        b.tag("{%p for item in appendix.entries %}")
        b.p(S_H3, "{{ item.num }}", "{{ item.name }}")
        b.paragraphs("item.paragraphs", var="line")
        b.tag("{%p endfor %}")


class _Body:
    """Writes paragraphs and tables into the document body, one docxtpl tag per run."""

    def __init__(self, doc):
        self.doc = doc

    def p(self, style: str, *runs: str, keep_next: bool = False):
        par = self.doc.add_paragraph(style=style)
        for text in runs:
            par.add_run(text)
        if keep_next:
            par.paragraph_format.keep_with_next = True
        return par

    def tag(self, text: str) -> None:
        self.p(S_TAG, text)

    def block(self, condition: str):
        return _Wrap(self, "{%p if " + condition + " %}", "{%p endif %}")

    def section(self, key: str, title: str):
        """A 二级标题 section shown only when the context says it has content."""
        return _Section(self, key, title, S_H2)

    def chapter(self, key: str, title: str):
        """A 一级标题 chapter shown only when it has content."""
        return _Section(self, key, title, S_H1)

    def paragraphs(self, expr: str, var: str = "text") -> None:
        self.tag("{%p for " + var + " in " + expr + " %}")
        self.p(S_BODY, "{{ " + var + " }}")
        self.tag("{%p endfor %}")

    def figure(self, key: str) -> None:
        with self.block(f"{key}.chart"):
            self.p(S_FIGURE, "{{ " + key + ".chart }}")
            self.p(S_CAPTION, "{{ " + key + ".chart_caption }}")

    def table(self, rows_expr: str, cols, cells: list[str], centred=()) -> None:
        table = self._table(cols)
        loop = table.add_row()
        loop.cells[0].paragraphs[0].add_run("{%tr for r in " + rows_expr + " %}")
        row = table.add_row()
        for i, text in enumerate(cells):
            self._cell(row.cells[i], text, S_TABLE_C if i in centred else S_TABLE)
        end = table.add_row()
        end.cells[0].paragraphs[0].add_run("{%tr endfor %}")
        for r in table.rows:
            _cant_split(r)

    def score_table(self) -> None:
        """The indicator score table: item rows, and bold 小计/合计 rows spanning 3 columns."""
        table = self._table(SCORE_COLS)
        rows = [
            "{%tr for r in scores.rows %}",
            "{%tr if r.subtotal %}",
            _SUBTOTAL_ROW,
            "{%tr else %}",
            _ITEM_ROW,
            "{%tr endif %}",
            "{%tr endfor %}",
        ]
        for spec in rows:
            row = table.add_row()
            _cant_split(row)
            if spec is _SUBTOTAL_ROW:
                merged = row.cells[0].merge(row.cells[2])
                self._cell(merged, "{{ r.label }}", S_TABLE_HEAD)
                for i, text in ((3, "{{ r.weight }}"), (4, "{{ r.value }}"),
                                (5, "{{ r.score }}")):
                    self._cell(row.cells[i], text, S_TABLE_HEAD)
                self._cell(row.cells[6], "{{ r.note }}", S_TABLE)
            elif spec is _ITEM_ROW:
                for i, text in enumerate(["{{ r.level1 }}", "{{ r.level2 }}", "{{ r.name }}",
                                          "{{ r.weight }}", "{{ r.value }}", "{{ r.score }}",
                                          "{{ r.note }}"]):
                    self._cell(row.cells[i], text, S_TABLE_C if i in (0, 3, 4, 5) else S_TABLE)
            else:
                row.cells[0].paragraphs[0].add_run(spec)

    def _table(self, cols):
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Mm

        table = self.doc.add_table(rows=1, cols=len(cols))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _fixed_layout(table, [w for _, w in cols])
        head = table.rows[0]
        _repeat_header(head)
        _cant_split(head)
        for i, (title, width) in enumerate(cols):
            head.cells[i].width = Mm(width)
            self._cell(head.cells[i], title, S_TABLE_HEAD)
        return table

    @staticmethod
    def _cell(cell, text: str, style: str) -> None:
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT

        par = cell.paragraphs[0]
        par.style = style
        for extra in cell.paragraphs[1:]:  # merged cells keep one paragraph each
            extra._element.getparent().remove(extra._element)
        for n, line in enumerate(text.split("\n")):
            run = par.add_run(line)
            if n:
                run._r.addprevious(_break())
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


class _Wrap:
    def __init__(self, body: _Body, start: str, end: str):
        self.body, self.start, self.end = body, start, end

    def __enter__(self):
        self.body.tag(self.start)
        return self.body

    def __exit__(self, *exc):
        self.body.tag(self.end)
        return False


class _Section(_Wrap):
    def __init__(self, body: _Body, key: str, title: str, style: str):
        super().__init__(body, "{%p if " + key + ".show %}", "{%p endif %}")
        self.key, self.title, self.style = key, title, style

    def __enter__(self):
        super().__enter__()
        self.body.p(self.style, "{{ " + self.key + ".num }}", self.title)
        return self.body


# --------------------------------------------------------------------------- page and styles

def _page_setup(doc) -> None:
    from docx.shared import Mm

    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(23)
    # GB/T 9704: odd page numbers on the right, even ones on the left.
    doc.settings.odd_and_even_pages_header_footer = True


def _styles(doc) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    styles = doc.styles
    _doc_defaults(doc)

    normal = styles[S_BODY]
    _run_props(normal, fonts.BODY, BODY_PT)
    # No widow/orphan control: official documents keep the strict 22-line grid.
    _para_props(normal, indent=True, line=LINE_TWIPS, align="both", widow=False)

    def add(name: str, base: str = S_BODY):
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = styles[base]
        st.quick_style = True
        return st

    title = add(S_TITLE)
    _run_props(title, fonts.TITLE, TITLE_PT, spacing=0)
    _para_props(title, indent=False, line=720, align="center")  # 36 pt for two 22 pt lines

    for name, font, bold, level in ((S_H1, fonts.HEADING1, False, 0),
                                    (S_H2, fonts.HEADING2, False, 1),
                                    (S_H3, fonts.BODY, True, 2)):
        st = styles[name]
        _reset(st)
        st.base_style = normal
        _run_props(st, font, BODY_PT, bold=bold)
        _para_props(st, indent=True, line=LINE_TWIPS, align="both", keep_next=True,
                    outline=level)
        # The linked character style ("Heading 1 Char") keeps Word's blue theme font otherwise.
        char = styles[name + " Char"]
        _reset(char)
        _run_props(char, font, BODY_PT, bold=bold)
    styles[S_H1].next_paragraph_style = normal
    styles[S_H2].next_paragraph_style = normal
    styles[S_H3].next_paragraph_style = normal

    fig = add(S_FIGURE)
    _para_props(fig, indent=False, line=240, line_rule="auto", align="center", keep_next=True)

    cap = add(S_CAPTION)
    _run_props(cap, fonts.BODY, CAPTION_PT, bold=True, spacing=0)
    _para_props(cap, indent=False, line=240, line_rule="auto", align="center", after=120)

    for name, align, bold in ((S_TABLE, "left", False), (S_TABLE_C, "center", False),
                              (S_TABLE_HEAD, "center", True)):
        st = add(name)
        _run_props(st, fonts.BODY, TABLE_PT, bold=bold, spacing=0)
        _para_props(st, indent=False, line=240, line_rule="auto", align=align)

    mark = add(S_ANNEX_MARK)
    _run_props(mark, fonts.HEADING1, BODY_PT)
    _para_props(mark, indent=False, line=LINE_TWIPS, align="left", page_break=True)

    annex = add(S_ANNEX_TITLE)
    _run_props(annex, fonts.TITLE, TITLE_PT, spacing=0)
    _para_props(annex, indent=False, line=720, align="center", outline=0, after=0)

    tag = add(S_TAG)
    tag.hidden = False
    tag.font.size = Pt(10)
    tag.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _para_props(tag, indent=False, line=240, line_rule="auto", align="left")

    footer = styles["Footer"]
    _reset(footer)
    _run_props(footer, fonts.PAGE_NUMBER, PAGE_NO_PT, spacing=0)
    _para_props(footer, indent=False, line=240, line_rule="auto", align="right")


def _doc_defaults(doc) -> None:
    from docx.oxml.ns import qn

    root = doc.styles.element
    rpr = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_rfonts(rpr, fonts.BODY)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    ppr = root.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")


def _reset(style) -> None:
    """Drop a built-in style's own run and paragraph properties (theme fonts, blue colour…)."""
    from docx.oxml.ns import qn

    el = style.element
    for tag in ("w:rPr", "w:pPr"):
        old = el.find(qn(tag))
        if old is not None:
            el.remove(old)


def _set_rfonts(rpr, name: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rf = rpr.find(qn("w:rFonts"))
    if rf is None:
        rf = OxmlElement("w:rFonts")
        rpr.insert(0, rf)
    for attr in list(rf.attrib):
        del rf.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rf.set(qn(attr), name)
    rf.set(qn("w:hint"), "eastAsia")


def _run_props(style, font: str, size_pt: float, *, bold: bool = False,
               spacing: int = CHAR_SPACING) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.size = Pt(size_pt)
    style.font.bold = bold
    rpr = style.element.get_or_add_rPr()
    _set_rfonts(rpr, font)
    # python-docx orders rPr children itself for the properties it knows; w:spacing is set
    # by hand in schema order (after w:color/w:strike…, before w:w/w:kern/w:sz).
    old = rpr.find(qn("w:spacing"))
    if old is not None:
        rpr.remove(old)
    if spacing:
        sp = OxmlElement("w:spacing")
        sp.set(qn("w:val"), str(spacing))
        sz = rpr.find(qn("w:sz"))
        sz.addprevious(sp)
    size = rpr.find(qn("w:szCs"))
    if size is None:
        size = OxmlElement("w:szCs")
        rpr.find(qn("w:sz")).addnext(size)
    size.set(qn("w:val"), str(int(size_pt * 2)))


def _para_props(style, *, indent: bool, line: int, align: str, line_rule: str = "exact",
                keep_next: bool = False, outline: int | None = None, after: int = 0,
                page_break: bool = False, widow: bool | None = None) -> None:
    """Paragraph properties in schema order (keepNext, pageBreakBefore, spacing, ind, jc,
    outlineLvl)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = style.element
    old = el.find(qn("w:pPr"))
    if old is not None:
        el.remove(old)
    ppr = OxmlElement("w:pPr")
    # w:pPr comes after w:qFormat/w:rsid… and before w:rPr in a style.
    rpr = el.find(qn("w:rPr"))
    if rpr is not None:
        rpr.addprevious(ppr)
    else:
        el.append(ppr)

    def sub(tag, **attrs):
        e = OxmlElement(tag)
        for k, v in attrs.items():
            e.set(qn("w:" + k), str(v))
        ppr.append(e)
        return e

    if keep_next:
        sub("w:keepNext")
    if page_break:
        sub("w:pageBreakBefore")
    if widow is not None:
        sub("w:widowControl", val=int(widow))
    sub("w:spacing", before=0, after=after, line=line, lineRule=line_rule)
    if indent:
        sub("w:ind", firstLineChars=INDENT_CHARS, firstLine=2 * BODY_PT * 20)
    else:  # explicit zeros: firstLineChars would otherwise be inherited from 正文
        sub("w:ind", firstLineChars=0, firstLine=0, leftChars=0, left=0)
    sub("w:jc", val=align)
    if outline is not None:
        sub("w:outlineLvl", val=outline)


def _font_table(doc) -> None:
    """Declare our fonts with Word fall-back names (w:altName) for machines without them."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    part = next(rel.target_part for rel in doc.part.rels.values()
                if rel.reltype.endswith("/fontTable"))
    from docx.oxml import parse_xml

    root = parse_xml(part.blob)
    known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name in (fonts.BODY, fonts.HEADING1, fonts.HEADING2, fonts.TITLE, fonts.PAGE_NUMBER):
        if name in known:
            continue
        f = OxmlElement("w:font")
        f.set(qn("w:name"), name)
        alt = fonts.WORD_ALT_NAMES.get(name)
        if alt:
            a = OxmlElement("w:altName")
            a.set(qn("w:val"), alt)
            f.append(a)
        cs = OxmlElement("w:charset")
        cs.set(qn("w:val"), "86")  # GB2312
        f.append(cs)
        fam = OxmlElement("w:family")
        fam.set(qn("w:val"), "modern" if name == fonts.HEADING1 else "roman")
        f.append(fam)
        pitch = OxmlElement("w:pitch")
        pitch.set(qn("w:val"), "variable")
        f.append(pitch)
        root.append(f)
    from lxml import etree

    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _footer(doc) -> None:
    """Page numbers “— 1 —” in 4号 宋体: odd pages right, even pages left (one character in)."""
    sec = doc.sections[0]
    for footer, align in ((sec.footer, "right"), (sec.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        par = footer.paragraphs[0]
        par.style = doc.styles["Footer"]
        _page_field(par, align)


def _page_field(par, align: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT if align == "right" else WD_ALIGN_PARAGRAPH.LEFT
    if align == "right":
        par.paragraph_format.right_indent = Pt(PAGE_NO_PT)
    else:
        par.paragraph_format.left_indent = Pt(PAGE_NO_PT)
    par.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                       ("end", None)):
        run = par.add_run()
        if kind:
            fc = OxmlElement("w:fldChar")
            fc.set(qn("w:fldCharType"), kind)
            run._r.append(fc)
        elif text == " PAGE ":
            it = OxmlElement("w:instrText")
            it.set(qn("xml:space"), "preserve")
            it.text = text
            run._r.append(it)
        else:
            run.text = text
    par.add_run(" —")


def _fixed_layout(table, widths_mm: list[float]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    tbl = table._tbl
    tblpr = tbl.tblPr  # w:tblLayout fixed comes from table.autofit = False
    w = tblpr.find(qn("w:tblW"))
    if w is None:
        w = OxmlElement("w:tblW")
        tblpr.append(w)
    w.set(qn("w:type"), "dxa")
    w.set(qn("w:w"), str(int(sum(Mm(x).twips for x in widths_mm))))
    for col, width in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(Mm(width).twips))
    # Cell padding: 0.6 mm above and below, 1 mm at the sides (schema order top, left,
    # bottom, right; w:tblCellMar must precede w:tblLook).
    mar = OxmlElement("w:tblCellMar")
    for side, mm in (("top", 0.6), ("left", 1.0), ("bottom", 0.6), ("right", 1.0)):
        e = OxmlElement(f"w:{side}")
        e.set(qn("w:w"), str(Mm(mm).twips))
        e.set(qn("w:type"), "dxa")
        mar.append(e)
    look = tblpr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(mar)
    else:
        tblpr.append(mar)


def _break():
    from docx.oxml import OxmlElement

    r = OxmlElement("w:r")
    r.append(OxmlElement("w:br"))
    return r


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _cant_split(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    if trpr.find(qn("w:cantSplit")) is None:
        trpr.insert(0, OxmlElement("w:cantSplit"))


def _drop_thumbnail(doc) -> None:
    """python-docx's default package carries a thumbnail of its own sample page."""
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg.rels[rid]


def _core_properties(doc) -> None:
    cp = doc.core_properties
    fixed = dt.datetime(2021, 1, 1, 0, 0, 0)
    cp.created = cp.modified = cp.last_printed = fixed
    cp.author = cp.last_modified_by = "perfeval_xl"
    cp.title = "部门整体支出绩效自评报告"
    cp.subject = "部门整体支出绩效自评报告模板（docxtpl）"
    cp.keywords = "绩效评价"
    cp.comments = ""
    cp.revision = 1


# --------------------------------------------------------------------------- command line

def _artifact_set():
    from perfeval_xl.artifacts import ArtifactSet

    return ArtifactSet("report template", "perfeval_xl.report.template_builder",
                       TEMPLATE_PATH.parent, lambda: {TEMPLATE_PATH.name: build_template()})


ARTIFACT_SET = _artifact_set()


def is_stale(path: Path = TEMPLATE_PATH) -> bool:
    """True when ``path`` differs from a fresh build (or is missing)."""
    return ARTIFACT_SET.stale(path.parent) != []


def main(argv: list[str] | None = None) -> int:
    return ARTIFACT_SET.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
