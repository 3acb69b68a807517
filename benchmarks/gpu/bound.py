"""The memory-bandwidth bound of generation: decoding is limited by the bytes it must read per token.

One decode step of a batch of ``B`` sequences reads every weight once (shared by the batch) and each sequence's
KV cache (its context so far), and yields ``B`` tokens. A GPU reading ``bandwidth`` bytes/s therefore generates at
most ``B * bandwidth / (weight_bytes + B * mean_context * kv_bytes_per_token)`` tokens/s. The bound ignores
compute, the prefill (which reads the weights once for the whole prompt) and activations, so it is generous:
real throughput is below it, and the measured / bound ratio says how close an engine comes.
"""

from __future__ import annotations

BANDWIDTH_GB_S: dict[str, float] = {
    "NVIDIA H200": 4800,
    "NVIDIA H100 80GB HBM3": 3350,
    "NVIDIA H100 NVL": 3900,
    "NVIDIA H100 PCIe": 2000,
    "NVIDIA A100-SXM4-80GB": 2039,
    "NVIDIA A100 80GB PCIe": 1935,
    "NVIDIA A100-SXM4-40GB": 1555,
    "NVIDIA A100-PCIE-40GB": 1555,
    "NVIDIA L40S": 864,
    "NVIDIA L4": 300,
    "NVIDIA A10G": 600,
    "NVIDIA A10": 600,
    "NVIDIA GeForce RTX 4090": 1008,
    "NVIDIA GeForce RTX 3090": 936,
    "Tesla V100-SXM2-32GB": 900,
    "Tesla V100-SXM2-16GB": 900,
    "Tesla T4": 320,
}
"""``torch.cuda.get_device_name()`` -> peak memory bandwidth in GB/s (10^9 bytes/s), from the vendors' data sheets."""


def bandwidth_gb_s(device_name: str, override: float | None = None) -> float:
    """The GPU's memory bandwidth in GB/s: ``override`` when given, else :data:`BANDWIDTH_GB_S` by exact name,
    else the longest table name the device name starts with (``"NVIDIA H200 NVL"`` -> ``"NVIDIA H200"``)."""
    if override is not None:
        if override <= 0:
            raise ValueError(f"bandwidth: expected GB/s > 0, got {override}")
        return float(override)
    if device_name in BANDWIDTH_GB_S:
        return BANDWIDTH_GB_S[device_name]
    prefixes = [name for name in BANDWIDTH_GB_S if device_name.startswith(name)]
    if not prefixes:
        raise KeyError(
            f"no memory bandwidth known for {device_name!r}: pass --bandwidth-gb-s (GB/s from its data sheet); "
            f"known: {', '.join(BANDWIDTH_GB_S)}"
        )
    return BANDWIDTH_GB_S[max(prefixes, key=len)]


def mean_context(prompt_tokens: int, new_tokens: int) -> float:
    """Mean context a decode step attends over: the k-th new token (k = 1..T) reads ``P + k - 1`` cached tokens."""
    return prompt_tokens + (new_tokens - 1) / 2


def decode_bound_tokens_per_s(
    *, weight_bytes: int, kv_bytes_per_token: int, batch: int, context: float, bandwidth_gb_s: float
) -> float:
    """Upper bound on generated tokens/s: ``B * bandwidth / (weight_bytes + B * context * kv_bytes_per_token)``."""
    bytes_per_step = weight_bytes + batch * context * kv_bytes_per_token
    return batch * bandwidth_gb_s * 1e9 / bytes_per_step
