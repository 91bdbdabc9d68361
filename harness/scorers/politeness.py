"""Politeness: courtesy versus rudeness in the response, by transparent marker rules.

The score starts at ``NEUTRAL`` (0.7): plain, helpful text is polite enough. Each
distinct courtesy marker ("please", "thank you", "happy to help", "sorry to hear",
"I understand") raises it towards 1 with diminishing returns. Each rude marker —
insults, profanity, dismissive or condescending phrases ("shut up", "stupid
question", "obviously you", "google it yourself"), or shouting in capitals —
multiplies it by ``exp(-weight)``, so a single insult drops a courteous reply below
0.5: politeness does not buy rudeness back. An empty reply scores 0 and a reply made mostly of
courtesy markers ("please thank you kindly ...") scores ``STUFFED``: neither helped anybody.

Validated (``benchmarks/validate_scorers.py``) on 46 hand-labelled replies held out from these
rules: accuracy 0.783; impolite replies caught with precision 1.000, recall 0.583 (subtle
condescension without a marker phrase is missed). The rules were revised on a separate
development set (``tests/scorers/data/politeness_dev.yaml``).
"""

from __future__ import annotations

import math
import re

from pydantic import Field

from harness.scorer_api import Params, Score, ScoreInput, clamp01, scorer

NEUTRAL = 0.7
STUFFED = 0.2
COURTESY_GAIN = 0.3  # the most courtesy can add on top of NEUTRAL

_COURTESY = [
    r"\bplease\b", r"\bthank you\b|\bthanks\b", r"\b(?:happy|glad|pleased|delighted) to (?:help|assist)\b",
    r"\byou(?:'re| are) (?:very |most )?welcome\b", r"\bsorry to hear\b",
    r"\bi(?:'m| am) (?:so |really |very )?sorry\b",
    r"\bi apologi[sz]e\b", r"\bi (?:completely |totally |can )?understand\b", r"\b(?:great|good|excellent) question\b",
    r"\bi (?:really )?appreciate\b", r"\bhope (?:this|that|it) helps\b", r"\bfeel free\b",
    r"\bof course\b", r"\bmy pleasure\b", r"\bno problem\b", r"\bi(?:'d| would) be (?:happy|glad)\b",
    r"\bthat(?:'s| is) (?:a )?(?:great|good|fair|understandable)\b",
]

