"""Loading the app: clear errors for bad app dirs; the CLI reports them without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.app_loader import AppLoadError, load_functions
from formloop.stack import REPO_ROOT

TEMPLATE = Path(__file__).parent / "app_template.py"


def _app(tmp_path: Path, source: str) -> Path:
    (tmp_path / "function_app.py").write_text(source)
    return tmp_path


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "defines no `app`"),
        ("app = object()\n", "not an azure.functions.FunctionApp"),
        ("import not_a_module_anywhere\n", "importing .* failed: ModuleNotFoundError"),
    ],
)
def test_bad_apps_give_clear_errors(tmp_path: Path, source: str, message: str) -> None:
    with pytest.raises(AppLoadError, match=message):
        load_functions(_app(tmp_path, source))


def test_missing_dir_and_missing_function_app(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match="does not exist"):
        load_functions(tmp_path / "nope")
    with pytest.raises(AppLoadError, match=r"has no function_app\.py"):
        load_functions(tmp_path)


def test_functions_and_bindings_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECORD_DIR", str(tmp_path))
    monkeypatch.setenv("TEST_RUN_ON_STARTUP", "1")
    specs = {s.name: s for s in load_functions(_app(tmp_path, TEMPLATE.read_text()))}
    assert set(specs) == {"on_blob", "on_message", "on_timer"}
    assert specs["on_blob"].binding["path"] == "%TEST_CONTAINER%/{name}"
    assert specs["on_blob"].binding["connection"] == "FORMS_STORAGE"
    assert specs["on_message"].is_async and not specs["on_blob"].is_async
    assert specs["on_timer"].binding["runOnStartup"] is True
    assert specs["on_blob"].function_id == "Host.Functions.on_blob"


def test_http_triggers_load_with_their_route_and_methods(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = (
        "import azure.functions as func\napp = func.FunctionApp()\n"
        "@app.route(route='x/{id}', methods=['GET'])\ndef web(req: func.HttpRequest) -> func.HttpResponse:\n"
        "    return func.HttpResponse('x')\n"
    )
    (spec,) = load_functions(_app(tmp_path, source))
    assert (spec.name, spec.trigger_type, spec.route) == ("web", "httpTrigger", "x/{id}")
    assert [m.upper() for m in spec.methods] == ["GET"]
    assert "does not serve" not in caplog.text and "extra bindings" not in caplog.text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devhost", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_reports_bad_app_dir_without_traceback(tmp_path: Path) -> None:
    result = _cli(str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "devhost: error: app directory" in result.stderr
    assert "Traceback" not in result.stderr

    result = _cli(str(_app(tmp_path, "x = 1\n")))
    assert result.returncode == 2
    assert "defines no `app`" in result.stderr


def test_cli_reports_unresolved_binding_setting(tmp_path: Path) -> None:
    """The template's %TEST_CONTAINER% is not set: the error names it."""
    app = _app(tmp_path, TEMPLATE.read_text())
    values = {
        "RECORD_DIR": str(tmp_path),
        "FORMS_STORAGE": "UseDevelopmentStorage=true",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    }
    (app / "local.settings.json").write_text(json.dumps({"Values": values}))
    result = _cli(str(app), "--functions", "on_blob")
    assert result.returncode == 2
    assert "%TEST_CONTAINER%" in result.stderr
    assert "Traceback" not in result.stderr
