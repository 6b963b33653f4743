"""The Azure SDKs' own samples, run unchanged against a real engine (tests/engine/samples/).

`make test` runs scripts/fetch_sdk_samples.py, which keeps each SDK's `samples/` folder (from its source
package) in .cache/sdk-samples/. The source packages do not ship the documents the samples open
(`samples/sample_forms/...`), so a run folder holds a copy of the samples beside a `sample_forms/` made of
this repository's documents: `forms/Form_1.jpg` is the purchase order of tests/data (the form the SDK's own
folder holds under that name), the others are generated pages with what each sample looks for (check boxes
and a ruled table, several fonts, small print). Each sample runs as `python <sample>.py` with its settings
in the environment, as its docstring says to run it.

The Document Intelligence samples call `load_dotenv(find_dotenv())` from python-dotenv, which is not a
dependency of this project; when it is not installed, the run folder's `shim/dotenv.py` stands in for it
(no `.env` file is involved: the settings are in the environment already), and nothing else.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.helpers.custom_models import PURCHASE_ORDERS
from tests.helpers.paths import REPO_ROOT

CACHE = REPO_ROOT / ".cache" / "sdk-samples"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
DOTENV_SHIM = '''"""Stand-in for python-dotenv in the samples' runs: the settings are in the environment."""


def find_dotenv(*args, **kwargs):
    return ""


def load_dotenv(*args, **kwargs):
    return False
