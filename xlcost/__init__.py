"""xlcost — what an AI model for e-commerce search and recommendation costs, and what it earns.

The package is layered; each layer imports only the ones above it:

* :mod:`xlcost.engine` — pure Python + numpy + pydantic: cost formulas, the scenario model,
  evaluation, finance (Excel-convention NPV/IRR), resource allocation, the hardware catalog.
* :mod:`xlcost.functions` — the Excel-visible functions as plain Python (one registry, Excel
  errors as values) and :mod:`xlcost.udfs`, the thin xlwings module Excel loads.
* :mod:`xlcost.workbooks` — everything that touches openpyxl or the zip/XML parts of a workbook.
* :mod:`xlcost.cli` — the ``xlcost`` command-line tool.

Importing :mod:`xlcost` is cheap: it loads nothing but the version.
"""

from xlcost._version import __version__

__all__ = ["__version__"]
