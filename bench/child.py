"""Run the sdgen CLI in this process; print its peak resident memory and its largest worker's (KB)."""

from __future__ import annotations

import resource
import sys

from sdgen.cli import run

if __name__ == "__main__":
    code = run(sys.argv[1:])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest one
    print(own, workers, flush=True)
    sys.exit(code)
