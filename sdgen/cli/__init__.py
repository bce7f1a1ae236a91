"""The command line: parse arguments, call the library, turn errors into a line and an exit code.

Exit codes: 0 success; 1 a topic failed or a note is invalid; 2 bad input or configuration.

Its arguments are in _arguments; the commands that ask a model in _commands, those that ask
none in _offline. Only the arguments load before the command line is parsed: `sdgen --version`,
`--help` and argument errors cost little more than Python itself.
"""

from __future__ import annotations

import os
import sys

from ..errors import SdgenError
from ._arguments import build_parser

TYPE_CHECKING = False  # typing, pathlib and the rest load only for the command that runs
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

__all__ = ["run"]

_parser = build_parser  # the argument parser, for whoever inspects its options


def run(argv: Sequence[str] | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Run the CLI and return the exit code; never exits by itself."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asking for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own usage line
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    from .._logs import configure_logging
    from ._commands import _cmd_batch, _cmd_chat, _cmd_generate, _cmd_regen
    from ._offline import _cmd_link, _cmd_personas, _cmd_site, _cmd_validate

    configure_logging(args.verbose, err)
    commands = {"generate": _cmd_generate, "personas": _cmd_personas, "validate": _cmd_validate,
                "regen": _cmd_regen, "chat": _cmd_chat, "batch": _cmd_batch, "link": _cmd_link,
                "site": _cmd_site}
    try:
        if args.command == "completion":
            from argcomplete.shell_integration import shellcode

            print(shellcode(["sdgen"], shell=args.shell), file=out)
            return 0
        if args.command == "providers":
            from ..providers import provider_names

            print("\n".join(provider_names()), file=out)
            return 0
        return commands[args.command](args, out, err)
    except SdgenError as exc:
        import logging

        logging.getLogger("sdgen").debug("error detail", exc_info=True)
        print(f"sdgen: error: {exc}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sdgen: interrupted", file=err)
        return 130
