"""`make clean` keeps the user's data; only `make reset`, which says what it deletes, removes it."""

from __future__ import annotations

import subprocess

from tests.helpers.paths import REPO_ROOT


def _dry_run(*targets: str) -> str:
    return subprocess.run(["make", "-n", *targets], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_clean_removes_caches_but_never_the_local_stacks_data() -> None:
    commands = _dry_run("clean")
    assert ".pytest_cache" in commands and "__pycache__" in commands
    assert ".formloop" not in commands


def test_reset_names_what_it_deletes() -> None:
    commands = _dry_run("reset")
    assert "rm -rf .formloop" in commands and "every form, label and table row" in commands


def test_the_region_reader_needs_no_opencv() -> None:
    """Only two model files are taken out of the rapidocr wheels (scripts/ocr_models.py); the engine runs them
    with onnxruntime (engine/ocr/ppocr.py), so OpenCV, pyclipper and shapely (~190 MB) are not installed at
    all (issue 21 item 7), nor the packages themselves."""
    nodeps = (REPO_ROOT / "engine" / "requirements-nodeps.txt").read_text()
    engine = (REPO_ROOT / "engine" / "requirements.txt").read_text()
    assert "rapidocr-onnxruntime==" in nodeps and "rapidocr==" in nodeps and "\nrapidocr" not in engine
    local = (REPO_ROOT / "requirements-local.txt").read_text()
    for heavy in ("opencv", "pyclipper", "shapely", "scikit-learn"):
        assert f"\n{heavy}" not in engine and f"\n{heavy}" not in local
    assert "scripts/ocr_models.py" in _dry_run("-B", ".venv/.installed-run")
    from engine.ocr import rapid_region

    assert rapid_region.available()


def test_make_run_installs_the_local_stack_without_the_test_tools() -> None:
    """A user's `make run` gets requirements-local.txt and no browser; `make test` adds the test tools
    (requirements-dev.txt, which includes the local stack's) and Chromium (issue 21 item 7)."""
    run = _dry_run("-B", "run")
    assert "-r requirements-local.txt" in run and "requirements-dev.txt" not in run
    assert "ensure-system-packages.sh\n" in run and "--browser" not in run
    test = _dry_run("-B", "install")
    assert "-r requirements-dev.txt" in test and "ensure-system-packages.sh --browser" in test
    dev = (REPO_ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements-local.txt" in dev
    local = (REPO_ROOT / "requirements-local.txt").read_text()
    for tool in ("pytest", "playwright", "ruff", "reportlab"):
        assert f"\n{tool}==" not in local and f"\n{tool}==" in dev


def test_azurite_loads_an_empty_telemetry_client_and_the_stack_disables_telemetry() -> None:
    """Azurite requires applicationinsights (with OpenTelemetry ~290 MB of node_modules) only to send
    telemetry; package.json installs an empty stand-in of a version inside Azurite's range instead, which is
    safe because the stack always starts Azurite with --disableTelemetry. `npm ci` must accept the lock."""
    import json

    package = json.loads((REPO_ROOT / "package.json").read_text())
    assert package["devDependencies"]["applicationinsights"] == "file:scripts/azurite-no-telemetry"
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())["packages"]
    stand_in = {"resolved": "scripts/azurite-no-telemetry", "link": True}
    assert lock["node_modules/applicationinsights"] == stand_in
    assert not [k for k in lock if k.startswith("node_modules/azurite/") and "applicationinsights" in k]
    assert not [k for k in lock if k.startswith("node_modules/@opentelemetry/")]
    resolved = (REPO_ROOT / "node_modules" / "applicationinsights").resolve()
    assert resolved == (REPO_ROOT / "scripts" / "azurite-no-telemetry").resolve()
    assert not (REPO_ROOT / "node_modules" / "azurite" / "node_modules" / "applicationinsights").exists()
    assert "--disableTelemetry" in (REPO_ROOT / "formloop" / "stack.py").read_text()
