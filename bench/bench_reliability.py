"""Reliability under crashes (issue 12): the fault scenarios of tests/fault/, measured.

Run: `.venv/bin/python bench/bench_reliability.py [--only engine_ocr,host_batch,...] [--repeat N]`.

Each scenario gets a stack of its own (unique storage names on one in-memory Azurite, its own engine
and devhost processes) and injects its fault as a real process event: `kill -9` of the engine while
Layout operations are in flight and while a model is `creating`; `kill -STOP` of the engine, then
`kill -9` of devhost while a training run is `claimed`; `kill -9` of devhost mid-batch. A batch of bad
inputs (empty, text named .pdf, truncated PDF and JPEG, garbage PNG, a 1024-character name, labels
copied from another form) runs with no fault. Measured per scenario: documents lost (no `.ocr.json`
and `succeeded` row, or a bad input without a verdict), duplicated (an `.ocr.json` or `ocrAt` written
twice for one version), time from the fault until every invariant holds
(tests/helpers/fault/harness.py), and the recovery bound it is held to (tests/fault/test_crashes.py).
Settings: tests/helpers/fault/harness.py.
Exit code 1 when a scenario loses, duplicates or misses its bound.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_info import machine  # noqa: E402

from formloop.stack import start_azurite, stop  # noqa: E402
from tests.helpers.fault.harness import FAULT_SETTINGS, FaultStack  # noqa: E402
from tests.helpers.fault.scenarios import SCENARIOS, Result, describe  # noqa: E402


def run(names: list[str], repeat: int) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        root = Path(tmp)
        azurite = start_azurite(log_path=root / "azurite.log")
        try:
            for round_ in range(repeat):
                for name in names:
                    stack = FaultStack.create(azurite.connection_string, root / f"{name}-{round_}")
                    started = time.monotonic()
                    try:
                        stack.start()
                        result = SCENARIOS[name](stack)
                    except AssertionError as exc:  # a wait of the scenario itself timed out
                        result = Result(name, "?", "?", 0.0, problems=[str(exc).splitlines()[0]])
                    finally:
                        stack.close()
                    results.append(result)
                    print(f"{describe(result)}\n  ({time.monotonic() - started:.0f} s in all)",
                          file=sys.stderr, flush=True)
        finally:
            stop(azurite.process, timeout=3, sig=signal.SIGTERM)
    return results


def table(results: list[Result]) -> str:
    """One row per scenario; with --repeat, losses and duplicates are summed over the rounds and the
    recovery time is the median (min-max)."""
    lines = ["| scenario | inputs | faults injected | rounds | documents lost | duplicated "
             "| time to recover (s) | bound (s) | engine Layouts succeeded |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    by_name: dict[str, list[Result]] = {}
    for r in results:
        by_name.setdefault(r.scenario, []).append(r)
    for name, rounds in by_name.items():
        times = [r.recover_s for r in rounds if r.recover_s is not None]
        recover = f"{statistics.median(times):.1f}" if times else ""
        if len(times) > 1:
            recover += f" ({min(times):.1f}-{max(times):.1f})"
        if len(times) < len(rounds):
            recover += f" **{len(rounds) - len(times)} not recovered**"
        faults = rounds[0].faults
        details = [r.detail for r in rounds if r.detail]
        if details:
            faults += f" ({'; '.join(details)})"
        layouts = ", ".join(str(r.engine_layouts[1]) for r in rounds)
        lines.append(f"| {name} | {rounds[0].inputs} | {faults} | {len(rounds)} "
                     f"| {sum(r.lost for r in rounds)} | {sum(r.duplicated for r in rounds)} | {recover} "
                     f"| {rounds[0].bound_s:.0f} | {layouts} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(SCENARIOS)}")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every scenario (each on a new stack)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    results = run(names, max(1, args.repeat))
    print(f"## Reliability under crashes\n\nMachine: {machine()}\n")
    print("Settings: " + ", ".join(f"{k}={v}" for k, v in FAULT_SETTINGS.items()) + "\n")
    print(table(results))
    print()
    for r in results:
        for note in [*r.notes, *(f"PROBLEM: {p}" for p in r.problems)]:
            print(f"- {r.scenario}: {note}")
    print(f"\n({time.monotonic() - started:.0f} s in all)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
