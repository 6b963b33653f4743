"""Training files read from a container: one ranged read each, with the size limit and empty files."""

from __future__ import annotations

import pytest

from engine.custom import source
from engine.custom.source import ContainerSource
from formloop.stack import AzuriteInfo
from tests.helpers.custom_models import training_container


def test_container_files_are_read_whole_empty_or_refused_over_the_limit(
    azurite: AzuriteInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"f/a.pdf": b"%PDF-1.7 body", "f/empty.pdf": b"", "f/big.pdf": b"x" * 65}
    url = training_container(azurite, files)
    src = ContainerSource(url, ("127.0.0.1",))
    assert src.names("f/") == ["f/a.pdf", "f/big.pdf", "f/empty.pdf"]
    assert src.read("f/a.pdf") == b"%PDF-1.7 body"
    assert src.read("f/empty.pdf") == b""
    monkeypatch.setattr(source, "MAX_TRAINING_FILE_BYTES", 64)
    assert src.read("f/a.pdf") == b"%PDF-1.7 body"
    with pytest.raises(ValueError, match=r"f/big\.pdf is larger than"):
        src.read("f/big.pdf")
