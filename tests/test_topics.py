from __future__ import annotations

from pathlib import Path

import pytest

from sdgen.compose import Topic, read_index, seeds_root, topics_from_args
from sdgen.errors import TopicIndexError


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_plain_text_index(tmp_path: Path) -> None:
    path = _write(tmp_path, "topics.txt", "# my list\nRate Limiter\n\n  URL Shortener  \n# done\n")
    assert read_index(path) == [Topic("Rate Limiter"), Topic("URL Shortener")]


def test_yaml_index_with_categories_and_questions(tmp_path: Path) -> None:
    path = _write(tmp_path, "topics.yaml", """
Caching:
  - Cache-Aside Pattern
  - topic: Write-Through Cache
    question: When does write-through beat write-back?
"Messaging 📨":
  - topic: Kafka
    context: 1M events/s, 7 day retention
""")
    assert read_index(path) == [
        Topic("Cache-Aside Pattern", "Caching"),
        Topic("Write-Through Cache", "Caching", "When does write-through beat write-back?"),
        Topic("Kafka", "Messaging", None, "1M events/s, 7 day retention"),
    ]


def test_yaml_list_without_categories(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yml", "- Raft\n- Paxos\n")
    assert read_index(path) == [Topic("Raft"), Topic("Paxos")]


def test_markdown_outline(tmp_path: Path) -> None:
    path = _write(tmp_path, "index.md", """# My guide
## 🗄️ **Databases**
### *Sharding* 🧩
### Replication
## Networking
### [CDN](https://example.com) 🌐
""")
    assert read_index(path) == [Topic("Sharding", "Databases"), Topic("Replication", "Databases"),
                                Topic("CDN", "Networking")]


def test_seed_001_is_a_valid_index() -> None:
    topics = read_index(seeds_root() / "001_2e65ddc117a73030.txt")
    titles = [t.title for t in topics]
    assert topics[0] == Topic("Monolithic Architecture", "Basic Architecture Patterns")
    assert "Microservices Architecture" in titles
    assert "Round Robin Load Balancing" in titles
    # The reading guide is not a topic list: it is skipped.
    assert "Diagram Reading Guide for Beginners" not in titles
    assert all(not any(c in t.title for c in "*🏢ğŸ") for t in topics)
    assert len({t.category for t in topics}) >= 5


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.txt", "# only comments\n\n", "no topics"),
    ("latin1.txt", "Caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("bad.yaml", "Caching:\n  - a\n - b\n", "bad.yaml:3:2: YAML syntax error"),
    ("punct.txt", "Rate Limiter\n!!! ???\n", "punct.txt:2: '!!! ???' is not a topic"),
    ("long.txt", "x" * 10_000 + "\n", "topic is 10000 characters long"),
    ("emoji.txt", "🚀🔥\n", "is not a topic"),
    ("scalar.yaml", "just a string\n", "expected categories"),
])
def test_bad_index_is_one_clear_error(tmp_path: Path, name: str, content: str | bytes,
                                      message: str) -> None:
    with pytest.raises(TopicIndexError, match=message.replace("?", r"\?").replace("(", r"\(")):
        read_index(_write(tmp_path, name, content))


def test_missing_and_directory_index(tmp_path: Path) -> None:
    with pytest.raises(TopicIndexError, match="no such index file"):
        read_index(tmp_path / "missing.txt")
    with pytest.raises(TopicIndexError, match="is a directory"):
        read_index(tmp_path)


def test_topics_from_arguments_carry_the_question() -> None:
    assert topics_from_args(["Raft"], "Why leases?") == [Topic("Raft", question="Why leases?")]


def test_a_comment_after_a_topic_in_a_text_index_is_not_the_topic(tmp_path: Path) -> None:
    index = tmp_path / "topics.txt"
    index.write_text("URL Shortener   # the classic\nC# Garbage Collection\nRate Limiter #\n"
                     "Issue #5 triage\n# a whole-line comment\n", encoding="utf-8")
    assert [t.title for t in read_index(index)] == [
        "URL Shortener", "C# Garbage Collection", "Rate Limiter", "Issue #5 triage"]
