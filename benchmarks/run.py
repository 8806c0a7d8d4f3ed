"""`make bench`: prints figures and ratios against their targets; never a pass/fail test.

1. Demo generation of N customers (all tables) in a child process: seconds and peak memory,
   against Faker row-by-row generation of the same customers, extrapolated from a sample.
2. The full metrics computation on that store against one hand-written DuckDB SQL query
   computing the same raw figures.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from data.generator import DEMO_END, DEMO_START
from data.schema import PURPOSES
from data.store import open_store
from metrics.params import resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables

HERE = Path(__file__).resolve().parent

CHILD = """
import json, sys, time
from data.generator import generate
from data.store import open_store
started = time.perf_counter()
tables = generate(int(sys.argv[1]), 42, "baseline")
generated = time.perf_counter()
with open_store(sys.argv[2]) as store:
    rows = store.replace_all(tables, info={"source": "benchmark"})
print(json.dumps({"generate_s": generated - started,
                  "write_s": time.perf_counter() - generated, "rows": rows}))
"""

COUNTRIES = ["DE", "FR", "GB", "US", "BR", "CA", "ES", "IT", "NL", "PL"]
LOCALES = {
    "DE": "de_DE",
    "FR": "fr_FR",
    "GB": "en_GB",
    "US": "en_US",
    "BR": "pt_BR",
    "CA": "en_CA",
    "ES": "es_ES",
    "IT": "it_IT",
    "NL": "nl_NL",
    "PL": "pl_PL",
}


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<44} {value:>14}  {note}")


def bench_generation(customers: int, db: Path) -> dict:
    """Generate and store the demo in a child process; wall time and its peak RSS."""
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(customers), str(db)],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return {**result, "wall_s": wall, "peak_gib": peak_kib / 1024**2}


def faker_row_by_row(sample: int) -> float:
    """Seconds per customer for Faker generating each customer row by row."""
    from faker import Faker

    fakers = {c: Faker(loc) for c, loc in LOCALES.items()}
    for fake in fakers.values():
        fake.seed_instance(42)
    rng = random.Random(42)
    started = time.perf_counter()
    rows = []
    for i in range(sample):
        country = rng.choice(COUNTRIES)
        fake = fakers[country]
        created = fake.date_time_between(DEMO_START, DEMO_END, tzinfo=UTC)
        row = {
            "customer_id": f"{i:07d}",
            "created_at": created,
            "country": country,
            "full_name": fake.name(),
            "email": fake.email(),
            "phone": fake.phone_number(),
            "segment": fake.random_element(["value_seeker", "loyalist", "premium"]),
            "acquisition_channel": fake.random_element(["organic_search", "social", "direct"]),
        }
        # The same customer's consent history, one event per purpose.
        row["consent"] = [
            (
                p,
                fake.random_element(["granted", "denied"]),
                fake.date_time_between(created, DEMO_END, tzinfo=UTC),
            )
            for p in PURPOSES
        ]
        rows.append(row)
    return (time.perf_counter() - started) / sample


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_metrics(db: Path, repeat: int) -> dict:
    sql = (HERE / "handwritten.sql").read_text(encoding="utf-8")
    with open_store(db, read_only=True) as store:
        params = resolve_params(store.date_range(), min_cell=1)
        tables = Tables.from_backend(store.backend)
        bind = {"as_of": params.as_of, "start": params.start, "end": params.end}

        def ours():
            return to_json(compute(tables, params))

        def handwritten():
            return store.con.execute(sql, bind).fetchall()

        figures, [row] = ours(), handwritten()  # warm both, and check they agree
        agree = figures["customers"] == row[0] and figures["erasure"]["received"] == row[4][0]
        return {
            "ours_s": median_time(ours, repeat),
            "handwritten_s": median_time(handwritten, repeat),
            "agree": agree,
            "customers": figures["customers"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--faker-sample", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.customers
    print(f"ConsentLens benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {n:,} customers")
    with tempfile.TemporaryDirectory(prefix="consentlens-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        gen = bench_generation(n, db)
        total = gen["generate_s"] + gen["write_s"]
        per_faker = faker_row_by_row(args.faker_sample)
        faker_total = per_faker * n
        rows = sum(gen["rows"].values())
        print("\nDemo generation (all tables)")
        line("rows written", f"{rows:,}", ", ".join(f"{k} {v:,}" for k, v in gen["rows"].items()))
        line("generate", f"{gen['generate_s']:.1f} s")
        line("write to the store", f"{gen['write_s']:.1f} s")
        line("generate + write", f"{total:.1f} s", "target < 60 s")
        line("peak memory", f"{gen['peak_gib']:.2f} GiB", "target < 3 GiB")
        line(
            f"Faker row by row ({args.faker_sample:,}-row sample)",
            f"{faker_total:.0f} s",
            f"extrapolated to {n:,} customers, customers only",
        )
        line("speed-up over Faker row by row", f"{faker_total / total:.0f}x", "target >= 50x")

        m = bench_metrics(db, args.repeat)
        print(f"\nFull metrics computation (median of {args.repeat}, warm)")
        line("consentlens metrics (Ibis, all figures)", f"{m['ours_s']:.2f} s", "target < 3 s")
        line("one hand-written DuckDB query", f"{m['handwritten_s']:.2f} s")
        line("ratio", f"{m['ours_s'] / m['handwritten_s']:.2f}x", "target <= 1.5x")
        line("figures agree", "yes" if m["agree"] else "NO")


if __name__ == "__main__":
    main()
