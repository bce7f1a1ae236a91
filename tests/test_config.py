from __future__ import annotations

from pathlib import Path

import pytest

from sdgen.config import load_settings
from sdgen.errors import ConfigError


def test_precedence_cli_env_file_default(tmp_path: Path) -> None:
    (tmp_path / "sdgen.toml").write_text(
        'model = "from-file"\npersona = "senior"\nattempts = 3\nconcurrency = 8\n'
    )
    env = {"SDGEN_MODEL": "from-env", "SDGEN_ATTEMPTS": "4"}
    settings, sources = load_settings({"model": "from-cli"}, env=env, cwd=tmp_path)
    assert settings.model == "from-cli" and sources["model"] == "command line"
    assert settings.attempts == 4 and sources["attempts"] == "environment"
    assert settings.persona == "senior" and sources["persona"] == "sdgen.toml"
    assert settings.provider == "openai" and sources["provider"] == "default"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "sdgen.toml").write_text('modle = "x"\n')
    with pytest.raises(ConfigError, match=r"sdgen\.toml: unknown key 'modle' \(did you mean 'model'\?\)"):
        load_settings(env={}, cwd=tmp_path)


def test_bad_values_name_their_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SDGEN_CONCURRENCY: invalid concurrency"):
        load_settings(env={"SDGEN_CONCURRENCY": "0"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="--concurrency: invalid concurrency"):
        load_settings({"concurrency": 0}, env={}, cwd=tmp_path)


def test_env_example_lists_every_variable_the_tool_reads() -> None:
    import re

    from sdgen.config import ENV_FIELDS, ENV_PREFIX

    root = Path(__file__).resolve().parents[1]
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (root / ".env.example").read_text(), re.M))
    source = "\n".join(p.read_text() for p in (root / "sdgen").rglob("*.py"))
    read = set(re.findall(r'(?:environ\.get|key_env: ClassVar\[str\] =)\(?\s*"([A-Z0-9_]+)"', source))
    read |= {ENV_PREFIX + name.upper() for name in ENV_FIELDS}
    read |= {"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"}  # read by the SDKs themselves
    assert read - listed == set()
