"""The report's charts as native Word (DrawingML) charts: budget sources and uses, and score
against weight by 一级指标.

A chart is a ``ChartSpec`` (plain data, built by the context) until the rendered document is
finished; then ``insert_charts`` adds, per chart, a chart part (``/word/charts/chartN.xml``)
with an embedded data workbook (``/word/embeddings/Microsoft_Excel_WorksheetN.xlsx``, so Word
and WPS can edit the data) and puts an inline ``w:drawing`` where the template printed the
chart's placeholder. Word, WPS and LibreOffice draw the chart with the document's East Asian
font, so no font has to exist on the machine that builds the report.

The chart XML (``c:chartSpace``) and the workbook come from python-pptx (its chart XML writer
and XlsxWriter-based workbook writer): PowerPoint and Word share the same chart part.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

WIDTH_MM = 140
FONT_PT = 9
TITLE_PT = 10.5

# Muted colours that print well in grey scale too.
_SOURCE_COLOURS = ["3B6EA5", "7FA7D1", "B9D0E8"]
_USE_COLOURS = ["C0504D", "E59B79", "BFBFBF"]
_WEIGHT_COLOUR, _SCORE_COLOUR = "B9D0E8", "3B6EA5"

CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URI_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"


@dataclass
class Series:
    name: str
    values: list[Decimal | None]
    colour: str


@dataclass
class ChartSpec:
    """What a chart shows; ``kind`` is "bar_stacked" (horizontal) or "column"."""

    kind: str
    title: str
    categories: list[str]
    series: list[Series]
    axis_title: str = ""
    number_format: str = "General"
    height_mm: float = 70
    labels: str = "center"          # data label position: "center" or "outside_end"


def _fmt(d: Decimal) -> str:
    return f"{Decimal(str(d)).quantize(Decimal('0.01')):f}"


def _cent(d: Decimal) -> Decimal:
    return Decimal(str(d)).quantize(Decimal("0.01"))


def budget_chart(sources: list[tuple[str, Decimal]], uses: list[tuple[str, Decimal]],
                 title: str = "预算资金来源与使用") -> ChartSpec:
    """Two stacked horizontal bars (万元): where the money came from and where it went.
    Each part is a series with a value in its own bar only; parts of zero are left out.

    Args:
        sources: (label, amount) such as 调整后预算, 上年结转结余, 其他资金.
        uses: (label, amount) such as 基本支出, 项目支出, 年末结转结余.
    """
    def total(parts):
        return sum((v for _, v in parts), Decimal(0))

    # A horizontal bar chart draws its first category at the bottom: uses below sources.
    categories = [f"资金使用 合计{_fmt(total(uses))}", f"资金来源 合计{_fmt(total(sources))}"]
    series = []
    for label, value in sources:
        if value > 0:
            series.append(Series(label, [None, value], ""))
    for label, value in uses:
        if value > 0:
            series.append(Series(label, [value, None], ""))
    colours = iter(_SOURCE_COLOURS)
    for s in series:
        if s.values[0] is None:
            s.colour = next(colours, "7FA7D1")
    colours = iter(_USE_COLOURS)
    for s in series:
        if s.values[0] is not None:
            s.colour = next(colours, "BFBFBF")
    return ChartSpec("bar_stacked", title, categories, series, axis_title="万元",
                     number_format="0.00", height_mm=62, labels="center")


def score_chart(groups: list[tuple[str, Decimal, Decimal]],
                title: str = "各一级指标分值与得分") -> ChartSpec:
    """Grouped columns per 一级指标: 分值 (weight) against 得分 (score); the score rate goes
    under the category name.

    Args:
        groups: (一级指标, weight, score) in table order.
    """
    categories = [f"{name}\n得分率{_fmt(score / weight * 100)}%" if weight else str(name)
                  for name, weight, score in groups]
    # Scores as the score table prints them (2 decimals), so the chart and table agree.
    series = [Series("分值", [_cent(w) for _, w, _ in groups], _WEIGHT_COLOUR),
              Series("得分", [_cent(s) for _, _, s in groups], _SCORE_COLOUR)]
    return ChartSpec("column", title, categories, series, axis_title="分",
                     number_format="General", height_mm=72, labels="outside_end")


# --------------------------------------------------------------------------- chart parts

@functools.cache
def _inert_chart_data(base):
    """python-pptx's CategoryChartData whose embedded workbook keeps every text a text.

    XlsxWriter, which writes that workbook, turns a string starting with "=" into a formula
    and "http://…" into a link by default. Category names come from the workbook (the
    一级指标 a county or department typed), so "=cmd|' /C calc'!A0" would become a live DDE
    formula once someone edits the chart data in Excel.
    """
    from contextlib import contextmanager

    from pptx.chart.xlsx import CategoryWorkbookWriter
    from xlsxwriter import Workbook

    class InertWriter(CategoryWorkbookWriter):
        @contextmanager
        def _open_worksheet(self, xlsx_file):
            workbook = Workbook(xlsx_file, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False})
            yield workbook, workbook.add_worksheet()
            workbook.close()

    class InertChartData(base):
        @functools.cached_property
        def _workbook_writer(self):
            return InertWriter(self)

    return InertChartData


def chart_xml(spec: ChartSpec, font: str) -> tuple[object, bytes]:
    """The chart's ``c:chartSpace`` element (python-pptx oxml, for the caller to link the
    workbook) and the embedded workbook's bytes."""
    from pptx.chart.chart import Chart
    from pptx.chart.data import CategoryChartData
    from pptx.chart.xmlwriter import ChartXmlWriter
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
    from pptx.oxml import parse_xml
    from pptx.util import Pt

    data = _inert_chart_data(CategoryChartData)(number_format=spec.number_format)
    data.categories = spec.categories
    for s in spec.series:
        data.add_series(s.name, [None if v is None else float(v) for v in s.values])
    kind = XL_CHART_TYPE.BAR_STACKED if spec.kind == "bar_stacked" else \
        XL_CHART_TYPE.COLUMN_CLUSTERED
    space = parse_xml(ChartXmlWriter(kind, data).xml.encode("utf-8"))
    chart = Chart(space, None)

    chart.font.size = Pt(FONT_PT)
    _typeface(chart.font, font)
    chart.has_title = True
    tf = chart.chart_title.text_frame
    tf.text = spec.title
    run_font = tf.paragraphs[0].runs[0].font
    run_font.size, run_font.bold = Pt(TITLE_PT), True
    _typeface(run_font, font)
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False

    value_axis = chart.value_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = RGBColor.from_string("D9D9D9")
    if spec.axis_title:
        value_axis.has_title = True
        value_axis.axis_title.text_frame.text = spec.axis_title
        axis_font = value_axis.axis_title.text_frame.paragraphs[0].runs[0].font
        axis_font.size, axis_font.bold = Pt(FONT_PT), False
        _typeface(axis_font, font)

    _every_category_label(space)
    plot = chart.plots[0]
    plot.gap_width = 60 if spec.kind == "bar_stacked" else 80
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = spec.number_format
    labels.number_format_is_linked = False
    labels.show_value = True
    labels.font.size = Pt(FONT_PT - 1)
    labels.position = (XL_LABEL_POSITION.CENTER if spec.labels == "center"
                       else XL_LABEL_POSITION.OUTSIDE_END)
    for s, ser in zip(spec.series, plot.series, strict=True):
        fill = ser.format.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor.from_string(s.colour)
        if spec.kind == "column":
            ser.format.line.color.rgb = RGBColor.from_string(_SCORE_COLOUR)
    return space, data.xlsx_blob


