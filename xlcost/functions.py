"""The Excel-visible functions, as plain Python: one registry, Excel errors as values.

This module is the single source for every function Excel users call: its Excel name,
argument names and order, defaults, wizard descriptions, the Python implementation, and the
equivalent *native* Excel formula used by the portable template. :mod:`xlcost.udfs` wraps these
for xlwings and imports nothing else of substance; the workbook builder uses :func:`formula`.

Calling a registry entry runs the whole Excel boundary in plain Python — coercion of cell
values, Excel-style broadcasting of ranges, domain checks and Excel error values — and never
raises:

>>> REGISTRY["TRAIN_COST"](32, 3, 5)
480.0
>>> REGISTRY["TRAIN_COST"]([[32], [64]], 3, 5).tolist()
[[480.0], [960.0]]
>>> REGISTRY["TRAIN_COST"](-1, 3, 5)
ExcelError('#NUM!', 'gpus must be ≥ 0, got -1')
>>> REGISTRY["ROI"](150, 0)
ExcelError('#DIV/0!', 'cost must be > 0, got 0')

Input conventions (both xlwings runtimes, see :mod:`xlcost.udfs`):

* a number is a ``float``, an ``int`` or a numpy number; ``True``/``False`` count as 1/0, as in
  Excel arithmetic (``=TRUE*5`` is 5); a ``datetime``/``date`` is its Excel serial number;
* ``None`` and ``""`` are blank: a blank optional argument takes its default (cell by cell in a
  range), a blank required one is ``#VALUE!``;
* an Excel error — an :class:`ExcelError`, a string such as ``"#N/A"`` (also with a message
  after the code, as classic xlwings shows them), or an Office.js error object
  ``{"type": "Error", ...}`` — is passed through to the result, cell by cell;
* any other text where a number belongs is ``#VALUE!``; NaN, ±inf and values outside an
  argument's domain are ``#NUM!`` (a zero divisor is ``#DIV/0!``); a range is a (nested) list
  or a numpy array of at most two dimensions.

Ranges broadcast like Excel arithmetic (numpy rules: a single cell with anything, a column with
a column of the same length, a column with a row gives a table); other shapes are ``#VALUE!``.
A bad cell gives an error in that cell of the result only.

It does not import xlwings or openpyxl.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, zip_longest
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from xlcost.engine import compute, costs

__all__ = [
    "ERROR_CODES",
    "REGISTRY",
    "Arg",
    "ExcelError",
    "ExcelFunction",
    "Result",
    "formula",
]

ERROR_CODES: tuple[str, ...] = (
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
)  # fmt: skip
"""Excel's error values; :class:`ExcelError` codes are always one of these."""

# Office.js ``errorType`` names (custom functions' error objects) → Excel error codes.
_OFFICEJS_ERRORS = {
    "Div0": "#DIV/0!", "NotAvailable": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!",
    "Ref": "#REF!", "Value": "#VALUE!", "Spill": "#SPILL!", "Calc": "#CALC!", "Field": "#FIELD!",
    "Busy": "#BUSY!", "Blocked": "#BLOCKED!", "Connect": "#CONNECT!",
    "GettingData": "#GETTING_DATA",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExcelError:
    """An Excel error value: ``code`` (one of :data:`ERROR_CODES`) and a short ``message``.

    ``str()`` is what a runtime that cannot return a real error value shows in the cell:

    >>> str(ExcelError("#NUM!", "gpus must be ≥ 0, got -1"))
    '#NUM! gpus must be ≥ 0, got -1'
    >>> ExcelError.parse("#N/A") == ExcelError("#N/A")
    True
    >>> ExcelError.parse("#NUM! gpus must be ≥ 0")
    ExcelError('#NUM!', 'gpus must be ≥ 0')
    >>> ExcelError.parse("#hashtag") is None
    True
    """

    code: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.message}" if self.message else self.code

    def __repr__(self) -> str:
        return f"ExcelError({self.code!r}, {self.message!r})"

    @staticmethod
    def parse(value: object) -> ExcelError | None:
        """The error ``value`` stands for — a code string, optionally followed by a space and a
        message, or an Office.js error object — else ``None``."""
        if isinstance(value, ExcelError):
            return value
        if isinstance(value, str):
            if not value.startswith("#"):
                return None
            code, _, message = value.partition(" ")
            return ExcelError(code, message) if code in _CODES else None
        if isinstance(value, dict) and value.get("type") == "Error":
            code = _OFFICEJS_ERRORS.get(str(value.get("errorType")), "")
            basic = value.get("basicValue")
            if not code and isinstance(basic, str) and basic in _CODES:
                code = basic
            return ExcelError(code or "#VALUE!", str(value.get("message") or ""))
        return None


