"""`make bench`: run every `bench/bench_*.py` in turn and keep their reports under bench/out/.

Each benchmark prints a markdown table comparing against a baseline measured in the same run;
the numbers recorded for the project are copied by hand into bench/RESULTS.md with machine and date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    failed = []
    for script in sorted(BENCH.glob("bench_*.py")):
        if wanted and script.stem.removeprefix("bench_") not in wanted:
            continue
        print(f"\n=== {script.name}", flush=True)
        result = subprocess.run(
            [sys.executable, str(script)], cwd=BENCH.parent, capture_output=True, text=True
        )
        report = out / f"{script.stem}.md"
        report.write_text(result.stdout)
        print(result.stdout)
        if result.returncode != 0:
            failed.append(script.name)
            print(result.stderr[-3000:], file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"reports in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
