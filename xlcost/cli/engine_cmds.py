"""Commands over scenarios and the engine: demo, calc, compare, catalog, gpus, schema."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from xlcost.batch import CalcTask, calc_file
from xlcost.cli._app import app, examples, user_errors
from xlcost.cli.batch_cmds import Batch, WorkersOpt
from xlcost.engine import evaluate, seed_scenario
from xlcost.engine.allocate import (
    ServingRequirement,
    TrainingRequirement,
    cheapest_gpus,
    compare,
)
from xlcost.engine.catalog import GPU_FIELDS, load_catalog
from xlcost.engine.model import Results, Scenario
from xlcost.report import render, table
from xlcost.scenario_files import load_scenarios


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class RankBy(StrEnum):
    npv = "npv"
    roi = "roi"


class BreakEvenBy(StrEnum):
    volume = "volume"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
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
    out: Annotated[Path, typer.Option(help="Directory for the two template workbooks.")] = Path(
        "xlcost-demo"
    ),
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
    ignore_unknown: IgnoreOpt = False,
    workers: WorkersOpt = 1,
) -> None:
    """Compute costs, benefit, ROI, NPV, IRR and payback of scenarios.

    Every scenario of every FILE, one table row (or CSV/JSON record) each. A bad file is
    reported and skipped; the exit code is 1 if any file failed."""
    batch = Batch("calc", "file", len(files))
    tasks = [CalcTask(f, ignore_unknown) for f in files]
    results = [r for o in batch.successes(tasks, calc_file, workers) for r in o.results]
    if results:
        typer.echo(render(results, fmt.value))
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
    ignore_unknown: IgnoreOpt = False,
    breakeven: Annotated[
        BreakEvenBy | None,
        typer.Option(
            "--breakeven",
            help="Also give, for each pair of options, the volume at which they cost the same, "
            "and for each option the volume at which its NPV is 0.",
        ),
    ] = None,
    max_volume: Annotated[
        float | None,
        typer.Option(
            help="Upper end of the break-even search (default: 100 × the largest volume).",
            min=0,
        ),
    ] = None,
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
    options = load_scenarios(file, ignore_unknown=ignore_unknown)
    c = compare(options, budget=budget, by=by.value)
    for warning in c.warnings:
        typer.echo(f"xlcost: warning: {warning}", err=True)
    from xlcost.engine.errors import XlcostError

    be = None
    if breakeven is not None:
        from xlcost.engine.breakeven import volume_break_even

        if fmt is Format.csv:
            raise XlcostError("--breakeven: give -f table or -f json (CSV has one table)")

        be = volume_break_even(options, max_volume=max_volume)
    if risk:
        from xlcost.cli.risk_cmds import compare_with_risk

        if be is not None and fmt is not Format.table:
            raise XlcostError("--breakeven with --risk: give -f table")
        compare_with_risk(file, c, fmt.value, draws, seed, ignore_unknown)
        if be is not None:
            from xlcost.engine.breakeven import break_even_tables

            typer.echo("\n" + break_even_tables(be, table))
        return
    if fmt is Format.json:
        data = c.model_dump(mode="json")
        if be is not None:
            data["break_even"] = be.model_dump(mode="json")
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    rows = [
        [
            str(o.rank),
            o.results.name,
            f"{o.results.total_cost:,.2f}",
            f"{o.results.npv:,.2f}",
            "—" if o.results.roi is None else f"{o.results.roi:.1%}",
            "yes" if o.within_budget else "no",
        ]
        for o in c.options
    ]
    header = ["rank", "option", "total cost", "NPV", "ROI", "within budget"]
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
    typer.echo(table(rows, header))
    typer.echo(f"\nRecommended: {c.recommended or 'none'} — {c.reason}")
    if be is not None:
        from xlcost.engine.breakeven import break_even_tables

        typer.echo("\n" + break_even_tables(be, table))


@app.command(epilog=examples("xlcost catalog", "xlcost catalog -f csv --catalog my_prices.yaml"))
@user_errors
def catalog(
    catalog_file: CatalogOpt = None,
    prices_file: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="YAML/JSON file overriding or extending the purchase, reserved/spot and API "
            "prices.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List GPU, reserved/spot, purchase and hosted-API prices.

    Every price shows its source and as-of date; one older than 12 months is flagged."""
    from xlcost.engine.prices import load_prices, stale_note

    cat = load_catalog(catalog_file)
    prices = load_prices(prices_file)
    gpus = [g.model_dump(mode="json") | {"flag": stale_note(g.price_as_of)} for g in cat.gpus]

    def dump(rows: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [
            r.model_dump(mode="json") | {"flag": stale_note(r.price_as_of) if r.price_as_of else ""}
            for r in rows
        ]

    sections = {
        "gpus": gpus,
        "purchases": dump(prices.purchases),
        "offers": dump(prices.offers),
        "apis": dump(prices.apis),
    }
    if fmt is Format.json:
        typer.echo(json.dumps(sections, indent=2, ensure_ascii=False))
        return
    if fmt is Format.csv:
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=[*GPU_FIELDS, "flag"], lineterminator="\n")
        w.writeheader()
        w.writerows(gpus)
        return
    cur = cat.currency
    rows = [
        [
            g.name,
            f"{g.memory_gb:g}",
            f"{g.peak_tflops:g}",
            f"{g.memory_bandwidth_tbs:g}",
            f"{g.price_per_hour:.4g}",
            str(g.price_as_of),
            stale_note(g.price_as_of),
            g.price_source,
        ]
        for g in cat.gpus
    ]
    header = ["gpu", "GB", "TFLOP/s", "TB/s", f"{cur}/h", "as of", "flag", "price source"]
    typer.echo("GPUs, on-demand\n" + table(rows, header))
    rows = [
        [
            p.gpu,
            "—" if p.purchase_price is None else f"{p.purchase_price:,.0f}",
            "—" if p.price_as_of is None else str(p.price_as_of),
            "" if p.price_as_of is None else stale_note(p.price_as_of),
            "—" if p.board_power_kw is None else f"{p.board_power_kw:g}",
            "; ".join(x for x in (p.price_source, p.power_source) if x),
        ]
        for p in prices.purchases
    ]
    header = ["gpu", f"buy ({cur})", "as of", "flag", "board kW", "sources"]
    typer.echo("\nGPUs, to buy\n" + table(rows, header))
    rows = [
        [
            o.gpu,
            o.term,
            o.cloud,
            o.region,
            f"{o.price_per_hour:.4g}",
            str(o.price_as_of),
            stale_note(o.price_as_of),
            o.price_source,
        ]
        for o in prices.offers
    ]
    header = ["gpu", "term", "cloud", "region", f"{cur}/h", "as of", "flag", "price source"]
    typer.echo("\nGPUs, reserved and spot\n" + table(rows, header))
    rows = [
        [
            f"{a.provider} {a.model}",
            a.kind,
            f"{a.price_per_m_input_tokens:g}",
            f"{a.price_per_m_output_tokens:g}",
            str(a.price_as_of),
            stale_note(a.price_as_of),
            a.price_source,
        ]
        for a in prices.apis
    ]
    header = ["model", "kind", "in /M tok", "out /M tok", "as of", "flag", "price source"]
    typer.echo(f"\nHosted model APIs ({cur} per million tokens)\n" + table(rows, header))


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
        [o.gpu, str(o.gpus), f"{o.hours:,.2f}", f"{o.price_per_hour:.4g}", f"{o.cost:,.2f}"]
        for o in options
    ]
    typer.echo(table(rows, ["gpu", "GPUs", "hours", "price/h", "cost"]))
    typer.echo(f"\nCheapest: {options[0].gpus} × {options[0].gpu}")


@app.command(epilog=examples("xlcost schema > scenario.schema.json"))
@user_errors
def schema() -> None:
    """Print the JSON Schema of a scenario: inputs, units, limits.

    Every input with its unit, default and limits, and the keys NAME_low, NAME_high and
    NAME_dist of an uncertain input, for editors and validators."""
    from xlcost.engine.risk import scenario_schema

    typer.echo(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))
