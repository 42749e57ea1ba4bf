"""The xlcost functions for Excel, through xlwings (the "UDF Modules" setting: ``xlcost.udfs``).

Every function — ``TRAIN_COST``, ``DEPLOY_COST``, ``MAINTAIN_COST``, ``ROI``,
``BENEFIT``, ``BCR``, ``TRAIN_FLOPS``, ``TRAIN_HOURS``, ``REPLICAS``, ``GPU_SPEC``,
``XLCOST_VERSION`` — is generated here from :data:`xlcost.functions.REGISTRY`, with its exact
name, argument names and order, and optional arguments (blank → default). All the work
(coercion, broadcasting, domain checks, Excel errors as values) is done in
:mod:`xlcost.functions`; this module is the only one that imports xlwings, and only adds the
decorators and the adapter between a runtime's cell values and plain Python.

Decorators: ``@xw.func(category="xlcost")`` with the function's one-line description as its
docstring (the function wizard shows it), and for each argument
``@xw.arg(name, ndim=2, err_to_str=True, doc=...)``: a range arrives as a list of rows (a column
stays a column, so results spill the same way) and error cells as their code strings. Results
are numbers, or lists of rows that spill as dynamic arrays.

Runtimes and Excel error values (researched in xlwings 0.37.8's source and issue tracker)
---------------------------------------------------------------------------------------
**Classic xlwings** (Windows, COM add-in; ``xlwings/udfs.py``):

* *In*: an empty cell is ``None``, numbers are ``float``, date cells ``datetime``. An error
  cell reaches pywin32 as an ``int`` HRESULT (-2146826246 is ``#N/A``, -2146826281 ``#DIV/0!``,
  … ``xlwings._xlwindows.cell_errors``); xlwings' cleaning stage turns it into ``None`` — the
  same as a blank — unless the argument has ``err_to_str=True``, which makes it the code string
  (``"#N/A"``). Every argument here sets ``err_to_str``, and the adapter below also maps a bare
  HRESULT ``int`` in case one arrives uncleaned. An omitted optional argument arrives as the
  Python default (``None`` here).
* *Out*: classic xlwings has **no way to return a real error value** (xlwings issue #776, still
  open): a string such as ``"#N/A"`` is written as text, and ``None``/NaN are written as an empty
  string (``Engine.prepare_xl_data_element``). An exception is caught by the generated VBA
  (``On Error GoTo failed``) and its whole text, traceback included, shown in the cell. So an
  error is returned as text: the code, then a short message naming the argument —
  ``#NUM! gpus must be ≥ 0, got -3`` — and nothing ever raises. ``ISERROR`` is FALSE for such a
  cell, ``ISTEXT`` TRUE, and any arithmetic on it gives a real ``#VALUE!``; passed to another
  xlcost function it is recognised and passed through as the error it names.

**xlwings Lite** (Pyodide in Office.js, Excel on Windows, Mac and the web;
``xlwings/pro/udfs_officejs.py`` and ``_xlofficejs.py``):

* *In*: every parameter is declared as a matrix of ``any``; a 1×1 argument is unwrapped to a
  scalar before conversion, an empty cell may arrive as ``None``, ``""`` or ``0`` (a ``0`` cannot
  be told from a typed zero — see the limitations below), whole numbers as ``int``, dates as
  serial numbers, and error cells as Office.js error objects (``{"type": "Error", ...}``) that
  ``err_to_str`` turns into code strings. An omitted optional argument is the Python default.
* *Out*: the officejs engine turns a returned string that is exactly an error code
  (``"#NUM!"``) into a real Excel error (``{"type": "Error", "errorType": "Num"}``, custom
  functions runtime ≥ 1.4), and NaN into ``#NUM!``. So in Lite an error is returned as its bare
  code and the cell shows a **real** error value (the message is not shown: xlwings sends no
  error message to Office.js).

The runtime is Lite when Python runs under Pyodide (``sys.platform == "emscripten"``).

Limitations (verifiable only in Excel): in Lite an empty cell passed to an *optional*
argument may arrive as 0 and is then used as 0, not as the default — leave the argument out
instead. Classic error results are text, as explained above.

Off Excel (not Pyodide), the classic conventions apply:

>>> TRAIN_COST([[32.0], [None]], [[3.0], [3.0]], 5.0)
[[480.0], ['#VALUE! gpus is required but blank']]
"""