_CODES = frozenset(ERROR_CODES)

Result = Union[float, str, ExcelError, NDArray[Any]]  # noqa: UP007 (a runtime alias)
"""What a registry function returns: a number (or text, for ``GPU_SPEC``/``XLCOST_VERSION``)
for single-cell arguments, else a numpy array — ``float64`` when every cell is good, ``object``
holding numbers and :class:`ExcelError` values otherwise — or one :class:`ExcelError` for
the whole call."""


@dataclass(frozen=True)
class Arg:
    """One argument of an Excel function.

    ``default`` is ``None`` for a required argument; ``domain`` names the check applied to it:
    "nonneg" (finite, ≥ 0), "positive" (finite, > 0), "rate" (in [0, 1]), "util" (in (0, 1]),
    "ge1" (finite, ≥ 1), "any" (finite), "text" (a string). ``zero`` is the error a 0 gives
    in a "positive" argument: ``#DIV/0!`` for divisors (ROI's cost), else ``#NUM!``.
    ``choices`` lists the accepted words of a "text" argument (case-insensitive); empty means
    any text.
    """

    name: str
    description: str
    default: float | str | None = None
    domain: str = "nonneg"
    zero: str = "#NUM!"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExcelFunction:
    """An Excel function: metadata, implementation and native-formula equivalent.

    Calling it (``REGISTRY["ROI"](150, 590)``) runs the Excel boundary: see the module
    docstring. ``python`` receives the arguments as broadcast-ready numpy arrays (numbers as
    ``float64``; a "text" argument with ``choices`` as the index of the choice; free text as an
    ``object`` array of stripped strings) and returns an array of results.
    """

    name: str
    description: str
    args: tuple[Arg, ...]
    native: Callable[..., str]
    """Native Excel formula text (no leading ``=``) from one expression per argument, e.g.
    ``native("B2", "B3", "B4", "1", "0")`` → ``"B2*B3*B4*1*(1+0)"``; :func:`formula` fills
    omitted optional arguments with their :class:`Arg` defaults first."""
    python: Callable[..., Any] | None = None

    def __call__(self, *values: object) -> Result:
        """Evaluate with Excel's conventions; never raises (see the module docstring)."""
        try:
            return _evaluate(self, values)
        except Exception as e:  # the last line of defence: a bug must not reach a cell
            return ExcelError("#VALUE!", f"{self.name}: internal error ({type(e).__name__})")

    @property
    def signature(self) -> str:
        """``TRAIN_COST(gpus, hours, price_per_gpu_hour, [runs], [overhead_rate])``."""
        names = (a.name if a.default is None else f"[{a.name}]" for a in self.args)
        return f"{self.name}({', '.join(names)})"


# --- The Excel boundary: coercion, broadcasting, domain checks, error values -----------------

_Codes = NDArray[np.int16]
"""Per-cell error indexes into a call's :class:`_Table` (0 = no error)."""

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
"""Day 0 of Excel's (1900) date serial numbers: a date in a cell is stored as days since."""


class _Table:
    """The distinct errors met in one call; a cell's error is an index into ``errors``."""

    def __init__(self) -> None:
        self.errors: list[ExcelError | None] = [None]
        self._index: dict[ExcelError, int] = {}

    def add(self, error: ExcelError) -> int:
        i = self._index.get(error)
        if i is None:
            i = self._index[error] = len(self.errors)
            self.errors.append(error)
        return i


class _Whole(Exception):
    """An error that applies to the whole call, e.g. a ragged range."""

    def __init__(self, error: ExcelError) -> None:
        super().__init__(str(error))
        self.error = error


