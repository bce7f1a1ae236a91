"""Start-up cost of the command line against Python itself, run by the same interpreter.

    python -m bench.startup [RUNS]

CPU time (user + system) of `sdgen --version` and `sdgen --help`, each started as
`<this interpreter> -m sdgen`, against `<this interpreter> -c pass`: a version-manager shim on
PATH (pyenv's `python3`) costs more than the interpreter it starts, so both sides use the real
executable. Target: at most 5x.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys


def cpu_seconds(argv: list[str], runs: int) -> float:
    """Mean CPU seconds of a command's process over ``runs`` runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGEN_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used / runs


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 20
    python = sys.executable
    base = cpu_seconds([python, "-c", "pass"], runs)
    ok = True
    for args in (["--version"], ["--help"]):
        cost = cpu_seconds([python, "-m", "sdgen", *args], runs)
        ratio = cost / base
        ok &= ratio <= 5
        print(f"sdgen {args[0]:9}  {cost * 1000:6.1f} ms CPU   python -c pass {base * 1000:5.1f} ms"
              f"   ratio {ratio:4.1f}x (target <= 5x: {'yes' if ratio <= 5 else 'NO'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
