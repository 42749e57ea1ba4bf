"""The hardware catalog: GPUs with specs and dated, sourced on-demand prices.

The data lives in ``xlcost/data/catalog.yaml``, not in code; it is validated on load. A user
file with the same schema overrides entries by name and adds new ones (:func:`load_catalog`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from xlcost.engine.errors import XlcostError
from xlcost.engine.prices import Prices, default_prices

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "GPU",
    "GPU_FIELDS",
    "Catalog",
    "active_catalog",
    "catalog_set",
    "default_catalog",
    "load_catalog",
    "set_catalog",
    "use_catalog",
]


class GPU(BaseModel):
    """One GPU model and its on-demand price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=40, description="GPU name, e.g. H100.")
    memory_gb: float = Field(gt=0, description="Memory (GB).")
    peak_tflops: float = Field(gt=0, description="Dense BF16/FP16 tensor peak (TFLOP/s).")
    memory_bandwidth_tbs: float = Field(gt=0, description="Memory bandwidth (TB/s).")
    price_per_hour: float = Field(ge=0, description="On-demand price per GPU-hour (currency).")
    price_source: str = Field(min_length=3, description="Where the price was read.")
    price_as_of: dt.date = Field(description="When the price was read (ISO date).")
    spec_source: str = Field(min_length=3, description="Where the specs come from.")


GPU_FIELDS: tuple[str, ...] = tuple(GPU.model_fields)


class Catalog(BaseModel):
    """A validated list of GPUs, looked up by case-insensitive name, and the prices beyond
    on-demand rental (:class:`~xlcost.engine.prices.Prices`: purchase and board power,
    reserved and spot offers, hosted APIs) that ``serve_gpu``, ``serve_term`` and
    ``api_model`` look up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = 1
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    gpus: tuple[GPU, ...] = ()
    prices: Prices = Field(default_factory=default_prices)

    @field_validator("gpus")
    @classmethod
    def _unique(cls, gpus: tuple[GPU, ...]) -> tuple[GPU, ...]:
        seen: set[str] = set()
        for g in gpus:
            key = g.name.casefold()
            if key in seen:
                raise ValueError(f"duplicate GPU name {g.name!r}")
            seen.add(key)
        return gpus

    def get(self, name: str) -> GPU:
        """The GPU called ``name`` (case-insensitive); :class:`KeyError` naming the choices.

        >>> default_catalog().get("h100").peak_tflops
        989.0
        """
        key = name.strip().casefold()
        for g in self.gpus:
            if g.name.casefold() == key:
                return g
        raise KeyError(f"unknown GPU {name!r}; known: {', '.join(self.names())}")

    def names(self) -> list[str]:
        """GPU names in catalog order."""
        return [g.name for g in self.gpus]

    def merged(self, others: Iterable[GPU], prices: Prices | None = None) -> Catalog:
        """This catalog with ``others`` replacing same-named GPUs and appended otherwise, and
        with ``prices`` merged into its prices likewise (:meth:`Prices.merged`)."""
        by_key = {g.name.casefold(): g for g in self.gpus}
        for g in others:
            by_key[g.name.casefold()] = g
        return Catalog(
            schema_version=self.schema_version,
            currency=self.currency,
            gpus=tuple(by_key.values()),
            prices=self.prices if prices is None else self.prices.merged(prices),
        )


def _parse(data: Any, source: str) -> Catalog:
    return validated(Catalog, data, source)


def validated(model: type[M], data: Any, source: str) -> M:
    """``data`` validated as ``model``; the first problem is one line naming ``source``."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise XlcostError(f"{source}: {loc}: {first['msg']}") from None


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog shipped in the package."""
    from xlcost.reading import load_yaml  # the one reading boundary (imported late: it
    # imports the engine's errors, and the engine imports this module)

    text = (resources.files("xlcost") / "data" / "catalog.yaml").read_text(encoding="utf-8")
    return _parse(load_yaml(text, "catalog.yaml"), "catalog.yaml")


_ACTIVE: ContextVar[Catalog | None] = ContextVar("xlcost_catalog", default=None)


def active_catalog() -> Catalog:
    """The catalog GPU names are looked up in: the one :func:`use_catalog` set, else the
    packaged one."""
    return _ACTIVE.get() or default_catalog()


def catalog_set() -> Catalog | None:
    """The catalog :func:`use_catalog` set (None: the packaged one), e.g. to hand on to worker
    processes (:func:`set_catalog`)."""
    return _ACTIVE.get()


def set_catalog(catalog: Catalog | None) -> None:
    """Look GPU names up in ``catalog`` from now on in this context: a worker process starting
    with its parent's catalog (elsewhere :func:`use_catalog` keeps it to a block)."""
    _ACTIVE.set(catalog)


@contextmanager
def use_catalog(catalog: Catalog | None) -> Iterator[None]:
    """Look GPU names up in ``catalog`` (``None``: the packaged one) within the block, e.g.
    for a command's ``--catalog FILE``.

    >>> mine = default_catalog().merged([default_catalog().get("L4").model_copy(
    ...     update={"price_per_hour": 0.5})])
    >>> with use_catalog(mine):
    ...     active_catalog().get("L4").price_per_hour
    0.5
    >>> active_catalog().get("L4").price_per_hour
    0.7992
    """
    token = _ACTIVE.set(catalog)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def load_catalog(path: Path | None = None) -> Catalog:
    """The shipped catalog, overridden and extended by the GPUs in ``path`` (YAML or JSON)
    and by the prices of its ``prices`` section (the schema of ``prices.yaml``), if any.

    The file is read through :mod:`xlcost.reading` (regular files only; size, depth, alias
    and duplicate-key checks). Raises :class:`XlcostError` naming the file and the first
    invalid entry.
    """
    from xlcost.reading import load_tree

    base = default_catalog()
    if path is None:
        return base
    data = load_tree(Path(path))
    mine = _parse(data, Path(path).name)
    given = isinstance(data, dict) and "prices" in data
    return base.merged(mine.gpus, mine.prices if given else None)