# (pattern, weight): weight 1 is an outright insult; a whole-text score gets multiplied
# by exp(-weight) per distinct marker found.
_RUDE: list[tuple[str, float]] = [
    # Insults. Ambiguous words ("lazy", "dense", "useless") only count aimed at the reader,
    # since "lazy loading" or "a dense matrix" are ordinary technical English.
    (r"\b(?:idiot(?:ic|s)?|moron(?:ic|s)?|imbeciles?|dimwit|halfwit|nitwit|dumbass|jackass|loser|pathetic|stupid|dumb"
     r"|you fool)\b", 1.2),
    (r"\byou(?:'re| are) (?:so |really |just |being |such )?(?:an? )?(?:lazy|dense|ignorant|clueless|incompetent|"
     r"useless|hopeless|fool|slow|thick|annoying|ridiculous)\b", 1.2),
    # Profanity.
    (r"\b(?:fuck\w*|shit\w*|bullshit|crap(?:py)?|goddamn|wtf|stfu|assholes?|bitch\w*|bastards?|piss(?:ed)? off|"
     r"screw you|the hell|go to hell|bloody hell)\b", 1.2),
    (r"\bdamn(?:ed|it)?\b", 0.7),
    # Dismissive.
    (r"\bshut up\b|\bgo away\b|\bleave me alone\b|\bstop (?:asking|bothering|wasting)\b", 1.2),
    (r"\b(?:figure it out|look it up|do it) yourself\b|\b(?:just )?google it\b|\bnot my problem\b|\bwho cares\b"
     r"|\bi (?:don't|do not) care\b|\bwaste of (?:my )?time\b|\bdon't waste my time\b"
     r"|\bdo your own (?:homework|research|work)\b",
     1.0),
    # Condescension.
    (r"\bobviously,? you\b|\bclearly,? you (?:don't|didn't|can't|have no|haven't)\b"
     r"|\beven an? (?:child|kid|toddler|monkey|beginner)|\bany (?:idiot|fool|child)\b"
     r"|\bdid you (?:even )?(?:read|try|bother|think)\b|\blearn to (?:read|code|google|spell)\b"
     r"|\bare you (?:serious|kidding|dense|blind)\b|\bhow many times (?:do|must|have|will) i\b|\bnot rocket science\b"
     r"|\bi shouldn't have to\b|\btry to keep up\b|\buse your (?:brain|head)\b|\bget a clue\b|\bwhat's wrong with you\b"
     r"|\byou should (?:already )?(?:know|have known) (?:this|that|better)\b|\blet me spell it out\b|\bhold your hand\b"
     r"|\bduh\b|\bugh\b|\bseriously\?", 1.0),
    (r"\bas i (?:already |just )?(?:said|told you|explained|mentioned)\b|\bwhatever\s*[.!]", 0.4),
    # Condescension without an insult word (from the development set's misses).
    (r"\b(?:this|that|it)(?:'s| is) (?:really |just |pretty )?(?:basic|elementary|trivial|simple) stuff\b"
     r"|\btry reading\b|\bread the (?:manual|docs|documentation|instructions)\b|\bbefore asking\b"
     r"|\byou (?:really |seriously )?(?:don't|do not|didn't|did not) (?:even )?know (?:that|this)\b"
     r"|\b(?:it|this)(?:'s| is) not (?:that|so) (?:hard|difficult|complicated)\b|\bhow hard can it be\b"
     r"|\b(?:explain|say) it (?:slowly|again slowly|simply enough)\b|\bso (?:even )?you can (?:follow|understand|keep up)\b"
     r"|\bdumb (?:it|this) down\b|\bhalf a brain\b|\bas (?:anyone|everyone|everybody) (?:knows|can see)\b"
     r"|\byou clearly\b|\bclearly (?:haven't|didn't|don't)\b|\bare you even\b|\b(?:pay|paying) attention\b"
     r"|\bi already (?:answered|told you|explained)\b|\bfor the (?:second|third|fourth|fifth|last) time\b"
     r"|\bnext time,? (?:look|try|read|think|use|google)\b", 1.0),
    (r"\bnobody cares\b|\bno one cares\b|\byour excuses\b|\b(?:stop|quit) (?:whining|complaining|moaning)\b"
     r"|\bgood grief\b|\bsigh\b|\bugh\b|\bgive me a break\b", 1.0),
]
_COURTESY_RE = [re.compile(p) for p in _COURTESY]
_RUDE_RE = [(re.compile(p), w) for p, w in _RUDE]
SHOUT_WEIGHT = 0.8
# Shouting is a run of 3+ capitalised words that includes an ordinary word, which tells
# it apart from runs of acronyms ("HTTP GET API").
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z']+(?:[\s,!?.]+[A-Z][A-Z']+\b){2,}")
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)  # code may use capitals legitimately
# "There's no such thing as a stupid question" is kind, not rude.
_NEGATED = re.compile(r"\b(?:no|not|never|isn't|aren't|nothing|without)\b(?:\s+[\w']+){0,4}\s*$")
_PLAIN_WORDS = frozenset(
    "THE YOU YOUR AND IS ARE NOT TO IT THIS THAT WHAT DO DON'T CAN'T OF FOR CAN JUST STOP READ ALREADY "
    "NEVER ALWAYS WHY HOW ME MY NO YES NOW LISTEN AGAIN TOLD SAID".split()
)


