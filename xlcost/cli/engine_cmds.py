"""Commands over scenarios and the engine: demo, calc, compare, catalog, gpus, schema."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from xlcost.batch import CalcTask, calc_file
from xlcost.cli._app import app, examples, out_dir, user_errors
from xlcost.cli.batch_cmds import Batch, WorkersOpt
from xlcost.engine import evaluate, seed_scenario
from xlcost.engine.allocate import (
    ServingRequirement,
    TrainingRequirement,
    cheapest_gpus,
    compare,
)
from xlcost.engine.catalog import GPU_FIELDS, load_catalog
from xlcost.engine.model import RESULT_NAMES, Results, Scenario
from xlcost.report import DEFAULT_COLUMNS, compact, render, result_rows, table
from xlcost.scenario_files import load_scenarios


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


COMPARE_COLUMNS = ("total_cost", "npv", "roi")
"""The results ``compare`` shows unless ``--columns`` picks others."""


class RankBy(StrEnum):
    npv = "npv"
    roi = "roi"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def parse_columns(value: str | None) -> list[str] | None:
    """``--columns``: comma-separated result names, or ``all``; ``None`` when not given."""
    if value is None:
        return None
    if value.strip() == "all":
        return list(RESULT_NAMES)
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in RESULT_NAMES]
    if unknown or not names:
        raise typer.BadParameter(
            f"{', '.join(map(repr, unknown)) or 'nothing'} is not a result; give "
            f"comma-separated names from {', '.join(RESULT_NAMES)}, or all",
            param_hint="--columns",
        )
    return names


ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        "-c",
        metavar="NAME,...",
        help="Results to show, comma-separated, or 'all' [default: in a table "
        f"{','.join(DEFAULT_COLUMNS)}; in CSV and JSON all].",
    ),
]
IgnoreOpt = Annotated[
    bool, typer.Option("--ignore-unknown", help="Ignore columns that are not input names.")
]
CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="YAML/JSON file overriding or extending the GPU catalog.",
        exists=True,
        dir_okay=False,
    ),
]


def seed_lines(s: Scenario, r: Results) -> list[str]:
    """The worked example's cost table, computed by the engine, as text lines."""
    m = s.maintain_months if s.maintain_months is not None else s.horizon_months
    rows = [
        [
            "Training",
            f"{s.train_gpus:g} GPUs × {s.train_hours:g} h × {s.train_price_per_gpu_hour:g}",
            f"{r.train_cost:,.2f}",
        ],
        [
            "Deployment",
            f"{s.serve_gpus:g} × {s.serve_hours:g} × {s.serve_price_per_gpu_hour:g}",
            f"{r.deploy_cost:,.2f}",
        ],
        [
            "Maintenance",
            f"{m:g} × {s.maintain_units_per_month:g} × {s.maintain_price_per_unit:g}",
            f"{r.maintain_cost:,.2f}",
        ],
        [
            "Benefit",
            f"{s.ctr:.1%} × {s.cvr:.1%} × {s.value_per_conversion:g} × {s.volume:.0e}",
            f"{r.benefit:,.2f}",
        ],
        ["Total cost", "train + deploy + maintain", f"{r.total_cost:,.2f}"],
        ["BCR", "benefit / cost", f"{r.bcr:.3f}" if r.bcr is not None else "—"],
        ["ROI", "(benefit − cost) / cost", f"{r.roi:.3f}" if r.roi is not None else "—"],
        ["NPV", f"at {s.discount_rate_annual:.0%} a year", f"{r.npv:,.2f}"],
    ]
    return table(rows, ["", "formula", f"amount ({s.currency})"]).splitlines()


@app.command(epilog=examples("xlcost demo", "xlcost demo --out demo-books --force"))
@user_errors
def demo(
    out: Annotated[
        Path, typer.Option(help="Directory for the two template workbooks.", file_okay=False)
    ] = Path("xlcost-demo"),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace the two workbooks in OUT even if they differ from the template "
            "(files an earlier demo wrote, unchanged, are always fine).",
        ),
    ] = False,
) -> None:
    """Show the worked example and write the two template workbooks.

    The worked example (BERT ranker) of the cost-accounting method: 480 + 10 + 100 = 590,
    benefit 150; the udf and portable template workbooks are written into OUT."""
    from xlcost.cli.workbook_cmds import write_templates

    out_dir(out)  # before the table: a bad --out is refused before any output
    s = seed_scenario()
    r = evaluate(s)
    typer.echo(
        f"{s.name} — the worked example of the cost-accounting method for AI models in "
        f"e-commerce search and recommendation, {s.horizon_months} months\n"
    )
    typer.echo("\n".join(seed_lines(s, r)))
    paths = write_templates(out, overwrite=force)
    typer.echo("\nTemplate workbooks (open in Excel; the portable one works without the add-in):")
    typer.echo("\n".join(f"  {p}" for p in paths))


