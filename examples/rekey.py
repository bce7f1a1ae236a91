"""Re-key the demo recordings to the current prompts, keeping each recorded answer as written.

Strict replay fails when a template changes: that is the point. When the change does not alter
what is asked (wording of the output contract, say), run this instead of re-recording:

    python examples/rekey.py

Each re-keyed recording says so in `produced_by`, with the date: its answer was written for an
earlier wording of the prompt. When a change alters what is asked, record again with --record.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

from sdgen._files import atomic_write, safe_segment
from sdgen.compose import compose, load_persona, read_index
from sdgen.config import Settings
from sdgen.providers._recording import dump_recording, request_key, request_params
from sdgen.repair import call_config

HERE = Path(__file__).resolve().parent


def main() -> int:
    settings = Settings()
    folder = HERE / "recordings"
    recordings: dict[tuple[str, str], list[tuple[Path, dict]]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
        recordings.setdefault((record["persona"], record["topic"]), []).append((path, record))
    today = datetime.now(UTC).date().isoformat()
    for topic in read_index(HERE / "topics.yaml"):
        persona = topic.persona or settings.persona
        recorded = recordings[(persona, topic.title)]
        params = request_params(compose(load_persona(persona), topic, call_config(settings)))
        key = request_key(params)
        if key in {record["key"] for _, record in recorded}:
            continue
        if len(recorded) > 1:  # a conversation: each later turn's request holds the answers
            print(f"{persona}/{topic.title}: a conversation; record it again with --record")
            continue
        path, record = recorded[0]
        note = f"; re-keyed {today} to a reworded prompt, answer unchanged"
        record.update(key=key, request=params,
                      produced_by=record["produced_by"].split("; re-keyed")[0] + note)
        path.unlink()
        target = folder / safe_segment(persona) / f"{safe_segment(topic.title)}--{key[:12]}.yaml"
        atomic_write(target, dump_recording(record))
        print(f"re-keyed {persona}/{topic.title} -> {target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