'''


@dataclass
class SampleSet:
    """The sync samples of one folder of one SDK's samples: those the engine serves, and why the rest
    are out of scope (every file of the folder is in one of the two)."""

    package: str  # the distribution, as pinned in requirements-dev.txt
    folder: str  # under samples/
    in_scope: tuple[str, ...]
    out_of_scope: dict[str, str] = field(default_factory=dict)

    def source(self) -> Path:
        home = CACHE / self.package
        stamp = home / "VERSION"
        installed = importlib.metadata.version(self.package)
        if not stamp.exists():
            pytest.fail(f"the {self.package} samples are not in {home}: run `make test`, or "
                        "`.venv/bin/python scripts/fetch_sdk_samples.py`, once with network access")
        fetched = stamp.read_text().strip()
        if fetched != installed:
            pytest.fail(f"{home} holds the {self.package} {fetched} samples, the venv has {installed}: run "
                        "`.venv/bin/python scripts/fetch_sdk_samples.py`")
        return home / "samples" / self.folder

    def files(self) -> set[str]:
        return {p.name for p in self.source().glob("sample_*.py")}


@dataclass
class RunFolder:
    """A copy of one SDK's `samples/` with `sample_forms/`, and how to run a sample in it."""

    root: Path
    shim: Path | None

    def run(self, folder: str, name: str, env: dict[str, str], timeout: float = 240) -> str:
        """Run `<folder>/<name>` as its README says; its output, or the test fails with it."""
        path = self.root / folder / name
        own = ("AZURE_", "DOCUMENTINTELLIGENCE_", "CONTAINER_SAS_URL", "CUSTOM_")  # the samples' settings
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        full_env.update(env)
        if self.shim is not None:
            full_env["PYTHONPATH"] = str(self.shim)
        done = subprocess.run([sys.executable, str(path)], cwd=path.parent, env=full_env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            pytest.fail(f"{folder}/{name} exited with {done.returncode}\n--- stdout (end)\n"
                        f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-6000:]}", pytrace=False)
        return done.stdout


def run_folder(package: str, tmp: Path) -> RunFolder:
    """The package's samples copied into tmp/samples, with sample_forms/ beside them."""
    home = CACHE / package / "samples"
    root = tmp / "samples"
    shutil.copytree(home, root)
    write_sample_forms(root / "sample_forms")
    shim = None
    if find_spec("dotenv") is None:
        shim = tmp / "shim"
        shim.mkdir()
        (shim / "dotenv.py").write_text(DOTENV_SHIM)
    return RunFolder(root, shim)


# -- the documents the samples open ----------------------------------------------------------------
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def _selection_mark_form() -> Image.Image:
    """A form page: a title, labeled check boxes (one checked), a ruled 3 x 3 table."""
    img = Image.new("L", (1700, 1400), 255)
    draw = ImageDraw.Draw(img)
    draw.text((120, 100), "Vehicle Inspection Form", font=_font("DejaVuSans-Bold.ttf", 56), fill=0)
    body = _font("DejaVuSans.ttf", 38)
    for i, (label, checked) in enumerate((("Brakes checked", True), ("Lights checked", False))):
        y = 260 + 90 * i
        draw.rectangle((120, y, 160, y + 40), outline=0, width=4)
        if checked:
            draw.line((128, y + 8, 152, y + 32), fill=0, width=5)
            draw.line((128, y + 32, 152, y + 8), fill=0, width=5)
        draw.text((190, y - 2), label, font=body, fill=0)
    rows = (("Part", "Count", "Price"), ("Filter", "2", "$18.00"), ("Wiper", "1", "$12.50"))
    x0, y0, w, h = 120, 560, 420, 90
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            draw.text((x0 + c * w + 24, y0 + r * h + 22), text, font=body, fill=0)
    for r in range(len(rows) + 1):
        draw.line((x0, y0 + r * h, x0 + 3 * w, y0 + r * h), fill=0, width=4)
    for c in range(4):
        draw.line((x0 + c * w, y0, x0 + c * w, y0 + len(rows) * h), fill=0, width=4)
    return img


def _fonts_page() -> Image.Image:
    img = Image.new("L", (1700, 900), 255)
    draw = ImageDraw.Draw(img)
    lines = (("DejaVuSans.ttf", "A plain sans-serif line of text."),
             ("DejaVuSans-Bold.ttf", "A bold line, heavier than the rest."),
             ("DejaVuSerif-Italic.ttf", "An italic serif line, slanted."),
             ("DejaVuSansMono.ttf", "A monospaced line: 0123456789"))
    for i, (font, text) in enumerate(lines):
        draw.text((100, 120 + 160 * i), text, font=_font(font, 54), fill=0)
    return img


def _small_print_page() -> Image.Image:
    """A large page of small print (what `ocrHighResolution` is for)."""
    img = Image.new("L", (2480, 1200), 255)
    draw = ImageDraw.Draw(img)
    font = _font("DejaVuSans.ttf", 30)
    for i in range(8):
        draw.text((120, 120 + 110 * i), f"Item {i + 1}: small print on a large page, line number {i + 1}.",
                  font=font, fill=0)
    return img


def write_sample_forms(root: Path) -> None:
    (root / "forms").mkdir(parents=True)
    (root / "add_ons").mkdir()
    shutil.copyfile(PURCHASE_ORDERS / "Form_1.jpg", root / "forms" / "Form_1.jpg")
    _selection_mark_form().save(root / "forms" / "form_selection_mark.png")
    _fonts_page().save(root / "add_ons" / "fonts_and_languages.png")
    _small_print_page().save(root / "add_ons" / "highres.png")


def assert_every_sample_listed(samples: SampleSet, expect: dict[str, tuple[str, ...]]) -> None:
    """Every sample of the set is either run (with what it must print) or named as out of scope."""
    assert samples.files() == set(samples.in_scope) | set(samples.out_of_scope)
    assert set(expect) == set(samples.in_scope)


def assert_sample_prints(folder: RunFolder, samples: SampleSet, name: str, env: dict[str, str],
                         expect: dict[str, tuple[str, ...]]) -> None:
    """Run one sample unchanged and check it printed what it prints against the cloud service."""
    out = folder.run(samples.folder, name, env)
    for expected in expect[name]:
        assert expected in out, f"{name} did not print {expected!r}:\n{out[-3000:]}"
