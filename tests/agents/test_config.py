import math

import pytest

from hicra.agents.config import AgentConfig, TrainConfig


def test_agent_config_defaults_follow_the_paper():
    from hicra.agents import make_agent

    assert AgentConfig().entropy_coef is None and AgentConfig().eps_high is None  # the agent's own (see test_agents)
    cfg = make_agent("hicra").config
    assert (cfg.alpha, cfg.eps_low, cfg.eps_high, cfg.aggregation) == (0.2, 0.2, 0.28, "token_mean")
    assert cfg.kl_coef == 0.0 and cfg.normalize_std is False and make_agent("grpo").config.normalize_std is False


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("alpha", -0.1, "alpha: expected a value in [0.0, inf], got -0.1"),
        ("alpha", math.inf, "alpha: expected a value in [0.0, inf], got inf"),
        ("eps_low", 1.5, "eps_low"),
        ("rho", 0.0, "rho: expected a value in (0.0, 1.0]"),
        (
            "aggregation",
            "token_means",
            "aggregation: expected one of: token_mean, seq_mean_token_mean, seq_mean_token_sum_norm, got 'token_means'",
        ),
        ("entropy_tokens", "top", "entropy_tokens: expected one of: matched, top_fraction, got 'top'"),
        ("entropy_coef", float("nan"), "entropy_coef"),
        ("tis_cap", -1.0, "tis_cap"),
    ],
)
def test_agent_config_rejects_out_of_range_values(field, value, needle):
    with pytest.raises(ValueError) as err:
        AgentConfig(**{field: value})
    assert needle in str(err.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("steps", 0),
        ("group_size", 1.5),
        ("temperature", 0.0),
        ("top_p", 1.2),
        ("top_k", -1),
        ("lr", -1.0),
        ("dtype", "fp16"),
        ("checkpoint_minutes", -1.0),
        ("keep_checkpoints", 0),
        ("parallelism", "fsdp2"),
        ("mixed_precision", "fp16"),
        ("activation_checkpointing", "yes"),
    ],
)
def test_train_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_checkpoints_are_periodic_by_default():
    cfg = TrainConfig()
    assert cfg.checkpoint_every > 0 and cfg.checkpoint_minutes > 0 and cfg.keep_checkpoints >= 2


def test_heldout_problems_need_a_fixed_training_set():
    with pytest.raises(ValueError, match=r"heldout_problems: expected env_kwargs\['num_problems'\]"):
        TrainConfig(heldout_problems=8)
    assert TrainConfig(heldout_problems=8, env_kwargs={"num_problems": 32}).heldout_problems == 8


def test_bf16_mixed_precision_needs_fsdp_over_float32_weights():
    assert TrainConfig().parallelism == "ddp" and TrainConfig().mixed_precision == "none"
    assert TrainConfig(parallelism="fsdp", mixed_precision="bf16").mixed_precision == "bf16"
    with pytest.raises(
        ValueError, match=r"mixed_precision: 'bf16' expects parallelism='fsdp' .* got parallelism='ddp'"
    ):
        TrainConfig(mixed_precision="bf16")
    with pytest.raises(ValueError, match=r"got parallelism='fsdp', dtype='bfloat16'"):
        TrainConfig(parallelism="fsdp", mixed_precision="bf16", dtype="bfloat16")
