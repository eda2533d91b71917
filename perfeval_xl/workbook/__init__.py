"""Workbook layer: file safety, layout of our sheets, reading, formula evaluation, writing."""
