"""Estimators for the hardware a model needs: training compute and time, serving replicas.

Sources
-------
* ``6 × params × tokens`` training FLOPs: Kaplan et al., "Scaling Laws for Neural Language
  Models" (2020), section 2.1 (forward 2N, backward 4N per token). With full activation
  recomputation the factor is 8 (Narayanan et al., "Efficient Large-Scale Language Model
  Training on GPU Clusters Using Megatron-LM", SC'21, section 5.1).
* MFU (model FLOPs utilisation): Chowdhery et al., "PaLM" (2022), appendix B; 0.3–0.5 is typical
  for large dense training.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from xlcost.engine.costs import Float, _f

__all__ = [
    "MEMORY_OVERHEAD",
    "SECONDS_PER_HOUR",
    "SERVE_MBU",
    "SERVE_MFU",
    "decode_qps",
    "fit_gpus",
    "infer_flops",
    "latency_ms",
    "replicas",
    "serve_qps",
    "train_flops",
    "train_hours",
]

SECONDS_PER_HOUR = 3600.0


def train_flops(
    params: ArrayLike, tokens: ArrayLike, flops_per_param_token: ArrayLike = 6
) -> Float:
    """Training compute ``FLOP = factor × params × tokens``.

    Parameters
    ----------
    params : model parameters (count, > 0).
    tokens : training tokens (or examples × tokens per example) (count, > 0).
    flops_per_param_token : 6 without activation recomputation, 8 with it (default 6).

    Examples
    --------
    GPT-3 175B on 300B tokens (Brown et al. 2020, table D.1: 3.14e23 FLOP):

    >>> f"{float(train_flops(175e9, 300e9)):.3g}"
    '3.15e+23'
    """
    return _f(flops_per_param_token) * _f(params) * _f(tokens)


def train_hours(
    params: ArrayLike,
    tokens: ArrayLike,
    gpus: ArrayLike,
    peak_tflops: ArrayLike,
    mfu: ArrayLike = 0.4,
    flops_per_param_token: ArrayLike = 6,
) -> Float:
    """Wall-clock training hours ``= factor·params·tokens / (gpus·peak_tflops·10¹²·mfu) / 3600``.

    Parameters
    ----------
    params, tokens, flops_per_param_token : see :func:`train_flops`.
    gpus : GPUs in the run (count, > 0).
    peak_tflops : dense BF16/FP16 peak of one GPU (TFLOP/s, > 0), e.g. 312 for an A100.
    mfu : achieved fraction of peak, in (0, 1] (default 0.4).

    Examples
    --------
    Megatron-LM's GPT-3 175B estimate (SC'21, section 5.1): 300B tokens on 1,024 A100s achieving
    140 TFLOP/s each (mfu = 140/312), 8 FLOPs per parameter-token — "about 34 days":

    >>> round(float(train_hours(175e9, 300e9, 1024, 312, 140 / 312, 8)) / 24, 1)
    33.9
    """
    flops = train_flops(params, tokens, flops_per_param_token)
    rate = _f(gpus) * _f(peak_tflops) * 1e12 * _f(mfu)
    return flops / rate / SECONDS_PER_HOUR


def replicas(
    peak_qps: ArrayLike,
    qps_per_replica: ArrayLike,
    target_utilization: ArrayLike = 0.7,
    min_replicas: ArrayLike = 1,
) -> Float:
    """Serving replicas ``= max(min_replicas, ⌈peak_qps / (qps_per_replica × utilization)⌉)``.

    Parameters
    ----------
    peak_qps : peak queries per second to serve (≥ 0).
    qps_per_replica : sustained queries per second one replica handles (> 0).
    target_utilization : planned load at peak as a fraction of capacity, in (0, 1] (default 0.7).
    min_replicas : floor, e.g. 2 for redundancy (count, ≥ 0; default 1).

    Examples
    --------
    >>> float(replicas(1000, 120))
    12.0
    >>> float(replicas(0, 120, min_replicas=2))
    2.0
    """
    # Rounded to 9 decimals before the ceiling so that 84 / (120 × 0.7) is 1 replica, not 2
    # (0.7 is not exact in binary); the native Excel form does the same with ROUND and ROUNDUP.
    ratio = _f(peak_qps) / (_f(qps_per_replica) * _f(target_utilization))
    return np.maximum(_f(min_replicas), np.ceil(np.round(ratio, 9)))


# --- Serving from first principles -----------------------------------------------------------
#
# Calibration of the defaults (each is a starting point; a measured throughput replaces it):
#
# * serve_mfu = 0.5 — achieved fraction of the dense peak while encoding / prefilling. NVIDIA's
#   TensorRT BERT demo reports BERT-base (110 M parameters), sequence 128, batch 128, FP16 on an
#   A100-40GB at 8,045 sequences/s: 8,045 × 2 × 110e6 × 128 / 312e12 ≈ 0.73 of the peak. Pope et
#   al., "Efficiently Scaling Transformer Inference" (MLSys 2023) reach 0.76 during large-batch
#   prefill of PaLM 540B. 0.5 leaves room for smaller batches, padding and a serving stack less
#   tuned than a vendor benchmark (the TensorRT figure is reproduced within 31 % by it).
# * serve_mbu = 0.6 — achieved fraction of the memory bandwidth while decoding. Databricks /
#   MosaicML, "LLM Inference Performance Engineering: Best Practices" (2023) define MBU and work
#   their example at 0.5; optimised stacks (vLLM, TensorRT-LLM) are reported at 0.6–0.85.
# * overhead = 1.2 — memory for weights plus 20 % for activations and cache: EleutherAI,
#   "Transformer Math 101" (Anthony, Biderman, Bekman, 2023): total inference memory ≈ 1.2 ×
#   model memory.
#
# Each can be off by a factor of about two for a given deployment (batching, sequence length,
# kernels, quantisation); the checks warn when a typed number is physically impossible.

SERVE_MFU = 0.5
SERVE_MBU = 0.6
MEMORY_OVERHEAD = 1.2


def infer_flops(
    params: ArrayLike, tokens: ArrayLike, flops_per_param_token: ArrayLike = 2
) -> Float:
    """Inference (forward-pass) compute ``FLOP = factor × params × tokens``.

    Parameters
    ----------
    params : model parameters (count, > 0).
    tokens : tokens read or generated (count, > 0).
    flops_per_param_token : 2 for a forward pass (one multiply-add per parameter per token;
        Kaplan et al. 2020, section 2.1) (default 2).

    Examples
    --------
    BERT-base (110 M) reading one sequence of 128 tokens:

    >>> f"{float(infer_flops(110e6, 128)):.4g}"
    '2.816e+10'
    """
    return _f(flops_per_param_token) * _f(params) * _f(tokens)


def serve_qps(
    params: ArrayLike, tokens_per_request: ArrayLike, peak_tflops: ArrayLike, mfu: ArrayLike = 0.5
) -> Float:
    """Compute-bound requests per second of one GPU: ``peak·10¹²·mfu / (2·params·tokens)``.

    Parameters
    ----------
    params : model parameters (count, > 0).
    tokens_per_request : tokens the model processes per request — tokens per scored item ×
        items per request, plus generated tokens (count, > 0).
    peak_tflops : dense BF16/FP16 peak of one GPU (TFLOP/s, > 0).
    mfu : achieved fraction of the peak, in (0, 1] (default 0.5; see the module notes).

    Examples
    --------
    NVIDIA's TensorRT BERT-base figure (A100-40GB, sequence 128, FP16: 8,045 sequences/s) at
    its implied MFU, and with the default:

    >>> mfu = 8045 * 2 * 110e6 * 128 / 312e12
    >>> round(mfu, 3), round(float(serve_qps(110e6, 128, 312, mfu)))
    (0.726, 8045)
    >>> round(float(serve_qps(110e6, 128, 312)))
    5540
    """
    return _f(peak_tflops) * 1e12 * _f(mfu) / (2.0 * _f(params) * _f(tokens_per_request))


def decode_qps(
    params: ArrayLike,
    output_tokens: ArrayLike,
    bandwidth_tbs: ArrayLike,
    batch: ArrayLike = 1,
    bytes_per_param: ArrayLike = 2,
    mbu: ArrayLike = 0.6,
) -> Float:
    """Bandwidth-bound requests per second of one GPU while generating.

    Each decode step reads all weights once: steps/s ``= mbu·bandwidth·10¹² / (params·bytes)``;
    requests/s ``= steps/s × batch / output_tokens``.

    Parameters
    ----------
    params : model parameters (count, > 0).
    output_tokens : generated tokens per request (count, > 0).
    bandwidth_tbs : memory bandwidth of one GPU (TB/s, > 0).
    batch : sequences decoded together (count, > 0; default 1).
    bytes_per_param : 2 FP16/BF16, 1 INT8/FP8, 0.5 INT4 (default 2).
    mbu : achieved fraction of the bandwidth, in (0, 1] (default 0.6; see the module notes).

    Examples
    --------
    A 7B model in BF16 on an H100 (3.35 TB/s) writing 100 tokens, one sequence at a time:
    0.6 × 3.35e12 / 14e9 ≈ 143.6 steps/s, so 1.436 requests/s:

    >>> round(float(decode_qps(7e9, 100, 3.35)), 3)
    1.436
    """
    steps = _f(mbu) * _f(bandwidth_tbs) * 1e12 / (_f(params) * _f(bytes_per_param))
    return steps * _f(batch) / _f(output_tokens)


def fit_gpus(
    params: ArrayLike,
    memory_gb: ArrayLike,
    bytes_per_param: ArrayLike = 2,
    overhead: ArrayLike = 1.2,
) -> Float:
    """GPUs one replica needs to hold the model: ``⌈overhead·params·bytes / (memory·10⁹)⌉``.

    Parameters
    ----------
    params : model parameters (count, > 0).
    memory_gb : memory of one GPU (GB, > 0).
    bytes_per_param : 2 FP16/BF16, 1 INT8/FP8, 0.5 INT4 (default 2).
    overhead : weights plus activations and cache (default 1.2; see the module notes).

    Examples
    --------
    A 70B model in BF16 on 80 GB GPUs: 1.2 × 140 GB = 168 GB, so 3 GPUs:

    >>> float(fit_gpus(70e9, 80))
    3.0
    >>> float(fit_gpus(7e9, 24))   # 16.8 GB on a 24 GB L4
    1.0
    """
    ratio = _f(overhead) * _f(params) * _f(bytes_per_param) / (_f(memory_gb) * 1e9)
    return np.ceil(np.round(ratio, 9))


def latency_ms(
    params: ArrayLike,
    tokens_per_request: ArrayLike,
    output_tokens: ArrayLike,
    peak_tflops: ArrayLike,
    bandwidth_tbs: ArrayLike,
    mfu: ArrayLike = 0.5,
    bytes_per_param: ArrayLike = 2,
    mbu: ArrayLike = 0.6,
) -> Float:
    """Batch-1 latency lower bound of one request on one GPU, in milliseconds.

    ``encode FLOPs / (peak·mfu) + output tokens × weight bytes / (bandwidth·mbu)``, with encode
    FLOPs ``= 2·params·tokens_per_request`` and weight bytes ``= params·bytes_per_param``.
    Queueing, network and batching delays come on top; a replica of several GPUs (tensor
    parallel) divides it by at most their number.

    Parameters
    ----------
    params : model parameters (count, > 0).
    tokens_per_request : tokens read per request (items × tokens per item) (count, ≥ 0).
    output_tokens : generated tokens per request (count, ≥ 0).
    peak_tflops : dense peak of one GPU (TFLOP/s, > 0).
    bandwidth_tbs : memory bandwidth of one GPU (TB/s, > 0).
    mfu, bytes_per_param, mbu : as in :func:`serve_qps` and :func:`decode_qps`.

    Examples
    --------
    BERT-base scoring 100 candidates of 128 tokens on an L4 (121 TFLOP/s, 0.3 TB/s):
    2 × 110e6 × 12,800 / (121e12 × 0.5) = 46.5 ms:

    >>> round(float(latency_ms(110e6, 12800, 0, 121, 0.3)), 1)
    46.5
    """
    encode = 2.0 * _f(params) * _f(tokens_per_request) / (_f(peak_tflops) * 1e12 * _f(mfu))
    decode = (
        _f(output_tokens) * _f(params) * _f(bytes_per_param) / (_f(bandwidth_tbs) * 1e12 * _f(mbu))
    )
    return 1000.0 * (encode + decode)
