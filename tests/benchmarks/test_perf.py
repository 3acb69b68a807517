"""The performance benchmarks' selection and pure helpers (the benchmarks themselves are run by hand)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from hicra.benchmarks.cli import main as cli_main
from hicra.benchmarks.perf import BENCHMARKS, run_benchmarks, select
from hicra.benchmarks.perf.bench_mask import build_batch, compose_texts, measure, tokens_per_second
from hicra.benchmarks.perf.bench_memory import (
    head_logprobs,
    max_abs_diff,
    naive_token_logprobs,
    policy_token_logprobs,
)
from hicra.benchmarks.perf.peak_rss import PeakMemory
from hicra.benchmarks.perf.report import BenchResult, md_table, pct, write_result
from hicra.benchmarks.perf.timing import interleaved
from hicra.benchmarks.perf.trl_side import MethodClock

WORDS = ["<eos>", "<pad>", "but", "wait", "x", "y", "so", "also", "a", "b", "c", "d"]


@pytest.fixture(scope="module")
def word_tokenizer():
    """A word-level tokenizer over WORDS (ids in list order), EOS 0 and pad 1; decode joins words with spaces."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<pad>"))
    backend.pre_tokenizer = WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>", pad_token="<pad>")


# ---- selection -------------------------------------------------------------------------------------


def test_unknown_benchmark_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown benchmark 'overhed'; expected one of: all, overhead, mask"):
        select(["mask", "overhed"])


def test_run_benchmarks_rejects_an_unknown_name_before_running_anything(tmp_path):
    with pytest.raises(KeyError, match="memroy"):
        run_benchmarks(["memroy"], tmp_path / "bench")
    assert not (tmp_path / "bench").exists()


