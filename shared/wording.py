"""How counts and names read in messages meant for people: "1 form", "2 forms", a shell-safe command."""

from __future__ import annotations

import shlex

__all__ = ["counted", "shell_command"]

_IRREGULAR = {"was": "were", "is": "are", "has": "have"}


def counted(n: int, noun: str, plural: str = "") -> str:
    """`1 form`, `0 forms`, `2 held-back forms`; `plural` for nouns that do not just take an s."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {plural or _IRREGULAR.get(noun) or noun + 's'}"


def shell_command(*words: str) -> str:
    """A command a person can paste: every word quoted where the shell would split or expand it."""
    return " ".join(shlex.quote(w) for w in words)
