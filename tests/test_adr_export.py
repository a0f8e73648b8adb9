"""``/ragft export [id] [madr|log4brains|adr-tools]``: the decision as an ADR file in its
thread. Signed requests into the real app, the fake Slack's recorded upload
(files.getUploadURLExternal / completeUploadExternal), SQLite and PostgreSQL."""

from __future__ import annotations

import re

import yaml

from handlers.ui.ids import ActionId
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_decision_record import override, paste
from tests.test_slack_thread import MARCO, PRIYA, SAM, start

USER_ID = re.compile(r"\b[UW]0[A-Z0-9]{6,}\b")
MADR_KEYS = {"status", "date", "decision-makers", "consulted", "informed"}


def name_everyone(slack) -> None:
    slack.fake.add_user(FACILITATOR, name="Dana", real_name="Dana Facilitator")
    slack.fake.add_user(PRIYA, name="priya", real_name="Priya Raman")
    slack.fake.add_user(MARCO, name="Marco", real_name="Marco Rossi")


async def export(slack, text: str, *, user: str = FACILITATOR) -> dict:
    before = len(slack.fake.uploads)
    await slack.command(f"export {text}".strip(), user=user)
    assert len(slack.fake.uploads) == before + 1, slack.replies(user)
    return slack.fake.uploads[-1]


def front_matter(content: str) -> dict:
    assert content.startswith("---\n")
    raw, _, _ = content[4:].partition("\n---\n")
    return yaml.safe_load(raw)


def h2s(content: str) -> list[str]:
    return [line for line in content.splitlines() if line.startswith("## ")]


async def decided_with_answers(slack, title: str = "Billing assistant") -> int:
    decision_id = await start(slack, title)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "both", user=MARCO)
    await slack.answer(decision_id, "knowledge_change", "weekly", user=PRIYA)
    await slack.pick_user(decision_id, "evaluation", MARCO)
    await paste(slack, decision_id, "quoted last year's prices", "wrong tone with the customer")
    await slack.decide(decision_id)
    return decision_id


async def test_madr_is_the_default_with_front_matter_sections_and_names(slack):
    name_everyone(slack)
    decision_id = await decided_with_answers(slack, "Billing assistant: RAG or fine-tune?")
    decision = await slack.decision(decision_id)

    upload = await export(slack, str(decision_id))
    content = upload["content"]
    assert upload["filename"] == f"{decision_id:04d}-billing-assistant-rag-or-fine-tune.md"
    assert upload["channel_id"] == CHANNEL and upload["thread_ts"] == decision.thread_ts
    assert "(MADR 4.0)" in upload["initial_comment"]

    meta = front_matter(content)
    assert set(meta) >= MADR_KEYS
    assert meta["status"] == "accepted"
    assert str(meta["date"]) == f"{decision.decided_at:%Y-%m-%d}"
    assert meta["decision-makers"] == ["Dana"]
    assert meta["consulted"] == ["priya", "Marco"]
    assert meta["informed"] == [f"#channel-{CHANNEL.lower()}"]
    assert str(meta["review-on"]) == f"{decision.next_review_at:%Y-%m-%d}"
    assert meta["slack-thread"].startswith("https://")
    assert meta["ragft-decision"] == decision_id

    assert content.split("\n---\n", 1)[1].lstrip().startswith("# Billing assistant: RAG")
    assert h2s(content) == [
        "## Status",
        "## Context and Problem Statement",
        "## Decision Drivers",
        "## Considered Options",
        "## Decision Outcome",
        "## Consequences",
        "## Confirmation",
        "## Pros and Cons of the Options",
        "## More Information",
    ]
    assert "## Status\n\nAccepted\n" in content
    assert "Knowledge or behavior: Knowledge (priya); Both (Marco)" in content
    assert "The perfect-context test" in content
    assert "  - Evaluation: Marco." in content
    assert "  - Deployment & rollback: nobody (a gap)." in content
    assert "- RAG: Retrieval-augmented generation" in content
    assert "- Fine-tuning: " in content and "- Hybrid: " in content
    assert re.search(r"Chosen option: “RAG”, because fails even with perfect context: ", content)
    assert "### RAG" in content and "### Fine-tuning" in content and "### Hybrid" in content
    assert "Full cost: $" in content and "| Line (year one) | RAG | Fine-tuning | Hybrid |" in (
        content
    )
    assert f"`/ragft log {decision_id} <why it failed>`" in content
    assert "reviewed in its thread every 90 days" in content
    assert "nudges a revisit when at least 20 failures" in content
    assert "- Slack thread: [the decision's thread](https://" in content
    assert not USER_ID.search(content), USER_ID.findall(content)


