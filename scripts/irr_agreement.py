"""How often ``excel_irr`` agrees with LibreOffice, pyxirr and numpy-financial on a random corpus
of cash flows with several changes of sign (tests/_irr_corpus.py). Prints the agreement rates.

    .venv/bin/python scripts/irr_agreement.py [N]
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numpy_financial as npf
import pyxirr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _irr_corpus import CASES, corpus, libreoffice_irr  # noqa: E402

from xlcost.engine.finance import excel_irr  # noqa: E402


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def main(n: int = 400) -> None:
    cases = [*CASES, *corpus(n)]
    with tempfile.TemporaryDirectory() as tmp:
        lo = libreoffice_irr(cases, Path(tmp))
    agree = {
        "LibreOffice IRR(values, guess)": 0,
        "pyxirr.irr(values, guess)": 0,
        "numpy-financial irr": 0,
    }
    found = 0
    found_same_pyxirr = 0
    for (flows, guess), office in zip(cases, lo, strict=True):
        ours = excel_irr(flows, guess)
        found += ours is not None
        try:
            px: float | None = pyxirr.irr(flows, guess=guess)
        except Exception:  # pyxirr raises where it finds no rate
            px = None
        nf = float(npf.irr(flows))
        keys = list(agree)
        agree[keys[0]] += _same(ours, office)
        agree[keys[1]] += _same(ours, px)
        found_same_pyxirr += ours is not None and _same(ours, px)
        agree[keys[2]] += _same(ours, None if math.isnan(nf) else nf)
    print(
        f"{len(cases)} flows ({len(CASES)} hand-picked + {n} random, ≥ 2 changes of sign); "
        f"excel_irr finds a rate for {found}"
    )
    for name, k in agree.items():
        print(f"  agrees with {name}: {k}/{len(cases)} = {k / len(cases):.1%}")
    print(f"  where excel_irr finds a rate, pyxirr finds the same one: {found_same_pyxirr}/{found}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
