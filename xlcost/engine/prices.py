"""Prices beyond on-demand GPU rental: buying GPUs, reserved and spot rental, hosted model APIs.

The data lives in ``xlcost/data/prices.yaml``, not in code; it is validated on load, and every
price carries its source and the date it was read. A user file with the same schema overrides
entries with the same key and adds new ones (:func:`load_prices`). A price older than
:data:`STALE_AFTER_DAYS` days is *stale*: :func:`stale` says so, and everything that shows a
price shows the flag with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "STALE_AFTER_DAYS",
    "ApiPrice",
    "GpuOffer",
    "GpuPurchase",
    "Prices",
    "default_prices",
    "load_prices",
    "stale",
    "stale_note",
]

STALE_AFTER_DAYS = 365
"""A price read more than this many days ago is flagged as older than 12 months."""


def stale(as_of: dt.date, today: dt.date | None = None) -> bool:
    """Whether a price read on ``as_of`` is older than 12 months on ``today``.

    >>> today = dt.date(2026, 12, 1)
    >>> stale(dt.date(2025, 11, 30), today), stale(dt.date(2026, 5, 7), today)
    (True, False)
    """
    return ((today or dt.date.today()) - as_of).days > STALE_AFTER_DAYS


def stale_note(as_of: dt.date, today: dt.date | None = None) -> str:
    """``"older than 12 months"`` for a stale price, else ``""``."""
    return "older than 12 months" if stale(as_of, today) else ""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GpuPurchase(_Row):
    """What one GPU costs to buy, and the power it draws (for owned GPUs)."""

    gpu: str = Field(min_length=1, max_length=40, description="Catalog GPU name, e.g. L4.")
    purchase_price: float | None = Field(None, gt=0, description="Price of one GPU (currency).")
    price_source: str | None = Field(None, min_length=3, description="Where it was read.")
    price_as_of: dt.date | None = Field(None, description="When it was read (ISO date).")
    board_power_kw: float | None = Field(None, gt=0, description="Board power of one GPU (kW).")
    power_source: str | None = Field(None, min_length=3, description="Where the power is from.")

    @model_validator(mode="after")
    def _sourced(self) -> GpuPurchase:
        if self.purchase_price is not None and (self.price_source is None or not self.price_as_of):
            raise ValueError("purchase_price needs price_source and price_as_of")
        if self.board_power_kw is not None and self.power_source is None:
            raise ValueError("board_power_kw needs power_source")
        if self.purchase_price is None and self.board_power_kw is None:
            raise ValueError("give purchase_price or board_power_kw")
        return self

    @property
    def key(self) -> tuple[str, ...]:
        return (self.gpu.casefold(),)


Term = Literal["reserved_1y", "reserved_3y", "committed_1y", "committed_3y", "spot"]


class GpuOffer(_Row):
    """A rental price other than on-demand: reserved, committed or spot, per GPU-hour."""

    gpu: str = Field(min_length=1, max_length=40)
    cloud: str = Field(min_length=2, description="Who sells it (a cloud, a venue or an index).")
    region: str = Field(min_length=1, description="Region, or 'any' for an index.")
    term: Term
    price_per_hour: float = Field(gt=0, description="Price per GPU-hour (currency).")
    price_source: str = Field(min_length=3)
    price_as_of: dt.date

    @property
    def key(self) -> tuple[str, ...]:
        return (self.gpu.casefold(), self.cloud.casefold(), self.region.casefold(), self.term)


class ApiPrice(_Row):
    """A hosted model API's price per million input and output tokens."""

    provider: str = Field(min_length=2)
    model: str = Field(min_length=1, max_length=80)
    kind: Literal["llm", "reranker", "embedding"]
    price_per_m_input_tokens: float = Field(ge=0)
    price_per_m_output_tokens: float = Field(ge=0)
    price_source: str = Field(min_length=3)
    price_as_of: dt.date

    @property
    def key(self) -> tuple[str, ...]:
        return (self.provider.casefold(), self.model.casefold())


_R = TypeVar("_R", GpuPurchase, GpuOffer, ApiPrice)


def _merge(base: Sequence[_R], others: Iterable[_R]) -> tuple[_R, ...]:
    by_key = {row.key: row for row in base}
    for row in others:
        by_key[row.key] = row
    return tuple(by_key.values())


def _unique(rows: Sequence[_R], what: str) -> None:
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        if row.key in seen:
            raise ValueError(f"duplicate {what} {' / '.join(row.key)}")
        seen.add(row.key)


