"""Linking a vault of 1,000 realistic notes (about 53 KB each): target at most 5 s.

    python -m bench.links [NOTES]

Each note is a full 13-section obsidian note (bench/notes.py) whose prose mentions a dozen other
notes' topics (some in the plural, some in code where they must not be linked). Prints the time
of the first pass (which adds the links), of a second pass (which must change nothing), the
links added, and the peak memory of the process.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.notes import synthetic_note

TERMS = [
    "Rate Limiter", "Consistent Hashing", "Message Queue", "Load Balancer", "Service Discovery",
    "Circuit Breaker", "Bloom Filter", "Leader Election", "Write-Ahead Log", "Read Replica",
    "Distributed Lock", "Event Sourcing", "Change Data Capture", "Content Delivery Network",
    "API Gateway", "Sharding", "Gossip Protocol", "Vector Clock", "Merkle Tree", "Saga Pattern",
    "Outbox Pattern", "Idempotency Key", "Token Bucket", "Sliding Window Log", "Quorum Read",
    "Hinted Handoff", "Consensus Log", "Feature Flag", "Blue-Green Deployment", "Canary Release",
    "Search Index", "Inverted Index", "Time Series Database", "Object Storage", "Cold Storage",
    "Cache Stampede", "Write-Through Cache", "Cache-Aside Pattern", "Dead Letter Queue",
    "Backpressure", "Job Scheduler", "URL Shortener", "News Feed", "Chat Service",
    "Notification Service", "Payment Ledger", "Ride Matching", "Geohash Index", "Web Crawler",
    "Typeahead Service",
]
SUFFIXES = ["", "at Scale", "for Payments", "in Kubernetes", "on Azure", "for Mobile", "v2",
            "with Kafka", "for Analytics", "Multi-Region", "for Gaming", "with Redis",
            "for Search", "Serverless", "for IoT", "for Healthcare", "with Postgres",
            "for Streaming", "Edge", "for Banking"]


def topics(count: int) -> list[str]:
    names = [f"{t} {s}".strip() for s in SUFFIXES for t in TERMS]
    return names[:count]


def build_vault(folder: Path, count: int) -> None:
    from sdgen.vault import render_note

    names = topics(count)
    rng = random.Random(7)
    for i, name in enumerate(names):
        others = rng.sample(names, 12)
        mentions = " ".join(
            f"This design leans on {o.lower()}{'s' if j % 3 == 0 else ''} where it fits."
            for j, o in enumerate(others))
        body = synthetic_note(name).replace(
            "## 2. 📋 Requirements Analysis",
            f"{mentions}\n\n```python\n# {others[0]} stays unlinked in code\n```\n\n"
            "## 2. 📋 Requirements Analysis", 1)
        meta = {"title": name, "aliases": [name], "topic": name, "persona": "obsidian",
                "category": "Bench", "tags": ["system-design"]}
        path = folder / "obsidian" / "bench" / f"note-{i:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_note(body, meta), encoding="utf-8")


def main(argv: list[str]) -> int:
    from sdgen.vault import link_vault

    count = int(argv[0]) if argv else 1000
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build_vault(out, count)
        size = sum(p.stat().st_size for p in out.rglob("*.md")) / count / 1024
        started = time.perf_counter()
        first = link_vault(out)
        first_time = time.perf_counter() - started
        started = time.perf_counter()
        second = link_vault(out)
        second_time = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    met = "yes" if first_time <= 5.0 else "NO"
    print(f"linking {count} notes of {size:.0f} KB: first pass {first_time:.2f} s "
          f"({first.links} links in {len(first.rewritten)} notes), second pass "
          f"{second_time:.2f} s ({second.links} changes); peak RSS {peak:.0f} MB "
          f"(target <= 5 s: {met})")
    return 0 if met == "yes" and second.links == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