@app.command(
    epilog=examples(
        "xlcost calc examples/ranker_options.yaml",
        "xlcost calc q1.csv q2.yaml -f csv > results.csv",
        "xlcost calc filled/*.xlsx -f json --workers 2",
    )
)
@user_errors
def calc(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Scenario files (YAML, JSON, CSV, XLSX) or filled workbooks (.xlsx/.xlsm with "
            "defined names for the inputs).",
            exists=True,
            dir_okay=False,
        ),
    ],
    fmt: FormatOpt = Format.table,
    columns: ColumnsOpt = None,
    ignore_unknown: IgnoreOpt = False,
    workers: WorkersOpt = 1,
) -> None:
    """Compute costs, benefit, ROI, NPV, IRR and payback of scenarios.

    Every scenario of every FILE, one table row (or CSV/JSON record) each. A bad file is
    reported and skipped; the exit code is 1 if any file failed."""
    picked = parse_columns(columns)
    batch = Batch("calc", "file", len(files))
    tasks = [CalcTask(f, ignore_unknown) for f in files]
    results = [r for o in batch.successes(tasks, calc_file, workers) for r in o.results]
    if results:
        typer.echo(render(results, fmt.value, picked))
    batch.finish()


@app.command(
    "compare",
    epilog=examples(
        "xlcost compare examples/ranker_options.yaml --budget 1000000",
        "xlcost compare options.csv --by roi -f json",
    ),
)
@user_errors
def compare_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Scenario file with the options to compare.",
            exists=True,
            dir_okay=False,
        ),
    ],
    budget: Annotated[
        float | None, typer.Option(help="Maximum total cost of the pick.", min=0)
    ] = None,
    by: Annotated[
        RankBy, typer.Option(help="Rank by NPV (ties: ROI) or ROI (ties: NPV).")
    ] = RankBy.npv,
    fmt: FormatOpt = Format.table,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            "-c",
            metavar="NAME,...",
            help="Results in the table, comma-separated, or 'all' [default: "
            f"{','.join(COMPARE_COLUMNS)}].",
        ),
    ] = None,
    ignore_unknown: IgnoreOpt = False,
    risk: Annotated[
        bool,
        typer.Option(
            "--risk",
            help="Add P10 / P90 NPV and each option's probability of the best NPV (Monte "
            "Carlo over the inputs' NAME_low / NAME_high values; shared inputs drawn once "
            "for all options).",
        ),
    ] = False,
    draws: Annotated[
        int, typer.Option(metavar="N", min=1, max=10_000_000, help="With --risk: draws.")
    ] = 10_000,
    seed: Annotated[
        int, typer.Option(metavar="S", min=0, help="With --risk: random seed.")
    ] = 12345,
) -> None:
    """Rank options, apply a budget and name the recommended one.

    The options of FILE are ranked by NPV (or ROI); the recommendation is the best one within
    the budget with a positive NPV, or none."""
    picked = parse_columns(columns) or list(COMPARE_COLUMNS)
    c = compare(load_scenarios(file, ignore_unknown=ignore_unknown), budget=budget, by=by.value)
    for warning in c.warnings:
        typer.echo(f"xlcost: warning: {warning}", err=True)
    if risk:
        from xlcost.cli.risk_cmds import compare_with_risk

        compare_with_risk(file, c, fmt.value, draws, seed, ignore_unknown)
        return
    if fmt is Format.json:
        typer.echo(json.dumps(c.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    if fmt is Format.csv:
        import csv
        import sys

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["rank", "name", "total_cost", "npv", "roi", "within_budget", "recommended"])
        for o in c.options:
            r = o.results
            w.writerow(
                [
                    o.rank,
                    r.name,
                    r.total_cost,
                    r.npv,
                    "" if r.roi is None else r.roi,
                    o.within_budget,
                    r.name == c.recommended,
                ]
            )
        return
    names, cells = result_rows([o.results for o in c.options], picked)
    header = ["rank", *names, "within_budget"]
    rows = [
        [str(o.rank), *row, "yes" if o.within_budget else "no"]
        for o, row in zip(c.options, cells, strict=True)
    ]
    typer.echo(table(rows, header, left=2))
    typer.echo(f"\nRecommended: {c.recommended or 'none'} — {c.reason}")


@app.command(epilog=examples("xlcost catalog", "xlcost catalog -f csv --catalog my_prices.yaml"))
@user_errors
def catalog(
    catalog_file: CatalogOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List the GPU catalog: specs, price, price source and date.

    Prices are on-demand per GPU-hour, each with its source and as-of date."""
    cat = load_catalog(catalog_file)
    records = [g.model_dump(mode="json") for g in cat.gpus]
    if fmt is Format.json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt is Format.csv:
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=list(GPU_FIELDS), lineterminator="\n")
        w.writeheader()
        w.writerows(records)
    else:
        rows = [
            [
                g.name,
                f"{g.memory_gb:g}",
                f"{g.peak_tflops:g}",
                f"{g.memory_bandwidth_tbs:g}",
                f"{g.price_per_hour:.4g}",
                str(g.price_as_of),
                g.price_source,
            ]
            for g in cat.gpus
        ]
        typer.echo(
            table(
                rows, ["gpu", "GB", "TFLOP/s", "TB/s", f"{cat.currency}/h", "as of", "price source"]
            )
        )


@app.command(
    epilog=examples(
        "xlcost gpus --flops 1.3e21 --deadline-hours 24",
        "xlcost gpus --peak-qps 500 --flops-per-query 2e11 --model-memory-gb 20",
    )
)
@user_errors
def gpus(
    flops: Annotated[
        float | None, typer.Option(help="Training: compute to do (FLOP).", min=0)
    ] = None,
    deadline_hours: Annotated[
        float | None, typer.Option(help="Training: wall-clock limit (h).", min=0)
    ] = None,
    peak_qps: Annotated[float | None, typer.Option(help="Serving: peak queries/s.", min=0)] = None,
    flops_per_query: Annotated[
        float | None, typer.Option(help="Serving: FLOP per query.", min=0)
    ] = None,
    hours: Annotated[
        float, typer.Option(help="Serving: hours per GPU in the period.", min=0)
    ] = 730.0,
    model_memory_gb: Annotated[
        float | None, typer.Option(help="Serving: memory per replica.", min=0)
    ] = None,
    mfu: Annotated[
        float | None, typer.Option(help="Achieved fraction of peak (0–1].", min=0, max=1)
    ] = None,
    catalog_file: CatalogOpt = None,
) -> None:
    """Find the cheapest catalog GPU for a training or serving job.

    Training: --flops and --deadline-hours; serving: --peak-qps and --flops-per-query."""
    from pydantic import ValidationError

    from xlcost.engine.errors import XlcostError

    training = flops is not None or deadline_hours is not None
    serving = peak_qps is not None or flops_per_query is not None or model_memory_gb is not None
    if training == serving:
        raise XlcostError(
            "give --flops and --deadline-hours (training) or --peak-qps and "
            f"--flops-per-query (serving){', not both' if training else ''}"
        )
    extra = {} if mfu is None else {"mfu": mfu}
    req: TrainingRequirement | ServingRequirement
    try:
        if training:
            req = TrainingRequirement(flops=flops, deadline_hours=deadline_hours, **extra)
        else:
            req = ServingRequirement(
                peak_qps=peak_qps,
                flops_per_query=flops_per_query,
                hours=hours,
                model_memory_gb=model_memory_gb,
                **extra,
            )
    except ValidationError as e:
        from xlcost.engine.validate import describe

        err = e.errors()[0]
        option = "--" + str(err["loc"][0]).replace("_", "-")
        reason = describe(err)
        got = "" if reason == "required" else f", got {err['input']:g}"
        raise XlcostError(f"{option}: {reason}{got}") from None
    options = cheapest_gpus(req, load_catalog(catalog_file))
    rows = [
        [o.gpu, f"{o.gpus:,}", compact(o.hours), f"{o.price_per_hour:.4g}", compact(o.cost)]
        for o in options
    ]
    typer.echo(table(rows, ["gpu", "GPUs", "hours", "price/h", "cost"]))
    typer.echo(f"\nCheapest: {options[0].gpus:,} × {options[0].gpu}")


@app.command(epilog=examples("xlcost schema > scenario.schema.json"))
@user_errors
def schema() -> None:
    """Print the JSON Schema of a scenario: inputs, units, limits.

    Every input with its unit, default and limits, and the keys NAME_low, NAME_high and
    NAME_dist of an uncertain input, for editors and validators."""
    from xlcost.engine.risk import scenario_schema

    typer.echo(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))
