"""Matcher throughput at scale: N synthetic customer records through `manage.py match_file`.

Generates N customer records (bench/generate.py: seeded, about 35% of the entities with 1-3
noisy duplicates, a few look-alikes that are not duplicates), writes them to a temporary CSV,
runs match_file on it as a subprocess and prints records/s, wall time and the subprocess's peak
resident memory, and the pairwise precision / recall / F1 against the generator's truth.

    .venv/bin/python bench/match_scale.py                      # 100,000 records
    .venv/bin/python bench/match_scale.py --records 20000 --train
    .venv/bin/python bench/match_scale.py --records 20000 --splink   # also the Splink baseline
    .venv/bin/python bench/match_scale.py --keep /tmp/scale          # keep the files
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from generate import generate_customers, write_csv
from match_quality import (
    SPLINK_MISSING,
    pairwise_scores,
    run_match_file,
    run_splink,
    splink_available,
)


def report(matcher: str, records: int, scores: dict, seconds: float, peak_mb: float) -> str:
    return (
        f"{matcher:8s} {records:>9,} {seconds:8.1f} {records / seconds:10,.0f} {peak_mb:8.0f} "
        f"{scores['precision']:9.4f} {scores['recall']:7.4f} {scores['f1']:7.4f} "
        f"{scores['predicted_pairs']:10,} {scores['true_pairs']:10,}"
    )


HEADER = (
    f"{'matcher':8s} {'records':>9s} {'wall s':>8s} {'records/s':>10s} {'peak MB':>8s} "
    f"{'precision':>9s} {'recall':>7s} {'F1':>7s} {'pred pairs':>10s} {'true pairs':>10s}"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train", action="store_true", help="Pass --train to match_file.")
    parser.add_argument(
        "--splink", action="store_true", help="Also run the Splink baseline (bench extra)."
    )
    parser.add_argument(
        "--splink-locality",
        choices=["combined", "separate"],
        default="combined",
        help="Splink: city, region and postal code as one comparison or three.",
    )
    parser.add_argument("--keep", type=Path, help="Write the files here and keep them.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mdm-match-scale-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        rows, entities = generate_customers(args.records, seed=args.seed)
        input_csv = folder / "customers.csv"
        truth_csv = write_csv(rows, entities, input_csv)
        sizes = Counter(entities).values()
        with_duplicates = sum(1 for n in sizes if n > 1) / len(sizes)
        print(
            f"generated {len(rows):,} records of {len(sizes):,} entities "
            f"({with_duplicates:.0%} with duplicates) in "
            f"{time.perf_counter() - started:.1f}s",
            flush=True,
        )
        out = folder / "clusters.csv"
        run = run_match_file(input_csv, "customer", out, train=args.train)
        print(HEADER)
        matcher = "ours+EM" if args.train else "ours"
        scores = pairwise_scores(out, truth_csv)
        print(report(matcher, len(rows), scores, run.seconds, run.peak_rss_mb), flush=True)
        summary = run.stderr.strip().splitlines()[-1:] or [""]
        if args.splink and splink_available():
            out = folder / "clusters.splink.csv"
            run = run_splink(input_csv, "customer", out, ["--locality", args.splink_locality])
            scores = pairwise_scores(out, truth_csv)
            print(report("splink", len(rows), scores, run.seconds, run.peak_rss_mb))
        elif args.splink:
            print(SPLINK_MISSING)
        print(f"match_file: {summary[0]}")


if __name__ == "__main__":
    main()
