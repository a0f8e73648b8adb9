"""Offline, deterministic classifier for plain-language failure explanations.

A team explains why an output failed ("quoted last year's prices", "sounds like a legal brief") and
this module sorts the explanation into knowledge (retrieval fixes it), behavior (prompting or
fine-tuning fixes it) or unclear (the explanation doesn't say). Stdlib only, no network: a pure
function of the text, so the same explanation always gets the same answer.

How it scores:
1. Normalise: NFKC, lowercase, curly quotes to straight, dashes to " - ", collapse whitespace.
2. Split into clauses on punctuation and contrast words ("but", "however", ...).
3. Match weighted cue patterns per clause. Each cue counts once per text.
4. A clause that *concedes* one side ("knew the facts", "the formatting was fine") counts for the
   other side: "had all the right numbers but dumped them as a wall of text" is behavior.
5. The higher total wins if it reaches MIN_SCORE; otherwise the text is unclear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.questions import CategorySource, FailureCategory

K = FailureCategory.KNOWLEDGE
B = FailureCategory.BEHAVIOR

# Weights: 3 = names the failure outright ("outdated", "ignored the instruction"), 2-2.5 = strong
# hint, 1 = weak topic word. Knowledge's strongest cues weigh 3 and most behavior cues 2.5, so an
# explanation that names both ("outdated and too verbose") leans knowledge on purpose: fixing the
# facts with retrieval is the cheaper first step, and the behavior complaint survives in the text.
MIN_SCORE = 2.0
"""A lone weak cue ("wrong", "the data") is not enough to call it."""

CONCESSION_WEIGHT = 2.5
QUOTE_LIMIT = 60

_NEG = (
    r"(?:didn't|did not|doesn't|does not|don't|do not|wasn't|was not|isn't|is not"
    r"|couldn't|could not|can't|cannot)"
)
_KNOUN = (
    r"(?:version|policy|policies|pricing|prices?|address|number|docs?|documentation|plans?|terms"
    r"|info|information|data|page|line|rates?|fees?|api|release|schedule|guidelines?|catalog"
    r"|contract|handbook|brand|name|names|org chart|process|faq|figures|numbers|link|url)"
)
_FACT = (
    r"(?:price|prices|pricing|dates?|numbers?|address|sku|skus|version|amount|rates?|deadline"
    r"|figures?|dosage|dose|phone|email|url|link|contact|hours|fees?|plan|tier|facts?|info"
    r"|information|data|policy|totals?|statistics?|stats?|citation|names?|specs?|quantity"
    r"|balance|eta|times?|timeline|part|ids?|opening hours)"
)
_LANGS = (
    r"(?:english|spanish|french|german|portuguese|italian|dutch|japanese|chinese|mandarin|korean"
    r"|hindi|arabic|russian|polish|swedish)"
)


@dataclass(frozen=True)
class _Cue:
    category: FailureCategory
    weight: float
    label: str
    pattern: re.Pattern[str]
    negatable: bool = False
    """Adjective-like cues where "not X" denies the problem ("not outdated", "wasn't rude").
    Noun cues stay complaints when negated: "not JSON" still means the format was wrong."""


def _cue(
    category: FailureCategory, weight: float, label: str, *alts: str, negatable: bool = False
) -> _Cue:
    pattern = re.compile(r"\b(?:" + "|".join(alts) + r")\b")
    return _Cue(category, weight, label, pattern, negatable)


# fmt: off
_CUES: tuple[_Cue, ...] = (
    # --- knowledge: the model lacked, or had stale, facts ----------------------------------------
    _cue(K, 3, "stale information",
         r"stale", r"outdated", r"out[- ]of[- ]date", r"obsolete", r"expired", r"superseded",
         r"deprecated", r"discontinued", r"sunset", r"removed in",
         r"not (?:up[- ]to[- ]date|current)",
         r"no longer (?:exists?|valid|true|accurate|correct|supported|available|offered|applies"
         r"|works)",
         r"last (?:year|quarter|month|week|season)(?:'s)?",
         r"(?:previous|prior) (?:year|version|policy|release|pricing)",
         r"old(?:er)? (?:[\w-]+ ){0,2}" + _KNOUN, r"from (?:before|months ago|years ago)",
         r"(?:before|since) the (?:[\w-]+ ){0,2}(?:change|update|release|launch|migration"
         r"|rebrand|merger|increase|cut)",
         r"not the (?:current|latest|new|newest|updated|amended|revised)(?: ones?| version)?",
         negatable=True),
    _cue(K, 2.5, "something that has since changed",
         r"(?:we|they|our team) (?:just |recently )?(?:changed|updated|raised|lowered|increased"
         r"|cut|moved|shipped|launched|released|dropped|removed|renamed|rewrote|retired|stopped"
         r"|replaced|migrated|switched)",
         r"(?:was|were|got|has been|have been) (?:changed|updated|rewritten|revised|renamed"
         r"|removed|replaced|retired)",
         r"(?:office|store|branch|location) (?:has )?closed", r"who left", r"left the company",
         r"(?:have|has|is|are|use|uses|offer|offers) \w+ now",
         r"(?:went|is now|are now) (?:ga|live)"),
    _cue(K, 3, "information it didn't have",
         r"(?<!\bi )(?<!\bwe )" + _NEG + r" know(?! why| what| how| if| whether)",
         r"(?:has|had) no (?:idea|knowledge|way of knowing)(?! why)",
         r"(?:not|wasn't|isn't) aware", r"unaware", r"knowledge (?:gap|problem|issue)",
         r"lack(?:s|ed|ing)?", r"no access",
         r"missing (?:the )?(?:\w+ )?(?:context|info|information|data|facts|details|docs?"
         r"|document)",
         _NEG + r" (?:have|had) (?:access|the|our|any|enough|that|this)(?: [\w']+)?",
         r"(?:couldn't|could not|can't|cannot|didn't|did not) (?:see|access|find|read|retrieve"
         r"|look up)",
         r"never (?:got|saw|had|received|seen)",
         r"not in (?:its|the) (?:training data|context|docs|index)",
         r"(?:training|knowledge) (?:data|cutoff|cut-off)", r"general knowledge",
         r"(?:wasn't|isn't|not) (?:given|provided)", r"(?<!\bi )guess(?:ed|es|ing)?",
         r"omitted", r"left out", r"missed (?:that|the fact)"),
    _cue(K, 3, "made-up facts",
         r"hallucinat\w*", r"ma(?:de|kes|king) up", r"invent(?:ed|s|ing)", r"fabricat\w*",
         r"(?:doesn't|does not|didn't|don't|do not) exist", r"non-?existent", r"no such",
         r"(?:we|they) (?:don't|do not|never) (?:have|offer|sell|support|ship|provide)",
         r"(?:isn't|is not|not) in (?:any|the|our) (?:of )?(?:our )?\w+"),
    _cue(K, 3, "wrong facts",
         r"(?:wrong|incorrect|inaccurate|false|bad) (?:[\w-]+ )?" + _FACT,
         r"(?:facts?|numbers?|figures?|dates?|prices?|info|information|data|times|timeline"
         r"|amounts?)(?: [\w-]+){0,4} (?:is|are|was|were) (?:wrong|incorrect|inaccurate|false"
         r"|made up)",
         r"factual(?:ly)? (?:wrong|incorrect|inaccurate|errors?|mistakes?)", r"factual errors?"),
    _cue(K, 2, "company-specific information it lacked",
         r"our (?:internal )?(?:acronyms?|jargon|terminology|product names?|products|catalog)",
         r"internal (?:acronyms?|jargon|terminology|docs?|documentation|runbook|wiki"
         r"|tool(?:s|ing)?)",
         r"instead of our", r"thinks \w+ means", r"order history",
         r"customer's (?:contract|account|plan|order)",
         r"still (?:gives|says|lists|recommends|thinks|references|mentions|shows|quotes|uses"
         r"|open)"),
    _cue(K, 1, "the facts",
         r"facts?", r"factual", r"numbers", r"figures", r"data", r"info", r"information",
         r"content", r"polic(?:y|ies)", r"prices", r"pricing", r"citations?"),
    _cue(K, 1, "an error", r"wrong", r"incorrect", r"inaccurate", r"(?:19|20)\d\d", r"ago"),
    # --- behavior: it had the facts but said them the wrong way ---------------------------------
    _cue(B, 2.5, "the tone",
         r"tone", r"tonally", r"(?:in)?formal", r"casual", r"stiff", r"robotic", r"rude",
         r"condescending", r"patroni[sz]\w*", r"snarky", r"sarcastic", r"cold", r"dismissive",
         r"pushy", r"spammy", r"salesy", r"aggressive", r"preachy", r"sycophantic", r"chatty",
         r"curt", r"blunt", r"(?:too|way too|overly) (?:familiar|friendly|enthusiastic)",
         r"lectur\w*", r"defensive", r"cheesy", r"emojis?", r"exclamation (?:marks?|points?)",
         negatable=True),
    _cue(B, 2.5, "the writing style",
         r"style", r"stylistic", r"wording", r"phrasing", r"phrased", r"legal brief",
         r"textbook", r"journal article", r"press release", r"marketing (?:email|copy)",
         r"reading level", r"too technical", r"(?:too much|full of) jargon",
         r"plain (?:language|english)", r"editoriali[sz]\w*", r"neutral", r"opinionated"),
    _cue(B, 2, "the writing style",
         r"(?:sounds|sounded|reads|read|written|wrote(?: it)?) like",
         r"c(?:a|o)mes? across(?: as)?"),
    _cue(B, 2.5, "the length",
         r"verbose", r"wordy", r"(?:way )?too (?:long|short|terse)", r"terse", r"long[- ]winded",
         r"rambl\w*", r"wall of text", r"(?:giant|huge|long|one big|single|one) paragraph",
         r"paragraphs", r"padding", r"filler", r"over[- ]?explain\w*",
         r"one[- ]word(?: answers?)?", r"one[- ]line(?:r|rs)?", r"full page", r"whole page",
         r"(?:character|word|length|token) limit", r"\d+[- ](?:characters?|words?)",
         r"concise", r"succinct", r"repeats?", r"repeated", r"repetitive",
         negatable=True),
    _cue(B, 2.5, "the format or structure",
         r"format\w*", r"markdown", r"json", r"csv", r"yaml", r"xml", r"html", r"bullet\w*",
         r"numbered list", r"headers?", r"headings?", r"tables?", r"schema", r"template",
         r"structur\w*", r"layout", r"prose", r"pars(?:e|er|ing)", r"fields?", r"code block",
         r"indentation", r"sign[- ]off", r"signature", r"buried", r"buries",
         r"(?:order|ordering) of(?: the)? \w+",
         r"(?:required|missing|skipped) (?:[\w']+ ){0,2}section"),
    _cue(B, 3, "the wrong language",
         r"(?:respond\w*|repl\w*|answer\w*|wrote|written|writes|came back|switched)"
         r"(?: \w+){0,2} in " + _LANGS,
         r"in " + _LANGS + r" (?:even though|when|instead|although|but)",
         r"(?:british|american|us|uk) (?:spelling|english)", r"wrong language",
         r"translat\w*", r"language(?! model)"),
    _cue(B, 3, "an ignored instruction",
         r"ignor\w*", r"disregard\w*", r"not follow\w*", r"system prompt", r"instructions?",
         r"(?:didn't|did not|doesn't|does not|failed to|won't|wouldn't) (?:follow|stick to"
         r"|respect|obey|honou?r|comply|use the|use our)",
         r"(?:we|i|they|the user|user) (?:asked|told|instructed)(?: it)?(?: for| to)?",
         r"asked for", r"told it (?:to|not|never)", r"style guide", r"naming conventions?",
         r"conventions?", r"type hints"),
    _cue(B, 3, "the persona",
         r"persona", r"(?:broke|breaks|breaking) character", r"in character", r"as an ai",
         r"brand voice", r"voice", r"impersonat\w*"),
    _cue(B, 2.5, "over-caution (refusing, hedging, apologising)",
         r"refus\w*", r"(?:wouldn't|won't) answer", r"declined to", r"apologi[sz]\w*", r"sorry",
         r"disclaimers?", r"hedg\w*", r"caveats?", r"(?:overly|too) cautious",
         r"wishy[- ]washy", r"straight answer", r"non-?committal"),
    _cue(B, 2, "how it handled the conversation",
         r"(?:didn't|did not|never|failed to|should have|should've) (?:ask\w*|escalat\w*"
         r"|clarif\w*|confirm\w*)",
         r"clarifying questions?", r"promis\w*", r"guarantee\w*", r"commit(?:ted)? to",
         r"shouldn't", r"not supposed to", r"(?:gave|gives|giving) (?:\w+ )?advice",
         r"off[- ]topic", r"kept (?:going|replying|asking|repeating)",
         r"instead of (?:just )?answering", r"behaviou?r (?:problem|issue)"),
    _cue(B, 1.5, "overdoing it", r"too (?:many|much)", r"over and over"),
)
# fmt: on

_VAGUE = re.compile(
    r"\b(?:thumbs[- ]down|no (?:details?|comments?|reason|explanation|notes?)"
    r"|didn't like|did not like|unhelpful|not helpful|not sure|unsure|don't know why"
    r"|no idea why|reason unknown|meh|bad"
    r"|not great|weird|wrong|csat|\d stars?|flagged|complain\w*|n/a|idk)\b"
)
_SPLIT = re.compile(
    r"[;:!?,()\"\[\]]|\.(?:\s|$)|\s-\s"
    r"|\b(?:but|however|though|although|yet|whereas|while|even though)\b"
)
_PRAISE = re.compile(
    r"\b(?:right|correct|accurate|true|knew|fine|ok|okay|good|great|nice|clear|clean|perfect"
    r"|spot[- ]on|solid|readable|polished|well[- ](?:written|formatted|structured))\b"
)
_FACTS_PRAISE = re.compile(r"\b(?:right|correct|accurate|true|knew)\b")
_NEGATIVE = re.compile(
    r"n't\b|\b(?:not|no|never|wrong|bad|poor|off|too|missing|stale|outdated|incorrect|inaccurate"
    r"|instead|nobody|should|right now|all right)\b"
)
_DENIAL = re.compile(
    r"\b(?:nothing wrong with|no (?:issues?|problems?|complaints?) with"
    r"|(?:wasn't|was not|isn't|is not|not) (?:the|an?|really an?) (?:[\w-]+ )?(?:issue|problem))\b"
)
_NEGATED = re.compile(
    r"\b(?:not|no|never|wasn't|isn't|weren't|aren't|hardly)\s+(?:(?:too|very|really|that|overly)\s+)?$"
)
_QUOTES = str.maketrans("\u2018\u2019\u201b\u2032`\u201c\u201d\u201e\u2033", "'''''\"\"\"\"")


@dataclass(frozen=True)
class Classification:
    category: FailureCategory
    rationale: str
    source: CategorySource = CategorySource.HEURISTIC


@dataclass(frozen=True)
class _Hit:
    category: FailureCategory
    weight: float
    label: str
    phrase: str
    concession: bool = False


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = re.sub(r"\s*[\u2013\u2014\u2015]+\s*|\s+-{1,2}\s+", " - ", text)
    return re.sub(r"\s+", " ", text).strip()


def _quote(phrase: str) -> str:
    phrase = phrase.strip(" .,;:'\"")
    if len(phrase) > QUOTE_LIMIT:
        phrase = phrase[: QUOTE_LIMIT - 1].rstrip() + "…"
    return f'"{phrase}"'


def _concession(clause: str, hits: list[tuple[_Cue, re.Match[str]]]) -> _Hit | None:
    """If the clause says one side was fine, return a hit crediting the other side."""
    denial = bool(_DENIAL.search(clause))
    if not denial and not (_PRAISE.search(clause) and not _NEGATIVE.search(clause)):
        return None
    cats = {cue.category for cue, _ in hits}
    if cats == {B}:
        other, label = K, "the facts, since it says the form was fine"
    elif cats == {K} or (not cats and not denial and _FACTS_PRAISE.search(clause)):
        other, label = B, "behavior, since it says the facts were right"
    else:  # praises both sides, or neither, so it tells us nothing
        return None
    return _Hit(other, CONCESSION_WEIGHT, label, clause, concession=True)


def _hits(norm: str) -> list[_Hit]:
    found: list[_Hit] = []
    counted: set[_Cue] = set()
    for clause in filter(None, (c.strip() for c in _SPLIT.split(norm) if c)):
        clause_hits = [(cue, m) for cue in _CUES if (m := cue.pattern.search(clause))]
        if (conceded := _concession(clause, clause_hits)) is not None:
            found.append(conceded)
            continue
        for cue, match in clause_hits:
            if cue.negatable and _NEGATED.search(clause, 0, match.start()):
                continue  # "not outdated", "wasn't rude": a denial, not a complaint
            if cue not in counted:
                counted.add(cue)
                found.append(_Hit(cue.category, cue.weight, cue.label, match.group(0)))
    return found


def _best(hits: list[_Hit], category: FailureCategory) -> _Hit:
    """The strongest hit for a category, preferring a stated complaint over a concession."""
    mine = [h for h in hits if h.category == category]
    return max(mine, key=lambda h: (not h.concession, h.weight))  # max() keeps the first on ties


def _unclear(rationale: str) -> Classification:
    return Classification(FailureCategory.UNCLEAR, rationale)


def classify(text: str) -> Classification:
    """Classify one plain-language failure explanation."""
    norm = _normalise(text or "")
    if not re.search(r"[^\W\d_]", norm):  # no letters at all: "", "?", "42"
        return _unclear("No explanation given.")
    hits = _hits(norm)
    score = {cat: sum(h.weight for h in hits if h.category == cat) for cat in (K, B)}
    if max(score.values()) < MIN_SCORE:
        if vague := _VAGUE.search(norm):
            return _unclear(
                f"Too vague to act on ({_quote(vague.group(0))}): nothing points to "
                "missing knowledge or to behavior."
            )
        return _unclear("No reason given that points to missing knowledge or to behavior.")
    if score[K] == score[B]:
        # Tie: we deliberately refuse to guess. An explanation that points equally at missing facts
        # and at behavior is two failures in one; a human should split it or add detail.
        k, b = _best(hits, K), _best(hits, B)
        return _unclear(
            f"Mixed: points to knowledge ({_quote(k.phrase)}) and to behavior "
            f"({_quote(b.phrase)}) equally."
        )
    winner = _best(hits, K if score[K] > score[B] else B)
    return Classification(winner.category, f"Points to {winner.label} ({_quote(winner.phrase)}).")


def classify_many(texts: Iterable[str]) -> list[Classification]:
    """Classify each explanation, preserving order."""
    return [classify(t) for t in texts]
