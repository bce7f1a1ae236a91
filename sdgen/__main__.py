"""``python -m sdgen`` and the ``sdgen`` console script."""

import os
import sys

from .cli import run

INTERRUPTED = (130, 143)  # Ctrl-C, SIGTERM


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:  # `sdgen personas show x | head`: the reader left, not an error
        code = 0
    if code in INTERRUPTED:
        # Everything the run keeps is written (notes whole, the report). What is left is CPU
        # work it abandoned, whose threads and workers Python would otherwise wait for.
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
