"""Strategic Gram matching, planning-token masks with real (in-process) tokenizers, and ablation masks."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from hicra.agents.planning import GramMatch, StrategicGrams, planning_ratio

CORPUS = [
    "Let's break this down step by step. So the answer is 42.",
    "Wait, but we need to find x. Also, 3+4=7 and the butter costs 2.",
    "However, I’m not sure — maybe we can use the fact that x² = 4.",
    "Therefore the answer is \\boxed{7}.",
] * 10


# ---- tokenizers built in-process (no download) -------------------------------------------------------
def _byte_level() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tok.train_from_iterator(
        CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<eos>"], initial_alphabet=alphabet)
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>")


def _sentencepiece_like() -> PreTrainedTokenizerFast:
    """Llama-style: "▁" for spaces, <0xNN> byte-fallback tokens in the vocabulary, decoder strips one space."""
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>"))
    normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer_tok.normalizer = normalizer
    trainer_tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=150, special_tokens=["<unk>", "</s>"]))
    state = json.loads(trainer_tok.to_str())["model"]
    vocab = dict(state["vocab"])
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    tok = Tokenizer(models.BPE(vocab, merges, byte_fallback=True, unk_token="<unk>"))
    tok.normalizer = normalizer
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok.add_special_tokens(["<unk>", "</s>"])
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>")


def _bare_bpe() -> PreTrainedTokenizerFast:
    """A `tokenizers` BPE with no decoder: decode joins tokens with spaces (the slow exact path)."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    corpus = [*CORPUS, SENTENCE, SENTENCE]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "[EOS]"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="[EOS]", unk_token="[UNK]")


TOKENIZERS = {"byte_level": _byte_level, "sentencepiece": _sentencepiece_like, "bare_bpe": _bare_bpe}


@pytest.fixture(scope="module")
def grams() -> StrategicGrams:
    return StrategicGrams()


# ---- matching on text ---------------------------------------------------------------------------------
# (text, expected [(gram, start, end)]) marked by hand.
FIND_TABLE = [
    ("Alright, so we also need to find x.", [("alright", 0, 7), ("so", 9, 11), ("need to find", 20, 32)]),
    ("The BUTTER is not cheap, BUT it is good", [("but", 25, 28)]),  # "but" not in "butter"
    ("Let’s check our work", [("let's check our work", 0, 20)]),  # curly apostrophe, longest gram
    ("Hmm, WAIT.", [("hmm,", 0, 4), ("wait", 5, 9)]),
    ("But wait", [("but wait", 0, 8)]),  # nested "but" and "wait" are not repeated
    ("we need to find out how many", [("need to find", 3, 15), ("find out how many", 11, 28)]),  # overlap
    ("## Step 1: x=2, therefore", [("## step", 0, 7), ("therefore", 16, 25)]),  # start and very end
    ("alsobut sofa", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_TABLE)
def test_find_table(grams, text, expected):
    assert [(m.gram, m.start, m.end) for m in grams.find(text)] == expected


def test_spans_merge_overlaps(grams):
    assert grams.spans("we need to find out how many") == [(3, 28)]
    assert grams.find("so")[0] == GramMatch(0, 2, "so")


def test_default_lexicon_is_the_shared_list(grams, shared_data):
    shared = json.loads((shared_data / "hicra_strategic_grams.json").read_text(encoding="utf-8"))
    packaged = json.loads(resources.files("hicra.agents").joinpath("data/strategic_grams.json").read_text("utf-8"))
    assert packaged == shared  # the package data is an exact copy, in the paper's order
    assert len(grams) == 249 and sorted(grams.grams) == sorted(shared)


def test_user_lexicon_from_list_json_and_text(tmp_path):
    for source in (["Key Step", "so"], tmp_path / "g.json", tmp_path / "g.txt"):
        (tmp_path / "g.json").write_text(json.dumps(["Key Step", "so"]), encoding="utf-8")
        (tmp_path / "g.txt").write_text("Key Step\n\nso\n", encoding="utf-8")
        lexicon = StrategicGrams(source)
        assert sorted(lexicon.grams) == ["key step", "so"]
        assert [m.gram for m in lexicon.find("A KEY STEP, also so.")] == ["key step", "so"]


def test_lexicon_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"pass \['so'\]"):
        StrategicGrams("so")
    with pytest.raises(ValueError, match="at least one"):
        StrategicGrams([])
    with pytest.raises(ValueError, match="non-empty"):
        StrategicGrams(["so", "  "])
    with pytest.raises(TypeError, match="grams"):
        StrategicGrams(["so", 3])


# ---- token masks --------------------------------------------------------------------------------------
SENTENCE = "Alright, let’s think. Also, 漢字 x² = 4. So BUTTER but wait — the answer is 7. Therefore"
# hand-marked gram substrings (first occurrence each): "also", "butter", "漢字" must stay unmarked
HAND_MARKS = ["Alright", "let’s", "So", "but wait", "Therefore"]


def _exact_token_spans(tok, ids: list[int], text: str) -> list[tuple[int, int]]:
    """Reference spans from O(T^2) prefix decoding (independent of the library's byte accounting); a token
    that completes no character (a UTF-8 byte of a multi-byte character) is given that character."""
    spans, prev = [], 0
    for k in range(len(ids)):
        prefix = tok.decode(ids[: k + 1], skip_special_tokens=True)
        end = prev
        while end < len(text) and end < len(prefix) and prefix[: end + 1] == text[: end + 1]:
            end += 1
        pending = end == prev and prefix.endswith("\ufffd") and ids[k] not in tok.all_special_ids
        spans.append((prev, prev + 1) if pending else (prev, end))  # a partial UTF-8 byte owns its character
        prev = end
    return spans


