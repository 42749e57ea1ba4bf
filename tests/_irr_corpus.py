"""A random corpus of cash flows with several changes of sign (more than one IRR possible).

Shared by tests/test_irr_excel.py and scripts/irr_agreement.py. Deterministic (fixed seed).
"""

from __future__ import annotations

import itertools
import random

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
