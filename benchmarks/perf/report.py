"""Benchmark results: one JSON file and one short Markdown report per benchmark, and Markdown tables."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BenchResult:
    """What a benchmark measured: ``results`` (JSON-able) and a short Markdown report of it."""

    name: str
    results: dict = field(default_factory=dict)
    markdown: str = ""


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats are written with 4 significant digits."""

    def cell(value: object) -> str:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    """A duration with 3 significant digits in a readable unit: ``"1.23 s"``, ``"12.3 ms"``, ``"45 us"``."""
    if not math.isfinite(seconds):
        return "n/a"
    if abs(seconds) >= 1:
        return f"{seconds:.3g} s"
    if abs(seconds) >= 1e-4:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def pct(ratio: float) -> str:
    """A ratio as a signed percentage, e.g. ``0.0123`` -> ``"+1.23%"``."""
    return "n/a" if not math.isfinite(ratio) else f"{100 * ratio:+.2f}%"


def _jsonable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def write_result(out: Path, result: BenchResult) -> tuple[Path, Path]:
    """Write ``<out>/<name>.json`` and ``<out>/<name>.md``; returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{result.name}.json", out / f"{result.name}.md"
    json_path.write_text(json.dumps(_jsonable(result.results), indent=2) + "\n", encoding="utf-8")
    md_path.write_text(result.markdown.rstrip() + "\n", encoding="utf-8")
    return json_path, md_path


def finish(out: Path, result: BenchResult) -> int:
    """Write ``result`` into ``out``, print its Markdown, and return exit code 0 (1 when it records a failure)."""
    write_result(out, result)
    print(result.markdown)
    return 1 if result.results.get("failed") else 0
