"""Every docstring example in the packages runs (doctest), and the light packages stay free of torch."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

PACKAGES = ("hicra_env", "hicra.verifiers", "hicra.agents", "hicra.benchmarks")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")]
    return names


MODULES_WITH_EXAMPLES = [
    name for name in _modules() if ">>>" in (importlib.util.find_spec(name).loader.get_source(name) or "")
]


def test_some_modules_have_examples():
    expected = {"hicra.verifiers", "hicra.verifiers.normalize", "hicra.agents.advantages", "hicra.agents.sampling"}
    assert expected <= set(MODULES_WITH_EXAMPLES)


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


@pytest.mark.parametrize("package", ["hicra_env", "hicra.verifiers"])
def test_light_packages_import_no_torch_or_transformers(package):
    code = f"import sys, {package}; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", f"importing {package} loaded {out.stdout.strip()}"


def test_light_packages_run_an_episode_without_torch():
    code = (
        "import sys, gymnasium as gym, hicra_env; env = gym.make('hicra/Arithmetic-v0'); env.reset(seed=0); "
        "env.step('\\\\boxed{1}'); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
