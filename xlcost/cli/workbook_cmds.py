"""Commands that write workbooks: template."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from xlcost.cli._app import CatalogOpt, app, catalog_from, examples, new_file, user_errors
from xlcost.engine.errors import XlcostError
from xlcost.engine.examples import seed_scenario
from xlcost.scenario_files import load_ranged_scenarios


class Mode(StrEnum):
    udf = "udf"
    portable = "portable"


ModeOpt = Annotated[
    Mode,
    typer.Option(
        help="udf: cells call the xlcost functions (needs the add-in); portable: native "
        "Excel formulas that recalculate anywhere."
    ),
]

TEMPLATE_FILES = {Mode.udf: "xlcost_template.xlsx", Mode.portable: "xlcost_template_portable.xlsx"}
"""Default file names, also those of the committed artifacts in ``workbook/``."""


def write_templates(directory: Path, *, overwrite: bool = False) -> list[Path]:
    """Write both templates (pre-filled with the worked example) into ``directory``.

    A file that already holds exactly these bytes (an earlier demo's) is left as it is; any
    other existing file is refused, before anything is written, unless ``overwrite``.
    """
    from xlcost._files import atomic_write
    from xlcost.workbooks.template import template_bytes

    paths = {directory / filename: mode for mode, filename in TEMPLATE_FILES.items()}
    data = {path: template_bytes(mode.value) for path, mode in paths.items()}
    todo = [p for p in paths if not (p.is_file() and p.read_bytes() == data[p])]
    taken = [p for p in todo if p.exists()]
    if taken and not overwrite:
        raise XlcostError(f"{taken[0]}: exists and differs from the template; use --force")
    for path in todo:
        atomic_write(path, data[path], overwrite=overwrite)
    return list(paths)


ForceOpt = Annotated[bool, typer.Option("--force", help="Replace existing output files.")]


@app.command(
    epilog=examples(
        "xlcost template --mode portable --out my_template.xlsx",
        "xlcost template --scenario examples/seed_bert_ranker.yaml --out seed.xlsx --force",
    )
)
@user_errors
def template(
    mode: ModeOpt = Mode.udf,
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="Scenario file (YAML, JSON, CSV, XLSX) with the one option to pre-fill "
            "[default: the worked example (BERT ranker)].",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output .xlsx (its folder is created) [default: xlcost_template.xlsx or "
            "…_portable.xlsx]."
        ),
    ] = None,
    force: ForceOpt = False,
    budget: Annotated[
        float | None,
        typer.Option(
            help="Budget on the Scenarios sheet (maximum total cost) [default: 1,000,000, "
            "the comparison example's].",
            min=0,
        ),
    ] = None,
    no_budget: Annotated[
        bool, typer.Option("--no-budget", help="Leave the budget blank (no limit).")
    ] = False,
    catalog_file: CatalogOpt = None,
) -> None:
    """Write the template workbook, pre-filled with one scenario.

    Sheets: Inputs (with Low / High of uncertain inputs), Costs, Cash flow, Scenarios,
    Catalog (the packaged catalog with the GPUs of --catalog, if given), Risk, with charts."""
    from xlcost.workbooks.template import DEFAULT_BUDGET, build_template

    if no_budget and budget is not None:
        raise XlcostError("give --budget X or --no-budget, not both")

    with catalog_from(catalog_file):
        path = new_file(out or Path(TEMPLATE_FILES[mode]), force=force)
        s, ranges = seed_scenario(), None
        if scenario is not None:
            found = load_ranged_scenarios(scenario)
            if len(found) != 1:
                raise XlcostError(
                    f"{scenario.name}: has {len(found)} scenarios; the template takes one"
                )
            s, ranges = found[0]
        limit = None if no_budget else (DEFAULT_BUDGET if budget is None else budget)
        build_template(mode.value, s, path, overwrite=force, budget=limit, ranges=ranges)
    typer.echo(f"Wrote {path} ({mode.value} mode, scenario {s.name!r}).")