def _every_category_label(space) -> None:
    """c:tickLblSkip 1: LibreOffice otherwise drops category labels it finds crowded."""
    from lxml import etree
    from pptx.oxml.ns import qn

    for ax in space.iter(qn("c:catAx")):
        skip = etree.Element(qn("c:tickLblSkip"))
        skip.set("val", "1")
        later = next((ax.find(qn(t)) for t in ("c:tickMarkSkip", "c:noMultiLvlLbl", "c:extLst")
                      if ax.find(qn(t)) is not None), None)
        if later is not None:
            later.addprevious(skip)
        else:
            ax.append(skip)


def _typeface(font, name: str) -> None:
    """Latin and East Asian typeface of a python-pptx Font (a:latin + a:ea), so Chinese text
    in the chart uses the document's font rather than the application's default."""
    from pptx.oxml.ns import qn

    font.name = name
    rpr = font._rPr  # python-pptx exposes a:latin only; a:ea follows it in schema order
    latin = rpr.find(qn("a:latin"))
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        from lxml import etree

        ea = etree.Element(qn("a:ea"))
        latin.addnext(ea)
    ea.set("typeface", name)


def insert_charts(document, specs: dict[str, ChartSpec]) -> int:
    """Replace each placeholder text of ``specs`` in the body of ``document`` (python-docx)
    by its native chart; returns how many charts were placed."""
    if not specs:
        return 0
    from docx.oxml.ns import qn

    body = document.element.body
    font = None
    rids: dict[str, str] = {}
    placed = 0
    while True:
        hit = next(((t, m) for t in body.iter(qn("w:t")) if t.text for m in specs
                    if m in t.text), None)
        if hit is None:
            _drop_markers_outside_body(document, specs)
            return placed
        t, marker = hit
        if marker not in rids:
            font = font or document_font(document)
            rids[marker] = _add_chart_part(document, specs[marker], font)
        _replace_text_by_drawing(document, t, marker, rids[marker], specs[marker])
        placed += 1


