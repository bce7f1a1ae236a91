"""Run the sdgen CLI in this process and print its peak resident memory (KB) last."""

from __future__ import annotations

import resource
import sys

from sdgen.cli import run

if __name__ == "__main__":
    code = run(sys.argv[1:])
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
    sys.exit(code)
