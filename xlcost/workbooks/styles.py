"""The template's finance look: named cell styles, number formats and the colour legend.

Inputs are blue on light yellow and unlocked; formulas are black and locked; key results are
bold on light green. The styles are registered as *named* styles, so a user sees "xlcost input"
etc. in Excel's Cell Styles gallery and can restyle them in one place.
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.workbook import Workbook

__all__ = [
    "CALC",
    "HEADER",
    "INPUT",
    "LEGEND",
    "MONEY",
    "NOTE",
    "PERCENT",
    "RESULT",
    "SUBTITLE",
    "TITLE",
    "number_format",
    "register",
]

MONEY = "#,##0.00;[Red]-#,##0.00"
PRICE = "#,##0.00##"
PERCENT = "0.00%"
IRR = '[>10]"> 1,000 % a year";[>=0]0.00%;-0.00%'
"""An annual IRR: beyond 1,000 % a year (10⁴⁴ happens) a plain statement instead of ``###``."""
COUNT = "#,##0"
MAGNITUDE = "[>=1000]#,##0;[>=1]#,##0.00;0.0####"
"""A column whose unit changes from row to row (the sorted tornado's Low / High): grouped
digits when large, decimals when small."""
GENERAL = "General"

INPUT = "xlcost input"
CALC = "xlcost formula"
RESULT = "xlcost result"
HEADER = "xlcost header"
TITLE = "xlcost title"
NOTE = "xlcost note"
SUBTITLE = "xlcost subtitle"
GROUP = "xlcost group"

_THIN = Side(style="thin", color="BFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _styles() -> list[NamedStyle]:
    return [
        NamedStyle(
            INPUT,
            font=Font(name="Calibri", size=11, color="0000FF"),
            fill=PatternFill("solid", fgColor="FFF2CC"),
            border=_BOX,
            protection=Protection(locked=False),
        ),
        NamedStyle(CALC, font=Font(name="Calibri", size=11, color="000000"), border=_BOX),
        NamedStyle(
            RESULT,
            font=Font(name="Calibri", size=11, bold=True, color="000000"),
            fill=PatternFill("solid", fgColor="E2EFDA"),
            border=_BOX,
        ),
        NamedStyle(
            HEADER,
            font=Font(name="Calibri", size=11, bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor="1F4E78"),
            alignment=Alignment(vertical="center", wrap_text=True),
        ),
        NamedStyle(TITLE, font=Font(name="Calibri", size=16, bold=True, color="1F4E78")),
        NamedStyle(
            NOTE,
            font=Font(name="Calibri", size=10, italic=True, color="595959"),
            alignment=Alignment(vertical="top", wrap_text=True),
        ),
        NamedStyle(SUBTITLE, font=Font(name="Calibri", size=10, italic=True, color="595959")),
        NamedStyle(
            GROUP,
            font=Font(name="Calibri", size=11, bold=True, color="1F4E78"),
            fill=PatternFill("solid", fgColor="DDEBF7"),
        ),
    ]


LEGEND: tuple[tuple[str, str], ...] = (
    (INPUT, "Input: type your assumptions here (blue on yellow, unlocked)."),
    (CALC, "Formula: calculated, locked (black)."),
    (RESULT, "Key result: named cell, read by xlcost and by your own formulas (bold, green)."),
)


def register(wb: Workbook) -> None:
    """Add the named styles to ``wb``."""
    for style in _styles():
        wb.add_named_style(style)


def number_format(unit: str) -> str:
    """Excel number format for a quantity in ``unit`` (a unit from the scenario model).

    >>> number_format("%"), number_format("currency/GPU-h"), number_format("tokens")
    ('0.00%', '#,##0.00##', '#,##0')
    """
    if unit.startswith("%"):
        return PERCENT
    if unit.startswith("currency"):
        return PRICE
    if unit in ("requests", "parameters", "tokens"):
        return COUNT
    return GENERAL