@pytest.mark.parametrize("name", list(TOKENIZERS))
def test_token_mask_matches_hand_marked_grams(name, grams):
    tok = TOKENIZERS[name]()
    ids = tok(SENTENCE)["input_ids"] + [tok.eos_token_id]
    pad = 3
    cut = next(k for k in range(len(ids)) if "Alright" in tok.decode(ids[:k]))  # a row cut after "Alright"
    response_ids = torch.tensor([ids + [0] * pad, ids[:cut] + [0] * (len(ids) + pad - cut)])
    response_mask = torch.tensor([[True] * len(ids) + [False] * pad, [True] * cut + [False] * (len(ids) + pad - cut)])
    mask = grams.token_mask(tok, response_ids, response_mask)
    text = tok.decode(ids, skip_special_tokens=True)
    regions = [(text.index(w), text.index(w) + len(w)) for w in HAND_MARKS if w in text]
    assert len(regions) == (5 if name != "bare_bpe" else 4)  # the bare BPE decodes "let ’ s" with spaces
    assert name != "bare_bpe" or "let ’ s" in text
    spans = _exact_token_spans(tok, ids, text)
    expected = [any(s < e2 and s2 < e for s2, e2 in regions) and e > s for s, e in spans]
    assert mask[0, : len(ids)].tolist() == expected
    assert not mask[0, len(ids) - 1] and not mask[:, -pad:].any()  # EOS and padding
    assert mask[1, :cut].any() and not mask[1, cut:].any()  # the cut row: "Alright" still marked
    assert mask[1, :cut].tolist() == mask[0, :cut].tolist()
    # "Therefore", at the very end, spans several tokens (one in the bare BPE) and all of them are marked
    therefore = text.index("Therefore")
    in_therefore = [m for (s, e), m in zip(spans, mask[0].tolist()) if e > therefore and e > s]
    assert len(in_therefore) >= (1 if name == "bare_bpe" else 2) and all(in_therefore)
    assert not any(m for (s, e), m in zip(spans, expected) if text.index("Also") <= s < text.index("Also") + 4)


def test_token_mask_with_texts_and_partial_utf8(grams):
    tok = _byte_level()
    ids = tok("so x’")["input_ids"]
    cut = ids[:-1] if len(tok.decode(ids[-1:])) != 1 else ids  # byte tokens of "’" are split: drop the last
    text = tok.decode(cut, skip_special_tokens=True)
    mask = grams.token_mask(tok, torch.tensor([cut]), torch.ones(1, len(cut), dtype=torch.bool), texts=[text])
    assert mask[0].tolist() == [True, True] + [False] * (len(cut) - 2)  # "s", "o" | " x", first byte of ’
    with pytest.raises(ValueError, match="texts"):
        grams.token_mask(tok, torch.tensor([cut]), torch.ones(1, len(cut), dtype=torch.bool), texts=[])
    with pytest.raises(TypeError, match="bool"):
        grams.token_mask(tok, torch.tensor([cut]), torch.ones(1, len(cut)))


# ---- planning ratio -------------------------------------------------------------------------------------
RESPONSE = torch.tensor([[True] * 6 + [False] * 2, [True] * 8, [True] * 3 + [False] * 5])
PLANNING = torch.tensor(
    [[1, 1, 0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.bool
)


def test_planning_ratio_counts_response_tokens_only():
    # response tokens: 6 + 8 + 3 = 17; planning on response: 3 + 3 + 1 = 7 (two padded ones ignored)
    assert planning_ratio(PLANNING, RESPONSE) == pytest.approx(7 / 17)
    assert planning_ratio(PLANNING, torch.zeros_like(RESPONSE)) == 0.0


@pytest.mark.parametrize("name", ["byte_level", "sentencepiece"])
def test_token_mask_rows_are_independent_of_the_batch(name, grams):
    """Row offsets in one batched pass: an empty row, a row that needs the exact path (a cut UTF-8
    character) and ordinary rows give the same masks as one row at a time."""
    tok = TOKENIZERS[name]()
    sentences = ["So we can start by x.", "", "Wait, butter but x’", "Hmm, therefore 漢字 okay"]
    rows = [tok(s)["input_ids"] for s in sentences]
    rows[2] = rows[2][:-1]  # cut inside the bytes of "’" (or drop the last piece)
    width = max(map(len, rows)) + 2
    ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    mask = torch.tensor([[True] * len(r) + [False] * (width - len(r)) for r in rows])
    batched = grams.token_mask(tok, ids, mask)
    for i in range(len(rows)):
        alone = grams.token_mask(tok, ids[i : i + 1], mask[i : i + 1])
        assert torch.equal(batched[i], alone[0]), sentences[i]
    assert not batched[1].any() and batched[0].any() and batched[2].any() and batched[3].any()
    assert not grams.token_mask(tok, ids, torch.zeros_like(mask)).any()


@pytest.mark.parametrize(
    "text", ["Let me\nrethink this.", "let me  rethink this", "Let me\t\n rethink\n\nthis", "LET ME RETHINK THIS"]
)
def test_multi_word_grams_match_across_any_whitespace(grams, text):
    matches = grams.find(text)
    assert [m.gram for m in matches] == ["let me rethink this"]
    assert text[matches[0].start : matches[0].end].lower().split() == ["let", "me", "rethink", "this"]


def test_whitespace_runs_do_not_join_words_or_rows(grams):
    assert [m.gram for m in grams.find("letme rethink this")] == []
    assert [m.gram for m in grams.find("let me\x00rethink this")] == ["let me"]


def test_grams_given_with_odd_spacing_are_canonical():
    custom = StrategicGrams(["  Try   small\ncases "])
    assert custom.grams == ("try small cases",)
    assert [m.gram for m in custom.find("we try small  cases")] == ["try small cases"]