def _shouting(text: str) -> list[str]:
    runs = []
    for m in _CAPS_RUN.finditer(_CODE.sub(" ", text)):
        words = set(re.findall(r"[A-Z']+", m.group(0)))
        if words & _PLAIN_WORDS:
            runs.append(m.group(0).strip())
    return runs


_STUFFING_SHARE = 0.3  # courtesy markers making up this share of the words is stuffing, not courtesy
_KINDLY = re.compile(r"\bkindly\b|\bthanks? ?(?:you)?\b|\bplease\b|\bi appreciate (?:it|you)\b|\bso much\b")


def stuffed(low: str) -> bool:
    """A reply made mostly of courtesy markers ("please thank you kindly please ...") says nothing."""
    words = re.findall(r"[\w']+", low)
    marked = sum(len(m.group(0).split()) for m in _KINDLY.finditer(low))
    return bool(words) and marked >= 4 and marked / len(words) >= _STUFFING_SHARE


# A word or short phrase in quotes is mentioned, not used: 'In Italian, "please" is "per favore"' is
# neither courtesy nor stuffing. Longer quoted text is a drafted message (the reply the user asked for)
# and counts. Rudeness is read on the whole text: a quoted insult is still an insult produced.
_QUOTED = re.compile(r'["“«]([^"”»\n]{1,40})["”»]')
_MENTION_WORDS = 3


def without_mentions(low: str) -> str:
    """``low`` less its quoted words and short phrases (the words being talked about)."""
    return _QUOTED.sub(lambda m: " " if len(m.group(1).split()) <= _MENTION_WORDS else m.group(0), low)


def politeness_score(text: str) -> tuple[float, list[str], list[str]]:
    """(score in [0, 1], courtesy markers found, rude markers found) for ``text``.

    An empty reply scores 0 (nobody was helped, courteously or not); a reply stuffed with
    courtesy markers scores ``STUFFED`` (the markers earn nothing)."""
    low = text.replace("’", "'").lower()
    if not low.strip():
        return 0.0, [], ["empty reply"]
    used = without_mentions(low)
    if stuffed(used if re.search(r"\w", used) else low):  # a reply of quotes only is judged whole
        return STUFFED, [], ["courtesy markers stuffed in place of a reply"]
    courtesy = [m.group(0) for pat in _COURTESY_RE if (m := pat.search(used))]
    rude: list[str] = []
    penalty = 0.0
    for pat, weight in _RUDE_RE:
        found = {m.group(0) for m in pat.finditer(low) if not _NEGATED.search(low[max(0, m.start() - 40): m.start()])}
        rude.extend(sorted(found))
        penalty += weight * len(found)
    shouts = _shouting(text)
    rude.extend(s if len(s) <= 25 else s[:24] + "…" for s in shouts)
    penalty += SHOUT_WEIGHT * len(shouts)
    raised = NEUTRAL + COURTESY_GAIN * (1 - math.exp(-len(courtesy) / 1.5))
    return clamp01(raised * math.exp(-penalty)), courtesy, rude


class PolitenessParams(Params):
    min_score: float = Field(0.5, ge=0.0, le=1.0)


def _list(items: list[str]) -> str:
    return ", ".join(repr(i) for i in items[:3]) + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")


@scorer("politeness", params=PolitenessParams, metrics=())
def politeness(inp: ScoreInput, p: PolitenessParams) -> Score:
    """Courtesy score of the output (neutral text ≈ 0.7); passes at ``min_score`` or above."""
    value, courtesy, rude = politeness_score(inp.output or "")
    if rude:
        why = f"rude: {_list(rude)}"
    elif courtesy:
        why = f"courteous: {_list(courtesy)}"
    else:
        why = "neutral (no courtesy or rudeness markers)"
    passed = value >= p.min_score
    verdict = "" if passed else f"; below min_score {p.min_score:g}"
    return Score(value, passed, f"politeness {value:.2f}, {why}{verdict}")
