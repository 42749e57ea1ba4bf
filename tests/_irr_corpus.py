"""A random corpus of cash flows with several changes of sign (more than one IRR possible).

Shared by tests/test_irr_excel.py and scripts/irr_agreement.py. Deterministic (fixed seed).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from pathlib import Path

CASES: tuple[tuple[tuple[float, ...], float], ...] = (
    ((-100.0, 100.0, 0.0, -7.0), 0.1),
    ((-5.0, 10.5, 1.0, -8.0, 1.0), 0.1),
    ((-5.0, 10.5, 1.0, -8.0, 1.0), 0.0),
    ((-5.0, 10.5, 1.0, -8.0, 1.0), 0.5),
    ((-70000.0, 12000.0, 15000.0, 18000.0, 21000.0, 26000.0), 0.1),
    ((-70000.0, 12000.0, 15000.0, 18000.0, 21000.0), 0.1),
    ((-70000.0, 12000.0, 15000.0), -0.1),
)
"""Hand-picked: numpy-financial's and Microsoft's examples, with the guesses used."""


def corpus(n: int = 400, seed: int = 12) -> list[tuple[tuple[float, ...], float]]:
    """``n`` sign-changing flows of 3..30 values, half of them with a non-default guess."""
    rng = random.Random(seed)
    out: list[tuple[tuple[float, ...], float]] = []
    while len(out) < n:
        size = rng.randint(3, 30)
        flows = [round(rng.uniform(-100, 100), 2) for _ in range(size)]
        if rng.random() < 0.5:  # an up-front cost, as in most business cases
            flows[0] = -abs(flows[0]) * rng.choice([1, 5, 20])
        if not (any(v > 0 for v in flows) and any(v < 0 for v in flows)):
            continue
        changes = sum((a < 0) != (b < 0) for a, b in itertools.pairwise(flows) if a and b)
        if changes < 2:
            continue
        guess = 0.1 if rng.random() < 0.5 else round(rng.uniform(-0.5, 1.0), 2)
        out.append((tuple(flows), guess))
    return out


def libreoffice_irr(
    cases: Sequence[tuple[Sequence[float], float]], folder: Path
) -> list[float | None]:
    """LibreOffice's ``IRR(values, guess)`` of each case (``None`` where it shows an error):
    one sheet, one row per case, recalculated in one LibreOffice run."""
    from openpyxl import Workbook, load_workbook

    from xlcost.workbooks.libreoffice import convert

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for i, (flows, guess) in enumerate(cases, start=1):
        for j, v in enumerate(flows):
            ws.cell(i, 2 + j, v)
        ws.cell(i, 1, f"=IRR(B{i}:{ws.cell(i, 1 + len(flows)).coordinate},{guess!r})")
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / "irr.xlsx")
    (out,) = convert([folder / "irr.xlsx"], folder / "lo")
    got = load_workbook(out, data_only=True).active
    assert got is not None
    values = [got.cell(i, 1).value for i in range(1, len(cases) + 1)]
    return [float(v) if isinstance(v, int | float) else None for v in values]
