"""The corpus a lexicon is mined from, and what ``hicra grams build`` writes: the lexicon and its report.

A corpus is JSON lines, one solution a line: a run's rollout log (``RUN_DIR/rollouts.jsonl``), ``hicra eval``'s
``samples.jsonl``, or any file of solutions. Each line is an object with the solution in ``"text"`` (or
``"response"``); it is successful when ``"correct"`` is true, or, without ``"correct"``, when its ``"reward"`` is
at least ``min_reward``; a line with neither counts as successful (a file of good solutions). Blank lines are
skipped; anything else that does not read is an error naming the file and the line.

The output folder holds ``lexicon.json`` (a JSON list of grams that
:class:`~hicra.agents.planning.StrategicGrams` and ``hicra train --grams`` load), ``report.md`` and
``report.json`` (the kept clusters with their CDF and n-grams, the next clusters below the cut, and the options).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .gram_mining import Embedder, MiningConfig, MiningResult, mine_grams

__all__ = ["ROLLOUTS_FILE", "Corpus", "build_lexicon", "read_solutions", "report_markdown", "write_outputs"]

ROLLOUTS_FILE = "rollouts.jsonl"
"""The rollout log in a run folder that ``--from RUN_DIR`` reads."""
_SHOWN_BELOW_CUT = 5
_EXAMPLES = 6


@dataclass(frozen=True)
class Corpus:
    """The solutions of a corpus file."""

    successful: tuple[str, ...]
    """The successful solutions' texts, in file order."""
    total: int
    """Solutions in the file."""
    path: str
    """The file read."""


def _corpus_file(source: str | Path) -> Path:
    path = Path(source)
    if path.is_dir():
        if not (path / ROLLOUTS_FILE).is_file():
            raise FileNotFoundError(f"expected a run folder with {ROLLOUTS_FILE}, got {str(source)!r}, which has none")
        return path / ROLLOUTS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"expected a JSONL file of solutions or a run folder with {ROLLOUTS_FILE}, got {str(source)!r}, "
            "which does not exist"
        )
    return path


def _successful(data: dict, where: str, min_reward: float) -> bool:
    if "correct" in data:
        if not isinstance(data["correct"], bool):
            raise ValueError(f"{where}: expected 'correct' to be true or false, got {data['correct']!r}")
        return data["correct"]
    if "reward" in data:
        r = data["reward"]
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r):
            raise ValueError(f"{where}: expected 'reward' to be a finite number, got {r!r}")
        return r >= min_reward
    return True


def read_solutions(source: str | Path, *, min_reward: float = 1.0) -> Corpus:
    """The solutions of a JSONL corpus or of a run folder's ``rollouts.jsonl`` (see the module docstring)."""
    path = _corpus_file(source)
    successful, total = [], 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(f"{where}: expected one JSON object a line, got {line.strip()[:60]!r}") from None
            if not isinstance(data, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
            text = data.get("text", data.get("response"))
            if not isinstance(text, str):
                keys = ", ".join(sorted(data)) or "none"
                raise ValueError(f"{where}: expected the solution as a 'text' or 'response' string, got keys {keys}")
            total += 1
            if _successful(data, where, min_reward):
                successful.append(text)
    if total == 0:
        raise ValueError(f"{path}: expected solutions, one JSON object a line, got an empty file")
    return Corpus(tuple(successful), total, str(path))


def report_markdown(result: MiningResult, *, source: str = "", total: int | None = None) -> str:
    """The Markdown report: the kept clusters (CDF, share of solutions, example n-grams), then the next below."""
    n = result.solutions
    kept = [c for c in result.clusters if c.kept]
    below = [c for c in result.clusters if not c.kept][:_SHOWN_BELOW_CUT]
    of_total = f" of {total}" if total is not None else ""
    cfg = result.config
    lines = [
        "# Mined Strategic Grams",
        "",
        f"From {source or 'the given solutions'}: {n} successful solutions{of_total}; {result.candidates} distinct "
        f"{cfg.min_n}-{cfg.max_n}-word n-grams, {result.clustered} clustered into {len(result.clusters)} clusters; "
        f"the top {cfg.top_fraction:.0%} ({len(kept)} clusters) give {len(result.grams)} grams.",
        "",
        "| rank | CDF | solutions | n-grams | examples |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for c in kept + below:
        examples = ", ".join(f"`{g}`" for g in c.ngrams[:_EXAMPLES]) + (", ..." if len(c.ngrams) > _EXAMPLES else "")
        lines.append(f"| {c.rank + 1}{'' if c.kept else ' (cut)'} | {c.cdf} | {c.cdf / n:.0%} | {len(c.ngrams)} | "
                     f"{examples} |")  # fmt: skip
    lines += ["", f"Rows marked (cut) are the first {len(below)} clusters below the cut, not in the lexicon.", ""]
    return "\n".join(lines)


def _report_json(result: MiningResult, source: str, total: int | None) -> dict:
    def row(c) -> dict:
        return {"rank": c.rank, "cdf": c.cdf, "share": c.cdf / result.solutions, "kept": c.kept, "ngrams": c.ngrams}

    return {
        "source": source,
        "solutions": total,
        "successful": result.solutions,
        "candidates": result.candidates,
        "clustered": result.clustered,
        "clusters": len(result.clusters),
        "grams": len(result.grams),
        "config": asdict(result.config),
        "kept": [row(c) for c in result.clusters if c.kept],
        "below_cut": [row(c) for c in result.clusters if not c.kept][:_SHOWN_BELOW_CUT],
    }


def write_outputs(
    result: MiningResult, out_dir: str | Path, *, source: str = "", total: int | None = None
) -> dict[str, Path]:
    """Write ``lexicon.json``, ``report.md`` and ``report.json`` into ``out_dir`` (made if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"lexicon": out / "lexicon.json", "report_md": out / "report.md", "report_json": out / "report.json"}
    paths["lexicon"].write_text(json.dumps(list(result.grams), indent=1) + "\n", encoding="utf-8")
    paths["report_md"].write_text(report_markdown(result, source=source, total=total), encoding="utf-8")
    report = _report_json(result, source, total)
    paths["report_json"].write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return paths


def build_lexicon(
    source: str | Path, out_dir: str | Path, config: MiningConfig | None = None, *, embed: Embedder | None = None
) -> tuple[MiningResult, dict[str, Path]]:
    """Read ``source`` (a corpus file or run folder), mine its successful solutions, write the outputs."""
    config = config or MiningConfig()
    corpus = read_solutions(source, min_reward=config.min_reward)
    if len(corpus.successful) < config.min_solutions:
        raise ValueError(
            f"{corpus.path}: expected at least {config.min_solutions} successful solutions to mine grams "
            f"(min_solutions), got {len(corpus.successful)} of {corpus.total}"
        )
    result = mine_grams(corpus.successful, config, embed)
    return result, write_outputs(result, out_dir, source=corpus.path, total=corpus.total)
