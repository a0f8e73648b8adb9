"""The verdict's one-line cost summary with its Costs button, and the Costs modal: the table of
every path's lines, and (for the facilitator) the assumptions to change for this decision."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock

from bot.domain.cost_assumptions import LABELS, OVERRIDE_KEYS, CostAssumptions, assumptions_for
from bot.domain.costs import PathCost, improvement_lines, percent, summary_line
from bot.domain.lifecycle import DecisionStatus
from bot.services.state import DecisionState
from handlers.ui.blocks import BlockDict, button, context, section
from handlers.ui.decision_modals import metadata, modal_view, text_input
from handlers.ui.ids import ActionId, CallbackId, InputId, action_id, pack
from handlers.ui.mrkdwn import CONTEXT_TEXT, SECTION_TEXT, fit, mention, safe


def cost_input_id(key: str) -> str:
    return pack(InputId.COST, key)


def cost_summary(state: DecisionState) -> BlockDict:
    """One line for the verdict message, with the button that opens the table."""
    changed = " _(assumptions changed for this decision)_" if state.decision.cost_overrides else ""
    return section(
        f"*Cost* {summary_line(state.costs)}{changed}",
        accessory=button("Costs", action_id(ActionId.COSTS), str(state.id)),
    )


def _path_text(p: PathCost) -> str:
    share = "" if p.addresses_share is None else f" · addresses {percent(p.addresses_share)}"
    head = (
        f"*{p.label}*: {p.year_one.format()} in year one · "
        f"{p.three_years.format()} over 3 years{share}"
    )
    lines = [f"• {line.name}: {line.year_one.format()}" for line in p.lines]
    return fit("\n".join([head, *lines]), SECTION_TEXT)


def _default_of(key: str, a: CostAssumptions) -> str:
    default = assumptions_for(knowledge_change=a.knowledge_change).range(key)
    return default.plain()


def costs_modal(state: DecisionState, editable: bool) -> dict[str, Any]:
    costs, a = state.costs, state.costs.assumptions
    blocks: list[Block] = [
        section(
            f"Decision #{state.id}, *{safe(state.decision.title, 200)}*: the full cost of each "
            "path at your query volume, year one per line."
        ),
        *(section(_path_text(p)) for p in costs.paths),
        context(fit("\n".join(improvement_lines(costs)), CONTEXT_TEXT)),
        DividerBlock(),
    ]
    if editable:
        blocks.append(
            section(
                "*Assumptions for this decision.* A number or a range like `2-8`; leave one "
                "empty for its default. Sources are in the README's cost table."
            )
        )
        for key in OVERRIDE_KEYS:
            label = LABELS[key]
            blocks.append(
                text_input(
                    cost_input_id(key),  # type: ignore[arg-type]
                    label.label,
                    multiline=False,
                    optional=True,
                    hint=f"{label.unit} · default {_default_of(key, a)} · {key}",
                    initial=a.range(key).plain(),
                    max_length=40,
                )
            )
        submit: str | None = "Save"
    else:
        shown = "\n".join(
            f"• {LABELS[key].label}: {a.range(key).plain()} ({LABELS[key].unit})"
            for key in OVERRIDE_KEYS
        )
        blocks.append(section(fit(f"*Assumptions*\n{shown}", SECTION_TEXT)))
        status = state.decision.status
        why = (
            f"Only the facilitator, {mention(state.decision.facilitator_id)}, can change them "
            "for this decision."
            if status in (DecisionStatus.OPEN, DecisionStatus.DECIDED)
            else f"Decision #{state.id} is {status}: its cost assumptions are kept as they were."
        )
        blocks.append(context(why))
        submit = None
    meta = metadata(state.id, state.decision.channel_id)
    return modal_view(CallbackId.COSTS, "Costs", blocks, meta, submit)