from __future__ import annotations

import gc
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import xlwings as xw

from xlcost.functions import REGISTRY, ExcelError, ExcelFunction, Result

__all__ = list(REGISTRY)

LITE = sys.platform == "emscripten"
"""True under xlwings Lite (Pyodide): errors are returned as real error values."""

COM_ERRORS: dict[int, str] = {
    -2146826281: "#DIV/0!",
    -2146826246: "#N/A",
    -2146826259: "#NAME?",
    -2146826288: "#NULL!",
    -2146826252: "#NUM!",
    -2146826265: "#REF!",
    -2146826273: "#VALUE!",
}
"""Classic xlwings: error cells as the ``int`` HRESULTs pywin32 gives (``xlErr*`` | 0x800A0000)."""


def from_excel(value: Any, lite: bool = LITE) -> Any:
    """A UDF argument as plain Python: a classic HRESULT ``int`` becomes its error code string.

    >>> from_excel(-2146826246, lite=False)
    '#N/A'
    >>> from_excel([[-2146826252]], lite=False)
    '#NUM!'
    >>> from_excel(-2146826246, lite=True)  # in Lite an int is a number
    -2146826246
    """
    if lite:
        return value
    if type(value) is int:
        return COM_ERRORS.get(value, value)
    if type(value) is list and len(value) == 1 and type(value[0]) is list and len(value[0]) == 1:
        cell = value[0][0]
        if type(cell) is int and cell in COM_ERRORS:
            return COM_ERRORS[cell]
    return value


def to_excel(result: Result, lite: bool = LITE) -> Any:
    """A registry result in the runtime's representation: numbers, text, or lists of rows;
    errors as ``"#NUM! message"`` text (classic) or the bare code (Lite: a real error).

    >>> to_excel(ExcelError("#NUM!", "gpus must be ≥ 0"), lite=False)
    '#NUM! gpus must be ≥ 0'
    >>> to_excel(ExcelError("#NUM!", "gpus must be ≥ 0"), lite=True)
    '#NUM!'
    >>> to_excel(np.array([[1.0], [2.0]]), lite=False)
    [[1.0], [2.0]]
    """
    if isinstance(result, ExcelError):
        return result.code if lite else str(result)
    if not isinstance(result, np.ndarray):
        return result
    if result.ndim < 2:
        result = result.reshape(-1, 1)
    if result.size == 1:
        return to_excel(result.item(), lite)
    if result.dtype != object:
        return result.tolist()
    return [[to_excel(x, lite) for x in row] for row in result.tolist()]


def _udf(fn: ExcelFunction) -> Callable[..., Any]:
    """The xlwings UDF for a registry entry: exact name, argument names and optional args."""

    def udf(*args: Any) -> Any:
        # A 100,000-row range is 100,000 small lists in and out: pausing the cyclic garbage
        # collector for the call (nothing here makes cycles) halves its cost.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return to_excel(fn(*[from_excel(a) for a in args]))
        except Exception as e:  # never a traceback in a cell
            return to_excel(ExcelError("#VALUE!", f"{fn.name}: internal error ({e!r})"))
        finally:
            if collecting:
                gc.enable()

    empty = inspect.Parameter.empty
    udf.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                a.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=empty if a.default is None else None,
            )
            for a in fn.args
        ]
    )
    udf.__name__ = udf.__qualname__ = fn.name
    udf.__doc__ = fn.description
    udf.__module__ = __name__
    f: Callable[..., Any] = udf
    for a in reversed(fn.args):
        f = xw.arg(a.name, ndim=2, err_to_str=True, doc=a.description)(f)
    # Outermost, as ``@xw.func`` on top of ``@xw.arg``: classic ``xlarg`` re-runs ``xlfunc``
    # without options, which would reset the category.
    return xw.func(category="xlcost")(f)


for _name, _fn in REGISTRY.items():
    globals()[_name] = _udf(_fn)
del _name, _fn
