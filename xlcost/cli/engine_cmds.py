"""Commands over scenarios and the engine: demo, calc, compare, catalog, gpus, schema."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xlcost.cli._app import (
    CatalogOpt,
    DecimalCommaOpt,
    app,
    catalog_from,
    examples,
    out_dir,
    user_errors,
)
from xlcost.cli.batch_cmds import WorkersOpt
from xlcost.engine import evaluate, seed_scenario
from xlcost.engine.allocate import (
    ServingRequirement,
    TrainingRequirement,
    cheapest_gpus,
    compare,
)
from xlcost.engine.catalog import GPU_FIELDS, load_catalog
from xlcost.engine.errors import XlcostError
from xlcost.engine.model import RESULT_NAMES, Results, Scenario
from xlcost.report import (
    DEFAULT_COLUMNS,
    ResultWriter,
    compact,
    csv_text,
    printable,
    result_rows,
    result_writer,
    table,
)
from xlcost.scenario_columns import ResultChunk, calc_chunks, chunk_from_results, read_scenarios
from xlcost.scenario_files import file_problem

if TYPE_CHECKING:
    from xlcost.engine.risk import Ranges


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


COMPARE_COLUMNS = ("total_cost", "npv", "roi")
"""The results ``compare`` shows unless ``--columns`` picks others."""
MAX_OPTIONS = 10_000
"""Most options ``compare`` ranks (a longer file is refused at once, not read to the end)."""


class RankBy(StrEnum):
    npv = "npv"
    roi = "roi"


class BreakEvenBy(StrEnum):
    volume = "volume"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


class CalcFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


CalcFormatOpt = Annotated[
    CalcFormat,
    typer.Option(
        "--format",
        "-f",
        help="Output format (parquet: one binary file to redirect to, e.g. > results.parquet; "
        "needs pyarrow).",
    ),
]


def _binary_output_ok() -> None:
    """Refuse ``-f parquet`` without pyarrow or onto a terminal, before any work is done."""
    from xlcost.reading import PARQUET_EXTRA

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise XlcostError(f"-f parquet needs pyarrow: {PARQUET_EXTRA}") from None
    if sys.stdout.isatty():
        raise XlcostError("-f parquet writes a binary file: redirect it, e.g. > results.parquet")


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


CsvRawOpt = Annotated[
    bool,
    typer.Option(
        "--csv-raw",
        help="In CSV output, write names starting with = + - @ as they are (by default they "
        "get a leading ' so a spreadsheet does not run them as formulas).",
    ),
]


def report_problems(lines: Iterable[str]) -> None:
    """Print problem lines on stderr, escaped so a name cannot forge a line or a colour."""
    for line in lines:
        typer.echo(f"xlcost: error: {printable(line)}", err=True)


def _warn(chunk: ResultChunk) -> None:
    """Print the checks' warnings of a chunk's scenarios on stderr (``xlcost: warning:``)."""
    for name, found in zip(chunk.names, chunk.warnings or [], strict=False):
        for w in found:
            typer.echo(f"xlcost: warning: {printable(name)}: {printable(w)}", err=True)


def _is_workbook(path: Path) -> bool:
    """True if ``path`` is a filled workbook (defined names for inputs), not a scenario list.

    An unreadable ``.xlsx`` counts as a workbook, so the workbook reader reports it.
    """
    from xlcost.workbooks.inputs import WORKBOOK_SUFFIXES, input_cells
    from xlcost.workbooks.package import WorkbookError

    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return False
    try:
        return bool(set(input_cells(path)) - {"name"})
    except (WorkbookError, XlcostError):
        return True


class _Tally:
    """Counts of good and failed scenarios for the summary line."""

    def __init__(self) -> None:
        self.ok = 0
        self.failed = 0

    def finish(self, command: str) -> None:
        """Print ``xlcost: calc: N scenarios OK, M failed`` (stderr); exit 1 if M > 0."""
        noun = "scenario" if self.ok == 1 else "scenarios"
        typer.echo(f"xlcost: {command}: {self.ok} {noun} OK, {self.failed} failed", err=True)
        if self.failed:
            raise typer.Exit(1)


def _calc_workbooks(paths: list[Path], workers: int, writer: ResultWriter, tally: _Tally) -> None:
    """Filled workbooks through the batch runner (in worker processes with ``workers`` > 1)."""
    from xlcost.batch import CalcTask, calc_file, run

    for outcome in run([CalcTask(p) for p in paths], calc_file, workers=workers):
        if outcome.ok:
            tally.ok += len(outcome.results)
            chunk = chunk_from_results(outcome.results, outcome.warnings or None)
            _warn(chunk)
            writer.write(chunk)
        else:
            tally.failed += 1
            report_problems(outcome.errors)


def _calc_scenario_file(
    path: Path,
    writer: ResultWriter,
    tally: _Tally,
    *,
    ignore_unknown: bool,
    decimal_comma: bool | None,
) -> None:
    """One scenario file through the array engine, chunk by chunk, under the one rule."""
    try:
        for chunk in calc_chunks(path, ignore_unknown=ignore_unknown, decimal_comma=decimal_comma):
            report_problems(chunk.problems)
            _warn(chunk)
            tally.ok += len(chunk)
            tally.failed += chunk.bad_rows
            writer.write(chunk)
    except Exception as exc:  # one line per unreadable file, never a traceback
        report_problems([file_problem(path, exc)])
        tally.failed += 1


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
            help="Scenario files (YAML, JSON, CSV, XLSX, Parquet) or filled workbooks "
            "(.xlsx/.xlsm with defined names for the inputs).",
        ),
    ],
    fmt: CalcFormatOpt = CalcFormat.table,
    columns: ColumnsOpt = None,
    ignore_unknown: IgnoreOpt = False,
    workers: WorkersOpt = 1,
    decimal_comma: DecimalCommaOpt = None,
    csv_raw: CsvRawOpt = False,
    catalog_file: CatalogOpt = None,
) -> None:
    """Compute costs, benefit, ROI, NPV, IRR and payback of scenarios.

    Every scenario of every FILE, one table row (or CSV/JSON record) each. A bad row or file
    is reported (one line each) and skipped; the rest goes on; the exit code is 1 if anything
    failed."""
    if fmt is CalcFormat.parquet:
        _binary_output_ok()
    with catalog_from(catalog_file):
        writer = result_writer(
            fmt.value, sys.stdout, parse_columns(columns), csv_protect=not csv_raw
        )
        tally = _Tally()
        books: list[Path] = []
        for path in files:
            if _is_workbook(path):
                books.append(path)
                continue
            if books:
                _calc_workbooks(books, workers, writer, tally)
                books = []
            _calc_scenario_file(
                path, writer, tally, ignore_unknown=ignore_unknown, decimal_comma=decimal_comma
            )
        if books:
            _calc_workbooks(books, workers, writer, tally)
        writer.close()
        sys.stdout.flush()
        tally.finish("calc")


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
            help="Scenario file with the options to compare (YAML, JSON, CSV, XLSX).",
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
    decimal_comma: DecimalCommaOpt = None,
    csv_raw: CsvRawOpt = False,
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
    catalog_file: CatalogOpt = None,
) -> None:
    """Rank options, apply a budget and name the recommended one.

    The options of FILE are ranked by NPV (or ROI); the recommendation is the best one within
    the budget with a positive NPV, or none. A bad row is reported (one line each) and left
    out; the good options are still ranked, and the exit code is 1."""
    with catalog_from(catalog_file):
        picked = parse_columns(columns) or list(COMPARE_COLUMNS)
        loaded = read_scenarios(
            file, ignore_unknown=ignore_unknown, decimal_comma=decimal_comma, max_rows=MAX_OPTIONS
        )
        report_problems(loaded.problems)
        if not loaded.scenarios:
            typer.echo(f"xlcost: compare: 0 options OK, {loaded.failures} failed", err=True)
            raise typer.Exit(1)
        plan = (
            _RiskPlan(list(zip(loaded.scenarios, loaded.ranges, strict=True)), draws, seed)
            if risk
            else None
        )
        try:
            _compare_output(
                loaded.scenarios,
                budget,
                by,
                fmt,
                picked,
                csv_protect=not csv_raw,
                risk=plan,
                breakeven=breakeven is not None,
                max_volume=max_volume,
            )
        finally:
            if loaded.failures:
                typer.echo(
                    f"xlcost: compare: {len(loaded.scenarios)} options ranked, {loaded.failures} "
                    "left out (see the errors above)",
                    err=True,
                )
        if loaded.failures:
            raise typer.Exit(1)


@dataclass(frozen=True)
class _RiskPlan:
    """``compare --risk``: the good options with their ranges, and the Monte Carlo settings."""

    pairs: list[tuple[Scenario, Ranges]]
    draws: int
    seed: int


def _compare_output(
    scenarios: list[Scenario],
    budget: float | None,
    by: RankBy,
    fmt: Format,
    picked: list[str],
    *,
    csv_protect: bool,
    risk: _RiskPlan | None = None,
    breakeven: bool = False,
    max_volume: float | None = None,
) -> None:
    """Rank ``scenarios`` and print the ranking as ``fmt``; the checks' warnings of each
    option go to stderr and beside the option (a checks column, a ``warnings`` field); with
    ``breakeven``, the break-even volumes too (in a table or JSON)."""
    from xlcost.engine.checks import check_many
    from xlcost.engine.errors import XlcostError

    if breakeven and (fmt is Format.csv or (risk is not None and fmt is not Format.table)):
        raise XlcostError("--breakeven: give -f table, or -f json without --risk")
    c = compare(scenarios, budget=budget, by=by.value)
    for warning in c.warnings:
        typer.echo(f"xlcost: warning: {printable(warning)}", err=True)
    checks = {s.name: found for s, found in zip(scenarios, check_many(scenarios), strict=True)}
    for s in scenarios:
        for found in checks[s.name]:
            typer.echo(f"xlcost: warning: {printable(s.name)}: {printable(found)}", err=True)
    be = None
    if breakeven:
        from xlcost.engine.breakeven import break_even_tables, volume_break_even

        be = volume_break_even(scenarios, max_volume=max_volume)
    if risk is not None:
        from xlcost.cli.risk_cmds import compare_with_risk

        compare_with_risk(risk.pairs, c, fmt.value, risk.draws, risk.seed)
        if be is not None:
            typer.echo("\n" + break_even_tables(be, table))
        return
    if fmt is Format.json:
        data = c.model_dump(mode="json")
        for option in data["options"]:
            option["warnings"] = checks.get(option["results"]["name"], [])
        if be is not None:
            data["break_even"] = be.model_dump(mode="json")
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if fmt is Format.csv:
        import csv
        import sys

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(
            ["rank", "name", "total_cost", "npv", "roi", "within_budget", "recommended", "warnings"]
        )
        for o in c.options:
            r = o.results
            w.writerow(
                [
                    o.rank,
                    csv_text(r.name, protect=csv_protect),
                    r.total_cost,
                    r.npv,
                    "" if r.roi is None else r.roi,
                    o.within_budget,
                    r.name == c.recommended,
                    csv_text(" | ".join(checks.get(r.name, [])), protect=csv_protect),
                ]
            )
        return
    names, cells = result_rows([o.results for o in c.options], picked)
    header = ["rank", *names, "within_budget", "checks"]
    rows = [
        [
            str(o.rank),
            *row,
            "yes" if o.within_budget else "no",
            _checks_cell(checks.get(o.results.name, [])),
        ]
        for o, row in zip(c.options, cells, strict=True)
    ]
    typer.echo(table(rows, header, left=2))
    typer.echo(f"\nRecommended: {printable(c.recommended or 'none')} — {printable(c.reason)}")
    if be is not None:
        typer.echo("\n" + break_even_tables(be, table))


def _checks_cell(warnings: list[str]) -> str:
    """The compare table's checks column: "ok" or how many warnings (printed on stderr)."""
    if not warnings:
        return "ok"
    return f"{len(warnings)} warning{'s' if len(warnings) > 1 else ''}"


@app.command(epilog=examples("xlcost catalog", "xlcost catalog -f csv --catalog my_prices.yaml"))
@user_errors
def catalog(
    catalog_file: CatalogOpt = None,
    prices_file: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="YAML/JSON file overriding or extending the purchase, reserved/spot and API "
            "prices (a --catalog file's 'prices' section does the same in every command).",
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
    prices = load_prices(prices_file, base=cat.prices)
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
