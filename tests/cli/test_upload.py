"""`formloop upload` as a new user meets it: bad folder names refused with a reason, sub-directories
said to become folders of their own, a hint that pastes into a shell, counts that read right."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from formloop.cli import main
from formloop.stack import AzuriteInfo
from shared.clients.storage import blob_service
from shared.settings import load_settings


@pytest.fixture
def target(azurite: AzuriteInfo) -> tuple[list[str], object]:
    container = f"up-{secrets.token_hex(4)}"
    options = ["--connection-string", azurite.connection_string, "--container", container]
    settings = load_settings(
        {
            "FORMS_STORAGE": azurite.connection_string,
            "FORM_RECOGNIZER_ENDPOINT": "http://x",
            "FORMS_CONTAINER": container,
        }
    )
    return options, blob_service(settings).get_container_client(container)


def _names(container: object) -> list[str]:
    try:
        return sorted(b.name for b in container.list_blobs())  # type: ignore[attr-defined]
    except Exception:  # the container was never created
        return []


@pytest.mark.parametrize("folder", ["./c", "a/../b", "a//b", "a\\b", "x" * 1100])
def test_bad_folder_names_are_refused_with_a_reason_and_upload_nothing(
    target: tuple[list[str], object], tmp_path: Path, folder: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options, container = target
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7\n")
    assert main(["upload", str(tmp_path / "a.pdf"), "--folder", folder, *options]) == 2
    out = capsys.readouterr().out
    assert "a folder name" in out and "Traceback" not in out
    assert _names(container) == []


def test_sub_directories_are_folders_of_their_own_and_the_upload_says_so(
    target: tuple[list[str], object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options, container = target
    (tmp_path / "test").mkdir()
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7\n")
    (tmp_path / "test" / "b.pdf").write_bytes(b"%PDF-1.7\n")
    assert main(["upload", str(tmp_path), "--folder", "Bad Folder", *options]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert _names(container) == ["Bad Folder/a.pdf", "Bad Folder/test/b.pdf"]
    assert "uploaded 2 files" in out
    assert "formloop status --folder 'Bad Folder'" in out  # pastes into a shell as one argument
    assert "sub-directories became folders of their own: Bad Folder/test/ (1 file)" in out


def test_one_file_reads_as_one_file(
    target: tuple[list[str], object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options, _container = target
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7\n")
    assert main(["upload", str(tmp_path / "a.pdf"), "--folder", "inv", *options]) == 0
    out = capsys.readouterr().out
    assert "uploaded 1 file to" in out and "1 files" not in out and "sub-directories" not in out
