"""The failure ingestion API's requests and replies, as pydantic models: they validate every
request (and every row of ``ragft failures import``) and generate the OpenAPI document. Pure."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_FAILURES_PER_REQUEST = 1000
MAX_EXPLANATION = 1000
MAX_OUTPUT = 20_000
MAX_LINK = 2000
MAX_EXTERNAL_ID = 200
API_VERSION = "1.0.0"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINK = re.compile(r"https?://[^\s]+", re.IGNORECASE)


def clean(value: str | None) -> str | None:
    """Text without NUL and other control characters (newline and tab stay), stripped; empty
    is None."""
    if value is None:
        return None
    value = _CONTROL.sub("", value).strip()
    return value or None


class FailureIn(BaseModel):
    """One failure: why it failed, and optionally the failing output or a link to it."""

    model_config = ConfigDict(extra="forbid", title="Failure")

    decision: int = Field(ge=1, le=2**31 - 1, strict=True, description="The decision's number.")
    explanation: str | None = Field(
        default=None,
        max_length=10 * MAX_EXPLANATION,
        description=f"Why it failed (kept to {MAX_EXPLANATION} characters); required unless "
        "`category` is given.",
    )
    output: str | None = Field(
        default=None, max_length=10 * MAX_OUTPUT, description="The failing output."
    )
    link: str | None = Field(
        default=None, max_length=MAX_LINK, description="An http or https link to the failure."
    )
    category: Literal["knowledge", "behavior", "unclear"] | None = Field(
        default=None,
        description="Set by a person; without it ragft categorises the explanation.",
    )
    external_id: str | None = Field(
        default=None,
        max_length=MAX_EXTERNAL_ID,
        description="Your id for it: the same id for the same decision is stored once.",
    )

    @field_validator("external_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        """Ticket numbers are often numbers: 4411 and "4411" are the same id."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("explanation", "output", "link", "external_id", mode="after")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return clean(value)

    @field_validator("link", mode="after")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not _LINK.fullmatch(value):
            raise ValueError("must be an http or https URL")
        return value

    @model_validator(mode="after")
    def _explained(self) -> FailureIn:
        if self.explanation is None and self.category is None:
            raise ValueError("explanation is empty (give one, or a category)")
        if self.explanation is not None:
            self.explanation = self.explanation[:MAX_EXPLANATION]
        if self.output is not None:
            self.output = self.output[:MAX_OUTPUT]
        return self


class FailureBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", title="FailureBatch")

    failures: list[dict[str, Any]] = Field(
        max_length=MAX_FAILURES_PER_REQUEST,
        description=f"At most {MAX_FAILURES_PER_REQUEST} failures (each a Failure).",
    )


class Rejection(BaseModel):
    index: int = Field(description="The failure's position in the request, from 0.")
    error: str


class IngestReply(BaseModel):
    model_config = ConfigDict(title="IngestReply")

    accepted: int = Field(description="Failures stored.")
    duplicates: int = Field(description="Failures already stored (same text, or external_id).")
    rejected: list[Rejection]


class ErrorReply(BaseModel):
    model_config = ConfigDict(title="Error")

    error: str


class ShapeError(ValueError):
    """The body isn't one failure or ``{"failures": [...]}``; the message says why."""


class TooMany(ValueError):
    pass


def items_of(body: object) -> list[object]:
    """The failures a (parsed JSON) body carries, not yet validated one by one."""
    if not isinstance(body, dict):
        raise ShapeError('the body must be a JSON object: one failure, or {"failures": [...]}')
    if "failures" not in body:
        return [body]
    if set(body) != {"failures"}:
        extra = sorted(str(key) for key in body if key != "failures")[0]
        raise ShapeError(f'unexpected key {extra!r} beside "failures"')
    failures = body["failures"]
    if not isinstance(failures, list):
        raise ShapeError('"failures" must be a list of failures')
    if len(failures) > MAX_FAILURES_PER_REQUEST:
        raise TooMany(
            f"{len(failures)} failures in one request; send at most {MAX_FAILURES_PER_REQUEST}"
        )
    return failures


def error_text(exc: ValidationError) -> str:
    """One readable line for the first problem, naming the field."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    kind, message = first.get("type", ""), first.get("msg", "is invalid")
    if kind == "extra_forbidden":
        return f"unknown field {where!r}"
    if kind == "missing":
        return f"{where} is required"
    if kind == "model_type":
        return "each failure must be a JSON object"
    message = message.removeprefix("Value error, ")
    if not where:
        return message
    if kind in ("int_type", "int_parsing", "greater_than_equal", "less_than_equal"):
        return f"{where} must be a decision number"
    return f"{where}: {message}"


def validate_item(item: object) -> FailureIn | str:
    """The failure, or the reason it is rejected."""
    try:
        return FailureIn.model_validate(item)
    except ValidationError as exc:
        return error_text(exc)


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 for ``POST /api/v1/failures``, from the models above."""
    schemas: dict[str, Any] = {}
    for model in (FailureIn, FailureBatch, IngestReply, ErrorReply):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[schema.get("title", model.__name__)] = schema
    # Items are validated one by one (a bad one is rejected, not the request), so the batch's
    # model takes objects; the document says what each must be.
    schemas["FailureBatch"]["properties"]["failures"]["items"] = {
        "$ref": "#/components/schemas/Failure"
    }

    def error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if headers:
            reply["headers"] = headers
        return reply

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ragft failure ingestion API",
            "version": API_VERSION,
            "description": "Send failures from production to a ragft decision.",
        },
        "paths": {
            "/api/v1/failures": {
                "post": {
                    "operationId": "logFailures",
                    "summary": "Log one failure, or up to 1,000",
                    "security": [{"bearerAuth": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Failure"},
                                        {"$ref": "#/components/schemas/FailureBatch"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Stored what was valid; the rest is listed.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/IngestReply"}
                                }
                            },
                        },
                        "401": error("Missing or unknown token."),
                        "403": error("A decision of another workspace."),
                        "404": error("An unknown decision."),
                        "413": error("Over the size limit."),
                        "422": error('Not one failure or {"failures": [...]}.'),
                        "429": error(
                            "Too many requests for this token.",
                            {"Retry-After": {"schema": {"type": "integer"}}},
                        ),
                    },
                }
            }
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
