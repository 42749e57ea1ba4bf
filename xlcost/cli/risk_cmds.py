"""Commands for decisions under uncertainty: risk (Monte Carlo) and sensitivity (tornado,
break-even). ``compare --risk`` (in :mod:`xlcost.cli.engine_cmds`) uses :func:`risk_columns`."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xlcost.cli._app import CatalogOpt, DecimalCommaOpt, app, catalog_from, examples, user_errors
from xlcost.cli.engine_cmds import Format, FormatOpt, IgnoreOpt, report_problems

if TYPE_CHECKING:
    from xlcost.engine.model import Scenario
    from xlcost.engine.risk import Ranges, Simulation

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 12345  # = xlcost.engine.risk.DEFAULT_SEED (not imported: keeps --help light)

DrawsOpt = Annotated[
    int,
    typer.Option(
        "--draws", "-n", metavar="N", min=1, max=10_000_000, help="Monte Carlo draws per option."
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed", metavar="S", min=0, help="Random seed: the same seed gives the same numbers."
    ),
]
FileArg = Annotated[
    Path,
    typer.Argument(
        help="Scenario file (YAML, JSON, CSV, XLSX); an uncertain input has NAME_low, "
        "NAME_high and NAME_dist columns or keys beside NAME (in YAML also NAME: with low, "
        "base, high).",
    ),
]


class _Progress:
    """``risk: 42% of 10,000,000 rows`` on stderr while a long run goes, only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.start > 0.5 and now - self.shown >= 0.1:
            self.shown, self.drawn = now, True
            sys.stderr.write(f"\r{self.label}: {done / total:.0%} of {total:,} rows  ")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def load_options(
    file: Path, command: str, ignore_unknown: bool, decimal_comma: bool | None
) -> tuple[list[tuple[Scenario, Ranges]], int]:
    """The good options of ``file`` with their ranges, under the one rule for bad rows and
    files: each problem is one line on stderr and the row is left out. Returns the options
    and the number left out; none left: the summary line and exit code 1."""
    from xlcost.scenario_columns import read_scenarios

    loaded = read_scenarios(file, ignore_unknown=ignore_unknown, decimal_comma=decimal_comma)
    report_problems(loaded.problems)
    if not loaded.scenarios:
        typer.echo(f"xlcost: {command}: 0 options OK, {loaded.failures} failed", err=True)
        raise typer.Exit(1)
    return list(zip(loaded.scenarios, loaded.ranges, strict=True)), loaded.failures


def finish(command: str, pairs: list[tuple[Scenario, Ranges]], failures: int) -> None:
    """After the output: with options left out, the summary line and exit code 1."""
    if failures:
        typer.echo(
            f"xlcost: {command}: {len(pairs)} options OK, {failures} failed (see the errors above)",
            err=True,
        )
        raise typer.Exit(1)


def run_simulation(
    pairs: list[tuple[Scenario, Ranges]], draws: int, seed: int, label: str
) -> Simulation:
    """:func:`~xlcost.engine.risk.simulate` of the options, with progress on a terminal."""
    from xlcost.engine.risk import simulate

    progress = _Progress(label)
    try:
        return simulate(
            [s for s, _ in pairs], [r for _, r in pairs], draws=draws, seed=seed, progress=progress
        )
    finally:
        progress.clear()


def defaults_note(pairs: list[tuple[Scenario, Ranges]]) -> list[str]:
    """Lines saying which ranges were not in the file (the default MFU range)."""
    from xlcost.engine.risk import DEFAULT_MFU_RANGE, effective_ranges

    out = []
    for s, r in pairs:
        if "mfu" in effective_ranges(s, r).inputs and "mfu" not in r.inputs:
            low, high = DEFAULT_MFU_RANGE
            out.append(
                f"{s.name}: mfu has no range; the default {min(low, s.mfu):g}–"
                f"{max(high, s.mfu):g} (triangular) is used for the training-hours estimate"
            )
    return out


