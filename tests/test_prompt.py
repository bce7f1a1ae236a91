from __future__ import annotations

import shutil
from pathlib import Path

from sdgen.compose import Topic, compose, compose_followup, load_persona, prompts_root


def test_placeholders_are_filled_from_topic_and_question() -> None:
    prompt = compose(load_persona("emoji"), Topic("Kafka", question="How is ordering kept?"))
    system = prompt.system
    assert "I want to learn about Kafka." in system
    assert "My specific question about Kafka: How is ordering kept?" in system
    for placeholder in ["[INSERT SPECIFIC SYSTEM DESIGN TOPIC HERE]", "[TOPIC]",
                        "[INSERT YOUR SPECIFIC QUESTION HERE]"]:
        assert placeholder not in system


def test_question_defaults_when_not_given() -> None:
    system = compose(load_persona("emoji"), Topic("Kafka")).system
    assert "My specific question about Kafka: How would you design Kafka" in system


def test_topic_text_is_data_not_template_code() -> None:
    prompt = compose(load_persona("obsidian"), Topic("{{ 7*7 }} {% raw %}"))
    assert "{{ 7*7 }} {% raw %}" in prompt.system
    assert "49" not in prompt.messages[1].content


def test_output_contract_asks_for_the_document_not_a_program() -> None:
    system = compose(load_persona("obsidian"), Topic("Chat")).system
    assert "Reply with the Markdown document itself" in system
    assert "Do not write a program" in system
    assert "## 13. 💬 Interview Discussion Points" in system


def test_prompt_hash_follows_the_messages() -> None:
    persona = load_persona("senior")
    a, b = compose(persona, Topic("Raft")), compose(persona, Topic("Raft"))
    c = compose(persona, Topic("Paxos"))
    assert a.prompt_hash == b.prompt_hash != c.prompt_hash


def test_visual_prompt_carries_the_guide_legend_and_example_cards() -> None:
    system = compose(load_persona("visual"), Topic("CDN")).system
    assert "👤 = User/Client" in system
    assert "**Monolithic Architecture** 🏢" in system
    assert "## 🖼️ Diagram" in system


def test_followup_keeps_the_whole_conversation() -> None:
    persona = load_persona("senior")
    first = compose(persona, Topic("Raft"))
    second = compose_followup(persona, first, "draft answer", "repair.md.j2",
                              problems=["Summary: missing section"])
    assert [m.role for m in second.messages] == ["system", "user", "assistant", "user"]
    assert "Summary: missing section" in second.messages[-1].content


def test_bounded_templates_keep_every_loop_feature(tmp_path: Path) -> None:
    """Every loop is counted against the render's budget (sdgen.sandbox): loop.length,
    loop.last, an else branch, a recursive loop and ranges work as in plain Jinja."""
    folder = tmp_path / "p"
    shutil.copytree(prompts_root() / "senior", folder / "senior")
    (folder / "senior" / "system.md.j2").write_text(
        "{% for s in sections %}{{ loop.index }}/{{ loop.length }}{{ '.' if loop.last }} "
        "{% endfor %}\n{% for x in [] %}{{ x }}{% else %}empty{% endfor %}\n"
        "{% for n in [[1, [2]], 3] recursive %}{% if n is iterable %}{{ loop(n) }}"
        "{% else %}{{ n }}{% endif %}{% endfor %}\n{{ range(3)|join(',') }} {{ 'ab' * 2 }}\n")
    system = compose(load_persona("senior", [folder]), Topic("Raft")).system
    assert system.strip() == "1/6 2/6 3/6 4/6 5/6 6/6. empty1230,1,2 abab"  # trim_blocks
