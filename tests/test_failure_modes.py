"""Failure modes from the team's notes, saturation, and the reading order. Pure."""

from __future__ import annotations

import pytest

from bot.domain.failure_modes import (
    BATCH_SIZE,
    Note,
    group_modes,
    reading_order,
    saturation,
    similar,
    tokens,
    top_modes,
)


def test_tokens_drop_case_punctuation_stopwords_and_plural_endings():
    assert tokens("Quotes the OUTDATED prices!") == ("quot", "outdat", "pric")
    assert tokens("quoted an outdated price") == ("quot", "outdat", "pric")
    assert tokens("  ") == ()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("quotes outdated prices", "Quoted the outdated price"),
        ("ignores the JSON format", "ignored json format"),
        ("answer too long", "answers are too long"),
        ("makes up product names", "made up product names"),
        ("hallucinated refund policy", "halucinated refund policy"),  # a typo
    ],
)
def test_notes_worded_alike_are_one_mode(a: str, b: str):
    assert similar(a, b) and similar(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("quotes outdated prices", "ignores the JSON format"),
        ("answer too long", "rude tone"),
        ("wrong product names", "refund policy out of date"),
    ],
)
def test_different_failure_modes_stay_apart(a: str, b: str):
    assert not similar(a, b)


def notes(batch: int, *pairs: tuple[str, str]) -> list[Note]:
    return [Note(text, category, batch) for text, category in pairs]


def test_grouping_counts_each_mode_and_marks_its_majority_category():
    modes = group_modes(
        notes(0, ("quotes outdated prices", "knowledge"), ("ignores the JSON format", "behavior"))
        + notes(1, ("quoted outdated price", "knowledge"), ("Ignored json format", "unclear"))
        + notes(1, ("outdated prices quoted", "behavior"), ("", "knowledge"))
    )
    assert [(m.label, m.count, m.category) for m in modes] == [
        ("quotes outdated prices", 3, "knowledge"),
        ("ignores the JSON format", 2, "behavior"),
    ]
    assert [m.label for m in top_modes(modes, 1)] == ["quotes outdated prices"]


def test_saturation_counts_new_modes_per_batch_and_says_when_to_stop():
    modes = group_modes(
        notes(0, ("quotes outdated prices", "knowledge"), ("answer too long", "behavior"))
        + notes(1, ("rude tone", "behavior"), ("answers are too long", "behavior"))
        + notes(2, ("quoted outdated price", "knowledge"), ("rude tone again", "behavior"))
    )
    first, second, third = (saturation(modes, b) for b in range(3))
    assert (first.new, second.new, third.new) == (2, 1, 0)
    assert not first.read_enough and not second.read_enough and third.read_enough
    empty = saturation(modes, 3)  # a batch nobody wrote a note for says nothing about saturation
    assert empty.new == 0 and not empty.read_enough


def test_reading_order_is_a_seeded_shuffle_with_machine_categorised_failures_first():
    failures = [
        (n, "human" if n % 3 == 0 else ("llm" if n % 2 else "heuristic")) for n in range(1, 31)
    ]
    order = reading_order(failures, seed=7)
    humans = {n for n, source in failures if source == "human"}
    assert sorted(order) == list(range(1, 31))
    assert not humans & set(order[: len(order) - len(humans)])
    assert set(order[-len(humans) :]) == humans
    assert order == reading_order(failures, seed=7)
    assert order != reading_order(failures, seed=8)
    machine = sorted(set(range(1, 31)) - humans)
    assert order[:BATCH_SIZE] != machine[:BATCH_SIZE]  # random, not oldest first
