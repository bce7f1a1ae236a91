"""The command line's arguments: every command, its options, their help and examples.

Argument errors are one line and a hint; persona names complete in the shell (argcomplete).
"""

from __future__ import annotations

import argparse

from .._version import __version__

TYPE_CHECKING = False  # typing and pathlib load only for the command that runs
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, NoReturn


def _persona_names(**_: object) -> list[str]:
    """Completion of persona names (built-in, and those of SDGEN_PERSONAS_DIR)."""
    from ..compose import list_personas
    from ..config import load_settings

    return sorted(list_personas(load_settings()[0].personas_dir))


def _personas(action: argparse.Action) -> argparse.Action:
    action.completer = _persona_names  # type: ignore[attr-defined]  # argcomplete reads it
    return action


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


class _Parser(argparse.ArgumentParser):
    """Argument errors are one line and a hint, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\nhint: {self.prog} --help\n")


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


_HELP: dict[str, Any] = {"formatter_class": argparse.RawDescriptionHelpFormatter}
_NO_DIAGRAM_CHECK = "do not check Mermaid diagrams with Mermaid's parser"
_PROVIDER = ("openai (default), anthropic, openai-compatible, or a plug-in's name "
             "(`sdgen providers` lists them)")


def _model_options(group: argparse._ArgumentGroup, note_default: bool = False) -> None:
    default = " (default: the note's own)" if note_default else ""
    group.add_argument("--provider", help=_PROVIDER + default)
    group.add_argument("--model", help=f"model name{default}")
    group.add_argument("--base-url", help="API base URL (OpenAI-compatible servers, proxies)")


def _cap_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--max-cost", type=float, metavar="USD",
                       help="spending cap: no request starts that could cross it (its input "
                            "and whole output budget at list price); exit 3 when reached")


def _recording_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--record", type=_path, metavar="DIR",
                       help="store every exchange under DIR (readable YAML, no secrets)")
    group.add_argument("--replay", type=_path, metavar="DIR",
                       help="answer from recordings in DIR: no network, no key")


def _generate_parser(sub: Any, common: _Parser) -> None:
    gen = sub.add_parser("generate", help="write one note per topic", parents=[common],
                         epilog=_examples(
                             'sdgen generate "Rate Limiter" "URL Shortener" --persona senior',
                             "sdgen generate --index topics.yaml --out notes --concurrency 8",
                             "printf 'Rate Limiter\\n' | sdgen generate --index - --dry-run"),
                         **_HELP)
    given = gen.add_argument_group("input")
    given.add_argument("topics", nargs="*", metavar="TOPIC", help="topics (or use --index)")
    given.add_argument("--index", type=_path,
                       help="topic index: .txt, .yaml or Markdown outline; '-' reads it from "
                            "standard input")
    _personas(given.add_argument("--persona", help="persona name (default: obsidian)"))
    given.add_argument("--question", help="a specific question, for personas that take one")
    given.add_argument("--personas-dir", type=_path, action="append",
                       help="an extra folder of personas (repeatable)")
    model = gen.add_argument_group("model")
    _model_options(model)
    model.add_argument("--temperature", type=float, help="sampling temperature (default: the "
                                                         "model's own)")
    model.add_argument("--max-tokens", type=int,
                       help="output budget of each call (default 16000; a persona may cap it)")
    model.add_argument("--no-stream", dest="stream", action="store_const", const=False,
                       help="ask for whole answers instead of streams")
    model.add_argument("--batch-api", action="store_true",
                       help="submit through the provider's batch API (about half the price); "
                            "then `sdgen batch status` and `sdgen batch collect`")
    output = gen.add_argument_group("output")
    output.add_argument("--out", type=_path, help="output folder (default: output)")
    output.add_argument("--force", action="store_true",
                        help="make every note again, even unchanged or hand-edited ones")
    output.add_argument("--no-diagram-check", dest="diagram_check", action="store_const",
                        const=False, help=_NO_DIAGRAM_CHECK)
    output.add_argument("--dry-run", action="store_true",
                        help="make no call: print sizes, token and cost estimates per topic")
    output.add_argument("--show-prompts", action="store_true",
                        help="with --dry-run, print the composed prompts too")
    control = gen.add_argument_group("run control")
    control.add_argument("--attempts", type=int,
                         help="answers per topic, repairs included (default 2)")
    control.add_argument("--continuations", type=int,
                         help="follow-ups for an answer cut at the output limit (default 2)")
    control.add_argument("--retries", type=int,
                         help="tries of one request on 429/5xx/timeouts (default 5)")
    control.add_argument("--max-wait", type=float,
                         help="longest pause between retries, in seconds (default 60)")
    control.add_argument("--timeout", type=float,
                         help="seconds to wait for each read of a response (default 600)")
    control.add_argument("--answer-timeout", type=float, metavar="SECONDS",
                         help="the most one answer may take, request to last byte; past it "
                              "the call is retried like a timeout (default 1800)")
    control.add_argument("--concurrency", type=int, help="requests in flight at once (default 4)")
    _cap_option(control)
    control.add_argument("--rpm", type=float, help="requests per minute for the whole run")
    control.add_argument("--tpm", type=float, help="tokens per minute for the whole run")
    control.add_argument("--workers", type=int,
                         help="processes for validating and formatting (default: one per core "
                              "but one, at most 4, for online runs of 16 topics or more; 0: none)")
    _recording_options(gen.add_argument_group("recording"))


def _regen_parser(sub: Any, common: _Parser) -> None:
    regen = sub.add_parser("regen", help="regenerate sections of a note in place",
                           parents=[common], epilog=_examples(
                               'sdgen regen notes/obsidian/rate-limiter.md --section "api design"',
                               "sdgen regen notes/obsidian/rate-limiter.md --invalid",
                               "sdgen regen notes/obsidian/rate-limiter.md --list"), **_HELP)
    regen.add_argument("note", type=_path, help="the note to change")
    what = regen.add_mutually_exclusive_group(required=True)
    what.add_argument("--section", action="append", metavar="NAME",
                      help="section by name or number (loose: 'api design', '5'); repeatable")
    what.add_argument("--invalid", action="store_true",
                      help="regenerate exactly the sections that fail validation")
    what.add_argument("--list", action="store_true", help="list the sections and their state")
    regen.add_argument("--instructions", help="what to change, in your words")
    regen.add_argument("--force", action="store_true",
                       help="regenerate even if the note was edited by hand")
    regen.add_argument("--attempts", type=int, help="answers, repairs included (default 2)")
    _cap_option(regen)
    regen.add_argument("--personas-dir", type=_path, action="append",
                       help="an extra folder of personas (repeatable)")
    regen.add_argument("--no-diagram-check", dest="diagram_check", action="store_const",
                       const=False, help=_NO_DIAGRAM_CHECK)
    _model_options(regen.add_argument_group("model"), note_default=True)
    _recording_options(regen.add_argument_group("recording"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sdgen", description="System-design study notes from an LLM, "
                                               "validated per persona.")
    parser.add_argument("--version", action="version", version=f"sdgen {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logs and tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    # -v and -q are accepted after the subcommand too, where users type them.
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show debug logs and tracebacks")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _generate_parser(sub, common)

    personas = sub.add_parser("personas", help="list personas, or show one's composed prompt",
                              parents=[common], epilog=_examples(
                                  "sdgen personas", "sdgen personas show emoji --topic Kafka",
                                  "sdgen personas show visual --repairs"), **_HELP)
    personas.add_argument("--personas-dir", type=_path, action="append",
                          help="an extra folder of personas (repeatable)")
    psub = personas.add_subparsers(dest="personas_command", parser_class=_Parser)
    show = psub.add_parser("show", help="print a persona's composed system prompt",
                           parents=[common])
    _personas(show.add_argument("name", help="the persona to show"))
    show.add_argument("--topic", default="Design a URL shortener",
                      help="the topic to compose it for (default: Design a URL shortener)")
    show.add_argument("--question", help="a specific question, for personas that take one")
    show.add_argument("--repairs", action="store_true", help="list the seed's mojibake repairs")
    show.add_argument("--requirements", action="store_true",
                      help="list the seed's instructions the note is checked against")
    show.add_argument("--personas-dir", type=_path, action="append",
                      help="an extra folder of personas (repeatable)")

    val = sub.add_parser("validate", help="check a note against its persona's schema",
                         parents=[common], epilog=_examples(
                             "sdgen validate notes/obsidian/rate-limiter.md",
                             "sdgen validate notes                 # every note of the vault",
                             "sdgen validate answer.md --persona senior --json"), **_HELP)
    val.add_argument("files", type=_path, nargs="+", metavar="NOTE",
                     help="notes (or raw answers) to check, or folders of notes")
    _personas(val.add_argument("--persona",
                               help="persona (default: from the note's front matter)"))
    val.add_argument("--json", action="store_true", help="print the report as JSON")
    val.add_argument("--personas-dir", type=_path, action="append",
                     help="an extra folder of personas (repeatable)")
    val.add_argument("--topic", help="the topic the note must be about (default: from its front "
                                     "matter)")
    val.add_argument("--no-diagram-check", dest="diagram_check", action="store_const", const=False,
                     help=_NO_DIAGRAM_CHECK)
    _regen_parser(sub, common)

    batch = sub.add_parser("batch", help="provider batches: status, collect",
                           epilog=_examples("sdgen batch status --out notes",
                                            "sdgen batch collect --out notes"), **_HELP)
    bsub = batch.add_subparsers(dest="batch_command", required=True, parser_class=_Parser)
    for name, text in (("status", "where each submitted batch stands"),
                       ("collect", "validate, repair and write every ended batch")):
        cmd = bsub.add_parser(name, help=text, parents=[common])
        cmd.add_argument("--out", type=_path, help="the output folder the batch was submitted for")

    talk = sub.add_parser("chat", help="hold the interview conversation in the terminal",
                          parents=[common], epilog=_examples(
                              'sdgen chat "Design a ride-hailing service"',
                              'sdgen chat "Design Dropbox" --provider anthropic'), **_HELP)
    talk.add_argument("topic", help='what to design, e.g. "Design a ride-hailing service"')
    _personas(talk.add_argument("--persona",
                                help="a conversation persona (default: interview)"))
    talk.add_argument("--out", type=_path, help="output folder (default: output)")
    talk.add_argument("--personas-dir", type=_path, action="append",
                      help="an extra folder of personas (repeatable)")
    talk.add_argument("--no-diagram-check", dest="diagram_check", action="store_const",
                      const=False, help=_NO_DIAGRAM_CHECK)
    _model_options(talk.add_argument_group("model"))
    _recording_options(talk.add_argument_group("recording"))

    link = sub.add_parser("link", help="link the notes of an output folder to each other",
                          parents=[common], epilog=_examples("sdgen link --out notes"), **_HELP)
    link.add_argument("--out", type=_path, help="the output folder (default: output)")

    site = sub.add_parser(
        "site", help="build a static website of the notes (mkdocs-material)", parents=[common],
        description="Build a static website of an output folder: navigation by persona and "
                    "category, search, callouts, links and Mermaid diagrams drawn in the page, "
                    "with nothing fetched from another host. Needs: pip install 'sdgen[site]'",
        epilog=_examples("sdgen site --out output --site site",
                         "python -m http.server --directory site 8000   # then open "
                         "http://127.0.0.1:8000",
                         "sdgen site --strict   # exit 1 when a diagram or a link is broken"),
        **_HELP)
    site.add_argument("--out", type=_path, help="the output folder (default: output)")
    site.add_argument("--site", type=_path, default=None,
                      help="where the site is written, replacing a previous build (default: site)")
    site.add_argument("--source", type=_path, default=None, metavar="DIR",
                      help="also keep the site's mkdocs source here (mkdocs.yml and pages), "
                           "for mkdocs build or mkdocs serve")
    site.add_argument("--strict", action="store_true",
                      help="exit 1 when a diagram does not parse, a link leads nowhere, or "
                           "mkdocs warns (the site is built all the same)")
    site.add_argument("--no-diagram-check", dest="diagram_check", action="store_false",
                      help=_NO_DIAGRAM_CHECK)

    sub.add_parser("providers", help="list the registered providers")
    completion = sub.add_parser(
        "completion", help="print the shell completion script: bash, zsh or fish",
        description="Print a completion script for your shell. Install it with one line:\n"
                    "  bash: echo 'eval \"$(sdgen completion bash)\"' >> ~/.bashrc\n"
                    "  zsh:  echo 'eval \"$(sdgen completion zsh)\"' >> ~/.zshrc\n"
                    "  fish: sdgen completion fish > ~/.config/fish/completions/sdgen.fish",
        **_HELP)
    completion.add_argument("shell", choices=["bash", "zsh", "fish"], help="your shell")
    return parser