def _serial(x: dt.date) -> float:
    """Excel serial number (1900 date system) of a date or datetime."""
    if isinstance(x, dt.datetime):
        return (x.replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86400.0
    return float((x - EXCEL_EPOCH.date()).days)


_NUMBER_TYPES = frozenset({float, int, bool})


def _fast_numbers(value: list[Any]) -> NDArray[np.float64] | None:
    """A list of numbers, or a list of equally long lists of numbers (what xlwings passes for a
    range of numbers), as a float array; ``None`` when anything else is in it."""
    try:
        if value and type(value[0]) is list:
            width = len(value[0])
            if set(map(len, value)) != {width}:
                return None
            flat = list(chain.from_iterable(value))
            shape: tuple[int, ...] = (len(value), width)
        else:
            flat, shape = value, (len(value),)
        if not set(map(type, flat)) <= _NUMBER_TYPES:
            return None
        return np.array(flat, dtype=np.float64).reshape(shape)
    except (TypeError, OverflowError):
        return None


def _as_array(spec: Arg, value: object) -> NDArray[Any]:
    """``value`` as a numpy array of at most 2 dimensions (``object`` for mixed cells)."""
    if isinstance(value, np.ndarray):
        a = value
    elif isinstance(value, list) and (fast := _fast_numbers(value)) is not None:
        a = fast
    elif isinstance(value, list | tuple):
        try:
            a = np.array(value)
        except (ValueError, TypeError, OverflowError):
            raise _Whole(ExcelError("#VALUE!", f"{spec.name} is not a rectangular range")) from None
        if a.dtype.kind in "USV":  # numpy would turn numbers mixed with text into text
            a = np.array(value, dtype=object)
    else:
        a = np.empty((), dtype=object)
        a[()] = value
    if a.ndim > 2:
        raise _Whole(ExcelError("#VALUE!", f"{spec.name} has more than 2 dimensions"))
    if a.size == 0:
        raise _Whole(ExcelError("#VALUE!", f"{spec.name} is an empty range"))
    return a


def _blank(spec: Arg, table: _Table) -> int:
    return table.add(ExcelError("#VALUE!", f"{spec.name} is required but blank"))


def _passed(spec: Arg, error: ExcelError) -> ExcelError:
    return error if error.message else ExcelError(error.code, f"in {spec.name}")


def _numbers_from_objects(spec: Arg, a: NDArray[Any], table: _Table) -> tuple[Any, _Codes]:
    """Cell-by-cell coercion of a range holding anything (the slow path, mixed cells only)."""
    flat = a.ravel().tolist() if a.dtype == object else a.ravel().astype(object).tolist()
    vals = np.zeros(len(flat))
    err = np.zeros(len(flat), dtype=np.int16)
    for i, x in enumerate(flat):
        t = type(x)
        try:
            if t is float or t is int or t is bool:
                vals[i] = x
            elif x is None or (t is str and not x.strip()):
                if spec.default is None:
                    err[i] = _blank(spec, table)
                else:
                    vals[i] = float(spec.default)
            elif isinstance(x, dt.date):
                vals[i] = _serial(x)
            elif isinstance(x, int | float | np.integer | np.floating | np.bool_):
                vals[i] = x
            elif isinstance(x, decimal.Decimal):  # Currency/Accounting cells, classic xlwings
                vals[i] = float(x)
            else:
                e = ExcelError.parse(x)
                if e is not None:
                    err[i] = table.add(_passed(spec, e))
                elif isinstance(x, str):
                    msg = f"{spec.name} must be a number, got text"
                    err[i] = table.add(ExcelError("#VALUE!", msg))
                else:
                    err[i] = table.add(ExcelError("#VALUE!", f"{spec.name} must be a number"))
        except OverflowError:
            err[i] = table.add(ExcelError("#NUM!", f"{spec.name} is too large"))
    return vals.reshape(a.shape), err.reshape(a.shape)


_RULES: dict[str, tuple[Callable[[Any], Any] | None, str]] = {
    "nonneg": (lambda v: v >= 0, "must be ≥ 0"),
    "positive": (lambda v: v > 0, "must be > 0"),
    "rate": (lambda v: (v >= 0) & (v <= 1), "must be between 0 and 1"),
    "util": (lambda v: (v > 0) & (v <= 1), "must be > 0 and ≤ 1"),
    "ge1": (lambda v: v >= 1, "must be ≥ 1"),
    "any": (None, ""),
}


def _got(v: NDArray[np.float64]) -> str:
    return f", got {float(v):g}" if v.ndim == 0 else ""


def _check(
    spec: Arg, v: NDArray[np.float64], err: _Codes | None, table: _Table
) -> tuple[NDArray[np.float64], _Codes | None]:
    """Domain check of a numeric argument: vectorised masks, detail only when something fails."""
    rule, reason = _RULES[spec.domain]
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(v)
        ok = finite if rule is None else finite & rule(v)
    if err is not None:
        ok = ok | (err != 0)
    if ok.all():
        return v, err
    if err is None:
        err = np.zeros(v.shape, dtype=np.int16)
    fresh = err == 0
    nonfinite = fresh & ~finite
    if nonfinite.any():
        err[nonfinite] = table.add(ExcelError("#NUM!", f"{spec.name} must be a finite number"))
    outside = fresh & finite & ~ok
    if spec.domain == "positive" and spec.zero != "#NUM!":
        zero = outside & (v == 0)
        if zero.any():
            err[zero] = table.add(ExcelError(spec.zero, f"{spec.name} {reason}{_got(v)}"))
            outside &= ~zero
    if outside.any():
        err[outside] = table.add(ExcelError("#NUM!", f"{spec.name} {reason}{_got(v)}"))
    return v, err


def _coerce_number(spec: Arg, value: object, table: _Table) -> tuple[Any, _Codes | None]:
    t = type(value)
    if t is float or t is int:  # the common single-cell case
        try:
            return _check(spec, np.array(float(value)), None, table)  # type: ignore[arg-type]
        except OverflowError:
            too_large = table.add(ExcelError("#NUM!", f"{spec.name} is too large"))
            return np.array(0.0), np.array(too_large, dtype=np.int16)
    a = _as_array(spec, value)
    kind = a.dtype.kind
    if kind == "f":
        return _check(spec, a.astype(np.float64, copy=False), None, table)
    if kind in "iub":
        return _check(spec, a.astype(np.float64), None, table)
    v, err = _numbers_from_objects(spec, a, table)
    return _check(spec, v, err if err.any() else None, table)


def _coerce_text(spec: Arg, value: object, table: _Table) -> tuple[Any, _Codes | None]:
    a = _as_array(spec, value)
    flat = a.ravel().tolist()
    out: list[Any] = []
    err = np.zeros(len(flat), dtype=np.int16)
    choices = spec.choices
    for i, x in enumerate(flat):
        if x is None or (type(x) is str and not x.strip()):
            if spec.default is None:
                err[i] = _blank(spec, table)
                x = ""
            else:
                x = spec.default
        e = ExcelError.parse(x)
        if e is not None:
            err[i] = table.add(_passed(spec, e))
            out.append(0.0 if choices else "")
        elif not isinstance(x, str):
            err[i] = table.add(ExcelError("#VALUE!", f"{spec.name} must be text"))
            out.append(0.0 if choices else "")
        elif choices:
            word = x.strip().casefold()
            if word in choices:
                out.append(float(choices.index(word)))
            else:
                listed = " or ".join(f'"{c}"' for c in choices)
                err[i] = table.add(ExcelError("#VALUE!", f"{spec.name} must be {listed}"))
                out.append(0.0)
        else:
            out.append(x.strip())
    arr = np.array(out, dtype=np.float64 if choices else object).reshape(a.shape)
    return arr, (err.reshape(a.shape) if err.any() else None)


def _dims(shape: tuple[int, ...]) -> str:
    rows, cols = shape if len(shape) == 2 else (shape[0], 1)
    return f"{rows}×{cols}"


_SCALAR_OK: dict[str, Callable[[float], bool]] = {
    "nonneg": lambda x: 0.0 <= x < math.inf,
    "positive": lambda x: 0.0 < x < math.inf,
    "rate": lambda x: 0.0 <= x <= 1.0,
    "util": lambda x: 0.0 < x <= 1.0,
    "ge1": lambda x: 1.0 <= x < math.inf,
    "any": math.isfinite,
}


def _scalar(fn: ExcelFunction, values: Sequence[object]) -> float | None:
    """The result for single good numbers (the fast path), else ``None`` (take the full path)."""
    args: list[float] = []
    for i, spec in enumerate(fn.args):
        x = values[i] if i < len(values) else None
        if x is None:
            x = spec.default
        t = type(x)
        if (t is float or t is int) and spec.domain != "text":
            try:
                v = float(x)  # type: ignore[arg-type]
            except OverflowError:
                return None
            if (t is int and abs(v) > 2.0**53) or not _SCALAR_OK[spec.domain](v):
                return None
            args.append(v)
        elif isinstance(x, str) and (word := x.strip().casefold()) in spec.choices:
            args.append(float(spec.choices.index(word)))
        else:
            return None
    with np.errstate(all="ignore"):
        r = float(fn.python(*args))  # type: ignore[misc]
    return r if math.isfinite(r) else None


def _evaluate(fn: ExcelFunction, values: Sequence[object]) -> Result:
    if len(values) > len(fn.args):
        return ExcelError("#VALUE!", f"too many arguments: {fn.signature}")
    if fn.python is None:
        return ExcelError("#NAME?", f"{fn.name} has no Python implementation")
    if fn.args and fn.args[0].domain != "text" and (r := _scalar(fn, values)) is not None:
        return r
    table = _Table()
    arrays: list[NDArray[Any]] = []
    errs: list[_Codes | None] = []
    try:
        for spec, value in zip_longest(fn.args, values):
            coerce = _coerce_text if spec.domain == "text" else _coerce_number
            a, e = coerce(spec, value, table)
            arrays.append(a)
            errs.append(e)
    except _Whole as w:
        return w.error
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        pairs = zip(fn.args, arrays, strict=True)
        dims = ", ".join(f"{s.name} {_dims(a.shape)}" for s, a in pairs if a.ndim)
        return ExcelError("#VALUE!", f"ranges of different shapes: {dims}")
    err: _Codes | None = None
    for e in errs:  # an earlier argument's error wins, as in Excel
        if e is not None:
            if err is None:
                err = np.broadcast_to(e, shape).copy()
            else:
                np.copyto(err, e, where=err == 0)
    with np.errstate(all="ignore"):
        out = np.broadcast_to(np.asarray(fn.python(*arrays)), shape)
    if out.dtype != object:
        bad = ~np.isfinite(out)
        if bad.any():
            if err is None:
                err = np.zeros(shape, dtype=np.int16)
            idx = table.add(ExcelError("#NUM!", "the result is not a finite number"))
            err[bad & (err == 0)] = idx
    if err is None or not err.any():
        if out.ndim == 0:
            item = out.item()
            return float(item) if isinstance(item, float | int) else item
        return out.copy() if out.dtype == object else np.array(out, dtype=np.float64)
    if out.ndim == 0:
        return table.errors[int(err)] or ExcelError("#VALUE!")
    res = out.astype(object)
    mask = err != 0
    errors = np.empty(len(table.errors), dtype=object)
    errors[:] = table.errors
    res[mask] = errors[err[mask]]
    return res


# --- Python implementations over broadcast arrays ---------------------------------------------


def _roi_impl(benefit: Any, cost: Any, basis: Any) -> Any:
    return np.where(basis == 1.0, costs.bcr(benefit, cost), costs.roi(benefit, cost))


def _gpu_field(gpu: str, field: str) -> float | str | ExcelError:
    from xlcost.engine.catalog import GPU_FIELDS, default_catalog

    if field not in GPU_FIELDS:
        return ExcelError("#N/A", f"field: unknown field {field!r}; known: {', '.join(GPU_FIELDS)}")
    try:
        value = getattr(default_catalog().get(gpu), field)
    except KeyError:
        return ExcelError("#N/A", f"gpu: unknown GPU {gpu!r}")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, str) else float(value)


