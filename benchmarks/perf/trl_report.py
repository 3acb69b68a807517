"""The TRL benchmark's numbers: per-comparison medians and ratios (:func:`summarize`) and the Markdown report
(:func:`markdown`), both pure functions of the results dict that ``trl.json`` holds.

Every figure carries its unit. In the JSON the unit is the key's suffix (``_s`` seconds, ``_steps_per_s``,
``_tokens_per_s``, ``_tokens``, ``_x`` a ratio, ``reward_mean`` a mean reward in [0, 1], ``_load_1m`` the 1-minute
load average); in the Markdown it is the column header's last parenthesis, or written after the number in the cell.
"""

from __future__ import annotations

import math
import statistics

from .report import md_table, ms
from .timing import machine_note

TARGET, GOAL = 1.5, 2.0
"""Steps/s of hicra's vllm engine over TRL's default (transformers) generation: target and goal."""
HEADLINE = "vllm-vs-trl-hf"
"""The comparison the target applies to."""

OURS_PARTS = (
    ("generate_s", "generate (rollout engine)"),
    ("verify_s", "verify (reward)"),
    ("logprobs_and_mask_s", "planning mask (+ scoring pass, when one runs)"),
    ("update_s", "update: forward + backward + optimiser + rollout metrics"),
    ("weight_push_s", "weight push into the engine (vllm: reload_weights + prefix-cache reset; hf: nothing to copy)"),
    ("wall_s", "total step"),
)
TRL_PARTS = (
    ("rollout_s", "_generate_and_score_completions (rollout, all of it)"),
    ("generate_s", "  of which generate (_generate_single_turn)"),
    ("weight_sync_s", "    of which weight sync (sync_weights)"),
    ("reward_fn_s", "  of which reward function (_calculate_rewards)"),
    ("loss_forward_s", "loss forward (_compute_loss, all micro-batches)"),
    ("backward_optimizer_other_s", "backward + optimiser + other (the rest)"),
    ("wall_s", "total step"),
)


PHASES = (
    ("generate_s", "generate (s)"),
    ("reward_s", "verify / reward (s)"),
    ("scoring_s", "scoring (s)"),
    ("update_s", "update (s)"),
    ("weight_push_s", "weight push (s)"),
    ("other_s", "other (s)"),
    ("wall_s", "step (s)"),
)
"""The phases both sides share, in step order (key in a summary's ``phases``, column of :func:`phase_table`)."""


def ours_phases(m: dict[str, float]) -> dict[str, float]:
    """Our side's medians (:data:`OURS_PARTS` keys) -> the shared :data:`PHASES`, seconds; ``other_s`` is the rest."""
    p = {"generate_s": m["generate_s"], "reward_s": m["verify_s"], "scoring_s": m["logprobs_and_mask_s"],
         "update_s": m["update_s"], "weight_push_s": m["weight_push_s"]}  # fmt: skip
    return {**p, "other_s": m["wall_s"] - sum(p.values()), "wall_s": m["wall_s"]}


def trl_phases(m: dict[str, float]) -> dict[str, float]:
    """TRL's medians (:data:`TRL_PARTS` keys) -> the shared :data:`PHASES`, seconds.

    TRL's rollout holds its generation (which holds the weight sync), its reward function and the rest (its
    no-grad scoring pass when one runs, padding, advantages): generate is ``generate - weight sync``, scoring is
    ``rollout - generate - reward``, update is everything after the rollout (loss forward, backward, optimiser).
    """
    sync = m.get("weight_sync_s", 0.0)
    gen, reward, rollout = m.get("generate_s", 0.0), m.get("reward_fn_s", 0.0), m.get("rollout_s", 0.0)
    p = {"generate_s": gen - sync, "reward_s": reward, "scoring_s": rollout - gen - reward,
         "update_s": m["wall_s"] - rollout, "weight_push_s": sync}  # fmt: skip
    return {**p, "other_s": m["wall_s"] - sum(p.values()), "wall_s": m["wall_s"]}


