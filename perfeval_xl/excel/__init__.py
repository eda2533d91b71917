"""The Excel door: UDFs, ribbon macros, the macro-enabled workbook and its setup.

Only this package imports xlwings. Nothing is imported here on purpose, so that
``perfeval_xl.excel.udfs`` (loaded by the xlwings COM server) pulls in only what it needs.

- ``udfs``: ``PE_*`` worksheet functions (thin: convert, call the engine's pure functions).
- ``macros``: the ribbon buttons (``RunPython`` targets).
- ``xlsource``: a CellSource over an xlwings Book, and applying a WritePlan through xlwings.
- ``xlsm``: builds the macro workbook (VBA via pyopenvba, ribbon XML, xlwings.conf sheet).
- ``setup``: ``perfeval-xl excel-setup``.
- ``artifacts``: builds/checks the committed ``workbooks/*.xlsm``.
"""