def _gpu_spec_impl(gpu: NDArray[Any], field: NDArray[Any]) -> NDArray[Any]:
    g, f = np.broadcast_arrays(gpu, field)
    out = np.empty(g.shape, dtype=object)
    seen: dict[tuple[str, str], object] = {}
    for idx in np.ndindex(g.shape):
        key = (str(g[idx]), str(f[idx]).strip().casefold())
        if key not in seen:
            seen[key] = _gpu_field(*key)
        out[idx] = seen[key]
    return out


def _version_impl() -> NDArray[Any]:
    from xlcost import __version__

    out = np.empty((), dtype=object)
    out[()] = __version__
    return out


# --- Native Excel forms (the portable template) -----------------------------------------------


def _train_cost(*a: str) -> str:
    return f"{a[0]}*{a[1]}*{a[2]}*{a[3]}*(1+{a[4]})"


def _deploy_cost(*a: str) -> str:
    return f"{a[0]}*{a[1]}*{a[2]}*(1+{a[3]})"


def _maintain_cost(*a: str) -> str:
    return f"{a[0]}*({a[1]}*{a[2]}+{a[3]})"


def _roi(*a: str) -> str:
    basis = a[2].strip('"').lower()
    return f"{a[0]}/{a[1]}" if basis == "ratio" else f"({a[0]}-{a[1]})/{a[1]}"


