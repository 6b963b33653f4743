"""Counts and commands in messages read right: "1 form", "2 forms", a command that pastes into a shell."""

from __future__ import annotations

import shlex

from shared.wording import counted, shell_command


def test_counted_says_one_and_many() -> None:
    assert counted(1, "held-back form") == "1 held-back form"
    assert counted(0, "form") == "0 forms" and counted(2, "file") == "2 files"
    assert counted(3, "was") == "3 were" and counted(2, "analysis", "analyses") == "2 analyses"


def test_shell_command_survives_the_shell() -> None:
    command = shell_command("formloop", "status", "--folder", "Bad Folder; rm -rf ~")
    assert shlex.split(command) == ["formloop", "status", "--folder", "Bad Folder; rm -rf ~"]
