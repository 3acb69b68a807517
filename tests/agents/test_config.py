import pytest

from hicra.agents.config import AgentConfig, TrainConfig, config_from_dict


def test_agent_config_defaults_follow_the_paper():
    cfg = AgentConfig()
    assert (cfg.alpha, cfg.eps_low, cfg.eps_high, cfg.aggregation) == (0.2, 0.2, 0.28, "token_mean")
    assert cfg.kl_coef == 0.0 and cfg.normalize_std is False


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("alpha", -0.1, "alpha: expected a value in [0.0, 10.0], got -0.1"),
        ("eps_low", 1.5, "eps_low"),
        ("rho", 0.0, "rho: expected a value in (0.0, 1.0]"),
        ("aggregation", "token_means", "did you mean 'token_mean'"),
        ("entropy_coef", float("nan"), "entropy_coef"),
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
        ("lr", -1.0),
        ("dtype", "fp16"),
    ],
)
def test_train_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_config_from_dict_suggests_the_closest_key():
    with pytest.raises(ValueError, match="unknown TrainConfig key 'group_sise'; did you mean 'group_size'"):
        config_from_dict(TrainConfig, {"group_sise": 4})
    assert config_from_dict(TrainConfig, {"group_size": 4}).group_size == 4
