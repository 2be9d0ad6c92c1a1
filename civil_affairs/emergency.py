"""Recognising messages about someone in danger right now.

The NLU model's ``emergency`` intent is checked against these patterns before the bot treats a
message as an emergency, because a false alarm ("我爷爷走了半年了…") answers a grieving resident
with police numbers instead of their question. Self-harm words always count, whatever the intent.
"""

from __future__ import annotations

import re

SELF_HARM_RE = re.compile(r"自杀|轻生|不想活|活不下去|撑不下去|跳楼|跳河|跳下去|寻死|想死|割腕|喝农药|吃安眠药|结束生命|了结自己")
DANGER_RE = re.compile(
    r"救命|危险|有危险|被打|打我|打她|打他|往死里打|家暴|虐待|关在|锁在|不给饭|不给吃|饿了好几天|走失|迷路|走丢|"
    r"找不到(爸妈|家|父母|家人)|一个人在哭|弃婴|遗弃|扔在|丢在|冻|冷得|晕倒|昏迷|倒在|着火|失火|起火|受伤|流血|快不行|"
    r"流浪|乞讨|露宿|桥洞|无家可归|没地方住|不省人事|要出人命|报警"
)
STREET_RE = re.compile(r"流浪|乞讨|冻|露宿|桥洞|街上|路边|无家可归|没地方住|回不了家")


def is_self_harm(text: str) -> bool:
    """Words of suicide or self-harm."""
    return bool(SELF_HARM_RE.search(text))


def looks_urgent(text: str) -> bool:
    """Someone seems to be in danger now (self-harm, violence, a lost child, a person in the cold…)."""
    return is_self_harm(text) or bool(DANGER_RE.search(text))


def is_street_case(text: str) -> bool:
    """A homeless or stranded person: the rescue station is the right help."""
    return bool(STREET_RE.search(text))
