"""Parse and validate a JSON answers object into engine input.

Every key is optional and ``null`` means missing. Anything else that doesn't fit raises
``AnswersError`` naming the offending field in dotted form, e.g. ``failures.behavior``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain.cost_assumptions import CostOverrideError, Range, check_key, check_range
from bot.domain.questions import FailureCategory, KnowledgeChange, OwnerRole, ProblemType
from bot.domain.rule import Answers, FailureCounts

TOP_LEVEL_KEYS = (
    "title",
    "problem_type",
    "knowledge_change",
    "prompt_engineering_tried",
    "failures",
    "owners",
    "labeled_examples",
    "costs",
)
FAILURE_KEYS = tuple(c.value for c in FailureCategory)
OWNER_KEYS = tuple(r.value for r in OwnerRole)
RANGE_KEYS = ("low", "high")
_KEYS = {"answers": TOP_LEVEL_KEYS, "failures": FAILURE_KEYS, "owners": OWNER_KEYS}

E = TypeVar("E", bound=StrEnum)


class AnswersError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_JSON_TYPES = (
    (bool, "boolean"),
    (int | float, "number"),
    (str, "string"),
    (list | tuple, "array"),
    (type(None), "null"),
)


def _describe(value: object) -> str:
    """A value as it appears in an error message, shortened."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: object) -> str:
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "value")


def _object(value: object, field: str) -> Mapping[str, Any]:
    """Check ``value`` is an object holding only the keys allowed for ``field``."""
    if not isinstance(value, Mapping):
        raise AnswersError(field, f"must be a JSON object (got {_json_type(value)})")
    allowed = _KEYS[field]
    for key in value:
        if key not in allowed:
            path = str(key) if field == "answers" else f"{field}.{key}"
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"expected {', '.join(allowed)}"
            raise AnswersError(path, f"unknown field; {hint}")
    return value


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnswersError(field, f"must be a whole number (got {_describe(value)})")
    if value < 0:
        raise AnswersError(field, f"must be zero or more (got {value})")
    return value


def _choice(value: object, field: str, enum: type[E]) -> E:
    options = [e.value for e in enum]
    if not isinstance(value, str) or value not in options:
        raise AnswersError(field, f"must be one of {', '.join(options)} (got {_describe(value)})")
    return enum(value)


def _text(value: object, field: str) -> str | None:
    if not isinstance(value, str):
        raise AnswersError(field, f"must be a string (got {_describe(value)})")
    return value.strip() or None


def _failures(value: object) -> FailureCounts:
    data = _object(value, "failures")
    counts = {
        key: _count(data[key], f"failures.{key}")
        for key in FAILURE_KEYS
        if data.get(key) is not None
    }
    return FailureCounts(**counts)


def _owners(value: object) -> dict[OwnerRole, str]:
    data = _object(value, "owners")
    owners = {}
    for role in OwnerRole:
        if data.get(role.value) is not None:
            owner = _text(data[role.value], f"owners.{role.value}")
            if owner:
                owners[role] = owner
    return owners


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswersError(field, f"must be a number (got {_describe(value)})")
    try:
        return float(value)
    except OverflowError:
        raise AnswersError(field, "must be a finite number (too large)") from None


def _cost_range(value: object, field: str) -> Range:
    """A number, or ``{"low": …, "high": …}``."""
    if not isinstance(value, Mapping):
        number = _number(value, field)
        return Range(number, number)
    for key in value:
        if key not in RANGE_KEYS:
            raise AnswersError(f"{field}.{key}", "unknown field; expected low, high")
    missing = [key for key in RANGE_KEYS if value.get(key) is None]
    if missing:
        raise AnswersError(field, f"needs both low and high (missing {', '.join(missing)})")
    return Range(_number(value["low"], f"{field}.low"), _number(value["high"], f"{field}.high"))


def parse_cost_overrides(value: object) -> dict[str, Range]:
    """The ``costs`` object: each key an assumption of the cost model (see the README)."""
    if not isinstance(value, Mapping):
        raise AnswersError("costs", f"must be a JSON object (got {_json_type(value)})")
    overrides: dict[str, Range] = {}
    for key, raw in value.items():
        field = f"costs.{key}"
        try:
            check_key(str(key))
            if raw is None:
                continue
            overrides[str(key)] = check_range(str(key), _cost_range(raw, field))
        except CostOverrideError as exc:
            raise AnswersError(field, exc.message) from None
    return overrides


def parse_answers(data: object) -> Answers:
    obj = _object(data, "answers")
    given = {key: value for key, value in obj.items() if value is not None}
    fields: dict[str, Any] = {}
    if "title" in given:
        fields["title"] = _text(given["title"], "title")
    if "problem_type" in given:
        fields["problem_type"] = _choice(given["problem_type"], "problem_type", ProblemType)
    if "knowledge_change" in given:
        fields["knowledge_change"] = _choice(
            given["knowledge_change"], "knowledge_change", KnowledgeChange
        )
    if "prompt_engineering_tried" in given:
        tried = given["prompt_engineering_tried"]
        if not isinstance(tried, bool):
            raise AnswersError(
                "prompt_engineering_tried", f"must be true or false (got {_describe(tried)})"
            )
        fields["prompt_engineering_tried"] = tried
    if "failures" in given:
        fields["failures"] = _failures(given["failures"])
    if "owners" in given:
        fields["owners"] = _owners(given["owners"])
    if "labeled_examples" in given:
        fields["labeled_examples"] = _count(given["labeled_examples"], "labeled_examples")
    if "costs" in given:
        fields["cost_overrides"] = parse_cost_overrides(given["costs"])
    return Answers(**fields)
