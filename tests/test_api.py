"""The library API a user imports: small, complete, and usable without the CLI."""

from __future__ import annotations

from pathlib import Path

import respx

import sdgen
from tests.helpers import OPENAI_URL, answer, openai_stream


def test_every_public_name_is_exported() -> None:
    assert sorted(sdgen.__all__) == sdgen.__all__
    for name in sdgen.__all__:
        assert hasattr(sdgen, name), name


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def test_the_results_the_inputs_and_every_error_are_exported() -> None:
    import sdgen.api
    import sdgen.errors

    wanted = {"RunResult", "RegenResult", "LinkReport", "SiteResult", "Estimate", "TopicOutcome",
              "Report", "ChatIO", "RunDisplay"}
    errors = {c.__name__ for c in _subclasses(sdgen.errors.SdgenError)
              if c.__module__.startswith("sdgen.")}
    assert len(errors) >= 19
    assert wanted | errors | {"SdgenError"} <= set(sdgen.__all__)
    for name in errors:
        assert issubclass(getattr(sdgen, name), sdgen.SdgenError)


def test_a_typed_caller_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    import subprocess
    import sys

    caller = tmp_path / "caller.py"
    caller.write_text(
        "from pathlib import Path\n\nimport sdgen\n\n\n"
        "def notes(topics: list[str]) -> list[Path]:\n"
        "    try:\n"
        "        result: sdgen.RunResult = sdgen.generate(topics, out=Path('notes'))\n"
        "    except sdgen.SpendingCapReached:\n"
        "        return []\n"
        "    except sdgen.ConfigError as exc:\n"
        "        raise SystemExit(str(exc)) from exc\n"
        "    outcomes: list[sdgen.TopicOutcome] = result.outcomes\n"
        "    plan: list[tuple[sdgen.Prompt, sdgen.Estimate]] = sdgen.plan(topics)\n"
        "    assert plan and isinstance(sdgen.validate_note(Path('x')), sdgen.Report)\n"
        "    return [o.path for o in outcomes if o.path is not None]\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), str(caller)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stdout + done.stderr


def test_generate_and_validate_from_python(httpx2_mock: respx.Router, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-api-00000000000000")
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(answer("senior_valid.md")))
    result = sdgen.generate(["Consistent Hashing"], persona="senior", out=Path("notes"))
    assert result.ok and result.count("written") == 1
    path = result.outcomes[0].path
    assert path is not None and sdgen.validate_note(path).valid


def test_generate_and_build_a_site_where_an_event_loop_runs(tmp_path: Path) -> None:
    """A notebook cell runs inside an event loop: the synchronous API still works there."""
    import asyncio

    root = Path(__file__).resolve().parents[1]

    async def notebook_cell() -> tuple[bool, bool]:
        topics = sdgen.read_index(root / "examples" / "topics.yaml")
        result = sdgen.generate(topics, out=tmp_path / "vault",
                                replay=root / "examples" / "recordings")
        site = sdgen.build_site(tmp_path / "vault", tmp_path / "site")
        return result.ok, site.clean

    assert asyncio.run(notebook_cell()) == (True, True)


DOTENV_KEY = "sk-proj-dotenv-TESTKEY-000000000"


def test_a_library_call_leaves_the_environment_as_it_was(httpx2_mock: respx.Router) -> None:
    """A .env is a layer of the settings, not of the process: its key reaches the request and
    is redacted, its SDGEN_ settings apply, and os.environ is the same before and after."""
    import os

    import httpx

    Path(".env").write_text(f"OPENAI_API_KEY={DOTENV_KEY}\nSDGEN_PERSONA=senior\n"
                            "SDGEN_OUT=from-dotenv\n")
    before = dict(os.environ)
    settings, sources = sdgen.load_settings()
    assert dict(os.environ) == before
    assert settings.persona == "senior" and sources["persona"] == "environment"
    sent: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return openai_stream(answer("senior_valid.md") + f"\nThe key is {DOTENV_KEY}\n")

    httpx2_mock.post(OPENAI_URL).mock(side_effect=reply)
    result = sdgen.generate(["Consistent Hashing"])
    assert dict(os.environ) == before
    assert sent == [f"Bearer {DOTENV_KEY}"] and result.ok
    assert result.outcomes[0].path == Path("from-dotenv/senior/consistent-hashing.md")
    for path in Path("from-dotenv").rglob("*"):
        if path.is_file():
            assert DOTENV_KEY[:16] not in path.read_text(errors="replace"), path
