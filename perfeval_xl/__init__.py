"""perfeval_xl: 部门整体支出绩效自评 — workbook in, scores, checks and report out.

Kept import-light on purpose: ``perfeval-xl --version`` and Excel UDF calls import this
package, so nothing heavy (pandas, xlwings, docxtpl, matplotlib) is imported here.
"""

__version__ = "0.1.0"
