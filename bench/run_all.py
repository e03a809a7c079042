"""Run every benchmark in bench/ (``make bench``) and write one table to
bench/RESULTS.md.

A benchmark is any ``bench/*.py`` with an ``if __name__ == "__main__":``
block (helpers such as ``loadgen.py`` have none), so a new benchmark is
picked up without editing this file. Each one runs in its own process and
prints its figures; this script keeps its output verbatim and reads the
figures back into one table, one row per printed measure:

* text lines ``label : ... 850 req/s ... p50=1.2ms p95=3.4ms p99=9.9ms ... 95 MiB``
  (throughput ``N <unit>/s``, percentiles ``pXX=<n>ms|s``, memory ``N MiB``);
* or one JSON object, one row per top-level key (percentiles read from a
  ``p50``/``p95``/``p99`` mapping, directly or under ``seconds``).

    .venv/bin/python bench/run_all.py [--only booking.py,presence.py] [--no-write]
    .venv/bin/python bench/run_all.py --rewrite   # the table again from RESULTS.md's raw output
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
TIMEOUT = 30 * 60  # seconds per benchmark run

# Benchmarks run more than once, with these arguments (others run once, bare).
RUNS: dict[str, list[list[str]]] = {
    # bookings/s with 1 and 2 processes of each kind (booking, presence, gateway)
    "booking.py": [["--replicas", "1", "--bookings", "1500", "--clients", "16,32"],
                   ["--replicas", "2", "--bookings", "1500", "--clients", "16,32"]],
}

THROUGHPUT = re.compile(r"([\d][\d,]*(?:\.\d+)?)\s*((?:req|bookings|rows|events|msg|messages|calls|frames)/s)")
PERCENTILE = re.compile(r"\b(p50|p95|p99)=([\d.]+)(ms|s)\b")
MEMORY = re.compile(r"([\d.]+)\s*MiB")


def benchmarks() -> list[Path]:
    found = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name.startswith("_"):
            continue
        if 'if __name__ == "__main__"' in script.read_text(encoding="utf-8"):
            found.append(script)
    return found


def parse_text(output: str) -> list[dict]:
    rows = []
    for line in output.splitlines():
        text = line.strip()
        if not text or text.startswith("#") or ":" not in text:
            continue
        label, _, rest = text.partition(":")
        if not re.search(r"\d", rest):
            continue
        row = {"measure": re.sub(r"\s+", " ", label.strip()), "note": rest.strip()}
        if match := THROUGHPUT.search(rest):
            row["throughput"] = f"{match.group(1)} {match.group(2)}"
        for name, value, unit in PERCENTILE.findall(rest):
            row.setdefault(name, f"{value} {unit}")
        if match := MEMORY.search(rest):
            row["memory"] = f"{match.group(1)} MiB"
        rows.append(row)
    return rows


def parse_json(output: str) -> list[dict] | None:
    start, end = output.find("{"), output.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        report = json.loads(output[start:end + 1])
    except ValueError:
        return None
    rows = []
    for key, value in report.items():
        row = {"measure": key, "note": json.dumps(value, ensure_ascii=False)}
        if isinstance(value, dict):
            spread = value.get("seconds") if isinstance(value.get("seconds"), dict) else value
            unit = "s" if spread is not value else ""
            for name in ("p50", "p95", "p99"):
                if isinstance(spread.get(name), (int, float)):
                    row[name] = f"{spread[name]} {unit}".strip()
        rows.append(row)
    return rows


def parse(output: str) -> list[dict]:
    text_rows = parse_text(output)
    if any(len(r) > 2 for r in text_rows):
        return text_rows
    return parse_json(output) or text_rows


def machine_context() -> dict:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
    others = [line for line in ps if "pytest" in line and "run_all" not in line]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "load": os.getloadavg(), "pytest_processes": len(others),
            "commit": commit}


def run(script: Path, args: list[str]) -> tuple[int, str, float]:
    print(f"\n=== {script.name} {' '.join(args)}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(script), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        code = proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -9
    return code, "".join(lines), time.monotonic() - started


def label(name: str, args: list[str]) -> str:
    if "--replicas" in args:
        return f"{name} (x{args[args.index('--replicas') + 1]} processes)"
    return " ".join([name, *args])


def cell(row: dict, key: str) -> str:
    return str(row.get(key, "")).replace("|", "\\|")


def scaling(results: list[tuple[str, int, str, float]]) -> list[str]:
    """bookings/s by number of processes of each kind, per client count."""
    rates: dict[int, dict[str, float]] = {}
    for _name, _code, output, _seconds in results:
        for row in parse_text(output):
            match = re.match(r"bookings x(\d+), (\d+) clients", row["measure"])
            if match and "throughput" in row:
                rates.setdefault(int(match.group(2)), {})[match.group(1)] = float(
                    row["throughput"].split()[0].replace(",", ""))
    lines = []
    for clients, by_replicas in sorted(rates.items()):
        if {"1", "2"} <= set(by_replicas):
            one, two = by_replicas["1"], by_replicas["2"]
            lines.append(f"- {clients} clients: {one:.0f} bookings/s with 1 process of each kind, "
                         f"{two:.0f} with 2 ({two / one:.2f}x)")
    return lines


def write(results: list[tuple[str, int, str, float]], header: list[str]) -> None:
    summary = scaling(results)
    lines = header + ([""] + ["Scale-out (booking, presence and gateway processes; same run):"] + summary
                      if summary else []) + [
        "",
        "| benchmark | measure | throughput | p50 | p95 | p99 | memory | detail |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, code, output, seconds in results:
        rows = parse(output)
        if code != 0:
            rows.append({"measure": "FAILED", "note": f"exit status {code} after {seconds:.0f}s; see output"})
        if not rows:
            rows = [{"measure": "(no figures)", "note": "see output below"}]
        for row in rows:
            note = cell(row, "note")
            lines.append(f"| {name} | {cell(row, 'measure')} | {cell(row, 'throughput')} | {cell(row, 'p50')} | "
                         f"{cell(row, 'p95')} | {cell(row, 'p99')} | {cell(row, 'memory')} | "
                         f"{note[:160] + ('…' if len(note) > 160 else '')} |")
    lines += ["", "## Raw output", ""]
    for name, code, output, seconds in results:
        lines += [f"### {name} ({seconds:.0f} s, exit {code})", "", "```", output.rstrip(), "```", ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated file names")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    parser.add_argument("--rewrite", action="store_true", help="rebuild the table from RESULTS.md's raw output")
    args = parser.parse_args()
    if args.rewrite:
        rewrite()
        return 0
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    before = machine_context()
    results = []
    for script in benchmarks():
        if only and script.name not in only:
            continue
        for extra in RUNS.get(script.name, [[]]):
            code, output, seconds = run(script, extra)
            results.append((label(script.name, extra), code, output, seconds))
    after = machine_context()
    if not args.no_write:
        write(results, header(before, after))
    return 1 if any(code != 0 for _, code, _, _ in results) else 0


def header(before: dict, after: dict) -> list[str]:
    # The load after is the benchmarks' own; before, above 1.5 on 2 cores,
    # someone else was busy (a 1-minute average still holds what ran just before).
    shared = before["load"][0] > 1.5 or before["pytest_processes"] or after["pytest_processes"]
    return [
        "# Benchmark results",
        "",
        f"`make bench` (bench/run_all.py) on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit "
        f"`{before['commit']}`, {before['cpus']} cores; load average {before['load'][0]:.2f} before, "
        f"{after['load'][0]:.2f} after; {before['pytest_processes']} / {after['pytest_processes']} "
        "pytest processes of other people running before / after.",
        "",
        ("**The machine was shared while this ran** (other engineers' tests on the same 2 cores): read "
         "the ratios to the raw figures of the same run rather than the absolute numbers."
         if shared else "The machine was quiet while this ran.")
        + " The load generators run on the same machine as the system they measure.",
    ]


def rewrite() -> None:
    """Re-read RESULTS.md's header and raw output; write the table again."""
    text = RESULTS.read_text(encoding="utf-8")
    head = text.split("\n| benchmark |", 1)[0].split("\nScale-out", 1)[0].rstrip("\n").splitlines()
    results = []
    for match in re.finditer(r"^### ([^\n]+) \((\d+) s, exit (-?\d+)\)\n\n```\n(.*?)\n```$", text, re.M | re.S):
        results.append((match.group(1), int(match.group(3)), match.group(4) + "\n", float(match.group(2))))
    write(results, head)


if __name__ == "__main__":
    sys.exit(main())
