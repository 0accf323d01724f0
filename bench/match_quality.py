"""Match quality on the labelled samples: pairwise precision, recall and F1, and wall time.

For each sample (customers → domain customer, items → item, locations → location) the script
runs `manage.py match_file` as a subprocess into a temporary folder, times it, and scores its
clusters against the sample's truth file as shared/data/README.md defines: every two records in
one cluster are a predicted pair; precision = correct predicted pairs / predicted pairs,
recall = correct predicted pairs / true pairs.

With the optional `bench` extra installed (`pip install -e ".[bench]"`: Splink 5 on DuckDB) it
also runs bench/splink_baseline.py on the same file, timed the same way, and prints both in one
table.

    .venv/bin/python bench/match_quality.py
    .venv/bin/python bench/match_quality.py --train --only customers
    .venv/bin/python bench/match_quality.py --data /path/to/data     # or MDM_SAMPLE_DATA=...

The scorer is importable: `pairwise_scores(result_csv, truth_csv)` takes a result given as
clusters (source_system, source_id, cluster_id) or as matched pairs (left_system, left_id,
right_system, right_id; closed transitively).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
SAMPLES = {"customers": "customer", "items": "item", "locations": "location"}

Key = tuple[str, str]


# --- scoring ----------------------------------------------------------------------------------


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def score_labels(predicted: Mapping[Key, Hashable], truth: Mapping[Key, Hashable]) -> dict:
    """Pairwise scores of a clustering (record → cluster label) against the truth (record →
    entity label). Records missing from ``predicted`` are singletons; records not in the truth
    are left out (and counted in ``unknown_records``)."""
    clusters: Counter = Counter()
    both: Counter = Counter()
    singleton = object()
    for key, entity in truth.items():
        label = predicted.get(key)
        if label is None:
            label = (singleton, key)
        clusters[label] += 1
        both[(label, entity)] += 1
    predicted_pairs = _pairs(clusters.values())
    true_pairs = _pairs(Counter(truth.values()).values())
    correct = _pairs(both.values())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
        "correct_pairs": correct,
        "records": len(truth),
        "unknown_records": sum(1 for key in predicted if key not in truth),
    }


def read_truth(path: str | Path) -> dict[Key, str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {
            (r["source_system"], r["source_id"]): r["entity_id"] for r in csv.DictReader(handle)
        }


def read_result(path: str | Path) -> dict[Key, Hashable]:
    """Record → cluster label, from a clusters file or a pairs file (closed transitively).

    A pairs file with a ``decision`` column (match_file --pairs) counts only the rows whose
    decision is "match"; the others are pairs for review."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        if {"source_system", "source_id", "cluster_id"} <= columns:
            return {(r["source_system"], r["source_id"]): r["cluster_id"] for r in reader}
        if {"left_system", "left_id", "right_system", "right_id"} <= columns:
            pairs = [
                ((r["left_system"], r["left_id"]), (r["right_system"], r["right_id"]))
                for r in reader
                if r.get("decision", "match") in ("match", "")
            ]
            return _components(pairs)
    raise ValueError(
        f"{path}: neither clusters (source_system, source_id, cluster_id) nor pairs "
        "(left_system, left_id, right_system, right_id)"
    )


def _components(pairs: Iterable[tuple[Key, Key]]) -> dict[Key, Hashable]:
    parent: dict[Key, Key] = {}

    def find(x: Key) -> Key:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {key: find(key) for key in parent}


def pairwise_scores(result_csv: str | Path, truth_csv: str | Path) -> dict:
    """Pairwise precision, recall, F1 and pair counts of a result file against a truth file."""
    return score_labels(read_result(result_csv), read_truth(truth_csv))


# --- running the matchers ---------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stderr: str


