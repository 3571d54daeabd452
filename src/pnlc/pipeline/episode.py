"""`pnlc episode`: print one recorded episode decision by decision."""

from __future__ import annotations

import sys
from pathlib import Path

from pnlc.data import episode_from_dict, read_jsonl


def format_episode(ep) -> str:
    lines = [
        f"{ep.env} task {ep.task_id} seed {ep.seed} — {ep.policy} ({ep.backend}, {ep.model})",
        f"outcome: {dict(ep.outcome)}  metric: {ep.metric:g}",
        "",
    ]
    for step in ep.steps:
        lines.append(f"[{step.index}] state: {step.state_summary}")
        for r, rnd in enumerate(step.decision.get("rounds", [])):
            lines.append(f"    round {r}: thought: {rnd.get('thought', '')}")
            for vline in str(rnd.get("value_text", "")).splitlines():
                lines.append(f"      {vline}")
            if rnd.get("refined_to"):
                lines.append(f"      -> refined to: {rnd['refined_to']}")
        lines.append(f"    thought: {step.thought}")
        lines.append(f"    action:  {step.action}" + ("" if step.valid else "   (invalid, default applied)"))
    lines += ["", f"final: {ep.final_summary}"]
    return "\n".join(lines)


def show_episode(path: Path, index: int) -> int:
    episodes = read_jsonl(path, episode_from_dict)
    if not 0 <= index < len(episodes):
        raise ValueError(f"{path}: --index {index} out of range (the file has {len(episodes)} episodes)")
    sys.stdout.write(format_episode(episodes[index]) + "\n")
    return 0
