"""Read and validate the inputs of a filled workbook through its defined names.

A *filled workbook* is an ``.xlsx``/``.xlsm`` whose workbook-scoped defined names include
xlcost input names, each pointing to one cell.  Its inputs are read straight from the
sheet XML (:mod:`xlcost.workbooks.package`: no macro runs, zip and XML bombs are refused) and
validated by the engine; every problem names the file, the cell and the input::

    q3.xlsx Inputs!C7, train_gpus: must be ≥ 0, got -3
    q3.xlsx Inputs!C7, train_gpus: holds a formula; inputs must be values
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlcost.engine.catalog import Catalog
from xlcost.engine.errors import InputError, ScenarioErrors
from xlcost.engine.evaluate import unknown_gpus
from xlcost.engine.model import INPUT_NAMES, NUMERIC_INPUTS, Scenario
from xlcost.engine.validate import parse_scenario
from xlcost.scenario_files import cell_value
from xlcost.workbooks.catalog_sheet import sheet_catalog
from xlcost.workbooks.cells import CellRef, CellValue, WorkbookError
from xlcost.workbooks.opened import OpenWorkbook, open_workbook

__all__ = ["WORKBOOK_SUFFIXES", "input_cells", "read_scenario", "read_with_catalog"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def input_cells(path: Path | OpenWorkbook) -> dict[str, CellRef]:
    """The input cells of a workbook: xlcost input name → cell, from its defined names.

    Parameters
    ----------
    path : Path or OpenWorkbook
        The workbook.

    Returns
    -------
    dict of str to CellRef
        Only names that are xlcost inputs (matched case-insensitively, as Excel matches
        names: ``TRAIN_GPUS`` is ``train_gpus``); empty if the workbook defines none.

    Raises
    ------
    WorkbookError
        Unsafe or damaged package (one line naming the file).
    """
    return open_workbook(path).names.among(INPUT_NAMES)


def _raw_input(cell: CellValue, field: str, where: str) -> Any:
    """The value of an input cell as the model takes it; formulas and errors are refused."""
    if cell.formula is not None:
        raise InputError(field, "holds a formula; inputs must be values", where=where)
    if cell.error is not None:
        raise InputError(field, f"holds the error {cell.error}; inputs must be values", where=where)
    if isinstance(cell.value, bool) and field in NUMERIC_INPUTS:
        raise InputError(field, "must be a number", "TRUE" if cell.value else "FALSE", where=where)
    return cell_value(cell.value, field)


def read_scenario(path: Path | OpenWorkbook, cells: dict[str, CellRef] | None = None) -> Scenario:
    """Read and validate the scenario held by a filled workbook.

    Parameters
    ----------
    path : Path or OpenWorkbook
        The workbook (opened and checked once); never modified, no macro runs.
    cells : dict of str to CellRef, optional
        Its :func:`input_cells`, if already known.

    Returns
    -------
    Scenario
        The validated inputs.

    Raises
    ------
    WorkbookError
        Unsafe or damaged package, or no defined names for xlcost inputs.
    ScenarioErrors
        Invalid inputs; each problem names the cell, e.g.
        ``q3.xlsx Inputs!C7, train_gpus: must be ≥ 0, got -3``.  A required input
        without a defined name is reported as such.
    """
    book = open_workbook(path)
    name = book.path.name
    if cells is None:
        cells = input_cells(book)
    if not set(cells) - {"name"}:
        raise WorkbookError(
            f"{name}: no defined names for xlcost inputs (not a filled xlcost workbook)"
        )
    found = book.read(cells.values())

    def where(field: str) -> str:
        ref = cells.get(field)
        return f"{name} {ref}" if ref is not None else name

    record: dict[str, Any] = {}
    problems: list[InputError] = []
    for field, ref in cells.items():
        try:
            record[field] = _raw_input(found[ref], field, where(field))
        except InputError as e:
            problems.append(e)
    try:
        scenario = parse_scenario(record, where=where)
    except ScenarioErrors as e:
        reported = {p.field for p in problems}  # formulas, errors, wrong types
        problems += [_unnamed(p, cells, name) for p in e.problems if p.field not in reported]
    if problems:
        raise ScenarioErrors(problems)
    return scenario


def _unnamed(problem: InputError, cells: dict[str, CellRef], name: str) -> InputError:
    """Say so when a required input is missing because the workbook has no name for it."""
    if problem.field in cells or problem.reason != "required":
        return problem
    return InputError(
        problem.field, "required, but the workbook has no defined name for it", where=name
    )


def read_with_catalog(
    path: Path | OpenWorkbook, cells: dict[str, CellRef] | None = None
) -> tuple[Scenario, Catalog | None]:
    """:func:`read_scenario`, and the catalog its GPU names are looked up in.

    That is the workbook's own Catalog sheet when it has one
    (:func:`~xlcost.workbooks.catalog_sheet.sheet_catalog`: what its formulas look up, so it
    wins over ``--catalog``), else None: the catalog in use (``--catalog`` or the packaged one).

    Raises
    ------
    WorkbookError, ScenarioErrors
        As :func:`read_scenario`; also a bad Catalog sheet cell, or a ``train_gpu`` /
        ``serve_gpu`` the catalog does not know (naming the cell and the GPUs it knows).
    """
    book = open_workbook(path)
    if cells is None:
        cells = input_cells(book)
    scenario = read_scenario(book, cells)
    own = sheet_catalog(book)
    problems = unknown_gpus(
        scenario,
        own,
        where=lambda field: f"{book.path.name} {cells[field]}",
        known_from=" (its Catalog sheet)" if own else "",
    )
    if problems:
        raise ScenarioErrors(problems)
    return scenario, own