def _money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _num(x: float | None) -> str:
    """An input value: grouped digits when large, 4 significant digits when small."""
    if x is None:
        return "—"
    return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _csv(rows: list[list[Any]], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue().rstrip("\n")


@app.command(
    "risk",
    epilog=examples(
        "xlcost risk options.yaml",
        "xlcost risk options.csv --draws 20000 --seed 7 -f json",
    ),
)
@user_errors
def risk_cmd(
    file: FileArg,
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: SeedOpt = DEFAULT_SEED,
    fmt: FormatOpt = Format.table,
    ignore_unknown: IgnoreOpt = False,
    decimal_comma: DecimalCommaOpt = None,
    catalog_file: CatalogOpt = None,
) -> None:
    """Monte Carlo over uncertain inputs: NPV P10/P50/P90 and P(best).

    P10 / P50 / P90 and mean of total cost, NPV and ROI of every option in FILE, the
    probability of a positive NPV and, with several options, of each having the best NPV.
    Options share the draws of an input they both have (common random numbers). A bad row
    is reported (one line each) and left out; the others go on, and the exit code is 1."""
    with catalog_from(catalog_file):
        pairs, failures = load_options(file, "risk", ignore_unknown, decimal_comma)
        _risk_output(pairs, draws, seed, fmt)
    finish("risk", pairs, failures)


def _risk_output(pairs: list[tuple[Scenario, Ranges]], draws: int, seed: int, fmt: Format) -> None:
    from xlcost.report import table

    sim = run_simulation(pairs, draws, seed, "risk")
    for line in defaults_note(pairs):
        typer.echo(f"xlcost: note: {line}", err=True)
    if fmt is Format.json:
        typer.echo(json.dumps(sim.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    results = ("total_cost", "npv", "roi")
    if fmt is Format.csv:
        data: list[list[Any]] = [
            [o.name, r, p.p10, p.p50, p.p90, p.mean, o.prob_npv_positive, o.prob_best]
            for o in sim.options
            for r in results
            for p in [o.stats[r]]
        ]
        header = ["name", "result", "p10", "p50", "p90", "mean", "prob_npv_positive", "prob_best"]
        typer.echo(_csv(data, header))
        return
    cell = {"total_cost": _money, "npv": _money, "roi": _pct}
    label = {"total_cost": "total cost", "npv": "NPV", "roi": "ROI"}
    rows = [
        [o.name if i == 0 else "", label[r], *(cell[r](getattr(o.stats[r], k)) for k in
         ("p10", "p50", "p90", "mean"))]
        for o in sim.options
        for i, r in enumerate(results)
    ]  # fmt: skip
    typer.echo(f"{sim.draws:,} draws, random seed {sim.seed}\n")
    typer.echo(table(rows, ["option", "result", "P10", "P50", "P90", "mean"]))
    rows = [
        [
            o.name,
            f"{o.prob_npv_positive:.1%}",
            *([] if o.prob_best is None else [f"{o.prob_best:.1%}"]),
            ", ".join(o.ranged) or "none",
        ]
        for o in sim.options
    ]
    best = [] if sim.options[0].prob_best is None else ["P(best NPV)"]
    typer.echo("")
    typer.echo(table(rows, ["option", "P(NPV > 0)", *best, "ranged inputs"]))


@app.command(
    epilog=examples("xlcost sensitivity options.yaml", "xlcost sensitivity options.csv -f csv")
)
@user_errors
def sensitivity(
    file: FileArg,
    fmt: FormatOpt = Format.table,
    ignore_unknown: IgnoreOpt = False,
    decimal_comma: DecimalCommaOpt = None,
    catalog_file: CatalogOpt = None,
) -> None:
    """Tornado of NPV swings and break-even values of key inputs.

    Tornado: the NPV at each uncertain input's low and high, the others at base, largest
    swing first. Break-even: the value of volume, CTR, CVR, value per conversion and the GPU prices
    at which NPV = 0, for every option in FILE. A bad row is reported (one line each) and
    left out; the others go on, and the exit code is 1."""
    with catalog_from(catalog_file):
        pairs, failures = load_options(file, "sensitivity", ignore_unknown, decimal_comma)
        _sensitivity_output(pairs, fmt)
    finish("sensitivity", pairs, failures)


def _sensitivity_output(pairs: list[tuple[Scenario, Ranges]], fmt: Format) -> None:
    from xlcost.engine.risk import break_evens, tornado
    from xlcost.report import table

    for line in defaults_note(pairs):
        typer.echo(f"xlcost: note: {line}", err=True)
    found = [(s, tornado(s, r), break_evens(s)) for s, r in pairs]
    if fmt is Format.json:
        data = [
            {
                "name": s.name,
                "npv_base": t.npv_base,
                "tornado": [b.model_dump(mode="json") for b in t.bars],
                "break_even": [b.model_dump(mode="json") for b in be],
            }
            for s, t, be in found
        ]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if fmt is Format.csv:
        out: list[list[Any]] = []
        for s, t, be in found:
            out += [
                [s.name, "tornado", b.input, b.base, b.low, b.high, b.npv_low, b.npv_high,
                 b.swing, None, None]
                for b in t.bars
            ]  # fmt: skip
            out += [
                [s.name, "break_even", b.input, b.base, None, None, None, None, None, b.value,
                 b.note or b.method]
                for b in be
            ]  # fmt: skip
        header = ["name", "kind", "input", "base", "low", "high", "npv_low", "npv_high",
                  "swing", "break_even", "note"]  # fmt: skip
        typer.echo(_csv(out, header))
        return
    for i, (s, t, be) in enumerate(found):
        if i:
            typer.echo("")
        typer.echo(f"{s.name} — NPV at base {t.npv_base:,.0f} {s.currency}")
        if t.bars:
            rows = [
                [b.input, _num(b.low), _num(b.high), _money(b.npv_low), _money(b.npv_high),
                 _money(b.swing)]
                for b in t.bars
            ]  # fmt: skip
            typer.echo(table(rows, ["tornado", "low", "high", "NPV at low", "NPV at high",
                                    "swing"]))  # fmt: skip
        else:
            typer.echo("tornado: no input has a range")
        rows = [
            [b.input, _num(b.base), "none in range" if b.value is None else _num(b.value),
             b.note.removeprefix("none in range: ") if b.value is None else b.method]
            for b in be
        ]  # fmt: skip
        typer.echo("")
        typer.echo(table(rows, ["break-even (NPV = 0)", "base", "value", "how"]))


def compare_with_risk(
    pairs: list[tuple[Scenario, Ranges]], c: Any, fmt: str, draws: int, seed: int
) -> None:
    """``compare --risk``: the ranking with P10 / P90 NPV and the probability of the best NPV."""
    from xlcost.report import table

    sim = run_simulation(pairs, draws, seed, "compare")
    for line in defaults_note(pairs):
        typer.echo(f"xlcost: note: {line}", err=True)
    by_name = {o.name: o for o in sim.options}
    if fmt == "json":
        data = c.model_dump(mode="json") | {"risk": sim.model_dump(mode="json")}
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    rows: list[list[Any]] = []
    for o in c.options:
        r, mc = o.results, by_name[o.results.name]
        npv = mc.stats["npv"]
        rows.append([o.rank, r.name, r.total_cost, r.npv, r.roi, npv.p10, npv.p90,
                     mc.prob_npv_positive, mc.prob_best, o.within_budget,
                     r.name == c.recommended])  # fmt: skip
    if fmt == "csv":
        header = ["rank", "name", "total_cost", "npv", "roi", "npv_p10", "npv_p90",
                  "prob_npv_positive", "prob_best", "within_budget", "recommended"]  # fmt: skip
        typer.echo(_csv(rows, header))
        return
    shown = [
        [str(x[0]), x[1], f"{x[2]:,.2f}", f"{x[3]:,.2f}", _pct(x[4]), _money(x[5]), _money(x[6]),
         _pct(x[7]), _pct(x[8]), "yes" if x[9] else "no"]
        for x in rows
    ]  # fmt: skip
    header = ["rank", "option", "total cost", "NPV", "ROI", "P10 NPV", "P90 NPV", "P(NPV > 0)",
              "P(best)", "within budget"]  # fmt: skip
    typer.echo(table(shown, header))
    typer.echo(f"\nRecommended: {c.recommended or 'none'} — {c.reason}")
    typer.echo(f"Risk: {sim.draws:,} draws, random seed {sim.seed}; P(best) = probability of the "
               "highest NPV of all options.")  # fmt: skip
