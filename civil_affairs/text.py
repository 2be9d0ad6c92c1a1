"""Chinese text handling shared by FAQ search and the actions: normalising, tokenising, synonyms.

jieba is loaded with the civil-affairs user dictionary from ``nlu/jieba/userdict.txt`` (the same file the
Rasa pipeline uses), and the entity synonyms of ``nlu/synonyms.yml`` map residents' words and typos
(底保, 五保, 结昏证 …) to one canonical term, so retrieval and NLU agree on vocabulary.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import jieba
import opencc
import yaml

from civil_affairs.config import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "nlu"
USER_DICT = NLU_DIR / "jieba" / "userdict.txt"  # a folder: Rasa loads every file in it
SYNONYM_FILE = NLU_DIR / "synonyms.yml"

# Words that carry no topic in residents' questions; question words are kept out of the index too.
STOPWORDS = frozenset(
    """
    的 了 吗 嘛 呢 吧 啊 呀 哦 哈 么 呗 啦 咯 喔 噢 哇 嗯 额 呃
    就 都 也 还 又 和 跟 与 及 或 在 是 有 没 没有 不 要 想 能 会
    可以 可不可以 能不能 是不是 有没有 我 我们 俺 俺们 咱 咱们 你 你们
    您 他 她 它 他们 这 那 这个 那个 这种 那种 这样 那样 一下 一个 个
    些 一些 什么 啥 咋 怎么 怎样 怎么样 如何 为什么 为啥 哪 哪里 哪儿
    哪个 多少 几 几多 么子 请问 请 问 问一下 想问 想问一下 知道 告诉 帮
    帮忙 麻烦 谢谢 你好 您好 好 对 给 让 被 把 从 到 去 来 上 下 里
    中 现在 今天 一直 已经 还是 但是 因为 所以 如果 然后 就是 应该 需要
    得 着 过 家 我家 屋里
    """.split()
)

_PUNCT_RE = re.compile(r"[\W_]+", re.UNICODE)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    """Traditional → simplified converter (residents from Hong Kong, Taiwan or abroad write 領證)."""
    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Simplified characters, full-width to half-width, lower case, no punctuation/emoji, single spaces."""
    text = unicodedata.normalize("NFKC", _to_simplified().convert(text)).lower()
    text = _PUNCT_RE.sub(" ", text)
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    """One jieba tokenizer with the civil-affairs dictionary, built on first use (not at import)."""
    with _lock:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        if USER_DICT.is_file():
            tokenizer.load_userdict(str(USER_DICT))
        for word in synonym_map():
            tokenizer.add_word(word, freq=2000)
        return tokenizer


@lru_cache(maxsize=1)
def synonym_map() -> dict[str, str]:
    """Variant → canonical term, from the NLU synonyms file (the single source of synonyms)."""
    mapping: dict[str, str] = {}
    if not SYNONYM_FILE.is_file():
        return mapping
    data = yaml.safe_load(SYNONYM_FILE.read_text(encoding="utf-8")) or {}
    for item in data.get("nlu", []):
        canonical = item.get("synonym")
        if not canonical:
            continue
        for line in str(item.get("examples", "")).splitlines():
            variant = line.strip().lstrip("-").strip()
            if variant and variant != canonical:
                mapping[normalize(variant).replace(" ", "")] = str(canonical)
    return mapping


def tokenize(text: str) -> list[str]:
    """Content words of ``text`` for search: jieba's search mode (离婚冷静期 also yields 离婚 and
    冷静期), each word followed by its canonical synonym (底保 → 底保, 低保) when it has one."""
    synonyms = synonym_map()
    tokens: list[str] = []
    for word in _tokenizer().lcut_for_search(normalize(text)):
        word = word.strip()
        if not word or word in STOPWORDS:
            continue
        tokens.append(word)
        canonical = synonyms.get(word)
        if canonical and canonical != word:
            tokens.append(canonical)
    return tokens


