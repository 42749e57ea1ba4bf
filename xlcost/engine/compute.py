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

__all__ = ["SECONDS_PER_HOUR", "replicas", "train_flops", "train_hours"]

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
