"""What an Architecture Decision Record of a decision is made from: the frozen record, the
people's display names, the channel, the thread's permalink, the review routine and the
decisions it supersedes or is superseded by. Plus the file name and status every format
shares. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.lifecycle import DecisionStatus
from bot.domain.record_facts import RecordFacts

SLUG_MAX = 60
MARKER = "<!-- ragft:decision {id} -->"
"""The last line of every exported file: re-exporting replaces only files that carry it."""

_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
_BARE_ID = re.compile(r"\b([UW][A-Z0-9]{6,})\b")


def slug(title: str) -> str:
    """``Billing assistant: RAG?`` -> ``billing-assistant-rag``; ASCII, at most 60 characters."""
    # Slack markup (mentions, channels, links): never an id in a file name. Typed <text> stays.
    title = re.sub(r"<(?:[@#!]|https?:|mailto:)[^>]*>", " ", title)
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(words) > SLUG_MAX:
        words = words[:SLUG_MAX].rsplit("-", 1)[0] if "-" in words[:SLUG_MAX] else words[:SLUG_MAX]
    return words.strip("-") or "decision"


def file_name(decision_id: int, title: str) -> str:
    """``NNNN-kebab-title.md``: the decision id zero-padded to four digits."""
    return f"{decision_id:04d}-{slug(title)}.md"


def adr_number(decision_id: int) -> str:
    return f"{decision_id:04d}"


@dataclass(frozen=True)
class AdrRef:
    """Another decision a record links to."""

    id: int
    title: str

    @property
    def file_name(self) -> str:
        return file_name(self.id, self.title)

    @property
    def stem(self) -> str:
        return self.file_name.removesuffix(".md")


class People:
    """Display names for user ids. An id Slack couldn't resolve is "teammate N", numbered in
    the order the record first names them, the same everywhere in one file: a user id never
    appears in an export."""

    def __init__(self, names: Mapping[str, str], order: Iterable[str] = ()) -> None:
        self._names = {k: " ".join(v.split()) for k, v in names.items() if v and v.strip()}
        self._placeholders: dict[str, str] = {}
        for user_id in order:
            self.name(user_id)

    def name(self, user_id: str | None) -> str:
        if not user_id:
            return "nobody"
        if user_id in self._names:
            return self._names[user_id]
        if user_id not in self._placeholders:
            self._placeholders[user_id] = f"teammate {len(self._placeholders) + 1}"
        return self._placeholders[user_id]

    def names(self, user_ids: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(self.name(u) for u in user_ids))

    def known(self, user_id: str) -> bool:
        return user_id in self._names or user_id in self._placeholders

    def humanize(self, text: str) -> str:
        """User text with Slack mentions (``<@U123>``) and the ids of this record's people
        written as names."""
        text = _MENTION.sub(lambda m: self.name(m.group(1)), text)
        return _BARE_ID.sub(lambda m: self.name(m[1]) if self.known(m[1]) else m[0], text)


def mentioned_ids(text: str | None) -> list[str]:
    return _MENTION.findall(text or "")


def people_of(record: RecordFacts) -> list[str]:
    """Every user id the record names, in the order the export first names them."""
    ids: list[str] = [record.facilitator_id]
    if record.decided_by:
        ids.append(record.decided_by)
    for choice in record.choices.values():
        for users in choice.votes.values():
            ids.extend(users)
    ids.extend(u for u in record.owners.values() if u)
    if record.labeled_examples_by:
        ids.append(record.labeled_examples_by)
    ids.extend(record.participants)
    ids.extend(a.amended_by for a in record.amendments)
    for text in (record.title, record.context_summary, record.final_choice_reason):
        ids.extend(mentioned_ids(text))
    for amendment in record.amendments:
        ids.extend(mentioned_ids(amendment.reason))
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class AdrFacts:
    record: RecordFacts
    people: People
    channel: str | None = None
    """The channel's name (``#ai-support``), or None when Slack couldn't say."""
    permalink: str | None = None
    review_cadence_days: int = 90
    last_reviewed_at: datetime | None = None
    supersedes: AdrRef | None = None
    superseded_by: AdrRef | None = None
    chain: Sequence[AdrRef] = field(default_factory=tuple)
    """Every decision of the supersede chain, oldest first, this one included."""

    @property
    def ref(self) -> AdrRef:
        return AdrRef(self.record.id, self.record.title)

    @property
    def file_name(self) -> str:
        return self.ref.file_name

    @property
    def number(self) -> str:
        return adr_number(self.record.id)

    @property
    def channel_label(self) -> str:
        return self.channel or "the decision's Slack channel"

    @property
    def date(self) -> str:
        """When the decision was last updated: the latest amendment, else the decision, else
        when it was started."""
        moments = [a.amended_at for a in self.record.amendments]
        moment = max(moments) if moments else (self.record.decided_at or self.record.created_at)
        return moment.strftime("%Y-%m-%d")

    def status_word(self) -> str:
        """MADR's and log4brains' status: proposed, accepted, superseded or rejected."""
        status = self.record.status
        if status == DecisionStatus.OPEN:
            return "proposed"
        if status == DecisionStatus.DECIDED:
            return "accepted"
        if status == DecisionStatus.SUPERSEDED:
            return "superseded"
        return "rejected"

    def decision_makers(self) -> list[str]:
        ids = [self.record.facilitator_id]
        if self.record.decided_by:
            ids.append(self.record.decided_by)
        return self.people.names(ids)

    def consulted(self) -> list[str]:
        """Everyone who answered a question."""
        r = self.record
        ids = [u for choice in r.choices.values() for users in choice.votes.values() for u in users]
        if r.labeled_examples_by:
            ids.append(r.labeled_examples_by)
        return self.people.names(ids)


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text`` on one line."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or ch in "\u2028\u2029\ufeff"
            or 0xD800 <= code <= 0xDFFF
            or code in (0xFFFE, 0xFFFF)
        ):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
