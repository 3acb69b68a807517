"""Prompt templates: named, versioned, selectable, model-agnostic."""

from __future__ import annotations

import pytest

from hicra_env.templates import BOXED_INSTRUCTION, TEMPLATES, PromptTemplate, get_template


def test_builtin_templates_format_the_problem():
    assert get_template("plain-v1").format("What is 2 + 2?") == "What is 2 + 2?"
    assert get_template("boxed-v1").format("Q?") == "Q?\n\n" + BOXED_INSTRUCTION
    assert BOXED_INSTRUCTION == "Please reason step by step, and put your final answer within \\boxed{}."
    fewshot = get_template("fewshot-v1").format("Q?")
    assert fewshot.count("Problem: ") == 3 and fewshot.count("\\boxed{") == 3 and "Problem: Q?" in fewshot
    assert "<|" not in fewshot  # no chat tokens


def test_bare_names_pick_the_newest_version_and_objects_pass_through():
    assert get_template("boxed") is TEMPLATES["boxed-v1"]
    custom = PromptTemplate("mine", 2, prefix="Solve: ")
    assert get_template(custom) is custom and custom.key == "mine-v2"


def test_unknown_templates_name_the_known_ones():
    with pytest.raises(ValueError, match="unknown prompt template 'boxd-v1'; expected one of: boxed-v1, fewshot-v1"):
        get_template("boxd-v1")
    with pytest.raises(TypeError, match="got int"):
        get_template(1)
    with pytest.raises(ValueError, match="version must be >= 1"):
        PromptTemplate("x", 0)
