"""The same workbook after a LibreOffice recalculation reads identically: our formula
evaluation of an openpyxl-written file equals what LibreOffice computes and caches."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import FULL, save, set_named, set_table
from openpyxl import load_workbook

from perfeval_xl import engine
from perfeval_xl.workbook.builder import build
from perfeval_xl.workbook.reader import OpenpyxlSource, parse_ref

pytestmark = pytest.mark.slow

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def recalc(path, tmp_path):
    out = tmp_path / "lo"
    out.mkdir()
    profile = tmp_path / "profile"
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
         "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=240)
    return out / path.name


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculation_reads_identically(tmp_path):
    wb = build()
    values = {k: v for k, v in FULL.items() if not k.startswith(("tasks_", "key_tasks"))}
    set_named(wb, **values)
    set_table(wb, "tbl_staff", [{"人员类别": "财政拨款人员", "人数": 18},
                                {"人员类别": "自收自支人员", "人数": 15}])
    set_table(wb, "tbl_work", [
        {"类别": "重点工作", "工作事项": "甲", "是否完成": "是", "是否按时": "是", "质量达标": "是"},
        {"类别": "其他工作", "工作事项": "乙", "是否完成": "是", "是否按时": "否", "质量达标": "是"},
        {"类别": "重点工作", "工作事项": "丙", "是否完成": "否", "是否按时": "否", "质量达标": "否"},
    ])
    src = save(wb, tmp_path / "filled.xlsx")
    lo = recalc(src, tmp_path)

    # 1. Every formula cell our builder wrote: our value == LibreOffice's cached value.
    ours = OpenpyxlSource(load_workbook(src), str(src))
    cached = load_workbook(lo, data_only=True)
    checked = 0
    for ws in ours.wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                mine = ours.value(ws.title, c.coordinate)
                theirs = cached[ws.title][c.coordinate].value
                if isinstance(theirs, (int, float)) and not isinstance(theirs, bool):
                    assert float(mine) == pytest.approx(theirs), (ws.title, c.coordinate)
                else:
                    assert (mine or None) == (theirs or None), (ws.title, c.coordinate)
                checked += 1
    assert checked >= 6

    # 2. The engine reads both files to the same inputs, scores and problems.
    a, b = engine.evaluate(src), engine.evaluate(lo)
    for name in FULL:
        assert a.evaluation.inputs[name].value == b.evaluation.inputs[name].value, name
    assert [(i.code, i.value, i.score) for i in a.indicators] == \
        [(i.code, i.value, i.score) for i in b.indicators]
    assert a.total == b.total and a.grade == b.grade
    assert sorted((p.code, str(p.location)) for p in a.problems) == \
        sorted((p.code, str(p.location)) for p in b.problems)
    sheet, coord = parse_ref(load_workbook(lo).defined_names["tasks_planned"].attr_text)
    assert cached[sheet][coord].value == 3
