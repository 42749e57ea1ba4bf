"""``xlcost init [PATH]``: write a commented starter scenario file.

The file is generated from the scenario model (:func:`xlcost.engine.model.input_spec`): every
input group, every input with its label, unit, limits and description, so it cannot go stale
when inputs are added. The values are those of the worked example (BERT ranker), so the file
evaluates as written (total cost 590); optional inputs without a value there are commented out.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer

from xlcost.cli._app import app, examples, new_file, user_errors

__all__ = ["starter_yaml"]

WHERE_TO_FIND: dict[str, str] = {
    "identity": "A short name for the option; it names the output files and table rows.",
    "finance": "Your finance team: the planning period, the discount rate (often the WACC) "
    "and the reporting currency.",
    "training": "Your training jobs' logs or cloud bill (GPUs × hours × price per GPU-hour); "
    "`xlcost catalog` lists GPU prices with their sources, `xlcost gpus --flops F "
    "--deadline-hours H` sizes a job.",
    "serving": "Your serving dashboards and cloud bill; 24/7 serving is 730 hours a month per "
    "GPU. `xlcost gpus --peak-qps Q --flops-per-query F` sizes a serving fleet.",
    "maintenance": "Your team's time sheets or estimates (e.g. engineer-hours a month × a fully "
    "loaded hourly rate) and fixed monthly fees.",
    "benefit": "Your analytics and A/B tests: traffic volume over the period, click-through and "
    "conversion rates with the model and with the system it replaces, and the value "
    "of one conversion (margin or revenue, as your policy says).",
}
"""Where to find the numbers of each input group (a group not listed gets a general hint)."""

STARTER_NAME = "My ranker"
"""The scenario name in the starter file."""

_GENERAL_HINT = "Your own records and estimates; `xlcost schema` describes every input."


def _domain(spec: dict[str, Any]) -> str:
    """The input's limits in words, e.g. ``≥ 0`` or ``> 0 and ≤ 1``."""
    lower, inclusive, upper = spec["domain"]
    parts = []
    if lower is not None:
        parts.append(f"{'≥' if inclusive else '>'} {lower:g}")
    if upper is not None:
        parts.append(f"≤ {upper:g}")
    return " and ".join(parts)


def _unit(spec: dict[str, Any]) -> str:
    unit = str(spec["unit"])
    if unit.startswith("%"):
        return f'{unit}, as a fraction (0.005) or as text ("0.5%")'
    return unit


def _input_lines(spec: dict[str, Any], value: Any) -> list[str]:
    """The comment and the ``key: value`` line (commented out if there is no value)."""
    numeric = spec["unit"] not in ("", "text")
    facts = [_unit(spec)] + ([_domain(spec)] if numeric and _domain(spec) else [])
    need = "required" if spec["required"] else f"optional, default {_default_text(spec)}"
    lines = _comment(f"{spec['label']} ({'; '.join(f for f in facts if f)}; {need}):")
    lines += _comment(spec["description"], indent="  ")
    key = spec["name"]
    lines.append(f"    # {key}:" if value is None else f"    {key}: {_yaml_value(value)}")
    return lines


def _comment(text: str, indent: str = "") -> list[str]:
    """``text`` as comment lines of the list item, wrapped at 96 characters."""
    prefix = f"    # {indent}"
    return textwrap.wrap(text, 96, initial_indent=prefix, subsequent_indent=prefix + "  ")


def _yaml_value(value: Any) -> str:
    """A value as YAML: whole numbers without ``.0``, text quoted."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


def _default_text(spec: dict[str, Any]) -> str:
    default = spec["default"]
    return "blank" if default is None else _yaml_value(default)


def starter_yaml() -> str:
    """The starter scenario file: every input group and input, commented, worked-example values.

    >>> text = starter_yaml()
    >>> "    train_gpus: 32" in text and "# Where to find these numbers" in text
    True
    """
    from xlcost.engine.examples import seed_scenario
    from xlcost.engine.model import GROUPS, INPUT_NAMES, input_spec

    example = {**seed_scenario().model_dump(), "name": STARTER_NAME}
    specs = [input_spec(name) for name in INPUT_NAMES]
    groups = [*GROUPS, *sorted({s["group"] for s in specs} - set(GROUPS))]
    lines = [
        "# A scenario for xlcost: one option (model) to cost and value over a period.",
        "# The values are the worked example (BERT ranker) of the cost-accounting method;",
        "# replace them with yours. Run `xlcost calc THIS_FILE` for the results, `xlcost schema`",
        "# for every input's limits. Money is in `currency`; quantities are totals over",
        "# `horizon_months`. Add more options as more items under `scenarios:`.",
        "scenarios:",
    ]
    first = True
    for group in groups:
        members = [s for s in specs if s["group"] == group]
        if not members:
            continue
        lines += ["", f"    # ---- {group} ----"]
        lines += _comment(f"Where to find these numbers: {WHERE_TO_FIND.get(group, _GENERAL_HINT)}")
        for spec in members:
            body = _input_lines(spec, example.get(spec["name"]))
            if first:  # the first key of the list item carries the "- "
                body[-1] = "  - " + body[-1].lstrip()
                first = False
            lines += body
    return "\n".join(lines) + "\n"


@app.command(
    epilog=examples("xlcost init", "xlcost init my_ranker.yaml", "xlcost calc my_ranker.yaml")
)
@user_errors
def init(
    path: Annotated[
        Path,
        typer.Argument(metavar="[PATH]", help="Scenario file to write.", dir_okay=False),
    ] = Path("scenario.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Replace PATH if it exists.")] = False,
) -> None:
    """Write a commented starter scenario file to fill in.

    Every input group and input is there with its unit, limits and where to find the number;
    the values are the worked example's, so `xlcost calc PATH` works at once.
    """
    from xlcost._files import atomic_write

    new_file(path, force=force, option="")
    atomic_write(path, starter_yaml().encode("utf-8"), overwrite=force)
    typer.echo(f"Wrote {path}; fill it in, then run: xlcost calc {path}")