class Prices(BaseModel):
    """The validated price catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = 1
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    purchases: tuple[GpuPurchase, ...] = ()
    offers: tuple[GpuOffer, ...] = ()
    apis: tuple[ApiPrice, ...] = ()

    @model_validator(mode="after")
    def _no_duplicates(self) -> Prices:
        _unique(self.purchases, "purchase")
        _unique(self.offers, "offer")
        _unique(self.apis, "API")
        return self

    def api(self, name: str, *, model_only: bool = False) -> ApiPrice:
        """The API called ``name`` ("model" or, unless ``model_only``, "provider/model";
        case-insensitive; the first listed if several providers list the model).

        >>> default_prices().api("gpt-5-nano").price_per_m_input_tokens
        0.05
        """
        key = name.strip().casefold()
        for a in self.apis:
            full = "" if model_only else f"{a.provider}/{a.model}".casefold()
            if key in (a.model.casefold(), full):
                return a
        known = ", ".join(a.model for a in self.apis)
        raise KeyError(f"unknown API model {name!r}; known: {known}")

    def purchase(self, gpu: str) -> GpuPurchase:
        """The purchase entry of catalog GPU ``gpu`` (case-insensitive)."""
        for p in self.purchases:
            if p.gpu.casefold() == gpu.strip().casefold():
                return p
        raise KeyError(f"no purchase price or board power for GPU {gpu!r}")

    def offers_of(self, gpu: str, term: str) -> list[GpuOffer]:
        """The offers for GPU ``gpu`` (case-insensitive) on ``term``, in catalog order.

        >>> [o.price_per_hour for o in default_prices().offers_of("h100", "reserved_1y")]
        [2.35]
        """
        key = gpu.strip().casefold()
        return [o for o in self.offers if o.gpu.casefold() == key and o.term == term]

    def offer_price(self, gpu: str, term: str) -> tuple[float, dt.date]:
        """The price per GPU-hour of ``gpu`` on ``term``: the mean of its offers (the
        workbook's ``SUMIFS ÷ COUNTIFS``), with the oldest of their dates; :class:`KeyError`
        naming the terms the catalog has for ``gpu``."""
        found = self.offers_of(gpu, term)
        if not found:
            terms = sorted(
                {o.term for o in self.offers if o.gpu.casefold() == gpu.strip().casefold()}
            )
            has = f"it has {', '.join(terms)}" if terms else "it has none for this GPU"
            raise KeyError(f"no {term} price for GPU {gpu!r} in the price catalog ({has})")
        return sum(o.price_per_hour for o in found) / len(found), min(o.price_as_of for o in found)

    def merged(self, other: Prices) -> Prices:
        """These prices with ``other``'s replacing same-keyed entries and appended otherwise."""
        return Prices(
            schema_version=self.schema_version,
            currency=self.currency,
            purchases=_merge(self.purchases, other.purchases),
            offers=_merge(self.offers, other.offers),
            apis=_merge(self.apis, other.apis),
        )

    def stale_prices(self, today: dt.date | None = None) -> list[str]:
        """One line per price older than 12 months, naming it and its date."""
        out = [
            f"{p.gpu} purchase price ({p.price_as_of})"
            for p in self.purchases
            if p.price_as_of and stale(p.price_as_of, today)
        ]
        out += [
            f"{o.gpu} {o.term} at {o.cloud} ({o.price_as_of})"
            for o in self.offers
            if stale(o.price_as_of, today)
        ]
        out += [
            f"{a.provider} {a.model} ({a.price_as_of})"
            for a in self.apis
            if stale(a.price_as_of, today)
        ]
        return out


def _parse(data: Any, source: str) -> Prices:
    from xlcost.engine.catalog import validated  # the catalog holds its prices: imported late

    return validated(Prices, data, source)


@lru_cache(maxsize=1)
def default_prices() -> Prices:
    """The price catalog shipped in the package."""
    from xlcost.reading import load_yaml  # the one reading boundary, as for the GPU catalog

    text = (resources.files("xlcost") / "data" / "prices.yaml").read_text(encoding="utf-8")
    return _parse(load_yaml(text, "prices.yaml"), "prices.yaml")


def load_prices(path: Path | None = None, base: Prices | None = None) -> Prices:
    """The shipped prices (or ``base``), overridden and extended by those in ``path`` (YAML or
    JSON).

    The file is read through :mod:`xlcost.reading`, like the GPU catalog (regular files only;
    size, depth, alias, encoding and duplicate-key checks). Raises :class:`XlcostError` naming
    the file and the first invalid entry.
    """
    from xlcost.reading import load_tree

    base = base or default_prices()
    if path is None:
        return base
    data = load_tree(Path(path))
    return base.merged(_parse(data, Path(path).name))
