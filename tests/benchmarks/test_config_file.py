import pytest

from hicra.benchmarks.config_file import load_run_file
from hicra.benchmarks.errors import UsageError


def test_toml_and_yaml_files_give_the_same_settings(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('steps = 7\nenv_kwargs = { difficulty = 2 }\n[agent]\nname = "grpo"\nalpha = 0.3\n')
    yml = tmp_path / "run.yaml"
    yml.write_text("steps: 7\nenv_kwargs: {difficulty: 2}\nagent: {name: grpo, alpha: 0.3}\n")
    for path in (toml, yml):
        run = load_run_file(path)
        assert run.train == {"steps": 7, "env_kwargs": {"difficulty": 2}}
        assert run.agent == {"alpha": 0.3} and run.agent_name == "grpo"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("stesp = 3\n", "unknown train key 'stesp'; did you mean 'steps'?"),
        ("[agent]\nalpah = 0.1\n", "unknown agent key 'alpah'; did you mean 'alpha'?"),
        ("steps = \n", "not valid TOML"),
    ],
)
def test_bad_files_are_usage_errors_naming_the_problem(tmp_path, text, needle):
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=needle.replace("?", r"\?")):
        load_run_file(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UsageError, match="config file not found"):
        load_run_file(tmp_path / "nope.toml")
