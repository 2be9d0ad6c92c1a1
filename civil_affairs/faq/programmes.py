"""A message that names a programme and asks nothing about it ("离婚", "高龄津贴", "想问下特困").

Why: the ranker always finds a best entry, and for a bare programme name it is one of that
programme's entries with confidence (离婚 → what to bring for a divorce at P 0.93), a guess at what
the resident wants to know. Such a message is asked back instead: "关于离婚，您想了解哪方面？" with
the programme's main questions as buttons (``ProgrammeNames.ask_back``).

The rules read only the active entries' questions, so a programme staff create in the console
(two entries ``library-bus-…`` whose questions name 流动图书车) is recognised the same way:

- a programme is the key up to its first hyphen (``civil_affairs.faq.facets.programme_of``) and
  counts only with two or more active entries, except in a category that is one programme
  (``WHOLE_CATEGORIES``): every funeral entry is of the programme ``funeral``, whatever its key. The
  funeral keys name the step (``death-certificate``, ``cremation-zone``, ``ashes-placement``,
  ``public-cemetery-fees`` …), so no prefix gathered the field a resident means by 殡葬, 丧事 or
  公墓, and no word named any of the small groups;
- its **words** are the words (jieba, with the NLU synonyms) of at least two of its questions (a
  message's 后事, 办丧事 or 白事 is read as the questions' 丧事 first, ``NAMES_OF_PROGRAMMES``); a
  word **names** it when most of the questions that contain the word are the programme's
  (低保 names ``dibao``; 申请 and 救助 are spread over many programmes and name none);
- a message is **programme-only** when no aspect pattern (``ASPECT_PATTERNS``) and no question word
  (怎么, 多少, 吗, 哪 …) occurs in it, and what remains without filler (想问下, 咨询一下, 的事 …)
  are words that name one programme. "老人补贴" (补贴 narrows it to the subsidies), "低保户看病",
  "补领结婚证" or a long story are not;
- the programme's entries offered are those the ranker puts within ``PROGRAMME_WINDOW`` of its best
  one, the general questions first: one per aspect in the order residents usually need them
  (``JOURNEY``: the whole sequence (``SEQUENCE``), who qualifies, how to apply, what to bring, how
  much …), of each aspect the question with the smallest share of words that are not its
  programme's (特困人员怎么认定？谁能申请？ before 特困供养的孩子满16岁、18岁以后还能领吗？), then the
  rest by rank. For a bare name the ranker's order among a programme's entries is mostly noise
  (低保的事 put the fraud penalty first).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from civil_affairs.faq.facets import ASPECT_PATTERNS, aspect_of, programme_of
from civil_affairs.text import content_words, fold_dialect, synonym_map, tokenize

# A question about the programme, not only its name: a message with any of these is left to the ranker.
ASKING = re.compile(
    r"吗|么|嘛|呢|怎|咋|啥|什么|多少|几|哪|谁|如何|是否|为什么|为啥|能不能|可不可以|是不是|有没有|"
    r"要不要|会不会|行不行|可以|能否|多久|多长|不$|没$"
)
# Words around a bare name that ask nothing ("想问下特困", "低保的事", "殡葬补贴咨询一下").
FILLER = frozenset(
    """
    咨询 了解 关于 有关 相关 事 事情 事儿 问题 政策 方面 情况 业务 这块 问问 问下 想问问 请教 打听
    介绍 说说 讲讲 一下 下 看看
    """.split()
)
PROGRAMME_OFFERED = 4  # entries offered for a programme-only message
PROGRAMME_WINDOW = 1.5  # margin below the programme's best entry still offered (高龄津贴: not 适老化改造)
JOURNEY = ("steps", "eligibility", "apply", "documents", "amount", "time", "payment", "where", "report")
# A question about the whole sequence (老人在家里去世了，要按什么顺序办手续？), which no aspect pattern
# takes: the "steps" of the question back only. Not one of the ranker's aspects (ASPECT_PATTERNS):
# as one, it cost 2 more confident-wrong answers in `make eval-faq` (1.76% -> 1.79%).
SEQUENCE = re.compile(r"什么顺序|哪些手续|什么手续|办哪些|先做什么|第一步|流程|步骤")
# Categories whose entries are one programme for the question back, whatever their keys.
WHOLE_CATEGORIES = frozenset({"funeral"})
# Residents' names for a programme that no question uses, read as the questions' word, for the
# question back only. Not NLU synonyms (nlu/synonyms.yml), which the ranker reads too: there
# 后事 → 丧事 pulled "老人的后事" to the dibao/tekun funeral entry (answered at P 0.82, offered before).
NAMES_OF_PROGRAMMES = {"办丧事": "丧事", "办后事": "丧事", "后事": "丧事", "白事": "丧事"}
_NAMES_RE = re.compile("|".join(sorted(NAMES_OF_PROGRAMMES, key=len, reverse=True)))


def _read(text: str) -> str:
    """The text as the rules read it: dialect folded, residents' names of a programme as its questions'."""
    return _NAMES_RE.sub(lambda m: NAMES_OF_PROGRAMMES[m.group(0)], fold_dialect(text))


def programme_for_asking(key: str, category: str | None = None) -> str:
    """The programme an entry belongs to for the question back: its category when that category is
    one programme (``WHOLE_CATEGORIES``), else its key's (``programme_of``)."""
    return category if category in WHOLE_CATEGORIES else programme_of(key)


