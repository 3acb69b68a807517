"""The folders install under the `hicra` namespace, and a foreign top-level `verifiers` changes nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FOLDER_TO_IMPORT = {"verifiers": "hicra.verifiers", "agents": "hicra.agents", "benchmarks": "hicra.benchmarks"}


def test_every_package_folder_is_listed_in_pyproject():
    """Code folders (with __init__.py) and data folders (package-data) alike, so installs are quiet."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set(config["package-data"])
    for top in ("hicra_env", "verifiers", "agents", "benchmarks"):
        for init in (REPO_ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO_ROOT).parts
            name = FOLDER_TO_IMPORT.get(rel[0], rel[0])
            found.add(".".join((name, *rel[1:])))
    assert found == listed, f"pyproject packages differ from folders: missing {found - listed}, stale {listed - found}"


def test_hicra_verifiers_resolves_to_this_repo_despite_a_foreign_verifiers_module(tmp_path):
    foreign = tmp_path / "verifiers.py"
    foreign.write_text("FOREIGN = True\n")
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import verifiers
        import hicra.verifiers as hv
        assert verifiers.FOREIGN is True, verifiers.__file__
        print(hv.__file__)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    resolved = Path(out.stdout.strip()).resolve()
    assert resolved.is_relative_to(REPO_ROOT / "verifiers") or "site-packages" in resolved.parts, resolved
    assert resolved.name == "__init__.py"


def test_all_public_packages_import():
    for name in ("hicra_env", "hicra.verifiers", "hicra.agents", "hicra.benchmarks"):
        subprocess.run([sys.executable, "-c", f"import {name}"], check=True, cwd=REPO_ROOT.parent)