def run_timed(command: list[str], cwd: Path = ROOT) -> Run:
    """Run a command; its wall time and the peak resident memory of that child alone."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return Run(seconds, usage.ru_maxrss / scale, process.returncode, stderr)


def run_match_file(
    input_csv: Path, domain: str, out: Path, train: bool = False, extra: Iterable[str] = ()
) -> Run:
    command = [sys.executable, "manage.py", "match_file", str(input_csv), "--domain", domain]
    command += ["--out", str(out), *extra]
    if train:
        command.append("--train")
    run = run_timed(command)
    if run.returncode:
        raise SystemExit(f"match_file failed ({run.returncode}):\n{run.stderr}")
    return run


def splink_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("splink", "duckdb"))


SPLINK_MISSING = (
    'Splink: skipped (not installed). Install the bench extra: .venv/bin/pip install -e ".[bench]"'
)


def run_splink(input_csv: Path, domain: str, out: Path, extra: Iterable[str] = ()) -> Run:
    command = [sys.executable, str(BENCH / "splink_baseline.py"), str(input_csv)]
    run = run_timed([*command, "--domain", domain, "--out", str(out), *extra])
    if run.returncode:
        raise SystemExit(f"splink_baseline failed ({run.returncode}):\n{run.stderr}")
    return run


HEADER = (
    f"{'sample':10s} {'matcher':8s} {'precision':>9s} {'recall':>7s} {'F1':>7s} "
    f"{'pred pairs':>10s} {'true pairs':>10s} {'wall s':>7s} {'peak MB':>8s}"
)


def row(sample: str, matcher: str, scores: dict, run: Run) -> str:
    return (
        f"{sample:10s} {matcher:8s} {scores['precision']:9.4f} {scores['recall']:7.4f} "
        f"{scores['f1']:7.4f} {scores['predicted_pairs']:10,} {scores['true_pairs']:10,} "
        f"{run.seconds:7.2f} {run.peak_rss_mb:8.0f}"
    )


def default_data_dir() -> Path:
    return Path(os.environ.get("MDM_SAMPLE_DATA") or ROOT.parent / "shared" / "data")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=default_data_dir(),
        help="Folder of <sample>_sample.csv and .truth.csv (default: $MDM_SAMPLE_DATA, else "
        "the repository's sibling shared/data).",
    )
    parser.add_argument("--train", action="store_true", help="Pass --train to match_file.")
    parser.add_argument("--only", choices=sorted(SAMPLES), help="One sample only.")
    parser.add_argument("--no-splink", action="store_true", help="Do not run the Splink baseline.")
    parser.add_argument(
        "--splink-locality",
        choices=["combined", "separate"],
        default="combined",
        help="Splink: city, region and postal code as one comparison or three "
        "(splink_baseline.py --locality).",
    )
    args = parser.parse_args()
    splink_args = ["--locality", args.splink_locality]

    samples = [args.only] if args.only else list(SAMPLES)
    with_splink = not args.no_splink and splink_available()
    ours = "ours+EM" if args.train else "ours"
    for sample in samples:
        if not (args.data / f"{sample}_sample.csv").is_file():
            raise SystemExit(f"{args.data / f'{sample}_sample.csv'} is missing (see --data)")
        if not (args.data / f"{sample}_sample.truth.csv").is_file():
            raise SystemExit(f"{args.data / f'{sample}_sample.truth.csv'} is missing")
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="mdm-match-quality-") as tmp:
        for sample in samples:
            input_csv = args.data / f"{sample}_sample.csv"
            truth_csv = args.data / f"{sample}_sample.truth.csv"
            out = Path(tmp) / f"{sample}.ours.csv"
            run = run_match_file(input_csv, SAMPLES[sample], out, train=args.train)
            print(row(sample, ours, pairwise_scores(out, truth_csv), run), flush=True)
            if with_splink:
                out = Path(tmp) / f"{sample}.splink.csv"
                run = run_splink(input_csv, SAMPLES[sample], out, splink_args)
                print(row(sample, "splink", pairwise_scores(out, truth_csv), run), flush=True)
    if not with_splink and not args.no_splink:
        print(SPLINK_MISSING)


if __name__ == "__main__":
    main()
