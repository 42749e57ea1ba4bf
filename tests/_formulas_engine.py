"""Headless evaluation of xlcost workbooks with the ``formulas`` package (an independent engine).

The xlcost functions are registered in ``formulas`` from the engine's cost functions (a small
adapter over scalars: udf-mode workbooks call each function on single cells). Blank or
non-numeric arguments give ``#VALUE!``, as the add-in does.

TODO: switch to ``tests/excel_engines.py`` (the UDF layer's registration) once it is on main.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import formulas
import numpy as np
import schedula as sh
from formulas.functions import wrap_func
from formulas.tokens.operand import Error, XlError

from xlcost import __version__
from xlcost.engine import compute, costs
from xlcost.engine.catalog import default_catalog
from xlcost.functions import REGISTRY

VALUE = Error.errors["#VALUE!"]
DIV0 = Error.errors["#DIV/0!"]
NA = Error.errors["#N/A"]


def _scalar(x: Any) -> Any:
    while isinstance(x, np.ndarray):
        x = x.ravel()[0] if x.size else None
    return x


def _numbers(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    defaults = [a.default for a in REGISTRY[name].args]

    def call(*args: Any) -> Any:
        values = []
        for i, a in enumerate(args):
            v = _scalar(a)
            if isinstance(v, XlError):
                return v
            if v is None or v is sh.EMPTY or isinstance(v, str):
                if defaults[i] is None:
                    return VALUE
                v = defaults[i]
            values.append(v)
        try:
            out = float(fn(*[float(v) for v in values]))
        except (TypeError, ValueError):
            return VALUE
        return out if math.isfinite(out) else DIV0

    return call


def _gpu_spec(gpu: Any, field: Any) -> Any:
    try:
        return getattr(default_catalog().get(str(_scalar(gpu))), str(_scalar(field)))
    except (KeyError, AttributeError):
        return NA


def register() -> None:
    """Register the xlcost functions in ``formulas`` (idempotent)."""
    f = formulas.get_functions()
    impl: dict[str, Callable[..., Any]] = {
        "TRAIN_COST": costs.train_cost,
        "DEPLOY_COST": costs.deploy_cost,
        "MAINTAIN_COST": costs.maintain_cost,
        "BENEFIT": costs.benefit,
        "BCR": costs.bcr,
        "TRAIN_FLOPS": compute.train_flops,
        "TRAIN_HOURS": compute.train_hours,
        "REPLICAS": compute.replicas,
    }
    for name, fn in impl.items():
        f[name] = wrap_func(_numbers(name, fn))
    f["ROI"] = wrap_func(_numbers("ROI", lambda b, c, basis=None: costs.roi(b, c)))
    f["GPU_SPEC"] = wrap_func(_gpu_spec)
    f["XLCOST_VERSION"] = wrap_func(lambda: __version__)


def calculate(path: Path) -> dict[tuple[str, str], Any]:
    """(sheet, cell) → value of every single cell, as ``formulas`` calculates the workbook."""
    register()
    model = formulas.ExcelModel().loads(str(path)).finish()
    out: dict[tuple[str, str], Any] = {}
    for key, value in model.calculate().items():
        ref = key.split("!", 1)
        if len(ref) != 2 or ":" in ref[1] or "]" not in ref[0]:
            continue
        sheet = ref[0].split("]", 1)[1].strip("'")
        out[(sheet.upper(), ref[1])] = _scalar(value.value if hasattr(value, "value") else value)
    return out