def _benefit(*a: str) -> str:
    return f"{a[0]}*({a[1]}*{a[2]}-{a[4]}*{a[5]})*{a[3]}"


def _bcr(*a: str) -> str:
    return f"{a[0]}/{a[1]}"


def _train_flops(*a: str) -> str:
    return f"{a[2]}*{a[0]}*{a[1]}"


def _train_hours(*a: str) -> str:
    return f"{a[5]}*{a[0]}*{a[1]}/({a[2]}*{a[3]}*10^12*{a[4]})/3600"


def _replicas(*a: str) -> str:
    return f"MAX({a[3]},ROUNDUP(ROUND({a[0]}/({a[1]}*{a[2]}),9),0))"


def _infer_flops(*a: str) -> str:
    return f"{a[2]}*{a[0]}*{a[1]}"


def _serve_qps(*a: str) -> str:
    return f"{a[2]}*10^12*{a[3]}/(2*{a[0]}*{a[1]})"


def _decode_qps(*a: str) -> str:
    return f"{a[5]}*{a[2]}*10^12/({a[0]}*{a[4]})*{a[3]}/{a[1]}"


def _fit_gpus(*a: str) -> str:
    return f"ROUNDUP(ROUND({a[3]}*{a[0]}*{a[2]}/({a[1]}*10^9),9),0)"


def _latency_ms(*a: str) -> str:
    return (
        f"1000*(2*{a[0]}*{a[1]}/({a[3]}*10^12*{a[5]})+{a[2]}*{a[0]}*{a[6]}/({a[4]}*10^12*{a[7]}))"
    )