def _medians(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = dict.fromkeys(k for r in rows for k in r)
    return {k: statistics.median(r.get(k, 0.0) for r in rows) for k in keys}


def _side(rows: list[dict[str, float]], completions: int) -> dict[str, float]:
    """Medians of one side's timed rows, with steps/s and generated tokens/s from them."""
    m = _medians(rows)
    m["steps_per_s"] = 1 / m["wall_s"]
    m["generated_tokens_per_s"] = completions * m["response_tokens"] / m["wall_s"]
    return m


def summarize(pair: dict) -> dict:
    """Medians per side and the ratios ours / TRL of one comparison's result (see :mod:`.trl_pair`)."""
    c = pair["comparison"]
    n = c["prompts"] * c["group"]
    ours_rows, trl_rows = pair["ours"]["timed"], (pair["trl"] or {}).get("timed", [])
    out: dict = {}
    if ours_rows:
        out["ours"] = _side(ours_rows, n)
    if trl_rows:
        trl = out["trl"] = _side(trl_rows, n)
        trl["backward_optimizer_other_s"] = trl["wall_s"] - trl.get("rollout_s", 0.0) - trl.get("loss_forward_s", 0.0)
        trl["phases"] = trl_phases(trl)
    if ours_rows:
        out["ours"]["phases"] = ours_phases(out["ours"])
    if ours_rows and trl_rows:
        out["speedup_x"] = out["trl"]["wall_s"] / out["ours"]["wall_s"]
        out["speedup_paired_x"] = statistics.median(t["wall_s"] / o["wall_s"] for t, o in zip(trl_rows, ours_rows))
        out["speedup_fastest_x"] = min(r["wall_s"] for r in trl_rows) / min(r["wall_s"] for r in ours_rows)
        out["speedup_tokens_x"] = out["ours"]["generated_tokens_per_s"] / out["trl"]["generated_tokens_per_s"]
    return out


def _fmt(value: float) -> str:
    """3 significant digits below 100, whole numbers (with thousands separators) above."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def _label(entry: dict) -> str:
    c = entry["comparison"]
    budget = f", micro-batches <= {c['micro_tokens']} tokens" if c.get("micro_tokens") else ""
    ours = {"hf": f"hicra (transformers{budget})", "vllm": f"hicra (vllm engine{budget})", "none": "-"}[c["ours"]]
    trl = {"hf": "TRL (transformers generate)", "vllm": "TRL (vLLM colocate, patched by us)",
           "vllm-unpatched": "TRL (vLLM colocate, as shipped)"}[c["trl"]]  # fmt: skip
    return f"{ours} vs {trl}"


def ratio_table(comparisons: dict[str, dict]) -> str:
    """One row per comparison that ran on both sides: seconds per step, the ratios, and the machine load."""
    headers = ["comparison", "model, completions x max tokens", "hicra step (s)", "TRL step (s)",
               "hicra / TRL steps per second (x)", "median of step pairs (x)", "fastest steps (x)",
               "generated tokens per second, hicra / TRL (x)", "load before (load)", "load after (load)"]  # fmt: skip
    rows = []
    for name, e in comparisons.items():
        s, c = e.get("summary", {}), e["comparison"]
        if "speedup_x" not in s:
            continue
        shape = f"{c['model']}, {c['prompts']}x{c['group']} x {c['max_new']}"
        rows.append([f"{name}: {_label(e)}", shape, _fmt(s["ours"]["wall_s"]), _fmt(s["trl"]["wall_s"]),
                     _fmt(s["speedup_x"]), _fmt(s["speedup_paired_x"]), _fmt(s["speedup_fastest_x"]),
                     _fmt(s["speedup_tokens_x"]), _fmt(e["before_load_1m"]), _fmt(e["after_load_1m"])])  # fmt: skip
    return md_table(headers, rows)


def phase_table(comparisons: dict[str, dict]) -> str:
    """Median seconds per step in each shared phase (:data:`PHASES`), one row per side of every comparison."""
    headers = ["comparison", "trainer", *(title for _, title in PHASES)]
    rows = []
    for name, e in comparisons.items():
        for side, trainer in (("ours", "hicra"), ("trl", "TRL")):
            phases = e.get("summary", {}).get(side, {}).get("phases")
            if phases:
                c = e["comparison"]
                budget = f", <= {c['micro_tokens']} tokens" if side == "ours" and c.get("micro_tokens") else ""
                rows.append([name, f"{trainer} ({c[side]}{budget})", *(_fmt(phases[k]) for k, _ in PHASES)])
    return md_table(headers, rows)


def side_table(summary: dict) -> str:
    """Per side of one comparison: seconds per step, steps/s, response length, generated tokens/s, mean reward."""
    headers = ["trainer", "step (s)", "steps per second (steps/s)", "mean response (tokens)",
               "generated (tokens/s)", "mean reward (reward)"]  # fmt: skip
    rows = [[name, _fmt(m["wall_s"]), _fmt(m["steps_per_s"]), _fmt(m["response_tokens"]),
             _fmt(m["generated_tokens_per_s"]), _fmt(m["reward_mean"])]
            for name, m in (("hicra", summary.get("ours")), ("TRL", summary.get("trl"))) if m]  # fmt: skip
    return md_table(headers, rows)


def profile_table(summary: dict) -> str:
    """Where a step's time goes, median per part, each time with its unit."""
    rows = []
    for side, name, parts in (("ours", "hicra", OURS_PARTS), ("trl", "TRL", TRL_PARTS)):
        for key, part in parts:
            if side in summary and key in summary[side]:
                rows.append([name, part, ms(summary[side][key])])
    return md_table(["trainer", "part", "time"], rows)


def _verdict(summary: dict) -> str:
    x = summary["speedup_x"]
    met = "goal met" if x >= GOAL else "target met" if x >= TARGET else "target NOT met"
    return f"{met}; target >= {TARGET}x, goal {GOAL}x"


def headline(comparisons: dict[str, dict]) -> list[str]:
    """The ratio the target applies to, and the same ratio with SmolLM2, in one sentence each."""
    lines = []
    for name, e in comparisons.items():
        s, c = e.get("summary", {}), e["comparison"]
        if c["ours"] == "vllm" and c["trl"] == "hf" and "speedup_x" in s:
            lines.append(f"- **{name}** ({c['model']}, {c['prompts']}x{c['group']} completions, <= {c['max_new']} "
                         f"tokens): hicra's vllm engine / TRL's default generation = **{_fmt(s['speedup_x'])}x** "
                         f"steps per second ({_verdict(s)}).")  # fmt: skip
    return lines or ["- hicra's vllm engine against TRL's default generation did not run (see below)."]


def short_chain(chain: str, start: str = "_generate_single_turn") -> str:
    """A traceback's call chain (``"fn (file:line) -> ..."``) from the frame ``start`` on (all of it when absent),
    without the benchmark's clock wrappers, runs of one function collapsed to ``fn (first place) xN``."""
    frames = [f for f in chain.split(" -> ") if not f.startswith("timed (")]  # the benchmark's own clock
    firsts = [i for i, f in enumerate(frames) if f.startswith(start + " ")]
    frames = frames[firsts[0] :] if firsts else frames
    out: list[list] = []
    for frame in frames:
        if out and out[-1][0].split(" ")[0] == frame.split(" ")[0]:
            out[-1][1] += 1
        else:
            out.append([frame, 1])
    return " -> ".join(f if n == 1 else f"{f} x{n}" for f, n in out)


def as_shipped(comparisons: dict[str, dict], patches: tuple[str, ...]) -> list[str]:
    """What TRL's own colocated vLLM mode did unpatched, and what the patched comparisons changed."""
    lines = []
    for name, e in comparisons.items():
        if e["comparison"]["trl"] != "vllm-unpatched":
            continue
        f = e.get("failed")
        if f:
            lines += [f"**{name}**: TRL's `GRPOTrainer(use_vllm=True, vllm_mode=\"colocate\")` as shipped fails on "
                      f"this machine after {f.get('completed_steps', 0)} completed steps:", "", "```",
                      f["error"], "```", "", f"Where: `{short_chain(f['call_chain'])}`.", ""]  # fmt: skip
        else:
            lines += [f"**{name}**: TRL's colocated vLLM mode ran as shipped (no failure).", ""]
    if any(e["comparison"]["trl"] == "vllm" for e in comparisons.values()):
        lines += ["Rows marked *patched by us* ran TRL's colocated vLLM with two patches (benchmark only):", ""]
        lines += [f"{i}. {p}" for i, p in enumerate(patches, 1)] + [""]
    return lines


def _budget(c: dict) -> str:
    tokens = c.get("micro_tokens")
    return f" (hicra: micro-batches of <= {tokens} padded tokens instead)" if tokens else ""


def _section(name: str, e: dict) -> list[str]:
    c, s = e["comparison"], e.get("summary", {})
    if c["ours"] == "none":
        return [f"### {name}: {_label(e)}", "", "TRL alone, to record what happens (see above).", ""]
    lines = [f"### {name}: {_label(e)}", "",
             f"{c['model']}, {c['prompts']} prompts x {c['group']} completions per optimiser step, <= {c['max_new']} "
             f"new tokens, micro-batch {c['micro']}{_budget(c)}; median of {c['steps']} timed steps per side after "
             f"{c['warmup']} warm-up steps, taking turns.", ""]  # fmt: skip
    if e.get("failed") and c["trl"] != "vllm-unpatched":
        lines += [f"**Did not complete**: {e['failed']['what']}: `{e['failed']['error']}`", ""]
    if s.get("ours") or s.get("trl"):
        lines += [side_table(s), "", "Where a step's time goes (medians):", "", profile_table(s), ""]
    if e.get("machine"):
        lines += [machine_note(e["machine"]), ""]
    return lines


def markdown(results: dict, patches: tuple[str, ...] = ()) -> str:
    """The report of ``trl.json``: headline, ratio table, TRL's vLLM mode as shipped, then each comparison."""
    comps = results["comparisons"]
    lines = [f"# Training throughput: hicra Trainer vs TRL GRPOTrainer (trl {results['trl_version']})", "",
             "Same model and weights, same prompts in the same order, same reward (the env's verifier), sampling at "
             "temperature 1 with no top-k/top-p, one optimiser step per batch, float32 on CPU, each comparison in a "
             "fresh process. Responses end at EOS on both sides (hicra's trainer cannot force lengths), so "
             "generated tokens per second is reported beside steps per second.", "",
             *headline(comps), "", ratio_table(comps), "",
             "Where each side's step goes, median seconds per step by phase (TRL's phases derived from its timed "
             "methods: see `trl_report.trl_phases`; other = step minus the phases):", "", phase_table(comps), "",
             f"Machine load: 1-minute load average on {results['cpus']} CPUs shared with other users, before and "
             "after each comparison (columns above); `uptime` at the start: "
             f"`{results['uptime_before']}`, at the end: `{results['uptime_after']}`.", ""]  # fmt: skip
    lines += ["## TRL's own vLLM mode (colocate)", "", *as_shipped(comps, patches)]
    lines += ["## Each comparison", ""]
    for name, e in comps.items():
        lines += _section(name, e)
    skipped = [f"- {name}: {e['skipped']}" for name, e in comps.items() if e.get("skipped")]
    if skipped:
        lines += ["## Not run", "", *skipped, ""]
    lines += ["## Notes", "", *(f"- {note}" for note in results.get("notes", []))]
    return "\n".join(lines).rstrip() + "\n"
