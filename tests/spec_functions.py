"""The Excel functions' specified signatures, copied by hand (an independent oracle).

Each entry: argument names in order, and the defaults of the optional ones (``None`` = required).
"""

SPEC_SIGNATURES: dict[str, list[tuple[str, object]]] = {
    "TRAIN_COST": [
        ("gpus", None), ("hours", None), ("price_per_gpu_hour", None), ("runs", 1),
        ("overhead_rate", 0),
    ],
    "DEPLOY_COST": [
        ("gpus", None), ("hours", None), ("price_per_gpu_hour", None), ("overhead_rate", 0),
    ],
    "MAINTAIN_COST": [
        ("months", None), ("units_per_month", None), ("price_per_unit", None),
        ("fixed_per_month", 0),
    ],
    "ROI": [("benefit", None), ("cost", None), ("basis", "net")],
    "BENEFIT": [
        ("volume", None), ("ctr", None), ("cvr", None), ("value_per_conversion", None),
        ("baseline_ctr", 0), ("baseline_cvr", 0),
    ],
    "BCR": [("benefit", None), ("cost", None)],
    "TRAIN_FLOPS": [("params", None), ("tokens", None), ("flops_per_param_token", 6)],
    "TRAIN_HOURS": [
        ("params", None), ("tokens", None), ("gpus", None), ("peak_tflops", None), ("mfu", 0.4),
        ("flops_per_param_token", 6),
    ],
    "REPLICAS": [
        ("peak_qps", None), ("qps_per_replica", None), ("target_utilization", 0.7),
        ("min_replicas", 1),
    ],
    "GPU_SPEC": [("gpu", None), ("field", None)],
    "API_COST": [
        ("requests", None), ("input_tokens", None), ("output_tokens", None),
        ("price_per_m_input", None), ("price_per_m_output", None),
    ],
    "OWN_GPU_COST": [
        ("gpus", None), ("price", None), ("months", None), ("life_months", 36),
        ("salvage_rate", 0),
    ],
    "POWER_COST": [
        ("gpus", None), ("kw_per_gpu", None), ("hours", None), ("price_per_kwh", None),
        ("pue", 1.3),
    ],
    # sizing from first principles (the serving estimator)
    "INFER_FLOPS": [("params", None), ("tokens", None), ("flops_per_param_token", 2)],
    "SERVE_QPS": [
        ("params", None), ("tokens_per_request", None), ("peak_tflops", None), ("mfu", 0.5),
    ],
    "DECODE_QPS": [
        ("params", None), ("output_tokens", None), ("bandwidth_tbs", None), ("batch", 1),
        ("bytes_per_param", 2), ("mbu", 0.6),
    ],
    "FIT_GPUS": [("params", None), ("memory_gb", None), ("bytes_per_param", 2), ("overhead", 1.2)],
    "LATENCY_MS": [
        ("params", None), ("tokens_per_request", None), ("output_tokens", None),
        ("peak_tflops", None), ("bandwidth_tbs", None), ("mfu", 0.5), ("bytes_per_param", 2),
        ("mbu", 0.6),
    ],
    # issue 11 (decisions under uncertainty): the linear root of two (value, result) points
    "BREAK_EVEN": [("value", None), ("result", None), ("value2", None), ("result2", None)],
    "XLCOST_VERSION": [],
}  # fmt: skip
