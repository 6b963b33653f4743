"""Fetch the samples of the two Azure SDKs the engine is tested against into `.cache/sdk-samples/`.

The SDKs' own samples are the best check that a user of the SDK works against the engine unchanged
(tests/engine/samples runs them). They ship only in the source packages, not in the wheels the venv
installs, and are not ours to commit, so `make install` runs this: pip downloads each source package
(the version pinned in requirements-dev.txt, checked against the sha256 below) as it downloads everything
else at install time, and only its `samples/` folder is kept. Tests never reach the network.

Run again after changing a pin: it says which hash to update. Does nothing when the samples are there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = REPO_ROOT / ".cache" / "sdk-samples"
REQUIREMENTS = REPO_ROOT / "requirements-dev.txt"
# name -> (version, sha256 of its source package); the version must be requirements-dev.txt's pin.
PACKAGES = {
    "azure-ai-formrecognizer": ("3.3.3", "9fc09788bbb65866630fa870cca1933bfd7298b8055236530bcc0e40d81fcccf"),
    "azure-ai-documentintelligence": ("1.0.2",
                                      "4d75a2513f2839365ebabc0e0e1772f5601b3a8c9a71e75da12440da13b63484"),
}


def pinned_version(name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==([^\s#]+)", REQUIREMENTS.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"fetch_sdk_samples: {name} is not pinned in {REQUIREMENTS.name}")
    return match.group(1)


def samples_dir(name: str) -> Path:
    """Where a package's `samples/` folder lands (tests read it from here)."""
    return CACHE / name / "samples"


def _extract_samples(archive: Path, dest: Path) -> int:
    """The archive's `<root>/samples/**` regular files into dest, nothing else (no links, no `..`)."""
    count = 0
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if len(parts) < 3 or parts[1] != "samples" or not member.isfile() or ".." in parts:
                continue
            target = dest.joinpath(*parts[2:])
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            count += 1
    return count


def fetch(name: str, version: str, sha256: str) -> None:
    home = CACHE / name
    stamp = home / "VERSION"
    if stamp.exists() and stamp.read_text().strip() == version:
        return
    with tempfile.TemporaryDirectory() as tmp:
        requirement = Path(tmp) / "requirement.txt"
        requirement.write_text(f"{name}=={version} --hash=sha256:{sha256}\n")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r", str(requirement),
                        "-d", tmp], check=True)
        (archive,) = Path(tmp).glob("*.tar.gz")
        staging = Path(tempfile.mkdtemp(dir=CACHE))
        count = _extract_samples(archive, staging / "samples")
    if not count:
        raise SystemExit(f"fetch_sdk_samples: {archive.name} has no samples/ folder")
    if home.exists():
        shutil.rmtree(home)
    staging.rename(home)
    stamp.write_text(version + "\n")
    print(f"fetch_sdk_samples: {name} {version}: {count} sample files in {home.relative_to(REPO_ROOT)}")


def main() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, (version, sha256) in PACKAGES.items():
        pinned = pinned_version(name)
        if pinned != version:
            raise SystemExit(f"fetch_sdk_samples: {REQUIREMENTS.name} pins {name}=={pinned}, this script "
                             f"knows {version}: set PACKAGES[{name!r}] to ({pinned!r}, <sha256 of its source "
                             "package>)")
        fetch(name, version, sha256)


if __name__ == "__main__":
    main()
