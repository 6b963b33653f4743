#!/usr/bin/env bash
# Installs the Debian packages the local stack needs when they are missing:
# Tesseract (with English and orientation data, and the Latin script model the engine uses to restore
# accents the English model cannot spell) for the engine's OCR, DejaVu fonts for the synthetic form
# generator, and, with `--browser` (what `make test` passes), Chromium, which the review page's browser
# tests drive with Playwright (Playwright's own browser download cannot work offline; `make run` needs no
# browser). Prints what to do when it cannot install them itself.
set -euo pipefail

need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-script-latn)
if command -v tesseract >/dev/null 2>&1; then
  langs=$(tesseract --list-langs 2>/dev/null || true)
  grep -qx eng <<<"$langs" || need+=(tesseract-ocr-eng)
  grep -qx osd <<<"$langs" || need+=(tesseract-ocr-osd)
  # Debian lists it as `Latin`, upstream's tessdata layout as `script/Latin`.
  grep -qxE '(script/)?Latin' <<<"$langs" || need+=(tesseract-ocr-script-latn)
fi
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ "${1:-}" = "--browser" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi

[ ${#need[@]} -eq 0 ] && exit 0

echo "Installing missing system packages: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "error: missing ${need[*]} and no root rights to install them." >&2
  echo "       Install them yourself: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: apt-get not found; install ${need[*]} with your system's package manager." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "error: apt-get update failed; install ${need[*]} by hand." >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || { echo "error: apt-get install ${need[*]} failed; install them by hand." >&2; exit 1; }
command -v tesseract >/dev/null 2>&1 || { echo "error: tesseract still not on PATH" >&2; exit 1; }
echo "Installed: ${need[*]}"
