"""An entry's programme (低保, 特困, 结婚, 离婚 …) and aspect (conditions, documents, time …), read from
the entry itself so entries written by staff get them too.

Why: "离婚要带户口本吗" shares its words with every entry that names 户口本; "什么条件能申请" names no
programme at all. A classifier per entry learns only from that entry's phrasings, while a programme
classifier learns "this is about divorce" from all divorce entries and an aspect classifier learns
"this asks what to bring" from every documents entry. The ranker adds both scores to each entry's
margin (``civil_affairs.faq.ranker``).

The rules, so they stay predictable for staff:

- **programme**: the key up to its first hyphen (``dibao-documents`` → ``dibao``,
  ``divorce-cooling-off`` → ``divorce``, ``temp-aid-types`` → ``temp``). Only a programme shared by
  two or more active entries gives a score (a key of its own would count the entry twice).
- **aspect**: the first clause of the entry's question that matches one of ``ASPECT_PATTERNS``, in
  their order (申请低保要准备哪些材料？ → ``documents``); an entry whose question matches none has
  no aspect and gets no aspect score.
"""

from __future__ import annotations

import re
from functools import lru_cache

from civil_affairs.text import clauses

# (aspect, what a question of that aspect says); earlier patterns win within a clause.
ASPECT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("report", r"举报|投诉|反映|维权|不服"),
        ("documents", r"带什么|材料|几张照片|要带|丢了|过期"),
        ("time", r"多久|多长时间|几天|时间要求|几号|冷静期|怎么算"),
        ("payment", r"打到哪|怎么领|到账"),
        ("amount", r"多少钱|发多少|给多少|每月多少|收费|要钱|交钱|标准"),
        ("where", r"户口不在|在外地|人在外地|外地人|居住地|换一个地方|在哪里登记"),
        ("apply", r"怎么申请|哪里申请|哪里办|怎么办理|怎么审批|申请领取|怎么补领|预约|去哪里开|怎么注销"),
        ("eligibility", r"条件|谁能|什么样的|能申请|能领|能收养|能结婚|不能办|哪些人|怎么认定|能住|能进|满几岁"),
    )
)


def programme_of(key: str) -> str:
    """The programme an entry belongs to: its key up to the first hyphen."""
    return key.split("-", 1)[0]


@lru_cache(maxsize=4096)
def aspect_of(question: str) -> str | None:
    """What the entry's question asks about (``ASPECT_PATTERNS``), or None when no pattern matches."""
    for clause in clauses(question) or [question]:
        for name, pattern in ASPECT_PATTERNS:
            if pattern.search(clause):
                return name
    return None