def content_words(text: str) -> list[str]:
    """The distinct content words of ``text`` as the resident wrote them (no search-mode parts)."""
    words = (w.strip() for w in _tokenizer().lcut(normalize(text)))
    return list(dict.fromkeys(w for w in words if w and w not in STOPWORDS))


def char_bigrams(text: str) -> list[str]:
    """Character bigrams of the Chinese runs in ``text``: they still match when jieba splits a typo."""
    grams: list[str] = []
    for run in re.findall(r"[\u4e00-\u9fff]+", normalize(text)):
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def has_meaningful_text(text: str) -> bool:
    """False for messages of only emoji, punctuation or spaces."""
    return bool(re.search(r"[\w\u4e00-\u9fff]", unicodedata.normalize("NFKC", text)))


# --- FAQ ranker helpers (dialect folding, question clauses, pinyin) ---------------------------------

# Dialect and colloquial words folded to the standard word the FAQ is written in, longest first, so
# "俺屋里咋个办" and "我家里怎么办" share features. Only unambiguous forms: 中 (= 行) is left alone
# because it also means "middle" in 中心/中学.
DIALECT_WORDS = {
    "俺们": "我们",
    "俺": "我",
    "咱们": "我们",
    "咱": "我",
    "咋个": "怎么",
    "咋样": "怎么样",
    "咋": "怎么",
    "啷个": "怎么",
    "啥子": "什么",
    "啥": "什么",
    "么子": "什么",
    "嘛子": "什么",
    "晓得": "知道",
    "冇得": "没有",
    "莫得": "没有",
    "没得": "没有",
    "冇": "没",
    "几多": "多少",
    "屋里": "家里",
    "屋头": "家里",
    "娃儿": "孩子",
    "娃娃": "孩子",
    "中不中": "行不行",
}
_DIALECT_RE = re.compile("|".join(sorted(map(re.escape, DIALECT_WORDS), key=len, reverse=True)))
_CLAUSE_SPLIT_RE = re.compile(r"[。！？!?；;，,、\n\r\t…~～ ]+")
_QUESTION_RE = re.compile(
    r"吗|么$|嘛$|不$|没$|呢|怎么|咋|能不能|可不可以|是不是|有没有|要不要|会不会|够不够|行不行|"
    r"多少|几|哪|啥|什么|么子|如何|是否|怎样|可以.{0,6}[吗么]|谁|多久|多长|[?？]"
)
_GREETING_RE = re.compile(r"^(你好|您好|领导|老板|同志|工作人员|请问|打扰|麻烦|谢谢|辛苦|在吗|在不在|hello|hi)+")
GREETING_MAX_CHARS = 8


def fold_dialect(text: str) -> str:
    """``normalize`` plus dialect words folded to standard ones (俺→我, 咋→怎么, 晓得→知道)."""
    return _DIALECT_RE.sub(lambda m: DIALECT_WORDS[m.group(0)], normalize(text))


def clauses(text: str) -> list[str]:
    """The clauses of a message (split at punctuation and the spaces residents use as commas),
    without short greetings and thanks, which carry no topic."""
    parts = [p for p in _CLAUSE_SPLIT_RE.split(_to_simplified().convert(text)) if p.strip()]
    kept = [
        p
        for p in parts
        if not (
            len(p) <= GREETING_MAX_CHARS and _GREETING_RE.match(p) and not _QUESTION_RE.search(_GREETING_RE.sub("", p))
        )
    ]
    return kept or parts


def question_clauses(text: str) -> list[str]:
    """The clauses that ask something (吗/怎么/能不能/多少/哪/啥/？…): in a long story, the question
    usually sits in one or two of them, while the rest is background."""
    return [c for c in clauses(text) if _QUESTION_RE.search(c)]


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin of the Chinese characters of ``text``: homophone typos (底保/低保, 结昏/结婚)
    have the same syllables as the word meant."""
    from pypinyin import lazy_pinyin

    chinese = "".join(re.findall(r"[\u4e00-\u9fff]+", fold_dialect(text)))
    return lazy_pinyin(chinese) if chinese else []
