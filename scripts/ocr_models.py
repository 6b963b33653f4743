"""Put the region reader's two ONNX models into the virtualenv, taken out of the wheels that ship them.

Why not `pip install` the wheels: the engine runs the models itself (engine/ocr/ppocr.py) and needs two
files, the PP-OCRv4 detector from rapidocr-onnxruntime and the PP-OCRv6 small recognizer from rapidocr
(Apache-2.0 both); installing both wheels would add 49 MB of code and models nobody loads. The wheels are
fetched with pip from the configured package index, pinned in engine/requirements-nodeps.txt; the files
land in `<venv>/share/formloop/ppocr/`. Run: `.venv/bin/python scripts/ocr_models.py` (make does).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.ocr.ppocr import MODEL_SOURCES, installed_dir  # noqa: E402


def pins() -> dict[str, str]:
    """Package name -> `name==version` line of engine/requirements-nodeps.txt."""
    out = {}
    for line in (ROOT / "engine" / "requirements-nodeps.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            out[line.split("==")[0].strip().lower()] = line
    return out


def main() -> int:
    target = installed_dir()
    missing = {f: pkg for f, pkg in MODEL_SOURCES.items() if not (target / f).is_file()}
    if not missing:
        return 0
    pinned = pins()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in sorted(set(missing.values())):
            if pkg not in pinned:
                print(f"error: {pkg} is not pinned in engine/requirements-nodeps.txt", file=sys.stderr)
                return 1
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                            "--no-deps", "--only-binary=:all:", "-d", tmp, pinned[pkg]], check=True)
        for wheel in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(wheel) as zf:
                for member in zf.namelist():
                    name = member.rsplit("/", 1)[-1]
                    if name in missing and "/models/" in member:
                        (target / (name + ".part")).write_bytes(zf.read(member))
                        (target / (name + ".part")).replace(target / name)  # never a torn model file
    still = [f for f in MODEL_SOURCES if not (target / f).is_file()]
    if still:
        print(f"error: not found in the wheels: {', '.join(still)}", file=sys.stderr)
        return 1
    print(f"OCR models in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