def _api_cost(*a: str) -> str:
    return f"{a[0]}*({a[1]}*{a[3]}+{a[2]}*{a[4]})/10^6"


def _own_gpu_cost(*a: str) -> str:
    return f"{a[0]}*{a[1]}*(1-{a[4]})*MIN({a[2]},{a[3]})/{a[3]}"


def _power_cost(*a: str) -> str:
    return f"{a[0]}*{a[1]}*{a[4]}*{a[2]}*{a[3]}"


def _gpu_spec(*a: str) -> str:
    # The workbook's Catalog sheet defines catalog_table (data), catalog_names (first column)
    # and catalog_fields (header row).
    return f"INDEX(catalog_table,MATCH({a[0]},catalog_names,0),MATCH({a[1]},catalog_fields,0))"


def _break_even(*a: str) -> str:
    return f"{a[0]}-{a[1]}*({a[2]}-{a[0]})/({a[3]}-{a[1]})"


def _break_even_impl(value: Any, result: Any, value2: Any, result2: Any) -> Any:
    x0, y0, x1, y1 = (np.asarray(a, dtype=np.float64) for a in (value, result, value2, result2))
    with np.errstate(all="ignore"):  # equal results: no root, ±inf or nan → #NUM!
        return x0 - y0 * (x1 - x0) / (y1 - y0)


def _version(*a: str) -> str:
    from xlcost import __version__

    return f'"{__version__}"'


# --- The registry ---------------------------------------------------------------------------

