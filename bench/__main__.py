"""python -m bench: run every registered benchmark and print one table (median of 20 runs)."""

import bench.invoice_run  # noqa: F401 (registers its benchmark)
import bench.pages  # noqa: F401
from bench import BENCHMARKS, RUNS, print_table


def main() -> None:
    rows = [row for function in BENCHMARKS for row in function()]
    print(f"Milliseconds: medians of {RUNS} runs after a warm-up, unless a row says otherwise.\n")
    print_table(rows)


if __name__ == "__main__":
    main()
