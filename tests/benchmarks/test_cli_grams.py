"""``hicra grams build`` and ``hicra train --grams``: flags to a MiningConfig, the outputs, one-line errors (exit 2).

The embedder is replaced by a deterministic fake (one axis per concept) so the command's results are exact and fast;
the real model is exercised in tests/agents/test_gram_mining.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import hicra.agents.gram_mining as gram_mining
from hicra.benchmarks.cli import main
from hicra.benchmarks.cli.grams import mining_config
from hicra.benchmarks.cli.parser import build_parser

_CONCEPT = {"let me think": 0, "let us think": 0, "so we check": 1, "red green blue": 2}
_DOCS = [
    "Let me think. Let us think. Red green blue.",
    "Let me think. Cyan magenta yellow.",
    "Let us think. Red green blue.",
    "Let us think. One two three.",
    "So we check. Red green blue.",
]


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def fake_embedder(monkeypatch):
    """``sentence_embedder`` replaced: one axis per concept of ``_CONCEPT``, any other n-gram its own axis."""
    names = []

    def make(model, *, device, batch_size):
        names.append((model, device, batch_size))

        def embed(ngrams):
            out = np.zeros((len(ngrams), 32))
            for i, g in enumerate(ngrams):
                out[i, _CONCEPT.get(g, 4 + i)] = 1.0
            return out

        return embed

    monkeypatch.setattr(gram_mining, "sentence_embedder", make)
    return names


def _rollouts(run_dir, correct=(True,) * 5):
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = [{"text": t, "correct": c, "reward": float(c)} for t, c in zip(_DOCS, correct, strict=True)]
    (run_dir / "rollouts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return run_dir


def test_build_from_a_run_folder_writes_the_lexicon_and_report(tmp_path, fake_embedder, capsys):
    run = _rollouts(tmp_path / "run")
    argv = ["grams", "build", "--from", str(run), "--out", str(tmp_path / "out"), "--min-n", "3", "--max-n", "3",
            "--min-df", "1", "--min-solutions", "5", "--embedder", "my/model", "--batch-size", "7", "-q"]  # fmt: skip
    assert main(argv) == 0
    assert fake_embedder == [("my/model", "cpu", 7)]
    lexicon = tmp_path / "out" / "lexicon.json"
    assert sorted(json.loads(lexicon.read_text())) == ["let me think", "let us think"]
    assert (tmp_path / "out" / "report.md").is_file() and (tmp_path / "out" / "report.json").is_file()
    out = capsys.readouterr().out
    assert f"2 grams from the top 1 of 5 clusters (5 successful solutions): {lexicon}" in out
    assert f"hicra train --grams {lexicon}" in out


def test_flags_become_one_mining_config():
    args = build_parser().parse_args(
        ["grams", "build", "--from", "x", "--out", "y", "--n-clusters", "8", "--top-fraction", "0.3",
         "--min-cdf", "0.1", "--keep-numeric", "--linkage", "complete", "--min-reward", "0.5"]
    )  # fmt: skip
    config = mining_config(args)
    assert (config.n_clusters, config.distance_threshold, config.top_fraction, config.min_cdf) == (8, None, 0.3, 0.1)
    assert (config.drop_numeric, config.linkage, config.min_reward) == (False, "complete", 0.5)
    defaults = mining_config(build_parser().parse_args(["grams", "build", "--from", "x", "--out", "y"]))
    assert defaults == gram_mining.MiningConfig()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["grams"], "hicra grams: error: expected an action: build"),
        (["grams", "biuld"], "did you mean 'build'?"),
        (["grams", "build", "--out", "o"], "the following arguments are required: --from"),
        (["grams", "build", "--from", "f", "--out", "o", "--top-fracton", "0.3"], "did you mean '--top-fraction'?"),
        (["grams", "build", "--from", "f", "--out", "o", "--top-fraction", "0"], "expected a number in (0, 1], got 0"),
        (["grams", "build", "--from", "f", "--out", "o", "--min-cdf", "x"], "expected a number, got 'x'"),
        (
            ["grams", "build", "--from", "f", "--out", "o", "--n-clusters", "3", "--distance-threshold", "0.4"],
            "expected exactly one of distance_threshold and n_clusters",
        ),
        (["grams", "build", "--from", "/no/such.jsonl", "--out", "o"], "which does not exist"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    line = _error_line(capsys)
    assert expected in line and line.startswith("hicra")


def test_too_few_successful_solutions_names_how_many_it_needs(tmp_path, fake_embedder, capsys):
    run = _rollouts(tmp_path / "run", correct=(True, False, True, False, False))
    assert main(["grams", "build", "--from", str(run), "--out", str(tmp_path / "o"), "--min-solutions", "3"]) == 2
    line = _error_line(capsys)
    assert line.startswith("hicra grams: error: ") and line.endswith(
        "rollouts.jsonl: expected at least 3 successful solutions to mine grams (min_solutions), got 2 of 5"
    )
    assert fake_embedder == []  # it failed before loading a model


def test_a_malformed_corpus_is_one_line(tmp_path, capsys):
    (tmp_path / "s.jsonl").write_text('{"text": "a"}\nnot json\n', encoding="utf-8")
    assert main(["grams", "build", "--from", str(tmp_path / "s.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "s.jsonl:2: expected one JSON object a line, got 'not json'" in _error_line(capsys)


def test_train_grams_flag_sets_train_grams(tmp_path):
    from hicra.benchmarks.cli.train import run_config

    args = build_parser().parse_args(["train", "--grams", str(tmp_path / "lexicon.json"), "--steps", "2"])
    assert run_config(args).train.grams == str(tmp_path / "lexicon.json")
    assert run_config(build_parser().parse_args(["train"])).train.grams is None


def test_help_lists_grams_and_its_options(capsys):
    assert main(["--help"]) == 0
    assert "grams" in capsys.readouterr().out
    assert main(["grams", "build", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--top-fraction" in out and "--distance-threshold" in out and "--min-cdf" in out
