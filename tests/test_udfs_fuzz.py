"""Property: any mix of cell values never raises and always gives a number, text, an array or
an Excel error — never a traceback, never an "internal error".

10,000 examples per function when ``CI=true`` (the acceptance bar); a shorter run locally
(``XLCOST_FUZZ_EXAMPLES`` overrides both).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcost import udfs
from xlcost.functions import ERROR_CODES, REGISTRY, ExcelError

EXAMPLES = int(
    os.environ.get("XLCOST_FUZZ_EXAMPLES")
    or (10_000 if os.environ.get("CI", "").lower() in ("1", "true", "yes") else 300)
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.just(10**400),
    st.sampled_from([0, 1, 2, 0.5, 1e308, -1e308, 5e-324]),
    st.booleans(),
    st.none(),
    st.sampled_from(["", " ", "abc", "5", "net", "ratio", "H100", "price_per_hour", "t4"]),
    st.sampled_from([*ERROR_CODES, "#NUM! x must be ≥ 0", "#hashtag"]),
    st.sampled_from([-2146826246, -2146826281]),
    st.just({"type": "Error", "errorType": "Div0"}),
)
rows = st.integers(1, 3)
ranges = st.one_of(
    # rectangular ranges, as xlwings passes them (lists of rows)
    st.tuples(rows, rows).flatmap(
        lambda s: st.lists(
            st.lists(cells, min_size=s[1], max_size=s[1]), min_size=s[0], max_size=s[0]
        )
    ),
    st.lists(st.lists(cells, max_size=3), max_size=3),  # ragged and empty
    st.lists(cells, max_size=4),  # 1-D
    st.lists(st.floats(), min_size=1, max_size=4).map(np.array),
)
values = st.one_of(cells, cells, ranges)


def _ok_cell(x: object) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, str):
        assert "internal error" not in x, x
        return True  # text results (GPU_SPEC) and classic error text
    if isinstance(x, ExcelError):
        assert "internal error" not in x.message, x
        return x.code in ERROR_CODES
    return False


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_any_input_gives_a_value_or_an_excel_error(name: str) -> None:
    fn = REGISTRY[name]
    n = len(fn.args)
    udf = getattr(udfs, name)

    @FUZZ
    @given(st.lists(values, min_size=0, max_size=n + 1))
    def run(args: list[object]) -> None:
        got = fn(*args)
        if isinstance(got, np.ndarray):
            assert got.ndim <= 2 and got.size >= 1
            assert all(_ok_cell(x) for x in got.ravel().tolist())
        else:
            assert _ok_cell(got), got
        shown = udf(*args)  # the classic runtime's representation
        if isinstance(shown, list):
            assert all(isinstance(r, list) for r in shown)
            assert all(_ok_cell(x) for r in shown for x in r)
        else:
            assert _ok_cell(shown), shown
        if isinstance(got, ExcelError):  # Lite: a bare code, which xlwings makes a real error
            assert udfs.to_excel(got, lite=True) in ERROR_CODES

    run()
