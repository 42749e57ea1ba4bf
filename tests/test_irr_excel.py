"""``excel_irr`` returns the root Excel's ``IRR(values, guess)`` returns, checked against
references nobody here wrote: LibreOffice's ``IRR`` (which iterates as Excel documents: Newton
from the guess, 20 steps, 0.00001 %), pyxirr and numpy-financial.

Flows with several changes of sign have several roots; which one a spreadsheet shows depends on
the guess. LibreOffice must agree on every case of a random multi-root corpus; pyxirr and
numpy-financial pick other roots on part of it (their rates are in ``scripts/irr_agreement.py``),
so only the hand-picked cases are pinned against them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pytest
import pyxirr
from _irr_corpus import CASES, corpus, libreoffice_irr
from excel_engines import require_libreoffice

from xlcost.engine.finance import excel_irr

CORPUS = [*CASES, *corpus(200)]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def test_the_reported_cases() -> None:
    # The rates Excel's method, numpy-financial, pyxirr and LibreOffice give.
    assert excel_irr([-100, 100, 0, -7]) == pytest.approx(-0.0833, abs=5e-5)
    assert excel_irr([-5, 10.5, 1, -8, 1]) == pytest.approx(0.0886, abs=5e-5)
    assert excel_irr([-5, 10.5, 1, -8, 1], guess=0) == pytest.approx(0.0886, abs=5e-5)


def test_the_guess_steers_to_another_root() -> None:
    flows = [-5, 10.5, 1, -8, 1]
    high = excel_irr(flows, guess=0.5)
    assert high == pytest.approx(pyxirr.irr(flows, guess=0.5), rel=1e-9)
    assert high == pytest.approx(0.7096, abs=5e-5)
    roots = sorted(float(r) for r in np.roots(flows[::-1]) if abs(r.imag) < 1e-12)  # x = 1/(1+r)
    assert any(math.isclose(1 / x - 1, high, rel_tol=1e-9) for x in roots if x > 0)


@pytest.mark.parametrize(("flows", "guess"), CASES)
def test_hand_picked_cases_agree_with_pyxirr_and_numpy_financial(
    flows: tuple[float, ...], guess: float
) -> None:
    ours = excel_irr(flows, guess)
    assert ours is not None
    assert ours == pytest.approx(pyxirr.irr(flows, guess=guess), rel=1e-9, abs=1e-12)
    if guess == 0.1:
        assert ours == pytest.approx(float(npf.irr(flows)), rel=1e-9, abs=1e-12)


def test_without_convergence_excel_shows_num() -> None:
    # One root (−50 %), but Newton from 10 % runs away to +∞: Excel and LibreOffice give #NUM!.
    assert excel_irr([0, -2, 1]) is None
    assert excel_irr([0, -2, 1], guess=-0.4) == pytest.approx(-0.5, rel=1e-12)


def test_every_corpus_case_agrees_with_libreoffice(tmp_path: Path) -> None:
    require_libreoffice()
    theirs = libreoffice_irr(CORPUS, tmp_path)
    bad = [
        (flows, guess, excel_irr(flows, guess), other)
        for (flows, guess), other in zip(CORPUS, theirs, strict=True)
        if not _same(excel_irr(flows, guess), other)
    ]
    assert bad == []
    assert sum(excel_irr(f, g) is not None for f, g in CORPUS) > 50  # not a corpus of #NUM!
