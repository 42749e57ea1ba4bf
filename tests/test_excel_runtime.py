"""Defects of the Excel runtime found by reading xlwings' own code, each pinned by a test.

* Classic xlwings hands a Currency- or Accounting-formatted cell to Python as
  ``decimal.Decimal`` (pywin32 converts COM's VT_CY so); finance users format prices so.
"""

from __future__ import annotations

from decimal import Decimal

from xlcost.udfs import BENEFIT, DEPLOY_COST, TRAIN_COST


def test_currency_cells_arrive_as_decimal_and_are_numbers() -> None:
    assert TRAIN_COST([[32]], [[3]], [[Decimal("5")]]) == 480.0  # 1×1 ranges give a scalar
    assert TRAIN_COST(32, 3, Decimal("5.00")) == 480.0
    assert DEPLOY_COST([[1, Decimal("2")]], 100, Decimal("0.1")) == [[10.0, 20.0]]
    assert BENEFIT(1e8, 0.005, 0.003, Decimal("0.1")) == 150.0


def test_decimal_domain_errors_still_name_the_argument() -> None:
    assert TRAIN_COST(32, 3, Decimal("-5")) == "#NUM! price_per_gpu_hour must be ≥ 0, got -5"
    nan = "#NUM! price_per_gpu_hour must be a finite number"
    assert TRAIN_COST(32, 3, [[Decimal("NaN")]]) == nan