_P = "Price of one GPU-hour, in the workbook's currency"
REGISTRY: dict[str, ExcelFunction] = {
    f.name: f
    for f in (
        ExcelFunction(
            "TRAIN_COST",
            "Training cost: gpus × hours × price × runs × (1 + overhead)",
            (
                Arg("gpus", "GPUs used by one training run"),
                Arg("hours", "Wall-clock hours of one run"),
                Arg("price_per_gpu_hour", _P),
                Arg("runs", "Full training runs paid for (default 1)", 1.0),
                Arg("overhead_rate", "Overhead as a fraction of GPU spend (default 0)", 0.0),
            ),
            _train_cost,
            costs.train_cost,
        ),
        ExcelFunction(
            "DEPLOY_COST",
            "Deployment cost: gpus × hours × price × (1 + overhead)",
            (
                Arg("gpus", "GPUs serving"),
                Arg("hours", "Hours each GPU serves in the period (24/7 = 730 a month)"),
                Arg("price_per_gpu_hour", _P),
                Arg("overhead_rate", "Overhead as a fraction of GPU spend (default 0)", 0.0),
            ),
            _deploy_cost,
            costs.deploy_cost,
        ),
        ExcelFunction(
            "MAINTAIN_COST",
            "Maintenance cost: months × (units per month × price per unit + fixed per month)",
            (
                Arg("months", "Months of maintenance"),
                Arg("units_per_month", "Effort per month, e.g. engineer-hours"),
                Arg("price_per_unit", "Price of one unit of effort"),
                Arg("fixed_per_month", "Fixed fees per month (default 0)", 0.0),
            ),
            _maintain_cost,
            costs.maintain_cost,
        ),
        ExcelFunction(
            "ROI",
            'Return on investment: "net" (benefit − cost)/cost, or "ratio" benefit/cost',
            (
                Arg("benefit", "Benefit over the period", domain="any"),
                Arg(
                    "cost",
                    "Total cost over the period (must be > 0)",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg(
                    "basis",
                    '"net" (default) or "ratio"',
                    "net",
                    domain="text",
                    choices=("net", "ratio"),
                ),
            ),
            _roi,
            _roi_impl,
        ),
        ExcelFunction(
            "BENEFIT",
            "Incremental benefit: volume × (ctr × cvr − baseline ctr × baseline cvr) × value",
            (
                Arg("volume", "Requests or impressions in the period"),
                Arg("ctr", "Click-through rate with the model (0–1)", domain="rate"),
                Arg("cvr", "Conversion rate with the model (0–1)", domain="rate"),
                Arg("value_per_conversion", "Value of one conversion"),
                Arg(
                    "baseline_ctr",
                    "Click-through rate of the system replaced (default 0)",
                    0.0,
                    domain="rate",
                ),
                Arg(
                    "baseline_cvr",
                    "Conversion rate of the system replaced (default 0)",
                    0.0,
                    domain="rate",
                ),
            ),
            _benefit,
            costs.benefit,
        ),
        ExcelFunction(
            "BCR",
            "Benefit-cost ratio: benefit / cost",
            (
                Arg("benefit", "Benefit over the period", domain="any"),
                Arg(
                    "cost",
                    "Total cost over the period (must be > 0)",
                    domain="positive",
                    zero="#DIV/0!",
                ),
            ),
            _bcr,
            costs.bcr,
        ),
        ExcelFunction(
            "TRAIN_FLOPS",
            "Training compute in FLOP: factor × params × tokens",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("tokens", "Training tokens", domain="positive"),
                Arg(
                    "flops_per_param_token",
                    "6, or 8 with activation recomputation (default 6)",
                    6.0,
                    domain="positive",
                ),
            ),
            _train_flops,
            compute.train_flops,
        ),
        ExcelFunction(
            "TRAIN_HOURS",
            "Wall-clock training hours from model size, tokens, GPUs, peak TFLOP/s and MFU",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("tokens", "Training tokens", domain="positive"),
                Arg("gpus", "GPUs in the run", domain="positive", zero="#DIV/0!"),
                Arg(
                    "peak_tflops",
                    "Dense BF16 peak TFLOP/s of one GPU",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg("mfu", "Achieved fraction of peak, 0–1 (default 0.4)", 0.4, domain="util"),
                Arg(
                    "flops_per_param_token",
                    "6, or 8 with activation recomputation (default 6)",
                    6.0,
                    domain="positive",
                ),
            ),
            _train_hours,
            compute.train_hours,
        ),
        ExcelFunction(
            "REPLICAS",
            "Serving replicas: max(min, ceil(peak QPS / (QPS per replica × utilisation)))",
            (
                Arg("peak_qps", "Peak queries per second"),
                Arg(
                    "qps_per_replica",
                    "Queries per second one replica sustains",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg(
                    "target_utilization",
                    "Planned load at peak, 0–1 (default 0.7)",
                    0.7,
                    domain="util",
                ),
                Arg("min_replicas", "Minimum replicas (default 1)", 1.0),
            ),
            _replicas,
            compute.replicas,
        ),
        ExcelFunction(
            "INFER_FLOPS",
            "Inference compute in FLOP: factor × params × tokens (2 per parameter-token)",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("tokens", "Tokens read or generated", domain="positive"),
                Arg(
                    "flops_per_param_token",
                    "2 for a forward pass (default 2)",
                    2.0,
                    domain="positive",
                ),
            ),
            _infer_flops,
            compute.infer_flops,
        ),
        ExcelFunction(
            "SERVE_QPS",
            "Compute-bound requests/s of one GPU: peak × 10^12 × MFU / (2 × params × tokens)",
            (
                Arg("params", "Model parameters", domain="positive", zero="#DIV/0!"),
                Arg(
                    "tokens_per_request",
                    "Tokens per request: items × tokens per item (+ output tokens)",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg("peak_tflops", "Dense BF16/FP16 peak TFLOP/s of one GPU", domain="positive"),
                Arg("mfu", "Achieved fraction of peak, 0–1 (default 0.5)", 0.5, domain="util"),
            ),
            _serve_qps,
            compute.serve_qps,
        ),
        ExcelFunction(
            "DECODE_QPS",
            "Bandwidth-bound requests/s of one GPU generating output tokens",
            (
                Arg("params", "Model parameters", domain="positive", zero="#DIV/0!"),
                Arg(
                    "output_tokens",
                    "Tokens generated per request",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg("bandwidth_tbs", "Memory bandwidth of one GPU, TB/s", domain="positive"),
                Arg("batch", "Sequences decoded together (default 1)", 1.0, domain="positive"),
                Arg(
                    "bytes_per_param",
                    "2 FP16/BF16, 1 INT8/FP8, 0.5 INT4 (default 2)",
                    2.0,
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg("mbu", "Achieved fraction of bandwidth, 0–1 (default 0.6)", 0.6, domain="util"),
            ),
            _decode_qps,
            compute.decode_qps,
        ),
        ExcelFunction(
            "FIT_GPUS",
            "GPUs one replica needs for the model: ceil(overhead × params × bytes / memory)",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("memory_gb", "Memory of one GPU, GB", domain="positive", zero="#DIV/0!"),
                Arg(
                    "bytes_per_param",
                    "2 FP16/BF16, 1 INT8/FP8, 0.5 INT4 (default 2)",
                    2.0,
                    domain="positive",
                ),
                Arg(
                    "overhead",
                    "Weights plus activations and cache (default 1.2)",
                    1.2,
                    domain="positive",
                ),
            ),
            _fit_gpus,
            compute.fit_gpus,
        ),
        ExcelFunction(
            "LATENCY_MS",
            "Batch-1 latency lower bound of one request on one GPU, in ms",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("tokens_per_request", "Tokens read per request (items × tokens per item)"),
                Arg("output_tokens", "Tokens generated per request"),
                Arg(
                    "peak_tflops",
                    "Dense BF16/FP16 peak TFLOP/s of one GPU",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg(
                    "bandwidth_tbs",
                    "Memory bandwidth of one GPU, TB/s",
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg("mfu", "Achieved fraction of peak, 0–1 (default 0.5)", 0.5, domain="util"),
                Arg(
                    "bytes_per_param",
                    "2 FP16/BF16, 1 INT8/FP8, 0.5 INT4 (default 2)",
                    2.0,
                    domain="positive",
                ),
                Arg("mbu", "Achieved fraction of bandwidth, 0–1 (default 0.6)", 0.6, domain="util"),
            ),
            _latency_ms,
            compute.latency_ms,
        ),
        ExcelFunction(
            "API_COST",
            "Hosted model API cost: requests × (input tokens × price + output tokens × price) "
            "/ 1,000,000",
            (
                Arg("requests", "API requests in the period"),
                Arg("input_tokens", "Input (prompt) tokens per request"),
                Arg("output_tokens", "Output tokens per request"),
                Arg("price_per_m_input", "Price per million input tokens"),
                Arg("price_per_m_output", "Price per million output tokens"),
            ),
            _api_cost,
            costs.api_cost,
        ),
        ExcelFunction(
            "OWN_GPU_COST",
            "Owned GPUs: purchase less value left after months (straight line to salvage)",
            (
                Arg("gpus", "GPUs bought"),
                Arg("price", "Purchase price of one GPU"),
                Arg("months", "Months the GPUs are used in the period"),
                Arg(
                    "life_months",
                    "Useful life in months (default 36)",
                    36.0,
                    domain="positive",
                    zero="#DIV/0!",
                ),
                Arg(
                    "salvage_rate",
                    "Value left after the life, fraction of price 0–1 (default 0)",
                    0.0,
                    domain="rate",
                ),
            ),
            _own_gpu_cost,
            costs.own_gpu_cost,
        ),
        ExcelFunction(
            "POWER_COST",
            "Electricity of owned GPUs: gpus × kW per GPU × PUE × hours × price per kWh",
            (
                Arg("gpus", "GPUs drawing power"),
                Arg("kw_per_gpu", "Average power of one GPU with its server share, kW"),
                Arg("hours", "Hours each GPU runs in the period"),
                Arg("price_per_kwh", "Price of one kWh"),
                Arg("pue", "Power usage effectiveness, ≥ 1 (default 1.3)", 1.3, domain="ge1"),
            ),
            _power_cost,
            costs.power_cost,
        ),
        ExcelFunction(
            "GPU_SPEC",
            'A value from the xlcost hardware catalog, e.g. GPU_SPEC("H100","price_per_hour")',
            (
                Arg("gpu", "GPU name, e.g. H100", domain="text"),
                Arg(
                    "field",
                    "price_per_hour, peak_tflops, memory_gb, memory_bandwidth_tbs, …",
                    domain="text",
                ),
            ),
            _gpu_spec,
            _gpu_spec_impl,
        ),
        ExcelFunction(
            "BREAK_EVEN",
            "Value of an input at which a result linear in it (e.g. NPV) is zero, from two points",
            (
                Arg("value", "A value of the input", domain="any"),
                Arg("result", "The result (e.g. NPV) at that value", domain="any"),
                Arg("value2", "Another value of the input", domain="any"),
                Arg("result2", "The result at the other value", domain="any"),
            ),
            _break_even,
            _break_even_impl,
        ),
        ExcelFunction("XLCOST_VERSION", "The xlcost engine version", (), _version, _version_impl),
    )
}


def _native_arg(spec: Arg, args: tuple[str, ...], i: int) -> str:
    """Argument ``i`` as given, or — omitted or blank — its default as an Excel literal."""
    if i < len(args) and args[i]:
        return args[i]
    if isinstance(spec.default, str):
        return f'"{spec.default}"'
    return f"{spec.default:g}"


def formula(mode: str, name: str, *args: str) -> str:
    """Cell formula (with ``=``) calling function ``name`` in ``mode`` "udf" or "portable".

    >>> formula("udf", "TRAIN_COST", "B2", "B3", "B4")
    '=TRAIN_COST(B2,B3,B4)'
    >>> formula("portable", "TRAIN_COST", "B2", "B3", "B4")
    '=B2*B3*B4*1*(1+0)'
    """
    fn = REGISTRY[name]
    if mode == "udf":
        return f"={name}({','.join(args)})"
    if mode == "portable":
        return "=" + fn.native(*(_native_arg(spec, args, i) for i, spec in enumerate(fn.args)))
    raise ValueError(f"mode must be 'udf' or 'portable', got {mode!r}")
