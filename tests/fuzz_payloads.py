"""Payloads for ``tests/test_fuzz.py``: a valid Slack request for every surface ragft listens
on, then mutated copies of it (keys dropped at any depth, types swapped, arrays emptied, ids and
values altered, broken ``private_metadata`` and ``view.state``), plus malformed bodies.

Everything comes from one ``random.Random``, so the same seed and ``World`` give the same cases.
Depends only on ``tests.fakes.signing`` and ``handlers.ui.ids``.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from handlers.ui.ids import ActionId, CallbackId, InputId, action_id, pack
from tests.fakes import signing

SEED = 20261201
BOT = "U0BOT00001"
OTHER_TEAM, OTHER_CHANNEL, NOBODY = "T0OTHER999", "C0OTHER999", "U0NOBODY99"
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class World:
    """What the seeded database holds, so valid payloads point at real rows."""

    team: str
    channel: str
    facilitator: str
    teammate: str
    open_id: int
    decided_id: int
    foreign_ids: tuple[int, ...]  # decisions of another team and of another channel
    failure_id: int
    test_id: int
    open_thread: str
    decided_thread: str
    response_url: str


@dataclass
class Case:
    surface: str
    mutation: str
    content: bytes
    content_type: str | None
    payload: Any  # what was sent (dict, form fields or text), for failure reports
    signed: bool = True
    headers: dict[str, str | bytes] | None = None  # fixed headers (unsigned cases)

    def request(self) -> tuple[bytes, dict[str, str | bytes]]:
        """Body and headers, signed now (so a long run never sends stale signatures)."""
        headers: dict[str, str | bytes] = {}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        if self.signed:
            headers.update(signing.sign(self.content))
        headers.update(self.headers or {})
        return self.content, headers


# Values -------------------------------------------------------------------------------------

NUMBERS = ["-30", "0", "²", "٣", "𝟗", "1.5", "1e3", " 7 ", "0x1f", "99999999999", "1" + "0" * 30]
NUMBERS += ["abc", "", "NaN", "-0", "1,200"]
TEXTS = ["", " ", "x" * 50_000, "Résumé 🚀 \u202e²", "<!channel> &amp; <@U0NOBODY99>", "\x00\x01"]
TEXTS += ["null", "{", "|", "||", "\n" * 30]
SWAPS: dict[str, Any] = {"null": None, "bool": True, "int": 7, "negative": -30, "str": "7"}
SWAPS |= {"empty str": "", "list": [], "dict": {}, "float": 1e308}
SLACK_ID = re.compile(r"[TCUWDGBV][A-Z0-9]{8,}")
LEAF_TYPES = (str, int, float, bool, type(None))


def id_variants(world: World) -> list[str]:
    ids = [world.decided_id, world.open_id, *world.foreign_ids, world.failure_id + 1000]
    return [str(i) for i in ids] + NUMBERS


def alternatives(value: Any, world: World) -> list[Any]:
    """Plausible wrong values for ``value``: other ids, odd numbers, broken packs, huge text."""
    if not isinstance(value, str):
        return [-30, 0, 2**63, "x", None, [value]]
    if SLACK_ID.fullmatch(value):
        return [OTHER_TEAM, OTHER_CHANNEL, NOBODY, world.teammate, value.lower(), "", value * 50]
    if "|" in value:
        parts = value.split("|")
        out = ["|".join([n, *parts[1:]]) for n in id_variants(world)]
        out += ["".join(parts), value + "|extra", "|".join(parts[:-1]), parts[0], "|" + value]
        out += ["|".join([parts[0], *(p.upper() + "x" for p in parts[1:])])]
        return [*out, "|".join([parts[0], *(["y" * 5000] * (len(parts) - 1))])]
    if value.strip().lstrip("-").isdigit():
        return id_variants(world)
    return TEXTS + NUMBERS[:4]


# Paths --------------------------------------------------------------------------------------


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        yield (*prefix, key)
        if isinstance(child, dict | list):
            yield from paths(child, (*prefix, key))


def parent(node: Any, path: Path) -> Any:
    for key in path[:-1]:
        node = node[key]
    return node


def label(path: Path) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


def pick_path(rng: random.Random, payload: Any, hot: tuple[Path, ...], **kw: Any) -> Path | None:
    """A path, six times likelier under one of the ``hot`` prefixes. ``leaves=True``: only
    scalar values; ``lists=True``: only lists. ``response_url`` is never a target: a fuzzed URL
    would send the app's replies somewhere real."""
    found = [p for p in paths(payload) if "response_url" not in p]
    if kw.get("leaves"):
        found = [p for p in found if isinstance(parent(payload, p)[p[-1]], LEAF_TYPES)]
    if kw.get("lists"):
        found = [p for p in found if isinstance(parent(payload, p)[p[-1]], list)]
    if not found:
        return None
    weights = [6 if any(p[: len(h)] == h for h in hot) else 1 for p in found]
    return rng.choices(found, weights)[0]