def _drop_markers_outside_body(document, specs: dict[str, ChartSpec]) -> None:
    """Headers and footers cannot hold our charts: a placeholder printed there is removed
    rather than left as text."""
    from docx.oxml.ns import qn

    for rel in document.part.rels.values():
        if rel.is_external or not rel.reltype.endswith(("/header", "/footer")):
            continue
        element = getattr(rel.target_part, "element", None)
        if element is None:
            continue
        for t in element.iter(qn("w:t")):
            for marker in specs:
                if t.text and marker in t.text:
                    t.text = t.text.replace(marker, "")


def _add_chart_part(document, spec: ChartSpec, font: str) -> str:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.part import Part
    from lxml import etree

    package = document.part.package
    space, xlsx = chart_xml(spec, font)
    chart_part = Part(package.next_partname("/word/charts/chart%d.xml"), CT_CHART, b"", package)
    # Relate the chart part first: next_partname only sees parts reachable from the package.
    rid = document.part.relate_to(chart_part, RT.CHART)
    book = Part(package.next_partname("/word/embeddings/Microsoft_Excel_Worksheet%d.xlsx"),
                CT_XLSX, xlsx, package)
    space.get_or_add_externalData().rId = chart_part.relate_to(book, RT.PACKAGE)
    chart_part._blob = etree.tostring(space, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
    return rid


def _replace_text_by_drawing(document, t, marker: str, rid: str, spec: ChartSpec) -> None:
    """Split the run holding ``marker``: text before, the chart, text after (same format)."""
    import copy

    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = t.getparent()
    rpr = run.find(qn("w:rPr"))
    before, _, after = t.text.partition(marker)
    t.text = before

    def new_run():
        r = OxmlElement("w:r")
        if rpr is not None:
            r.append(copy.deepcopy(rpr))
        return r

    drawing_run = new_run()
    drawing_run.append(_inline(document, rid, spec))
    following = list(t.itersiblings())
    run.addnext(drawing_run)
    if after or following:
        rest = new_run()
        if after:
            at = OxmlElement("w:t")
            at.text = after
            at.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            rest.append(at)
        for sib in following:
            rest.append(sib)
        drawing_run.addnext(rest)
    if not before:
        run.remove(t)
        if all(c.tag == qn("w:rPr") for c in run):
            run.getparent().remove(run)


def _inline(document, rid: str, spec: ChartSpec):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Mm

    cx, cy = Mm(WIDTH_MM).emu, Mm(spec.height_mm).emu
    n = document.part.next_id
    name = spec.title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return parse_xml(
        f'<w:drawing {nsdecls("w", "wp", "a", "c", "r")}>'
        f'<wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{n}" name="图表 {n}" descr="{name}"/><wp:cNvGraphicFramePr/>'
        f'<a:graphic><a:graphicData uri="{URI_CHART}"><c:chart r:id="{rid}"/>'
        f"</a:graphicData></a:graphic></wp:inline></w:drawing>")


def document_font(document) -> str:
    """The document's East Asian body font (Normal style, else the document defaults)."""
    from docx.oxml.ns import qn

    from perfeval_xl.report import fonts

    styles = document.styles.element
    for rpr in (_normal_rpr(styles), styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}"
                                                 f"/{qn('w:rPr')}")):
        if rpr is None:
            continue
        rf = rpr.find(qn("w:rFonts"))
        if rf is not None and rf.get(qn("w:eastAsia")):
            return rf.get(qn("w:eastAsia"))
    return fonts.BODY


def _normal_rpr(styles):
    from docx.oxml.ns import qn

    for st in styles.findall(qn("w:style")):
        if st.get(qn("w:type")) == "paragraph" and st.get(qn("w:default")) in ("1", "true"):
            return st.find(qn("w:rPr"))
    return None