def test_hicra_bench_prints_one_line_and_exits_2_for_an_unknown_name(tmp_path, capsys):
    assert cli_main(["bench", "--which", "tlr", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'trl'" in err and len(err.strip().splitlines()) == 1
    assert cli_main(["bench", "--which", "mask,,trl", "--out", str(tmp_path)]) == 2
    assert "empty items" in capsys.readouterr().err


def test_select_all_keeps_registry_order_and_lists_drop_duplicates():
    assert select(["all"]) == list(BENCHMARKS) == ["overhead", "mask", "memory", "trl", "verify", "mathverify"]
    assert select(["mask", "overhead", "mask"]) == ["mask", "overhead"]


# ---- mask benchmark helpers ------------------------------------------------------------------------


class FixedLength:
    """Stands in for the numpy Generator in build_batch: every drawn length is ``value``."""

    def __init__(self, value: int) -> None:
        self.value = value

    def integers(self, low: int, high: int) -> int:
        assert low <= self.value < high
        return self.value


def test_tokens_per_second():
    assert tokens_per_second(1000, 0.5) == 2000
    assert tokens_per_second(10, 0.0) == math.inf


def test_build_batch_cuts_row_zero_at_width_and_ends_other_rows_with_eos(word_tokenizer):
    batch = build_batch(word_tokenizer, ["but wait x y so a", "a b c d a b"], width=4, rng=FixedLength(3))
    # row 0: the first 4 words, no EOS; row 1: 2 words + EOS (length 3), then pad
    assert batch.response_ids.tolist() == [[2, 3, 4, 5], [8, 9, 0, 1]]
    assert batch.response_mask.tolist() == [[True] * 4, [True, True, True, False]]
    assert batch.texts == ["but wait x y", "a b"]


def test_build_batch_rejects_a_text_shorter_than_its_row(word_tokenizer):
    with pytest.raises(ValueError, match=r"texts\[1\]: expected at least 3 tokens, got 2"):
        build_batch(word_tokenizer, ["a b c d", "a b"], width=4, rng=FixedLength(3))


def test_compose_texts_reaches_min_chars_from_the_given_sentences():
    rng = np.random.default_rng(0)
    texts = compose_texts(["1 + 1 = 2.", "3 * 3 = 9."], ["but wait"], rows=3, min_chars=40, rng=rng, gram_share=0.5)
    assert len(texts) == 3
    for text in texts:
        assert len(text) >= 40
        assert set(text.replace("But wait, ", "").replace("1 + 1 = 2.", "").replace("3 * 3 = 9.", "")) <= {" "}


def test_measure_counts_planning_tokens_and_checks_both_mask_paths(word_tokenizer):
    # "but wait" and "so" are Strategic Grams, "also" is not: row 0 has 3 planning tokens of 4, row 1 none of 3
    batch = build_batch(word_tokenizer, ["but wait so x", "also a b c"], width=4, rng=FixedLength(3))
    result = measure(word_tokenizer, batch, reps=1, desc=None)
    assert result["tokens"] == 7
    assert result["planning_ratio"] == pytest.approx(3 / 7)
    assert result["masks_agree"] is True
    assert set(result["ratio_to_batch_decode"]) == {"batch_decode", "mask_with_texts", "mask_without_texts",
                                                    "gram_matching"}  # fmt: skip
    assert result["ratio_to_batch_decode"]["batch_decode"] == 1.0


# ---- memory benchmark helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64)  # fmt: skip
    return LlamaForCausalLM(config).eval()


def _grads(model) -> dict[str, torch.Tensor]:
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def test_chunked_policy_logprobs_agree_with_full_logits(tiny_llama, word_tokenizer):
    gen = torch.Generator().manual_seed(1)
    input_ids = torch.randint(1000, (3, 20), generator=gen)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, :5] = 0  # left padding
    attention_mask[2, 15:] = 0  # a response that ended early
    weights = torch.rand(3, 12, generator=gen)

    chunked = policy_token_logprobs(tiny_llama, word_tokenizer, input_ids, attention_mask, 8, chunk_size=7)
    (chunked * weights).sum().backward()
    chunked_grads = _grads(tiny_llama)
    naive = naive_token_logprobs(tiny_llama, input_ids, attention_mask, 8)
    (naive * weights).sum().backward()
    naive_grads = _grads(tiny_llama)

    assert chunked.shape == naive.shape == (3, 12)
    assert max_abs_diff(chunked, naive) < 1e-5
    assert float(naive.detach()[2, 7:].abs().max()) == 0.0  # masked response tokens are zero
    assert float(naive.detach().min()) < -1  # real log-probs, not all zeros
    assert chunked_grads.keys() == naive_grads.keys()
    for name, grad in naive_grads.items():
        assert max_abs_diff(chunked_grads[name], grad) < 1e-4 * max(1.0, float(grad.abs().max())), name


def test_head_variants_agree_on_logprobs_and_gradients():
    torch.manual_seed(0)
    head = torch.nn.Linear(32, 1000, bias=False)
    targets = torch.randint(1000, (50,))
    results = {}
    for variant in ("head_chunked", "head_naive"):
        hidden = torch.randn(50, 32, generator=torch.Generator().manual_seed(2), requires_grad=True)
        logp = head_logprobs(variant, hidden, targets, head, chunk_size=7)
        logp.sum().backward()
        results[variant] = (logp.detach(), hidden.grad, head.weight.grad.clone())
        head.weight.grad = None
    for a, b in zip(results["head_chunked"], results["head_naive"]):
        assert max_abs_diff(a, b) < 1e-5
    assert math.isclose(max_abs_diff(torch.zeros(3), torch.tensor([0.0, -2.0, 1.0])), 2.0)


def test_peak_memory_sees_a_torch_allocation():
    with PeakMemory() as peak:
        block = torch.ones(16 * 2**20)  # 64 MiB, written so it is resident
        del block
    report = peak.report()
    if report["method"] != "VmHWM":
        pytest.skip("this kernel does not let a process reset its memory high-water mark")
    assert report["peak_mib"] >= 60


# ---- shared helpers --------------------------------------------------------------------------------


def test_interleaved_rotates_the_order_each_repetition():
    calls = []
    times = interleaved({name: (lambda n=name: calls.append(n)) for name in "abc"}, reps=3)
    assert calls == list("abcbcacab")
    assert {name: len(t) for name, t in times.items()} == {"a": 3, "b": 3, "c": 3}


def test_markdown_table_and_percent():
    assert md_table(["a", "b|c"], [[1.23456, "x\ny"]]) == "| a | b\\|c |\n| --- | --- |\n| 1.235 | x y |"
    assert pct(0.0123) == "+1.23%" and pct(-0.5) == "-50.00%" and pct(math.nan) == "n/a"


def test_write_result_writes_json_with_nan_as_null_and_markdown(tmp_path):
    json_path, md_path = write_result(tmp_path, BenchResult("x", {"a": math.nan, "b": [1.5]}, "# X"))
    assert json.loads(json_path.read_text()) == {"a": None, "b": [1.5]}
    assert md_path.read_text() == "# X\n"


def test_method_clock_adds_call_time_and_lists_missing_methods():
    class Thing:
        def work(self, x):
            return x + 1

    thing, clock = Thing(), MethodClock()
    clock.wrap(thing, {"work": "w", "absent": "z"})
    assert thing.work(1) == 2 and thing.work(2) == 3
    assert list(clock.totals) == ["w"] and clock.totals["w"] >= 0
    assert clock.missing == ["absent"]
