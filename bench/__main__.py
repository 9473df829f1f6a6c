"""python -m bench [NAME ...]: run every registered benchmark (or those whose function name
contains one of the NAMEs) and print one table (median of 20 runs unless a row says so)."""

import sys

import bench.bank_import  # noqa: F401 (registers its benchmark)
import bench.einvoice  # noqa: F401
import bench.invoice_run  # noqa: F401
import bench.outbox  # noqa: F401
import bench.pages  # noqa: F401
from bench import BENCHMARKS, RUNS, print_table


def main() -> None:
    wanted = sys.argv[1:]
    chosen = [f for f in BENCHMARKS if not wanted or any(w in f.__name__ for w in wanted)]
    # The e-invoice benchmark last: it starts Saxon in this process, and the others fork
    # worker processes, which must not inherit it (its runtime does not survive a fork).
    chosen.sort(key=lambda function: function.__name__ == "einvoice")
    rows = [row for function in chosen for row in function()]
    print(f"Milliseconds: medians of {RUNS} runs after a warm-up, unless a row says otherwise.\n")
    print_table(rows)


if __name__ == "__main__":
    main()
