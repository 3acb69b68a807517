"""Fixtures for the verifier tests: injection payloads writing a canary file."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A path that must never be created: every payload below would create it if executed."""
    return tmp_path / "CANARY"


def payloads(canary: Path) -> list[str]:
    """Responses that run a shell command (creating ``canary``) if any parser ``eval``s them."""
    cmd = f"__import__('os').system('touch {canary}')"
    return [
        f"\\boxed{{{cmd}}}",
        f"#### {cmd}",
        f"The answer is {cmd}",
        f"Final answer: {cmd}",
        f"\\boxed{{x = {cmd}}}",
        f"\\boxed{{{cmd}, 1}}",
        f"\\boxed{{open('{canary}', 'w')}}",
        f"\\boxed{{exec(\"open('{canary}','w')\")}}",
        f"$${cmd}$$",
    ]
