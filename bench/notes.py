"""Realistic full-length notes for benchmarks: a valid 13-section `obsidian` answer of a chosen size.

A real 13-section answer runs 40-60 KB: prose bullets, tables, Mermaid, code and callouts. The
note is built from those parts, deterministically from the topic, so runs are comparable.
"""

from __future__ import annotations

import random

__all__ = ["SECTIONS", "synthetic_note"]

SECTIONS = [
    "🎯 System Overview", "📋 Requirements Analysis",
    "🧮 Capacity Planning & Back-of-Envelope Calculations", "🗄️ Data Model", "🔌 API Design",
    "🏗️ High-Level Architecture (HLD)", "🧩 Microservices Decomposition", "🔍 Deep Dives",
    "⚙️ Infrastructure & DevOps", "🛡️ Cross-Cutting Concerns", "📈 Scalability & Reliability",
    "⚖️ Trade-offs & Alternatives", "💬 Interview Discussion Points",
]

_WORDS = (
    "partition", "replica", "quorum", "latency", "throughput", "cache", "shard", "leader",
    "follower", "queue", "consumer", "producer", "idempotent", "backpressure", "failover",
    "region", "zone", "index", "write", "read", "consistency", "availability", "budget", "p99",
    "tenant", "gateway", "token", "bucket", "lease", "snapshot", "compaction", "tombstone",
    "vector", "clock", "saga", "outbox", "stream", "batch", "window", "hotspot",
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 22))]
    return " ".join(words).capitalize() + "."


def _bullets(rng: random.Random, count: int) -> str:
    return "\n".join(f"- **{rng.choice(_WORDS).title()}:** {_sentence(rng)} {_sentence(rng)}"
                     for _ in range(count))


def _extras(index: int, topic: str) -> str:
    # Four diagrams of four kinds, each naming the topic: every note's diagrams are its own,
    # so a benchmark pays for parsing them (no verdict is reused from another note).
    name = topic.replace('"', "'")
    if index == 3:
        return (f"```mermaid\nerDiagram\n    TENANT ||--o{{ RECORD : owns\n    RECORD {{\n"
                f"        string id PK\n        string shard\n    }}\n    %% {name}\n```\n")
    if index == 5:
        return (f"```mermaid\nflowchart LR\n    C[Clients] --> G[\"{name} gateway\"]\n"
                "    G --> S[Service]\n    S --> D[(Database)]\n    S --> Q[[Queue]]\n```\n\n"
                f"```mermaid\nsequenceDiagram\n    participant C as Client\n"
                f"    participant S as {name} service\n    C->>S: write(key)\n"
                "    S-->>C: 201 Created\n```\n")
    if index == 6:
        return (f"```mermaid\nstateDiagram-v2\n    [*] --> Pending: {name} request\n"
                "    Pending --> Done: ack\n    Done --> [*]\n```\n")
    if index == 7:
        return ("```python\ndef handle(request):\n    key = request.key\n"
                "    if cache.get(key):\n        return cache[key]\n    value = db.read(key)\n"
                "    cache.set(key, value, ttl=60)\n    return value\n```\n")
    if index == 11:
        return ("| Decision | Chosen | Alternative | Why |\n|---|---|---|---|\n"
                "| Store | Cassandra | PostgreSQL | write scale |\n"
                "| Cache | Redis | Memcached | data types |\n")
    if index == 2:
        return ("```text\nQPS  = 50M DAU x 20 / 86,400  ≈ 11,600\nPeak = 3 x average          ≈ 35,000\n"
                "┌──────────┐     ┌──────────┐\n│ clients  │ ──→ │ gateway  │\n"
                "└──────────┘     └──────────┘\n```\n")
    if index == 0:
        return f"> [!important] Key insight\n> {topic} lives or dies by its hottest partition.\n"
    return ""


def synthetic_note(topic: str, size: int = 50_000) -> str:
    """A valid obsidian note for ``topic`` of about ``size`` characters."""
    rng = random.Random(topic)
    parts = [f"# {topic}\n"]
    per_section = max(1, size // len(SECTIONS) // 260)  # ~260 characters per bullet
    for index, title in enumerate(SECTIONS):
        parts.append(f"## {index + 1}. {title}\n\n{_extras(index, topic)}\n"
                     f"{_bullets(rng, per_section)}\n")
    return "\n".join(parts)
