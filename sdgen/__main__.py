"""``python -m sdgen`` and the ``sdgen`` console script."""

import sys

from .cli import run


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:  # `sdgen personas show x | head`: the reader left, not an error
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
