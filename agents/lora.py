"""LoRA and QLoRA through peft: the config, adapting a model, the base model as KL reference, merged weights.

The policy's model stays a transformers causal LM: peft injects its LoRA layers in place (``get_peft_model``), so
everything that runs ``policy.model`` (sampling, scoring, DDP, FSDP2) runs the adapted model, and only the adapter
weights take gradients. :attr:`hicra.agents.policy.Policy.adapter` keeps peft's ``PeftModel`` wrapper, which disables
the adapters (the KL reference: the base model, without a second copy) and saves them.

Which combinations work (tested on CPU / gloo): one process, DDP and FSDP2 (``fully_shard`` per decoder layer:
FSDP2 shards frozen and trainable parameters alike, so adapters and base share a unit); checkpoints hold the adapter
and optimiser state only (FSDP2: the trainable shards, through DCP); the vLLM engine gets the merged weights
``W + scale * B A`` after every step. QLoRA (a 4-bit NF4 base, bitsandbytes) needs a CUDA GPU.

Importing this module loads neither torch nor peft.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
"""The file that makes a folder a peft adapter (``hicra eval --model DIR``)."""
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_PEFT_PREFIX = "base_model.model."
"""peft's ``save_pretrained`` names the adapter weights from the ``PeftModel``, whose base model sits here."""
INIT_SEED = 0
"""Seed of the adapters' random initialisation (peft's Kaiming-uniform ``A``), drawn on a forked RNG."""
INSTALL_HINT = "install the extra: pip install 'hicra[lora]' (peft)"