@dataclass(frozen=True)
class ProgrammeMention:
    """The programme a message names (``dibao``) and its name as the resident wrote it, synonyms
    folded (底保 → 低保), for the question back."""

    programme: str
    name: str


@dataclass(frozen=True)
class ProgrammeNames:
    """Each programme's words and the words that name it, and each entry's aspect, read from the
    active entries' questions."""

    words: dict[str, frozenset[str]]
    names: dict[str, str]
    aspects: dict[str, str | None]
    specific: dict[str, float]  # share of an entry's question words that are not its programme's
    programmes: dict[str, str]  # key -> programme (``programme_for_asking``)

    @classmethod
    def of(cls, entries: Iterable[tuple[str, str] | tuple[str, str, str]]) -> ProgrammeNames:
        """From the (key, question) or (key, question, category) of the active entries."""
        per_programme: dict[str, Counter[str]] = defaultdict(Counter)
        sizes: Counter[str] = Counter()
        overall: Counter[str] = Counter()
        aspects: dict[str, str | None] = {}
        found: dict[str, set[str]] = {}
        programmes: dict[str, str] = {}
        for key, question, *category in entries:
            aspects[key] = aspect_of(question) or ("steps" if SEQUENCE.search(question) else None)
            programme = programmes[key] = programme_for_asking(key, category[0] if category else None)
            found[key] = set(tokenize(question))
            per_programme[programme].update(found[key])
            overall.update(found[key])
            sizes[programme] += 1
        words = {
            p: frozenset(w for w, n in counts.items() if n >= 2) for p, counts in per_programme.items() if sizes[p] >= 2
        }
        names = {
            w: p
            for p, counts in per_programme.items()
            if p in words
            for w, n in counts.items()
            if n >= 2 and 2 * n > overall[w]
        }
        specific = {k: len(ws - words.get(programmes[k], frozenset())) / max(len(ws), 1) for k, ws in found.items()}
        return cls(words, names, aspects, specific, programmes)

    def named(self, text: str) -> ProgrammeMention | None:
        """The programme ``text`` names without asking anything about it, or None."""
        folded = _read(text)
        compact = folded.replace(" ", "")
        if not compact or ASKING.search(compact) or any(p.search(compact) for _, p in ASPECT_PATTERNS):
            return None
        synonyms = synonym_map()
        said = [w for w in content_words(folded) if w not in FILLER]
        forms = [(w, synonyms.get(w, w)) for w in said]
        named = {self.names.get(w) or self.names.get(c) for w, c in forms} - {None}
        if len(named) != 1:
            return None
        programme = str(named.pop())
        # Every word left must name it: a word the programme merely uses narrows the question
        # ("老人补贴": the subsidies, not the nursing home) and is left to the ranker.
        if not all(programme in (self.names.get(w), self.names.get(c)) for w, c in forms):
            return None
        vocabulary = self.words[programme]
        # Shown in the question back: the naming words, as the resident wrote them when the
        # questions use that form (协议离婚, not 离婚登记), else the synonym they use (底保 → 低保).
        shown = [w if w in vocabulary else c for w, c in forms if self.names.get(w, self.names.get(c)) == programme]
        return ProgrammeMention(programme, "".join(dict.fromkeys(shown)))

    def mentioned(self, text: str) -> frozenset[str]:
        """The programmes ``text`` names anywhere, asking or not ("俺耳朵聋了 能吃低保不" names dibao)."""
        synonyms = synonym_map()
        words = content_words(_read(text))
        named = {p for w in words if (p := self.names.get(w) or self.names.get(synonyms.get(w, w)))}
        return frozenset(k for p in named for k in self._key_programmes.get(p, (p,)))

    @cached_property
    def _key_programmes(self) -> dict[str, frozenset[str]]:
        """Each programme as the key programmes (``programme_of``) that ``decide`` compares with the
        best entry's: a whole category (殡葬 names ``funeral``) stands for every key programme of
        its entries. Built once per store version, not per message."""
        found: dict[str, set[str]] = defaultdict(set)
        for key, programme in self.programmes.items():
            found[programme].update((programme, programme_of(key)))
        return {p: frozenset(ks) for p, ks in found.items()}

    def offer(self, ranked: Sequence[tuple[str, float]], programme: str, limit: int = PROGRAMME_OFFERED) -> list[str]:
        """The programme's entries to offer, from ``ranked`` (key, margin; best first): those within
        ``PROGRAMME_WINDOW`` of its best one, the most general of each ``JOURNEY`` aspect in that
        order, then the others by rank."""
        mine = [(k, s) for k, s in ranked if self.programmes.get(k) == programme]
        close = [k for k, s in mine if s >= mine[0][1] - PROGRAMME_WINDOW] if mine else []
        general = [
            min((k for k in close if self.aspects[k] == aspect), key=lambda k: self.specific[k])
            for aspect in JOURNEY
            if any(self.aspects[k] == aspect for k in close)
        ]
        return (general + [k for k in close if k not in general])[:limit]

    def ask_back(self, text: str, ranked: Sequence[tuple[str, float]]) -> tuple[ProgrammeMention, list[str]] | None:
        """The programme ``text`` only names and its entries to offer, or None (no such programme,
        or fewer than two of its entries to offer)."""
        mention = self.named(text)
        offered = self.offer(ranked, mention.programme) if mention else []
        return (mention, offered) if mention and len(offered) >= 2 else None
