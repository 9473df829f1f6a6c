"""python -m bench [NAME ...]: run every registered benchmark (or those whose function name
contains one of the NAMEs) and print one table (median of 20 runs unless a row says so)."""

import sys

import bench.bank_import  # noqa: F401 (registers its benchmark)
import bench.invoice_run  # noqa: F401
import bench.pages  # noqa: F401
from bench import BENCHMARKS, RUNS, print_table


def main() -> None:
    wanted = sys.argv[1:]
    chosen = [f for f in BENCHMARKS if not wanted or any(w in f.__name__ for w in wanted)]
    rows = [row for function in chosen for row in function()]
    print(f"Milliseconds: medians of {RUNS} runs after a warm-up, unless a row says otherwise.\n")
    print_table(rows)


if __name__ == "__main__":
    main()