@dataclass(frozen=True)
class LoraConfig:
    """Low-rank adapters (peft's ``LoraConfig``) on the policy; the base weights stay frozen.

    Set it with ``--set train.lora.r=16`` (any field; the others keep these defaults, which are peft's).
    """

    r: int = 8
    """Rank of each adapter (peft's default 8)."""
    alpha: float = 8.0
    """Scale numerator: an adapter adds ``(alpha / r) * B A`` to its weight (peft's ``lora_alpha``, default 8)."""
    dropout: float = 0.0
    """Dropout on the adapter's input in train mode (peft's ``lora_dropout``, default 0). hicra samples, scores and
    updates in eval mode (old and new log-probs come from one function), so in its loop it is inactive."""
    target_modules: tuple[str, ...] | str | None = None
    """Module names to adapt (``("q_proj", "v_proj")``, or ``"all-linear"``); None: peft's default for the
    architecture (``q_proj``, ``v_proj`` for Llama, Qwen2, Mistral, Gemma). On the command line a comma list:
    ``--set train.lora.target_modules=q_proj,k_proj,v_proj,o_proj``."""
    load_in_4bit: bool = False
    """QLoRA: the frozen base loaded in 4-bit NF4 (transformers' ``BitsAndBytesConfig``, double quantisation, compute
    in the policy's dtype). Needs a CUDA GPU and bitsandbytes; on a CPU it is an error."""

    def __post_init__(self) -> None:
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise ValueError(f"lora.r: expected an integer >= 1, got {self.r!r}")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1e6:
            raise ValueError(f"lora.alpha: expected a number in (0, 1e6), got {alpha!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise ValueError(f"lora.dropout: expected a value in [0, 1), got {self.dropout!r}")
        if not isinstance(self.load_in_4bit, bool):
            raise ValueError(f"lora.load_in_4bit: expected true or false, got {self.load_in_4bit!r}")
        object.__setattr__(self, "target_modules", _targets(self.target_modules))


def _targets(value: object) -> tuple[str, ...] | str | None:
    """None, ``"all-linear"``, or a tuple of module names from a list or a comma-separated string."""
    if value is None or value == "all-linear":
        return value
    items = [s.strip() for s in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items or not all(isinstance(s, str) and s for s in items):
        raise ValueError(
            f"lora.target_modules: expected module names (a list or 'q_proj,v_proj'), 'all-linear' or none, "
            f"got {value!r}"
        )
    return tuple(items)


def lora_from_value(value: Any) -> LoraConfig | None:
    """The ``train.lora`` of a run file or ``config.json``: a table of :class:`LoraConfig` fields, ``true`` (all
    defaults), ``false``/None (full fine-tuning) or a :class:`LoraConfig`. Unknown fields are a ``KeyError``."""
    if value is None or value is False:
        return None
    if value is True:
        return LoraConfig()
    if isinstance(value, LoraConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"lora: expected a table of LoRA fields (e.g. lora.r=16), true or false, got {value!r}")
    known = list(LoraConfig.__dataclass_fields__)
    for key in value:
        if key not in known:
            raise KeyError(f"unknown lora field {key!r}; expected one of: {', '.join(known)}")
    return LoraConfig(**value)


def check_qlora_device(config: LoraConfig | None, device_type: str) -> None:
    """QLoRA on anything but a CUDA device: the one clear error (before any model is loaded)."""
    if config is not None and config.load_in_4bit and device_type != "cuda":
        raise ValueError(
            f"lora.load_in_4bit: QLoRA (a 4-bit bitsandbytes base) expects a CUDA GPU, got device {device_type!r}; "
            "use train.device=cuda on a GPU machine, or plain LoRA (train.lora.load_in_4bit=false) on this one"
        )


def quantization_config(config: LoraConfig, dtype) -> Any:
    """transformers' ``BitsAndBytesConfig`` of QLoRA (NF4, double quantisation, compute in ``dtype``)."""
    import importlib.util

    from transformers import BitsAndBytesConfig

    if importlib.util.find_spec("bitsandbytes") is None:
        raise ValueError("lora.load_in_4bit: QLoRA needs bitsandbytes; pip install bitsandbytes (CUDA)")
    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype
    )


def add_lora(model, config: LoraConfig, *, base_name: str | None = None):
    """Inject ``config``'s adapters into ``model`` in place (peft ``get_peft_model``) and return the ``PeftModel``.

    ``model`` (``PeftModel.get_base_model()``) keeps its class; its base weights are frozen, the adapters trainable
    (``B`` starts at zero, so the adapted model starts equal to the base; ``A`` is drawn from :data:`INIT_SEED`, so
    equal configs start from equal adapters whatever the global RNG). ``base_name`` is recorded as the adapter's
    base model (what ``hicra eval --model ADAPTER_DIR`` loads).
    """
    peft = _peft()
    if config.load_in_4bit:
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    targets = config.target_modules
    peft_config = peft.LoraConfig(
        task_type="CAUSAL_LM", r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
        target_modules=list(targets) if isinstance(targets, tuple) else targets,
    )  # fmt: skip
    import torch

    with torch.random.fork_rng(devices=list(range(torch.cuda.device_count()))):  # same adapters, global RNG untouched
        torch.manual_seed(INIT_SEED)
        adapted = peft.get_peft_model(model, peft_config)
    if base_name is not None:
        adapted.peft_config["default"].base_model_name_or_path = base_name
    trainable, total = count_parameters(model)
    log.info("LoRA r=%d on %s: %d trainable of %d parameters", config.r, peft_config.target_modules, trainable, total)
    return adapted


def _peft():
    try:
        import peft
    except ImportError as err:
        raise ValueError(f"LoRA adapters need peft; {INSTALL_HINT}") from err
    return peft


def count_parameters(model) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts (whole tensors also when FSDP2 shards them)."""
    trainable = total = 0
    for p in model.parameters():
        n = p.numel()
        total += n
        trainable += n if p.requires_grad else 0
    return trainable, total


def has_adapters(model) -> bool:
    """Whether peft injected adapters into ``model`` (it records them in ``model.peft_config``)."""
    return bool(getattr(model, "peft_config", None))


@contextmanager
def adapters_disabled(adapter) -> Iterator[None]:
    """Run the base model: ``adapter`` (a ``PeftModel``) with its adapter layers off for the duration."""
    with adapter.disable_adapter():
        yield


class WithoutAdapters:
    """A scorer run with the LoRA adapters of ``adapter`` (a ``PeftModel``) disabled: the base model's scores (the
    KL reference of a LoRA policy, the same model object)."""

    def __init__(self, scorer, adapter) -> None:
        self.scorer, self.adapter = scorer, adapter

    def __call__(self, *args, **kwargs):
        with adapters_disabled(self.adapter):
            return self.scorer(*args, **kwargs)


def with_adapters(model, base_name: str, lora: LoraConfig | None, adapter: str | None):
    """``(model, PeftModel | None)``: fresh trainable adapters (``lora``), or a saved adapter folder merged in (a
    plain model back), or ``model`` as it is."""
    if lora is not None:
        peft_model = add_lora(model, lora, base_name=base_name)
        return peft_model.get_base_model(), peft_model
    if adapter is None:
        return model, None
    if not is_adapter_dir(adapter):
        raise ValueError(f"adapter: expected a folder with adapter_config.json (a saved peft adapter), got {adapter!r}")
    merged = _peft().PeftModel.from_pretrained(model, adapter).merge_and_unload()
    log.info("merged the adapter %s into %s", adapter, base_name)
    return merged.eval(), None


def is_adapter_dir(path: str | Path) -> bool:
    """A folder holding a saved peft adapter (``adapter_config.json``)."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base(path: str | Path) -> str:
    """The base model an adapter folder was trained on (its ``base_model_name_or_path``)."""
    import json

    base = json.loads((Path(path) / ADAPTER_CONFIG).read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{path}: expected base_model_name_or_path in {ADAPTER_CONFIG}, got none; pass --adapter")
    return base


def save_adapter(model, folder: Path) -> None:
    """Write ``model``'s adapters as peft's ``save_pretrained`` does (``adapter_config.json`` and
    ``adapter_model.safetensors``), from the adapted transformers model itself."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = get_peft_model_state_dict(model, save_embedding_layers=False)  # adapters only; no hub lookup
    save_file({_PEFT_PREFIX + k: v.detach().contiguous() for k, v in state.items()}, folder / ADAPTER_WEIGHTS,
              metadata={"format": "pt"})  # fmt: skip
    model.peft_config["default"].save_pretrained(str(folder))


def load_adapter_state(folder: Path) -> dict:
    """The adapter weights of a folder :func:`save_adapter` (or peft) wrote, named as peft names them."""
    from safetensors.torch import load_file

    return load_file(folder / ADAPTER_WEIGHTS)


def restore_adapter(model, state: dict) -> None:
    """Load adapter weights (:func:`load_adapter_state`) into ``model``'s adapters, exactly; ``ValueError`` when
    they do not match ``model``'s adapters."""
    from peft import set_peft_model_state_dict

    stripped = {k.removeprefix(_PEFT_PREFIX): v for k, v in state.items()}
    expected = {k for k, p in model.named_parameters() if p.requires_grad}
    result = set_peft_model_state_dict(model, stripped)
    missing = [k for k in result.missing_keys if k in expected]
    if result.unexpected_keys or missing or len(stripped) != len(expected):
        raise ValueError(
            f"expected adapter weights for the {len(expected)} adapter tensors of this model, got {len(stripped)} "
            f"(missing {missing[:3]}, unexpected {list(result.unexpected_keys)[:3]}): was the run's lora config "
            "changed?"
        )


def merged_state_dict(model, state: dict) -> dict:
    """``state`` (``model``'s full state dict) with every LoRA layer merged: ``W + scaling * B @ A`` under the base
    layer's name, the adapter tensors dropped; the names and weights of the plain model (what vLLM loads).

    Computed out of place: the trainer's base weights are never touched (merging in place and back drifts them).
    """
    import torch
    from peft.tuners.lora import Linear as LoraLinear
    from peft.tuners.lora import LoraLayer

    layers = {_clean(name): m for name, m in model.named_modules() if isinstance(m, LoraLayer)}
    out = {}
    for key, value in state.items():
        if ".lora_" in key:
            continue
        prefix, base, _ = key.rpartition(".base_layer.")
        if not base or prefix not in layers:
            out[key] = value
            continue
        suffix = key.rsplit(".", 1)[1]
        layer, out_key = layers[prefix], f"{prefix}.{suffix}"
        if suffix != "weight":  # the base layer's bias: unchanged
            out[out_key] = value
            continue
        if not isinstance(layer, LoraLinear) or layer.fan_in_fan_out:
            raise ValueError(f"{prefix}: merging supports LoRA on nn.Linear only, got {type(layer).__name__}")
        a, b = state[f"{prefix}.lora_A.default.weight"], state[f"{prefix}.lora_B.default.weight"]
        delta = (b.to(torch.float32) @ a.to(torch.float32)) * layer.scaling["default"]
        out[out_key] = (value.to(torch.float32) + delta).to(value.dtype)
    return out


def _clean(name: str) -> str:
    """A module name as state-dict keys spell it (without activation-checkpointing and FSDP wrapper parts)."""
    for part in ("_checkpoint_wrapped_module.", "_fsdp_wrapped_module."):
        name = name.replace(part, "")
    return name
