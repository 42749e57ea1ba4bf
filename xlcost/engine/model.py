"""The scenario model: one option under evaluation, and its results.

Every input has exactly one snake_case name, used as the pydantic field, the CSV/XLSX column,
the YAML/JSON key and the workbook's defined name. Each field carries its label, unit, group and
one-line description; the workbook's Inputs sheet, the JSON schema and the error messages are
all generated from these fields, so there is nothing to keep in sync by hand.

Quantities are totals over the evaluation period of ``horizon_months`` months.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xlcost.engine.prices import Term

__all__ = [
    "CROSS_RULES",
    "GPU_FILLS",
    "GROUPS",
    "INPUT_NAMES",
    "NUMERIC_INPUTS",
    "RESULT_NAMES",
    "TEXT_INPUTS",
    "WHOLE_INPUTS",
    "CashFlowRow",
    "Results",
    "Scenario",
    "assume_gpu_fills",
    "field_domain",
    "input_spec",
]

Group = Literal[
    "identity",
    "finance",
    "training",
    "serving",
    "maintenance",
    "benefit",
    "data",
    "infrastructure",
    "incidents",
    "owned_gpus",
    "hosted_api",
]
GROUPS: tuple[Group, ...] = (
    "identity",
    "finance",
    "training",
    "serving",
    "maintenance",
    "benefit",
    "data",
    "infrastructure",
    "incidents",
    "owned_gpus",
    "hosted_api",
)


def _in(
    default: Any,
    *,
    group: Group,
    unit: str,
    label: str,
    description: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    example: Any = None,
) -> Any:
    """A scenario input: a pydantic Field with its workbook metadata."""
    extra: dict[str, Any] = {"group": group, "unit": unit, "label": label}
    if example is not None:
        extra["examples"] = [example]
    return Field(
        default,
        ge=ge,
        gt=gt,
        le=le,
        description=description,
        json_schema_extra=extra,
        allow_inf_nan=False if unit not in ("", "text") else None,
    )


def _name_in(group: Group, label: str, description: str, max_length: int = 40) -> Any:
    """A scenario input naming a catalog entry (text; blank = none)."""
    return Field(
        None,
        min_length=1,
        max_length=max_length,
        description=description,
        json_schema_extra={"group": group, "unit": "text", "label": label},
    )


REQUIRED: Any = ...


class Scenario(BaseModel):
    """One option under evaluation, e.g. "BERT-base ranker". All money in ``currency``.

    Examples
    --------
    The worked example (BERT ranker) of the cost-accounting method:

    >>> s = Scenario(name="worked example", horizon_months=2,
    ...     train_gpus=32, train_hours=3, train_price_per_gpu_hour=5,
    ...     serve_gpus=1, serve_hours=100, serve_price_per_gpu_hour=0.1,
    ...     maintain_units_per_month=100, maintain_price_per_unit=0.5,
    ...     volume=1e8, ctr=0.005, cvr=0.003, value_per_conversion=0.1)
    >>> s.maintain_months is None   # blank: maintained over the whole horizon
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    # Upper limits (le=) on counts, hours, prices and volumes are sanity bounds far beyond any
    # real project (10 million GPUs, 10^15 requests, a million per GPU-hour): a value beyond
    # one is a typo, and within them every total stays finite and prints readably.

    # identity, finance
    name: str = Field(
        REQUIRED,
        min_length=1,
        max_length=120,
        description="Name of the option.",
        json_schema_extra={"group": "identity", "unit": "text", "label": "Scenario name"},
    )
    horizon_months: int = _in(
        REQUIRED,
        group="finance",
        unit="months",
        ge=1,
        le=600,
        label="Evaluation period",
        description="Months evaluated; all quantities are totals over this period.",
    )
    discount_rate_annual: float = _in(
        0.0,
        group="finance",
        unit="%/year",
        ge=0,
        le=1,
        label="Discount rate",
        description="Annual effective discount rate for NPV (0 = undiscounted).",
    )
    currency: str = Field(
        "USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of all money amounts.",
        json_schema_extra={"group": "finance", "unit": "text", "label": "Currency"},
    )
    # training
    train_gpus: float = _in(
        REQUIRED,
        group="training",
        unit="GPUs",
        ge=0,
        le=1e7,
        label="Training GPUs",
        description="GPUs used by one training run.",
    )
    train_hours: float | None = _in(
        None,
        group="training",
        unit="hours",
        ge=0,
        le=1e6,
        label="Training hours per run",
        description="Wall-clock hours of one run; blank = estimate from model size and tokens.",
    )
    train_price_per_gpu_hour: float | None = _in(
        None,
        group="training",
        unit="currency/GPU-h",
        ge=0,
        le=1e6,
        label="Training GPU price",
        description="Price of one training GPU-hour; blank = the catalog price of train_gpu.",
    )
    train_runs: float = _in(
        1.0,
        group="training",
        unit="runs",
        ge=0,
        le=1e6,
        label="Training runs",
        description="Full runs paid for up front (experiments, hyper-parameter search).",
    )
    train_overhead_rate: float = _in(
        0.0,
        group="training",
        unit="%",
        ge=0,
        le=100,
        label="Training overhead",
        description="Storage, networking, failed jobs, as a fraction of training GPU spend.",
    )
    retrains: float = _in(
        0.0,
        group="training",
        unit="runs",
        ge=0,
        le=1e6,
        label="Retrains in period",
        description="Extra full runs within the period (refreshes); spread over months 1..H.",
    )
    model_params: float | None = _in(
        None,
        group="training",
        unit="parameters",
        gt=0,
        le=1e15,
        label="Model parameters",
        description="Parameter count, for the training-hours and serving estimates.",
    )
    train_tokens: float | None = _in(
        None,
        group="training",
        unit="tokens",
        gt=0,
        le=1e18,
        label="Training tokens",
        description="Tokens per run, for the training-hours estimate; blank = train_examples × "
        "tokens_per_example × epochs.",
    )
    gpu_peak_tflops: float | None = _in(
        None,
        group="training",
        unit="TFLOP/s",
        gt=0,
        le=1e6,
        label="GPU peak (dense BF16)",
        description="Peak dense BF16/FP16 TFLOP/s of one training GPU, for the estimate; "
        "blank = the catalog's for train_gpu.",
    )
    mfu: float = _in(
        0.4,
        group="training",
        unit="%",
        gt=0,
        le=1,
        label="Model FLOPs utilisation",
        description="Achieved fraction of peak FLOP/s, for the estimate.",
    )
    flops_per_param_token: float = _in(
        6.0,
        group="training",
        unit="FLOP",
        gt=0,
        le=100,
        label="FLOPs per parameter-token",
        description="6 (forward + backward) or 8 with activation recomputation.",
    )
    # serving
    serve_gpus: float | None = _in(
        None,
        group="serving",
        unit="GPUs",
        ge=0,
        le=1e7,
        label="Serving GPUs",
        description="GPUs serving; blank = size from peak QPS and replica capacity.",
    )
    serve_hours: float | None = _in(
        None,
        group="serving",
        unit="hours",
        ge=0,
        le=438_000,
        label="Serving hours per GPU",
        description="Hours each GPU serves in the period (24/7 = 730 × months); may be blank "
        "only for an option with no GPUs (serve_gpus and own_gpus 0: a hosted API).",
    )
    serve_price_per_gpu_hour: float | None = _in(
        None,
        group="serving",
        unit="currency/GPU-h",
        ge=0,
        le=1e6,
        label="Serving GPU price",
        description="Price of one serving GPU-hour; blank = the catalog price of serve_gpu.",
    )
    serve_overhead_rate: float = _in(
        0.0,
        group="serving",
        unit="%",
        ge=0,
        le=100,
        label="Serving overhead",
        description="Load balancers, egress, storage, as a fraction of serving GPU spend.",
    )
    peak_qps: float | None = _in(
        None,
        group="serving",
        unit="queries/s",
        ge=0,
        le=1e12,
        label="Peak QPS",
        description="Peak queries per second, for sizing when serving GPUs is blank.",
    )
    qps_per_replica: float | None = _in(
        None,
        group="serving",
        unit="queries/s",
        gt=0,
        le=1e12,
        label="QPS per replica",
        description="Sustained queries per second one replica handles; blank = estimate from "
        "model size, tokens and GPU (measured throughput is better).",
    )
    gpus_per_replica: float | None = _in(
        None,
        group="serving",
        unit="GPUs",
        gt=0,
        le=1e7,
        label="GPUs per replica",
        description="GPUs in one serving replica; blank = enough memory for the model "
        "(1 when model size or GPU memory is not given).",
    )
    target_utilization: float = _in(
        0.7,
        group="serving",
        unit="%",
        gt=0,
        le=1,
        label="Target utilisation",
        description="Planned load at peak as a fraction of capacity.",
    )
    min_replicas: float = _in(
        1.0,
        group="serving",
        unit="replicas",
        ge=0,
        le=1e7,
        label="Minimum replicas",
        description="Floor on replicas, e.g. 2 for redundancy.",
    )
    # maintenance
    maintain_months: int | None = _in(
        None,
        group="maintenance",
        unit="months",
        ge=0,
        le=600,
        label="Maintenance months",
        description="Months of maintenance within the period; blank = the whole period.",
    )
    maintain_units_per_month: float = _in(
        REQUIRED,
        group="maintenance",
        unit="units/month",
        ge=0,
        le=1e9,
        label="Maintenance effort",
        description="Effort per month, e.g. engineer-hours.",
    )
    maintain_price_per_unit: float = _in(
        REQUIRED,
        group="maintenance",
        unit="currency/unit",
        ge=0,
        le=1e9,
        label="Maintenance unit price",
        description="Price of one unit of maintenance effort.",
    )
    maintain_fixed_per_month: float = _in(
        0.0,
        group="maintenance",
        unit="currency/month",
        ge=0,
        le=1e12,
        label="Fixed maintenance",
        description="Fixed monthly fees (monitoring, licences).",
    )
    # benefit
    volume: float = _in(
        REQUIRED,
        group="benefit",
        unit="requests",
        ge=0,
        le=1e15,
        label="Volume",
        description="Requests or impressions in the period.",
    )
    ctr: float = _in(
        REQUIRED,
        group="benefit",
        unit="%",
        ge=0,
        le=1,
        label="Click-through rate",
        description="Click-through rate with the model.",
    )
    cvr: float = _in(
        REQUIRED,
        group="benefit",
        unit="%",
        ge=0,
        le=1,
        label="Conversion rate",
        description="Conversion rate of clicks with the model.",
    )
    value_per_conversion: float = _in(
        REQUIRED,
        group="benefit",
        unit="currency",
        ge=0,
        le=1e9,
        label="Value per conversion",
        description="Value of one conversion (margin or revenue, as your policy says).",
    )
    baseline_ctr: float = _in(
        0.0,
        group="benefit",
        unit="%",
        ge=0,
        le=1,
        label="Baseline CTR",
        description="Click-through rate of the system the model replaces (0 = none).",
    )
    baseline_cvr: float = _in(
        0.0,
        group="benefit",
        unit="%",
        ge=0,
        le=1,
        label="Baseline CVR",
        description="Conversion rate of the system the model replaces (0 = none).",
    )

    # sizing from first principles: GPUs by name, training examples, the serving estimator
    train_gpu: str | None = _name_in(
        "training",
        "Training GPU",
        "Catalog GPU of the training run, e.g. H100; fills gpu_peak_tflops and "
        "train_price_per_gpu_hour when those are blank.",
    )
    train_examples: float | None = _in(
        None,
        group="training",
        unit="examples",
        gt=0,
        le=1e15,
        label="Training examples",
        description="Examples per epoch, for train_tokens when that is blank.",
    )
    tokens_per_example: float | None = _in(
        None,
        group="training",
        unit="tokens",
        gt=0,
        le=1e7,
        label="Tokens per example",
        description="Tokens in one training example, for train_tokens when that is blank.",
    )
    epochs: float = _in(
        1.0,
        group="training",
        unit="epochs",
        gt=0,
        le=1e4,
        label="Epochs",
        description="Passes over the training examples per run.",
    )
    serve_gpu: str | None = _name_in(
        "serving",
        "Serving GPU",
        "Catalog GPU serving the model, e.g. L4; fills its peak, memory, bandwidth, "
        "serve_price_per_gpu_hour and an owned GPU's price and power when those are blank.",
    )
    serve_term: Term | None = Field(
        None,
        description="How the serving GPUs are rented when serve_price_per_gpu_hour is blank: "
        "blank = on demand (the GPU catalog's price), else reserved_1y, reserved_3y, "
        "committed_1y, committed_3y or spot (the mean of the price catalog's offers for "
        "serve_gpu on that term).",
        json_schema_extra={"group": "serving", "unit": "text", "label": "Rental term"},
    )
    tokens_per_item: float | None = _in(
        None,
        group="serving",
        unit="tokens",
        gt=0,
        le=1e7,
        label="Tokens per scored item",
        description="Tokens the model reads per scored item (query + candidate), e.g. 128.",
    )
    items_per_request: float = _in(
        1.0,
        group="serving",
        unit="items",
        gt=0,
        le=1e6,
        label="Items per request",
        description="Candidates scored per request; a ranker's load scales with it.",
    )
    output_tokens_per_request: float = _in(
        0.0,
        group="serving",
        unit="tokens",
        ge=0,
        le=1e7,
        label="Output tokens per request",
        description="Tokens generated per request (0 for scoring and ranking).",
    )
    serve_peak_tflops: float | None = _in(
        None,
        group="serving",
        unit="TFLOP/s",
        gt=0,
        le=1e6,
        label="Serving GPU peak (dense)",
        description="Dense BF16/FP16 peak of one serving GPU; blank = the catalog's for serve_gpu.",
    )
    serve_memory_bandwidth_tbs: float | None = _in(
        None,
        group="serving",
        unit="TB/s",
        gt=0,
        le=1e4,
        label="Serving GPU bandwidth",
        description="Memory bandwidth of one serving GPU; blank = the catalog's for serve_gpu.",
    )
    serve_memory_gb: float | None = _in(
        None,
        group="serving",
        unit="GB",
        gt=0,
        le=1e5,
        label="Serving GPU memory",
        description="Memory of one serving GPU; blank = the catalog's for serve_gpu.",
    )
    serve_mfu: float = _in(
        0.5,
        group="serving",
        unit="%",
        gt=0,
        le=1,
        label="Serving FLOPs utilisation",
        description="Achieved fraction of peak FLOP/s when encoding (TensorRT BERT-base "
        "on A100: 0.73).",
    )
    serve_mbu: float = _in(
        0.6,
        group="serving",
        unit="%",
        gt=0,
        le=1,
        label="Serving bandwidth utilisation",
        description="Achieved fraction of memory bandwidth when generating tokens.",
    )
    bytes_per_param: float = _in(
        2.0,
        group="serving",
        unit="bytes",
        gt=0,
        le=64,
        label="Bytes per parameter",
        description="2 FP16/BF16, 1 INT8/FP8, 0.5 INT4.",
    )
    serve_batch: float = _in(
        1.0,
        group="serving",
        unit="sequences",
        gt=0,
        le=1e6,
        label="Decode batch",
        description="Sequences generated together (for the bandwidth-bound estimate).",
    )
    latency_slo_ms: float | None = _in(
        None,
        group="serving",
        unit="ms",
        gt=0,
        le=1e7,
        label="Latency target",
        description="Response-time target; a warning says when the estimate exceeds it.",
    )

    # --- every cost the method names, and the alternatives (owned GPUs, hosted API) ---------
    # data (folded into train_cost; reported as data_cost)
    data_prep_cost: float = _in(
        0.0,
        group="data",
        unit="currency",
        ge=0,
        le=1e12,
        label="Data preparation",
        description="One-time data collection, labelling and preparation (paid in month 0).",
    )
    data_refresh_per_month: float = _in(
        0.0,
        group="data",
        unit="currency/month",
        ge=0,
        le=1e10,
        label="Data refresh",
        description="Monthly cost of refreshing training data, over the whole period.",
    )
    # infrastructure (folded into deploy_cost; reported as infra_cost)
    storage_gb: float = _in(
        0.0,
        group="infrastructure",
        unit="GB",
        ge=0,
        le=1e10,
        label="Storage",
        description="Data, features and model artefacts stored through the period.",
    )
    storage_price_per_gb_month: float = _in(
        0.0,
        group="infrastructure",
        unit="currency/GB-mo",
        ge=0,
        le=1e4,
        label="Storage price",
        description="Price of storing one GB for one month.",
    )
    egress_gb_per_month: float = _in(
        0.0,
        group="infrastructure",
        unit="GB/month",
        ge=0,
        le=1e10,
        label="Network egress",
        description="Data sent out of the cloud each month (responses, replication).",
    )
    egress_price_per_gb: float = _in(
        0.0,
        group="infrastructure",
        unit="currency/GB",
        ge=0,
        le=1e4,
        label="Egress price",
        description="Price of one GB of network egress.",
    )
    software_per_month: float = _in(
        0.0,
        group="infrastructure",
        unit="currency/month",
        ge=0,
        le=1e10,
        label="Software licences",
        description="Monthly software and licence fees of the serving stack.",
    )
    setup_cost: float = _in(
        0.0,
        group="infrastructure",
        unit="currency",
        ge=0,
        le=1e12,
        label="Set-up and installation",
        description="One-time installation and integration work (paid in month 0).",
    )
    # incidents (folded into maintain_cost; reported as incident_cost)
    incidents_per_month: float = _in(
        0.0,
        group="incidents",
        unit="incidents/month",
        ge=0,
        le=1e5,
        label="Incidents per month",
        description="Expected incidents a month needing response and recovery.",
    )
    incident_hours: float = _in(
        0.0,
        group="incidents",
        unit="hours",
        ge=0,
        le=1e4,
        label="Hours per incident",
        description="People-hours to respond to and recover from one incident.",
    )
    incident_price_per_hour: float = _in(
        0.0,
        group="incidents",
        unit="currency/hour",
        ge=0,
        le=1e6,
        label="Incident hour price",
        description="Cost of one hour of incident response.",
    )
    # owned GPUs (folded into deploy_cost; reported as hardware_cost and power_cost)
    own_gpus: float = _in(
        0.0,
        group="owned_gpus",
        unit="GPUs",
        ge=0,
        le=1e7,
        label="Owned GPUs",
        description="GPUs bought (month 0) instead of rented; they draw power for serve_hours.",
    )
    gpu_purchase_price: float | None = _in(
        None,
        group="owned_gpus",
        unit="currency/GPU",
        ge=0,
        le=1e8,
        label="GPU purchase price",
        description="Price of one owned GPU (with its share of the server); blank = the price "
        "catalog's purchase price of serve_gpu, else 0 (type it where the catalog has none).",
    )
    useful_life_months: float = _in(
        36.0,
        group="owned_gpus",
        unit="months",
        gt=0,
        le=600,
        label="Useful life",
        description="Months over which an owned GPU depreciates straight-line to its salvage.",
    )
    salvage_rate: float = _in(
        0.0,
        group="owned_gpus",
        unit="%",
        ge=0,
        le=1,
        label="Salvage value",
        description="Value left at the end of the useful life, as a fraction of the price.",
    )
    power_kw_per_gpu: float | None = _in(
        None,
        group="owned_gpus",
        unit="kW",
        ge=0,
        le=1e3,
        label="Power per GPU",
        description="Average electrical power drawn by one owned GPU (with its server share); "
        "blank = the price catalog's board power of serve_gpu, else 0 (type it where the "
        "catalog has none).",
    )
    pue: float = _in(
        1.3,
        group="owned_gpus",
        unit="ratio",
        ge=1,
        le=10,
        label="Power usage effectiveness",
        description="Facility power ÷ IT power (cooling, distribution); 1 = none.",
    )
    electricity_price_per_kwh: float = _in(
        0.0,
        group="owned_gpus",
        unit="currency/kWh",
        ge=0,
        le=1e3,
        label="Electricity price",
        description="Price of one kWh of electricity.",
    )
    hosting_per_gpu_month: float = _in(
        0.0,
        group="owned_gpus",
        unit="currency/GPU-mo",
        ge=0,
        le=1e7,
        label="Hosting per GPU",
        description="Colocation space, network and remote hands per owned GPU per month.",
    )
    # hosted API (folded into deploy_cost; reported as api_cost)
    api_model: str | None = _name_in(
        "hosted_api",
        "API model",
        "A hosted API model of the price catalog, e.g. rerank-2.5-lite (the model name, as "
        "`xlcost catalog` lists it); fills the two API prices when those are blank.",
        max_length=80,
    )
    api_price_per_m_input_tokens: float | None = _in(
        None,
        group="hosted_api",
        unit="currency/M tok",
        ge=0,
        le=1e6,
        label="API input price",
        description="Hosted model API price per million input tokens; blank = api_model's "
        "catalog price, else 0.",
    )
    api_price_per_m_output_tokens: float | None = _in(
        None,
        group="hosted_api",
        unit="currency/M tok",
        ge=0,
        le=1e6,
        label="API output price",
        description="Hosted model API price per million output tokens; blank = api_model's "
        "catalog price, else 0.",
    )
    api_input_tokens_per_request: float = _in(
        0.0,
        group="hosted_api",
        unit="tokens",
        ge=0,
        le=1e9,
        label="API input tokens per request",
        description="Tokens sent to the API per request (prompt, query and candidates).",
    )
    api_output_tokens_per_request: float = _in(
        0.0,
        group="hosted_api",
        unit="tokens",
        ge=0,
        le=1e9,
        label="API output tokens per request",
        description="Tokens the API returns per request.",
    )
    api_requests: float | None = _in(
        None,
        group="hosted_api",
        unit="requests",
        ge=0,
        le=1e15,
        label="API requests",
        description="API calls in the period; blank = volume.",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, data: Any) -> Any:
        """Blank cells and empty CSV fields (``""`` or ``None``) take the field's default."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data

    @model_validator(mode="after")
    def _check_rules(self) -> Scenario:
        columns = assume_gpu_fills(self.raw_columns(), self.train_gpu, self.serve_gpu)
        for rule in CROSS_RULES:
            if rule.bad(columns):
                got = getattr(self, rule.field)
                raise ValueError(
                    f"{rule.field}: {rule.reason}" + ("" if got is None else f", got {got:g}")
                )
        return self

    def raw_columns(self) -> dict[str, Any]:
        """The numeric inputs as typed, as floats, blanks as ``nan`` (the array API's row
        format)."""
        return {
            k: (math.nan if v is None else float(v))
            for k, v in self.__dict__.items()
            if k in NUMERIC_INPUTS
        }

    def columns(self) -> dict[str, Any]:
        """:meth:`raw_columns` with the blanks a named GPU fills (``train_gpu``, ``serve_gpu``:
        :data:`GPU_FILLS`) taken from the catalog in use
        (:func:`~xlcost.engine.catalog.active_catalog`); a name it does not know leaves them
        blank (another catalog may know it: see :func:`~xlcost.engine.evaluate.scenario_data`).

        >>> s = Scenario(name="x", horizon_months=1, train_gpus=1, train_hours=1,
        ...     train_price_per_gpu_hour=1, serve_gpus=1, serve_hours=1, serve_gpu="L4",
        ...     maintain_units_per_month=0, maintain_price_per_unit=0, volume=0, ctr=0,
        ...     cvr=0, value_per_conversion=0)
        >>> s.columns()["serve_price_per_gpu_hour"], s.raw_columns()["serve_peak_tflops"]
        (0.7992, nan)
        """
        from xlcost.engine.catalog import active_catalog

        out = self.raw_columns()
        catalog = active_catalog()
        for gpu, fills in GPU_FILLS.items():
            name = getattr(self, gpu)
            if not name:
                continue
            try:
                spec = catalog.get(name)
            except KeyError:
                continue
            for field, source in fills.items():
                if math.isnan(out[field]):
                    out[field] = float(getattr(spec, source))
        return out


Columns = Mapping[str, Any]
"""Input name → float or float array; a blank (``None``) is ``nan``."""


@dataclass(frozen=True)
class CrossRule:
    """A rule between inputs, vectorised: ``bad(v)`` is a bool (array) over the input columns.

    The same rule serves the pydantic model (one row, scalars) and the array API (many rows).
    """

    field: str
    reason: str
    bad: Callable[[Columns], Any]


def _blank(x: Any) -> Any:
    return np.isnan(x)


GPU_FILLS: dict[str, dict[str, str]] = {
    "train_gpu": {"gpu_peak_tflops": "peak_tflops", "train_price_per_gpu_hour": "price_per_hour"},
    "serve_gpu": {
        "serve_peak_tflops": "peak_tflops",
        "serve_memory_gb": "memory_gb",
        "serve_memory_bandwidth_tbs": "memory_bandwidth_tbs",
        "serve_price_per_gpu_hour": "price_per_hour",
    },
}
"""GPU-name input → the inputs it fills when blank → the catalog field they come from."""


def assume_gpu_fills(
    columns: dict[str, Any], train_gpu: str | None, serve_gpu: str | None
) -> dict[str, Any]:
    """``columns`` with the inputs a named GPU will fill marked as given (for the rules).

    Which catalog applies is known only when the scenario is evaluated; the rules need only
    to know that a value will be there.
    """
    out = dict(columns)
    for gpu, named in (("train_gpu", train_gpu), ("serve_gpu", serve_gpu)):
        if named:
            for field in GPU_FILLS[gpu]:
                if math.isnan(out[field]):
                    out[field] = 1.0
    return out


def _no_estimate(v: Columns) -> Any:
    """Rows where qps_per_replica can be neither read nor estimated."""
    return _blank(v["qps_per_replica"]) & (
        _blank(v["model_params"]) | _blank(v["tokens_per_item"]) | _blank(v["serve_peak_tflops"])
    )


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule(
        "train_hours",
        "required unless model_params, train_tokens (or train_examples and tokens_per_example) "
        "and gpu_peak_tflops (or train_gpu) are all given",
        lambda v: (
            _blank(v["train_hours"])
            & (
                _blank(v["model_params"])
                | (
                    _blank(v["train_tokens"])
                    & (_blank(v["train_examples"]) | _blank(v["tokens_per_example"]))
                )
                | _blank(v["gpu_peak_tflops"])
            )
        ),
    ),
    CrossRule(
        "train_price_per_gpu_hour",
        "required unless train_gpu names a catalog GPU",
        lambda v: _blank(v["train_price_per_gpu_hour"]),
    ),
    CrossRule(
        "serve_price_per_gpu_hour",
        "required unless serve_gpu names a catalog GPU",
        lambda v: _blank(v["serve_price_per_gpu_hour"]),
    ),
    CrossRule(
        "train_gpus",
        "must be > 0 to estimate train_hours",
        lambda v: _blank(v["train_hours"]) & (v["train_gpus"] == 0),
    ),
    CrossRule(
        "serve_gpus",
        "required unless peak_qps and either qps_per_replica or model_params, tokens_per_item "
        "and serve_peak_tflops (or serve_gpu) are given",
        lambda v: _blank(v["serve_gpus"]) & (_blank(v["peak_qps"]) | _no_estimate(v)),
    ),
    CrossRule(
        "serve_memory_bandwidth_tbs",
        "required (or serve_gpu) to estimate qps_per_replica when output_tokens_per_request > 0",
        lambda v: (
            _blank(v["serve_gpus"])
            & _blank(v["qps_per_replica"])
            & (v["output_tokens_per_request"] > 0)
            & _blank(v["serve_memory_bandwidth_tbs"])
        ),
    ),
    CrossRule(
        "serve_hours",
        "required unless serve_gpus and own_gpus are both 0 (an option served by a hosted API)",
        lambda v: _blank(v["serve_hours"]) & ~((v["serve_gpus"] == 0) & (v["own_gpus"] == 0)),
    ),
    CrossRule(
        "maintain_months",
        "must be ≤ horizon_months",
        lambda v: v["maintain_months"] > v["horizon_months"],
    ),
)


INPUT_NAMES: tuple[str, ...] = tuple(Scenario.model_fields)
TEXT_INPUTS: tuple[str, ...] = (
    "name",
    "currency",
    "train_gpu",
    "serve_gpu",
    "serve_term",
    "api_model",
)
NUMERIC_INPUTS: tuple[str, ...] = tuple(n for n in INPUT_NAMES if n not in TEXT_INPUTS)
WHOLE_INPUTS: tuple[str, ...] = tuple(
    n for n, f in Scenario.model_fields.items() if f.annotation in (int, int | None)
)
"""The numeric inputs that are whole numbers (``int`` fields): ``horizon_months`` …"""


def input_spec(name: str) -> dict[str, Any]:
    """Label, unit, group, description and default of one input, for sheets and wizards.

    >>> input_spec("train_gpus")["unit"]
    'GPUs'
    """
    f = Scenario.model_fields[name]
    extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
    return {
        "name": name,
        "label": extra.get("label", name),
        "unit": extra.get("unit", ""),
        "group": extra.get("group", ""),
        "description": f.description or "",
        "required": f.is_required(),
        "default": None if f.is_required() else f.default,
        "domain": field_domain(name),
    }


def _bound(x: Any) -> float:
    return x if isinstance(x, int) else float(x)


def field_domain(name: str) -> tuple[float | None, bool, float | None]:
    """``(lower, lower_inclusive, upper)`` bounds of a numeric input (``None`` = unbounded).

    >>> field_domain("mfu")
    (0, False, 1)
    """
    lower: float | None = None
    inclusive = True
    upper: float | None = None
    for m in Scenario.model_fields[name].metadata:
        if isinstance(m, Ge):
            lower, inclusive = _bound(m.ge), True
        elif isinstance(m, Gt):
            lower, inclusive = _bound(m.gt), False
        elif isinstance(m, Le):
            upper = _bound(m.le)
    return lower, inclusive, upper


class Results(BaseModel):
    """What a scenario costs and earns over its horizon (names fixed: files, workbooks and
    functions use them).

    ``roi`` and ``bcr`` are fractions (−0.746 = −74.6 %); ``irr`` is annual; ``None`` where the
    quantity does not exist (no cost, no sign change, never paid back, no volume).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    train_cost: float
    deploy_cost: float
    maintain_cost: float
    benefit: float
    total_cost: float
    roi: float | None
    bcr: float | None
    npv: float
    irr: float | None
    payback_month: int | None
    cost_per_1k: float | None
    data_cost: float = 0.0
    """Data preparation and refresh (part of ``train_cost``)."""
    infra_cost: float = 0.0
    """Storage, egress, software and set-up (part of ``deploy_cost``)."""
    incident_cost: float = 0.0
    """Incident response and recovery (part of ``maintain_cost``)."""
    hardware_cost: float = 0.0
    """Owned GPUs' purchase less their value left at the end of the period (``deploy_cost``)."""
    power_cost: float = 0.0
    """Owned GPUs' electricity and hosting (part of ``deploy_cost``)."""
    api_cost: float = 0.0
    """Hosted model API (part of ``deploy_cost``)."""


RESULT_NAMES: tuple[str, ...] = tuple(n for n in Results.model_fields if n != "name")


class CashFlowRow(BaseModel):
    """One month of the schedule; month 0 is the start (training paid up front)."""

    model_config = ConfigDict(frozen=True)

    month: int
    cost: float
    benefit: float
    net: float
    cumulative: float
