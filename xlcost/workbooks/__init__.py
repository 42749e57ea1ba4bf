"""Everything that touches openpyxl or the zip/XML parts of a workbook.

* :mod:`.rows` — read a table of scenarios from a sheet.
* :mod:`.package` — safe, lossless edits of .xlsx/.xlsm parts (fill by defined names, read
  cells back, refuse zip and XML bombs).
"""
