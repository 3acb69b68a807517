"""GRPO: every response token gets its response's group-centred advantage (no override)."""

from __future__ import annotations

from .base import Agent


class GRPO(Agent):
    name = "grpo"
