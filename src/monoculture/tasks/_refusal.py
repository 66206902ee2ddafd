"""Refusals: an answer the model declined to give, told apart from one the parser could not read.

An aligned model asked for "the colour you associate with wisdom" may answer "As an AI, I don't have personal
associations"; that is a behaviour to count, not a formatting failure. Only invalid answers are classified:
a refusal that still names a valid answer ("I can't be sure, but #ffd700") is a valid answer.

The phrases are the stock openings of refusals and disclaimers of English chat models, matched as the
string-match classifiers of refusal benchmarks do. The list errs on the side of precision: a refusal it
misses is still counted, as a parse failure.
"""

from __future__ import annotations

import re

_REFUSAL = re.compile(
    r"""
    \bas\ an?\ (?:ai|a\.i\.|artificial\ intelligence|(?:large\ )?language\ model|llm|assistant|chatbot)\b
    | \bi(?:'m|\ am)\ (?:just\ |only\ )?(?:an?\ )?(?:ai|language\ model|assistant|chatbot)\b
    | \bi(?:'m|\ am)\ (?:sorry|afraid|unable|not\ able)\b
    | \b(?:sorry|apologi[sz]e)\b.{0,40}\b(?:can(?:'|no)?t|cannot|unable|not\ able)\b
    | \bi\ (?:can(?:'|no)?t|cannot|won't|will\ not|must\ decline|decline|refuse)\b
      .{0,30}\b(?:provide|answer|help|assist|comply|choose|pick|say|determine|give|associate|guess|fulfil|do\ that)
    | \bi\ (?:don't|do\ not)\ (?:have|possess)\ (?:personal\ |any\ )?
      (?:preferences|opinions|feelings|associations|experiences|the\ ability|a\ favou?rite|beliefs|senses|eyes)
    | \b(?:not\ (?:able|appropriate)|inappropriate)\ (?:for\ me\ )?to\ (?:answer|say|choose|associate|guess)
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def looks_like_refusal(text: str) -> bool:
    """Whether the output declines to answer (see the module docstring for what counts)."""
    return _REFUSAL.search(text) is not None