async def test_log4brains_and_adr_tools_layouts(slack):
    name_everyone(slack)
    decision_id = await decided_with_answers(slack)

    content = (await export(slack, f"log4brains {decision_id}"))["content"]
    lines = content.splitlines()
    assert lines[0] == "# Billing assistant"
    first_h2 = next(i for i, line in enumerate(lines) if line.startswith("## "))
    meta = [line for line in lines[1:first_h2] if line]
    assert meta[:4] == [
        "- Status: accepted",
        f"- Date: {(await slack.decision(decision_id)).decided_at:%Y-%m-%d}",
        "- Deciders: Dana",
        "- Tags: ragft rag-or-fine-tuning rag",
    ]
    assert lines[first_h2] == "## Status" and "---" not in lines[:first_h2]

    upload = await export(slack, f"{decision_id} adr-tools")
    lines = upload["content"].splitlines()
    assert upload["filename"] == f"{decision_id:04d}-billing-assistant.md"
    assert lines[0] == f"# {decision_id}. Billing assistant"
    assert lines[2].startswith("Date: ")
    assert lines[4:7] == ["## Status", "", "Accepted"]
    assert "## Context" in lines and "## Decision" in lines and "## Consequences" in lines


async def test_supersede_links_go_both_ways_in_every_format(slack):
    name_everyone(slack)
    old_id = await decided_with_answers(slack, "Billing assistant")
    await slack.click(ActionId.RERUN, str(old_id), user=MARCO)
    new_id = (await slack.decision()).id
    open_madr = (await export(slack, str(new_id)))["content"]
    assert front_matter(open_madr)["status"] == "proposed"
    assert "Supersedes" not in open_madr  # not until the re-run is decided
    await slack.decide(new_id, user=MARCO)

    old_file, new_file = f"{old_id:04d}-billing-assistant.md", f"{new_id:04d}-billing-assistant.md"
    old = (await export(slack, f"{old_id} madr"))["content"]
    assert front_matter(old)["status"] == f"superseded by ADR-{new_id:04d}"
    assert f"## Status\n\nSuperseded by [Billing assistant]({new_file})\n" in old
    new = (await export(slack, f"{new_id}"))["content"]
    assert front_matter(new)["status"] == "accepted"
    assert f"Supersedes [Billing assistant]({old_file})" in new
    assert f"- Supersede chain: [Billing assistant]({old_file}) → **Billing assistant**" in new

    old = (await export(slack, f"{old_id} log4brains"))["content"]
    stem = new_file.removesuffix(".md")
    assert f"- Status: superseded by [{stem}]({new_file})" in old
    old = (await export(slack, f"{old_id} adr-tools"))["content"]
    assert f"## Status\n\nSuperseded by [{new_id}. Billing assistant]({new_file})" in old
    new = (await export(slack, f"{new_id} adr-tools"))["content"]
    assert f"## Status\n\nAccepted\n\nSupersedes [{old_id}. Billing assistant]({old_file})" in new


async def test_user_text_is_escaped_and_no_user_id_appears(slack):
    slack.fake.add_user(FACILITATOR, name="Dana *bold* <b>", real_name="Dana")
    title = 'Bot ## Verdict <script>x</script> [click](https://evil.example) "quoted": yes'
    decision_id = await start(slack, title)
    await slack.answer(decision_id, "problem_type", "behavior", user=SAM)  # unknown to Slack
    await slack.decide(decision_id)
    reason = f"ask <@{PRIYA}> and {SAM}\n## Decision Outcome\n<img src=x>\n---\nstatus: x"
    await override(slack, decision_id, "hybrid", reason)

    for fmt in ("madr", "log4brains", "adr-tools"):
        content = (await export(slack, f"{decision_id} {fmt}"))["content"]
        assert not USER_ID.search(content), (fmt, USER_ID.findall(content))
        text = content.split("\n---\n", 1)[1] if fmt == "madr" else content  # below the YAML
        assert not re.search(r"(?<!\\)<(script|img|b>)", text), fmt
        assert "[click](" not in content
        assert h2s(content).count("## Decision Outcome") == (1 if fmt != "adr-tools" else 0)
        assert "teammate 1" in content  # Sam: Slack couldn't name him
        assert "Why: ask teammate" in content
    meta = front_matter((await export(slack, str(decision_id)))["content"])
    assert meta["decision-makers"] == ["Dana *bold* <b>"]  # YAML holds the plain name
    assert meta["status"] == "accepted"
    assert set(meta) >= MADR_KEYS


async def test_a_bad_format_is_told_ephemerally_with_the_formats(slack):
    decision_id = await decided_with_answers(slack)
    await slack.command(f"export {decision_id} docx")
    said = text_of(slack.replies(FACILITATOR)[-1])
    assert "`docx`" in said and "`madr`, `log4brains`, `adr-tools`" in said
    assert slack.fake.uploads == []


async def test_names_are_asked_of_slack_once_and_cached(slack):
    name_everyone(slack)
    decision_id = await decided_with_answers(slack)
    await export(slack, str(decision_id))
    asked = len(slack.fake.calls_to("users.info"))
    await export(slack, f"{decision_id} log4brains")
    assert len(slack.fake.calls_to("users.info")) == asked


async def test_another_channels_decision_is_not_exported(slack):
    decision_id = await decided_with_answers(slack)
    await slack.post(
        signing.slash_command(
            text=f"export {decision_id}",
            user_id=FACILITATOR,
            channel_id="C0OTHER999",
            response_url=slack.fake.response_url("cmd-other"),
        )
    )
    assert slack.fake.uploads == []