# Mutators: each changes the payload in place and returns a label, or None if it can't apply.

Mutator = Callable[[random.Random, Any, World, tuple[Path, ...]], str | None]


def drop_key(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str | None:
    path = pick_path(rng, payload, hot)
    if path is None:
        return None
    container = parent(payload, path)
    del container[path[-1]]
    return f"drop {label(path)}"


def swap_type(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str | None:
    path = pick_path(rng, payload, hot)
    if path is None:
        return None
    container = parent(payload, path)
    old = container[path[-1]]
    name, new = rng.choice(
        [(n, v) for n, v in SWAPS.items() if type(v) is not type(old)]
        + [("wrapped in list", [old]), ("wrapped in dict", {"value": old})]
    )
    container[path[-1]] = copy.deepcopy(new)
    return f"swap {label(path)}→{name}"


def empty_list(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str | None:
    path = pick_path(rng, payload, hot, lists=True)
    if path is None:
        return None
    parent(payload, path)[path[-1]] = []
    return f"empty {label(path)}"


def alter_value(
    rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]
) -> str | None:
    path = pick_path(rng, payload, hot, leaves=True)
    if path is None:
        return None
    container = parent(payload, path)
    new = rng.choice(alternatives(container[path[-1]], world))
    container[path[-1]] = new
    return f"set {label(path)}={short(new)}"


GENERIC: list[tuple[Mutator, int]] = [(drop_key, 3), (swap_type, 3), (alter_value, 3)]
GENERIC += [(empty_list, 1)]


def mutate(
    rng: random.Random,
    payload: Any,
    world: World,
    hot: tuple[Path, ...],
    special: list[tuple[Mutator, int]],
) -> str:
    mutators = GENERIC + special
    labels = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        fn = rng.choices([m for m, _ in mutators], [w for _, w in mutators])[0]
        done = fn(rng, payload, world, hot)
        if done:
            labels.append(done)
    return " + ".join(labels) or "unchanged"


# Block actions ------------------------------------------------------------------------------

QUESTIONS = {"problem_type": "knowledge", "knowledge_change": "weekly"}
ROLES = ["training_data", "evaluation", "deployment_rollback", "maintenance"]


def block_action_payload(action: ActionId, world: World, rng: random.Random) -> dict[str, Any]:
    """A valid click on ``action``, as ragft's own messages and modals render it."""
    a, b = world.open_id, world.decided_id
    kind = {ActionId.ADD_FAILURES: a, ActionId.REVIEW_FAILURES: b, ActionId.LABELED_EXAMPLES: a}
    kind |= {ActionId.DECIDE: a, ActionId.ACCEPT: b, ActionId.OVERRIDE: b}
    kind |= {ActionId.RUN_CONTEXT_TEST: a, ActionId.REVIEWED: b, ActionId.SNOOZE: b}
    kind |= {ActionId.RERUN: b}
    question = rng.choice(list(QUESTIONS))
    kw: dict[str, Any] = {"action_id": action_id(action), "value": str(kind.get(action, a))}
    if action is ActionId.ANSWER:
        value = QUESTIONS[question]
        kw |= {"action_id": action_id(action, question, value), "value": pack(a, question, value)}
    elif action is ActionId.SETTLE:
        kw |= {"action_id": action_id(action, question), "element_type": "static_select"}
        kw["value"] = pack(a, question, rng.choice([QUESTIONS[question], ""]))
    elif action is ActionId.OWNER:
        role = rng.choice(ROLES)
        kw |= {"action_id": action_id(action, role), "element_type": "users_select"}
        kw |= {"block_id": pack("owner", a, role), "selected_user": world.teammate, "value": None}
    elif action is ActionId.CORRECT_FAILURE:
        kw |= {"element_type": "static_select", "value": pack(world.failure_id, "behavior")}
        kw["view"] = {
            "id": "V0FUZZ0001",
            "type": "modal",
            "callback_id": CallbackId.REVIEW_FAILURES,
            "private_metadata": json.dumps({"decision_id": b}),
            "state": {"values": {}},
        }
    elif action is ActionId.JUDGE_CONTEXT_TEST:
        judgement = rng.choice(["knowledge", "behavior"])
        kw |= {"action_id": action_id(action, judgement), "value": pack(world.test_id, judgement)}
    elif action in (ActionId.KEEP_SUMMARY, ActionId.EDIT_SUMMARY):
        kw["value"] = pack(b, "Billing answers went stale weekly.")
    elif action is ActionId.CADENCE:
        kw |= {"element_type": "static_select", "value": pack(b, rng.choice([30, 90, 182]))}
    thread = world.open_thread if kw["value"] == str(a) else world.decided_thread
    payload = signing.block_action(user_id=world.facilitator, thread_ts=thread, **kw)
    if "view" not in kw:
        payload["response_url"] = world.response_url
    return payload


def set_main_id(payload: dict[str, Any], new: str) -> str:
    """Replace the decision (or failure, or test) id at the front of the parsed value."""
    action = payload["actions"][0]
    if isinstance(action.get("selected_option"), dict):
        holder, key = action["selected_option"], "value"
    elif "selected_user" in action:
        holder, key = action, "block_id"
    else:
        holder, key = action, "value"
    parts = holder[key].split("|")
    parts[1 if key == "block_id" else 0] = new
    holder[key] = "|".join(parts)
    return f"set actions[0].{key}={holder[key][:60]!r}"


def first_action(payload: Any) -> dict[str, Any] | None:
    actions = payload.get("actions") if isinstance(payload, dict) else None
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return actions[0]
    return None


def other_action(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str:
    """The clicked element's actions array or action id made wrong."""
    first = first_action(payload) or {}
    actions = payload["actions"] if first else [first]
    current = str(first.get("action_id", ""))
    wrong_ids = [current + "x", current.upper(), "unknown_action", "", current + "|", "|" * 3]
    wrong_ids += [rng.choice(list(ActionId)).value]
    shapes: dict[str, Any] = {"actions=[]": [], "actions=null": None, "actions={}": {}}
    shapes |= {"actions=[{}]": [{}], "actions=[a, a]": [first, first], "actions=['x']": ["x"]}
    if rng.random() < 0.5:
        name = rng.choice(list(shapes))
        payload["actions"] = copy.deepcopy(shapes[name])
        return name
    new = rng.choice(wrong_ids)
    first["action_id"] = new
    payload["actions"] = [first, *actions[1:]]
    return f"action_id={new!r}"


def main_value(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str | None:
    """The field the listener parses: button value, selected option, block id or user."""
    action = first_action(payload)
    if action is None:
        return None
    if isinstance(action.get("selected_option"), dict):
        container, key, where = action["selected_option"], "value", "selected_option.value"
    elif "selected_user" in action:
        key = rng.choice(["block_id", "selected_user"])
        container, where = action, key
    else:
        container, key, where = action, "value", "value"
    new = rng.choice(alternatives(container.get(key, ""), world))
    container[key] = new
    return f"set actions[0].{where}={short(new)}"


def other_ids(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str:
    """Another team, channel or user: a tenant that doesn't own the decision."""
    which = rng.choice(["team", "user", "channel"])
    new = {"team": OTHER_TEAM, "channel": OTHER_CHANNEL}.get(which, rng.choice([NOBODY, BOT]))
    if which == "team":
        for holder in (payload.get("team"), payload.get("user")):
            if isinstance(holder, dict):
                holder["team_id" if "team_id" in holder else "id"] = new
    elif which == "user" and isinstance(payload.get("user"), dict):
        payload["user"]["id"] = new
    else:
        for holder in (payload.get("channel"), payload.get("container")):
            if isinstance(holder, dict):
                holder["channel_id" if "channel_id" in holder else "id"] = new
    return f"{which}={new}"


ACTION_HOT: tuple[Path, ...] = (("actions",), ("user",), ("team",), ("trigger_id",), ("view",))
ACTION_HOT += (("container",), ("channel",))
ACTION_SPECIAL: list[tuple[Mutator, int]] = [(main_value, 6), (other_action, 2), (other_ids, 1)]


# View submissions ---------------------------------------------------------------------------


def _text(value: str) -> dict[str, Any]:
    return signing.text_value(value)


def view_payload(callback: CallbackId, world: World) -> dict[str, Any]:
    a, b = world.open_id, world.decided_id
    values: dict[str, dict[str, Any]]
    meta = json.dumps({"decision_id": a})
    if callback is CallbackId.ADD_FAILURES:
        values = {InputId.PASTE: _text("quoted last year's prices | https://example.com/1")}
        values |= {InputId.OUTPUT: _text("Refunds: 14 days"), InputId.EXPLANATION: _text("stale")}
    elif callback is CallbackId.LABELED_EXAMPLES:
        values = {InputId.COUNT: {"type": "number_input", "value": "1200"}}
    elif callback is CallbackId.OVERRIDE:
        values = {InputId.CHOICE: signing.select_value("fine_tuning"), InputId.REASON: _text("Ok")}
        meta = json.dumps({"decision_id": b})
    elif callback is CallbackId.CONTEXT_TEST:
        values = {InputId.TEST_QUESTION: _text("Refund window?")}
        values |= {InputId.TEST_CONTEXT: _text("30 days."), InputId.TEST_EXPECTED: _text("30")}
    elif callback is CallbackId.SUMMARY:
        values = {InputId.SUMMARY: _text("We chose RAG: prices change weekly.")}
        meta = json.dumps({"decision_id": b})
    elif callback is CallbackId.LOG_FAILURE:
        values = {InputId.DECISION: signing.select_value(str(b)), InputId.OUTPUT: _text("14 days")}
        values |= {InputId.EXPLANATION: _text("quoted last year's refund policy")}
        link = f"https://example-team.slack.com/archives/{world.channel}/p1717000005000200"
        meta = json.dumps({"permalink": link, "channel_id": world.channel})
    else:  # REVIEW_FAILURES has no submit button; Slack would never send it
        values = {}
    state = {block: {block: element} for block, element in values.items()}
    return signing.view_submission(
        callback_id=callback, values=state, private_metadata=meta, user_id=world.facilitator
    )


METADATA = ["", "{", "notjson", "null", "[]", "1", '"2"', "{}", '{"decision_id": null}']
METADATA += ['{"decision_id": "abc"}', '{"decision_id": "²"}', '{"decision_id": -30}']
METADATA += ['{"decision_id": 1e400}', '{"decision_id": [2]}', '{"decision_id": true}']
METADATA += ['{"decision_id": 1' + "0" * 30 + "}", '{"permalink": 5, "channel_id": ["C"]}']
METADATA += ['{"channel_id": "C0OTHER999"}', '{"channel_id": 7}', "x" * 4000]


def _every_input(view: dict[str, Any], value: str) -> None:
    for block in view["state"]["values"].values():
        for element in block.values():
            if "selected_option" in element:
                element["selected_option"] = {"value": value}
            else:
                element["value"] = value


VIEW_FIXED: dict[str, Callable[[dict[str, Any]], None]] = {
    "valid": lambda view: None,
    "view.state.values=null": lambda view: view["state"].update(values=None),
    "view.state.values={} (input blocks missing)": lambda view: view["state"].update(values={}),
    "private_metadata='{'": lambda view: view.update(private_metadata="{"),
    "every input='²'": lambda view: _every_input(view, "²"),
    "every input='-30'": lambda view: _every_input(view, "-30"),
}


def bad_metadata(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str:
    choices = [*METADATA, *(json.dumps({"decision_id": i}) for i in world.foreign_ids)]
    new = rng.choice(choices)
    view = payload.get("view")
    if isinstance(view, dict):
        view["private_metadata"] = new
    return f"private_metadata={short(new)}"


def bad_state(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str | None:
    view = payload.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("state"), dict):
        return None
    values = view["state"].get("values")
    blocks = list(values) if isinstance(values, dict) else []
    roll = rng.randrange(6)
    if roll == 0 or not blocks:
        name, new = rng.choice([("null", None), ("{}", {}), ("[]", []), ("'x'", "x")])
        view["state"]["values"] = new
        return f"view.state.values={name}"
    assert isinstance(values, dict)
    block = rng.choice(blocks)
    if roll == 1:
        del values[block]
        return f"drop input block {block}"
    if roll == 2:
        inner = values[block].get(block) if isinstance(values[block], dict) else None
        values[block] = rng.choice([{}, None, {"other": inner}])
        return f"view.state.values.{block}={short(values[block])}"
    element = values[block].get(block) if isinstance(values[block], dict) else None
    if not isinstance(element, dict):
        return None
    if "selected_option" in element:
        new = rng.choice([None, {}, {"value": None}, *({"value": v} for v in id_variants(world))])
        element["selected_option"] = new
        return f"{block}.selected_option={short(new)}"
    new = rng.choice([None, 7, [], {}, "   ", *NUMBERS, *TEXTS])
    element["value"] = new
    return f"{block}.value={short(new)}"


VIEW_HOT: tuple[Path, ...] = (("view", "state"), ("view", "private_metadata"), ("user",))
VIEW_HOT += (("team",), ("view", "callback_id"))
VIEW_SPECIAL: list[tuple[Mutator, int]] = [(bad_metadata, 4), (bad_state, 6), (other_ids, 1)]


# Shortcut, mention, command -----------------------------------------------------------------


def shortcut_payload(world: World) -> dict[str, Any]:
    message = copy.deepcopy(signing.MESSAGE_ACTION["message"])
    message |= {"text": "Refunds are allowed within 14 days.", "user": world.teammate}
    payload = signing.message_shortcut(
        callback_id=CallbackId.LOG_FAILURE, message=message, user_id=world.facilitator
    )
    payload["response_url"] = world.response_url
    return payload


SHORTCUT_HOT: tuple[Path, ...] = (("message",), ("channel",), ("message_ts",), ("trigger_id",))
SHORTCUT_HOT += (("user",), ("team",))


def mention_payload(world: World, text: str, thread: str | None, n: int) -> dict[str, Any]:
    event = signing.app_mention(text=text, user_id=world.teammate, thread_ts=thread)
    body, _ = signing.event(event, event_id=f"EvFUZZ{n:05d}")
    return json.loads(body)


MENTIONS = [
    "<@U0BOT00001> fail: quoted last year's prices | https://example.com/out",
    "<@U0BOT00001> failed - too verbose and ignored the format",
    "<@U0BOT00001> hello there",
    "<@U0BOT00001> log: " + "x" * 5000,
    "<@U0BOT00001>",
    "fail: no mention at all <@U0NOBODY99>",
    "<@U0BOT00001> fail: ² | <https://example.com|link>",
]


def mention_text(rng: random.Random, payload: Any, world: World, hot: tuple[Path, ...]) -> str:
    event = payload.get("event")
    if isinstance(event, dict):
        event["text"] = rng.choice([*MENTIONS, *TEXTS])
        return f"event.text={short(event['text'])}"
    return "event.text (no event)"


EVENT_HOT: tuple[Path, ...] = (("event",), ("team_id",), ("event_id",), ("authorizations",))


def command_texts(world: World) -> list[str]:
    b, f = world.decided_id, world.foreign_ids[0]
    texts = ["", "help", "help me please", "?", "list", "ls extra words", "status", f"status {b}"]
    texts += [f"status #{b}", "status -30", "status ²", "status ٣", "status 99999999999"]
    texts += [f"status {f}", "status abc", "export", f"export {b}", "export ²", "export -1"]
    texts += ["log", f"log {b}", f"log {b} quoted prices", "log quoted prices | https://x.y"]
    texts += ["log | ", f"log {f} stale", "log ² stale", "cadence", "cadence monthly"]
    texts += [f"cadence {b} quarterly", "cadence weekly", f"cadence {b}", "cadence -1 monthly"]
    texts += [f"cadence {f} monthly", "cadence ٣ monthly", "start", "start " + "x" * 201, "new"]
    texts += ["Billing bot for Ünïcødé 🚀 ²", "<!channel> &amp; &lt;script&gt;", "x" * 10_000]
    texts += ["\x00", "\n\n\t", "status " + "9" * 9, "export #0", "cadence 1 2 3", "log 1"]
    return texts


COMMAND_FIELDS = ["team_id", "channel_id", "user_id", "text", "command", "trigger_id"]
COMMAND_FIELDS += ["response_url", "user_name", "team_domain", "channel_name", "api_app_id"]


def command_fields(world: World, text: str) -> dict[str, str]:
    return {
        **signing.SLASH_COMMAND,
        "team_id": world.team,
        "channel_id": world.channel,
        "user_id": world.facilitator,
        "text": text,
        "response_url": world.response_url,
    }


def mutate_command(rng: random.Random, fields: dict[str, str], world: World) -> str:
    field = rng.choice(COMMAND_FIELDS)
    roll = rng.randrange(4)
    if field == "response_url":  # never point replies anywhere but the fake
        roll = 0
    if roll == 0:
        fields.pop(field, None)
        return f"drop {field}"
    new = "" if roll == 1 else rng.choice(alternatives(fields.get(field, ""), world))
    fields[field] = new
    return f"set {field}={short(new)}"


# All cases ----------------------------------------------------------------------------------


def interactive_case(surface: str, mutation: str, payload: Any) -> Case:
    body = "payload=" + quote(json.dumps(payload, separators=(",", ":")))
    return Case(surface, mutation, body.encode(), FORM, payload)


def json_case(surface: str, mutation: str, payload: Any) -> Case:
    return Case(surface, mutation, json.dumps(payload).encode(), JSON, payload)


def signed_cases(world: World, rng: random.Random, per_surface: int = 20) -> list[Case]:
    """At least ``per_surface`` cases for each action id and callback id; more for commands,
    the shortcut and mentions."""
    cases: list[Case] = []
    for action in ActionId:
        surface = f"block_actions:{action}"
        fixed = ["valid", "actions=[]", "id -30", "id ²"]
        for name in fixed:
            payload = block_action_payload(action, world, rng)
            if name == "actions=[]":
                payload["actions"] = []
            elif name != "valid":
                name = set_main_id(payload, name.split()[1])
            cases.append(interactive_case(surface, name, payload))
        for _ in range(per_surface - len(fixed)):
            payload = block_action_payload(action, world, rng)
            mutation = mutate(rng, payload, world, ACTION_HOT, ACTION_SPECIAL)
            cases.append(interactive_case(surface, mutation, payload))
    for callback in CallbackId:
        surface = f"view_submission:{callback}"
        for name, change in VIEW_FIXED.items():
            payload = view_payload(callback, world)
            change(payload["view"])
            cases.append(interactive_case(surface, name, payload))
        for _ in range(per_surface):
            payload = view_payload(callback, world)
            mutation = mutate(rng, payload, world, VIEW_HOT, VIEW_SPECIAL)
            cases.append(interactive_case(surface, mutation, payload))
    surface = f"shortcut:{CallbackId.LOG_FAILURE}"
    cases.append(interactive_case(surface, "valid", shortcut_payload(world)))
    for _ in range(per_surface + 10):
        payload = shortcut_payload(world)
        mutation = mutate(rng, payload, world, SHORTCUT_HOT, [(other_ids, 2)])
        cases.append(interactive_case(surface, mutation, payload))
    threads = {"decided": world.decided_thread, "open": world.open_thread, "none": None}
    threads["unknown"] = "1717000000.999999"
    for n in range(per_surface * 2 + 10):
        text, where = MENTIONS[n % len(MENTIONS)], list(threads)[n % len(threads)]
        payload = mention_payload(world, text, threads[where], n)
        mutation = "valid" if n < len(MENTIONS) else "unchanged"
        if n >= len(MENTIONS):
            special: list[tuple[Mutator, int]] = [(mention_text, 3)]
            mutation = mutate(rng, payload, world, EVENT_HOT, special)
        cases.append(json_case("app_mention", f"{mutation} (thread: {where})", payload))
    for text in command_texts(world):
        fields = command_fields(world, text)
        cases.append(
            Case("command", f"text={short(text)}", urlencode(fields).encode(), FORM, fields)
        )
    for _ in range(per_surface * 4):
        fields = command_fields(world, rng.choice(command_texts(world)))
        mutation = mutate_command(rng, fields, world) + f" (text={short(fields.get('text'), 30)})"
        cases.append(Case("command", mutation, urlencode(fields).encode(), FORM, fields))
    rng.shuffle(cases)
    return cases


def malformed_cases() -> list[Case]:
    """Bodies no Slack client would send, unsigned and signed: each must get a 4xx."""
    bodies: dict[str, tuple[bytes, str | None]] = {
        "payload=notjson": (b"payload=notjson", FORM),
        "payload={": (b"payload=%7B", FORM),
        "payload=[]": (b"payload=%5B%5D", FORM),
        "payload=null": (b"payload=null", FORM),
        "invalid JSON body": (b'{"type": "event_callback", "event": ', JSON),
        "JSON array body": (b"[1, 2, 3]", JSON),
        "binary body": (bytes(range(256)), "application/octet-stream"),
        "5 MB body": (b"payload=" + b"A" * 5_000_000, FORM),
        "empty body": (b"", FORM),
    }
    cases = []
    for name, (body, ctype) in bodies.items():
        cases.append(Case("unsigned", name, body, ctype, body[:80], signed=False))
        if len(body) < 1000:
            cases.append(Case("signed-malformed", name, body, ctype, body[:80]))
    for ts in ("abc", "", "1e3", "-1", "²", "9" * 40):
        bad: dict[str, str | bytes] = {"X-Slack-Signature": "v0=" + "0" * 64}
        bad["X-Slack-Request-Timestamp"] = ts.encode()  # bytes: "²" isn't ASCII
        body = interactive_case("", "", {"type": "block_actions"}).content
        cases.append(
            Case("unsigned", f"X-Slack-Request-Timestamp={ts!r}", body, FORM, ts, False, bad)
        )
    return cases
