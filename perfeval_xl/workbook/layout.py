"""The contract between our workbook builder, reader and writer: sheet titles, the defined
names beyond the §4.3 inputs, and the header texts of every table.

The reader finds everything by defined name and maps table columns by header text, so the
builder may move blocks around freely; only what is written here must stay stable.
"""

from __future__ import annotations

# Sheet titles, in workbook order.
SHEET_GUIDE = "填表说明"
SHEET_BASIC = "基本情况"
SHEET_BUDGET = "预算执行"
SHEET_WORK = "重点工作"
SHEET_ECONOMY = "经济指标"
SHEET_CUSTOM = "个性指标"
SHEET_EVAL = "评价说明"
SHEET_SCORES = "自评表"
SHEET_ISSUES = "问题与建议"
SHEET_SETTINGS = "评分设置"
SHEET_CHECKS = "校验结果"

SHEET_ORDER = [
    SHEET_GUIDE, SHEET_BASIC, SHEET_BUDGET, SHEET_WORK, SHEET_ECONOMY, SHEET_CUSTOM,
    SHEET_EVAL, SHEET_SCORES, SHEET_ISSUES, SHEET_SETTINGS, SHEET_CHECKS,
]

# Narrative single-cell inputs (our extension of §4.3). Multi-paragraph text is one cell
# with line breaks; each line becomes a paragraph in the report.
#   name: (sheet, label, required-for-report)
TEXTS: dict[str, tuple[str, str, bool]] = {
    "text_overview": (SHEET_BASIC, "单位概况", True),
    "text_systems_intro": (SHEET_BASIC, "管理制度概述", False),
    "text_duties": (SHEET_BASIC, "职能职责", True),
    "text_goals": (SHEET_BASIC, "整体支出绩效目标", True),
    "text_budget_note": (SHEET_BUDGET, "预算资金补充说明", False),
    "text_economy_intro": (SHEET_ECONOMY, "统计口径说明（如“截止11月底”）", False),
    "text_eval_focus": (SHEET_EVAL, "评价思路及关注点", True),
    "text_eval_method": (SHEET_EVAL, "评价方法", True),
    "text_eval_process": (SHEET_EVAL, "评价过程", True),
    "text_indicator_system": (SHEET_EVAL, "指标体系构建思路及分值分布", False),
    "text_experience": (SHEET_ISSUES, "主要经验及做法", False),
}

# Named outputs written by the engine (never inputs).
OUT_TOTAL = "total_score"
OUT_GRADE = "grade"
PRESET_NAME = "preset_name"      # '评分设置' cell holding the preset the workbook was built with
WORKBOOK_KIND = "perfeval_kind"  # marker cell: value "perfeval_xl 自评表 v1" identifies our workbooks
WORKBOOK_KIND_VALUE = "perfeval_xl 自评表 v1"
REPORT_DIR = "report_dir"        # optional output folder for reports (blank = beside workbook)

# Tables: defined name -> (sheet, header texts in order). The defined name covers the header
# row plus all data rows (blank rows are skipped when reading).
TABLES: dict[str, tuple[str, list[str]]] = {
    "tbl_departments": (SHEET_BASIC, ["序号", "内设机构", "主要职责"]),
    "tbl_systems": (SHEET_BASIC, ["序号", "管理制度", "主要内容"]),
    "tbl_staff": (SHEET_BASIC, ["人员类别", "人数"]),
    "tbl_work": (SHEET_WORK, [
        "序号", "类别", "工作事项", "计划目标", "是否完成", "是否按时", "质量达标", "完成情况",
    ]),
    "tbl_economy": (SHEET_ECONOMY, ["序号", "指标名称", "单位", "本期累计", "同比增长(%)", "说明"]),
    "tbl_custom": (SHEET_CUSTOM, [
        "代码", "一级指标", "二级指标", "三级指标", "单位", "目标值", "实际值", "方向", "分值",
        "评分规则", "说明",
    ]),
    "tbl_scores": (SHEET_SCORES, [
        "一级指标", "二级指标", "三级指标", "代码", "分值", "指标解释", "评分规则", "评分标准",
        "实际值", "得分", "扣分原因",
    ]),
    "tbl_problems": (SHEET_ISSUES, ["序号", "存在问题"]),
    "tbl_suggestions": (SHEET_ISSUES, ["序号", "建议和改进举措"]),
    "tbl_grades": (SHEET_SETTINGS, ["等级", "分数下限"]),
    "tbl_caps": (SHEET_SETTINGS, ["指标代码", "实际值下限", "实际值上限", "总分上限"]),
    "tbl_checks": (SHEET_CHECKS, ["严重程度", "问题代码", "位置", "说明"]),
}

# Dropdown lists (data validation).
YES_NO = ["是", "否"]
WORK_CATEGORIES = ["重点工作", "其他工作"]
DIRECTIONS = ["正向", "反向", "定性"]  # 正向 higher is better; 反向 lower is better
CUSTOM_ROWS = 10                        # rows reserved on 个性指标 / 自评表
WORK_ROWS = 40                          # rows reserved in the 重点工作 table

# Adopted county workbooks (perfeval-xl adopt): the county's own indicator table stays where
# it is; a hidden sheet holds tbl_scores (formulas pointing at the county's cells) and
# tbl_targets, which says where in the county's table each result is also written.
SHEET_MAP = "_perfeval_映射"
ADOPT_TABLES: dict[str, tuple[str, list[str]]] = {
    "tbl_targets": (SHEET_MAP, ["代码", "实际值位置", "得分位置", "扣分原因位置", "评分标准位置",
                                "分值位置", "指标名称位置"]),
}
COUNTY_TOTAL = "county_total"   # optional: the county table's own 总分 cell
COUNTY_GRADE = "county_grade"   # optional: the county table's own 等级 cell
# The visible 评分标准解读 sheet of an adopted workbook: header row plus one row per county
# indicator, in tbl_targets' row order. ``score`` rewrites a row whose county 评分标准 or
# 分值 was read again; workbooks adopted without this name keep the sheet as it was.
READING_TABLE = "tbl_reading"
