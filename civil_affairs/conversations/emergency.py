"""Checking the NLU model's most consequential guesses against the words themselves.

Emergencies: someone in danger right now.
The NLU model's ``emergency`` intent is checked against these patterns before the bot treats a
message as an emergency, because a false alarm ("我爷爷走了半年了…") answers a grieving resident
with police numbers instead of their question. Unambiguous self-harm words always count, whatever
the intent. The patterns only confirm: when the model hears danger that they miss and the FAQ cannot
answer the message either, the bot still treats it as an emergency (actions/emergency.py), because
a missed emergency costs more than a false alarm.

The choice of hotline reply lives here too (its words are in ``texts.py``), so that the action
server (``actions/emergency.py``) and the conversation service (which answers danger words itself
while staff hold a conversation, and when Rasa is down) send the same words.
"""

from __future__ import annotations

import re

from civil_affairs.conversations import texts
from civil_affairs.text import fold_dialect, normalize

SELF_HARM_RE = re.compile(
    r"自杀|轻生|不想活|活不下去|撑不下去|跳楼|跳河|跳江|跳下去|寻死|想死|割腕|割脉|喝农药|吃安眠药|安眠药|结束生命|了结自己|"
    r"活[着著]没(有)?意思|活够了|死了算了|一死了之|不如死了|自尽|上吊|烧炭|卧轨|想不开|"
    r"药(都|已经)?(准备|买|攒)好了|(准备|买|攒)好了?(农)?药|活腻了|不活了|寻短见|服毒|喝(了)?敌敌畏|喝(了)?百草枯|"
    r"死了干净|了此残生"
)
# Words that mean self-harm in a message the model also reads as an emergency, but have everyday
# senses too ("离了婚一了百了", "喝药" for medicine, "想解脱" from a marriage): they never raise an
# alarm alone (``looks_urgent`` leaves them out), but they confirm the model's "emergency", and
# then the reply is the self-harm one (12356).
SELF_HARM_HINT_RE = re.compile(
    r"一了百了|解脱|不想(再)?拖累|拖累(儿女|子女|孩子|家里|家人|你们)|没(有)?盼头|活受罪|熬不下去|撑不住了|"
    r"不想醒|走了算了|先走一步|喝药|跳水库|跳塘|跳井|没意思了|活[着著](还)?有什么(意思|用)|去死"
)
# No food at all today: urgent temporary assistance (急难型临时救助) is the help to name.
HUNGER_RE = re.compile(
    r"断粮|断顿|没饭吃|揭不开锅|米都(没|冇)|一粒米|饿了好几天|饿(了)?(一天|两天|三天|一整天|到现在|得不行|得发慌)"
)
DANGER_RE = re.compile(
    r"救命|危险|有危险|被打|打我|打她|打他|往死里打|家暴|家庭暴力|虐待|关在|锁在|不给饭|不给吃|走失|迷路|走丢|"
    r"找不到(爸妈|家|父母|家人)|一个人在哭|弃婴|遗弃|扔在|丢在|冻|冷得|晕倒|昏迷|倒在|着火|失火|起火|受伤|流血|快不行|"
    r"流浪|乞讨|露宿|桥洞|无家可归|没地方住|不省人事|要出人命|报警|"
    r"砍死|砍人|拿刀|持刀|拿[着著]刀|提[着著]刀|要杀|杀了我|杀人|弄死|掐死|掐我|捅人|殴打|施暴|拳打脚踢|"
    r"(用|拿).{0,3}(皮带|棍子|棒子|衣架).{0,2}(抽|打)|抽打|躲在.{0,4}(厕所|房间|屋里|柜子)|哭喊|惨叫|"
    # Someone taken ill or hurt right now.
    r"叫不醒|喊不醒|醒不过来|没(有)?(了)?呼吸|没气了|不会动了|倒下去|倒地|摔倒.{0,6}(起不来|爬不起来|动不了|流血)|抽搐|口吐白沫|"
    r"吐血|大出血|血流不止|"
    r"噎住|喘不上气|喘不过气|透不过气|中毒|煤气(味|泄漏|漏了)|触电|溺水|掉(进|到|下).{0,3}(河|水|塘|井|水库)|心脏病(犯|发)"
)
STREET_RE = re.compile(r"流浪|乞讨|冻|露宿|桥洞|街上|路边|无家可归|没地方住|回不了家")


def hotline_reply(text: str, *, hotline: str, bureau: str) -> str:
    """The emergency hotlines that fit ``text`` (12356 for self-harm, the rescue station for street cases)."""
    reply = texts.SELF_HARM_REPLY if sounds_suicidal(text) else texts.GENERAL_REPLY
    if is_street_case(text):
        reply += texts.STREET_LINE
    if is_hunger_case(text):
        reply += texts.HUNGER_LINE.format(bureau=bureau)
    return reply + texts.HOTLINE_LINE.format(hotline=hotline, bureau=bureau)


def is_self_harm(text: str) -> bool:
    """Words of suicide or self-harm (traditional characters and full-width forms folded first)."""
    return bool(SELF_HARM_RE.search(normalize(text)))


def sounds_suicidal(text: str) -> bool:
    """Self-harm words, the unambiguous ones or those with everyday senses too: the reply to a
    message already taken for an emergency is the self-harm one (12356)."""
    folded = normalize(text)
    return bool(SELF_HARM_RE.search(folded) or SELF_HARM_HINT_RE.search(folded))


def looks_urgent(text: str) -> bool:
    """Someone seems to be in danger now (self-harm, violence, a lost child, a person in the cold,
    someone collapsed, no food today…)."""
    folded = normalize(text)
    return bool(SELF_HARM_RE.search(folded) or DANGER_RE.search(folded) or HUNGER_RE.search(folded))


def is_hunger_case(text: str) -> bool:
    """No food at home today: urgent temporary assistance (急难型临时救助) is the right help."""
    return bool(HUNGER_RE.search(normalize(text)))


def is_street_case(text: str) -> bool:
    """A homeless or stranded person: the rescue station is the right help."""
    return bool(STREET_RE.search(normalize(text)))


# Anger at the service, or asking for a person; a policy question alone is not one. Officials
# (``OFFICIAL_RE``) count apart, because a question often only quotes one.
COMPLAINT_RE = re.compile(
    r"投诉|举报|态度|不满|气死|生气|火大|骂|凭什么|刁难|不作为|推诿|踢皮球|乱收费|差评|欺负|太慢|拖了|没人管|没人理|"
    r"答非所问|看不懂|听不懂|不像话|太差|垃圾|真人|人工|打不通|弄丢|丢了我的|不给办|派(个)?人|来个人|"
    # Complaints about a decision or a case that residents word without anger (seen in the NLU's
    # complain examples): asking for an account, a check, or reporting wrongdoing.
    r"反映|不公平|不公正|个说法|个交代|个准话|暗箱|冒领|骗保|信访|纪检|糊弄|没下文|没有下文|没有人理|没人回|石沉大海|推来推去"
)


# An official named in a message is a complaint about them ("村干部优亲厚友", "民政所的干部天天不在岗")
# or a wish to see one ("我要找你们局长"), unless the message only quotes one ("村干部说我不符合低保条件，
# 是真的吗", "工作人员讲还要带户口本") or names a kind of person ("退休干部去世了抚恤金谁发").
OFFICIAL_RE = re.compile(r"局长|领导|负责人|干部|工作人员")
# What the official said, just after the mention ("说", "跟我讲", "告诉我", "的答复是"); not "说了算",
# "说话不算数" or "说不出理由", which complain about them.
_QUOTED_RE = re.compile(
    r"(们)?(都|也|就|又|还)?(跟我|对我|和我|给我|同我)?(说(?!了算|话|不出|不清)|讲(?!话)|告诉|答复|回复|回答|解释|通知|讲过|说过|的(意思|答复|回复|说法))"
)
# A kind of person, not an official of the case: 退休干部, 离休干部, 机关干部, 干部职工, 干部身份.
_KIND_BEFORE_RE = re.compile(r"(退休|离休|离退休|机关|事业单位|军队|部队|转业|复员|在职|老)$")
_KIND_AFTER_RE = re.compile(r"(职工|身份|编制|待遇)")


def complains_of_official(folded: str) -> bool:
    """An official named as the one complained of or wanted, not only quoted or named as a kind of person."""
    for mention in OFFICIAL_RE.finditer(folded):
        before, after = folded[: mention.start()], folded[mention.end() :]
        if _QUOTED_RE.match(after) or _KIND_AFTER_RE.match(after):
            continue
        if mention.group(0) == "干部" and _KIND_BEFORE_RE.search(before):
            continue
        return True
    return False


def sounds_like_complaint(text: str) -> bool:
    """Words of a complaint or of wanting a person, as opposed to a plain policy question (dialect
    folded first: 凭啥 is 凭什么, 冇人管 is 没人管)."""
    folded = fold_dialect(text)
    return bool(COMPLAINT_RE.search(folded)) or complains_of_official(folded)


# How or where to report, complain or appeal ("怎么举报", "向哪里反映", "去哪申诉", "投诉电话是多少", "能举报吗"):
# a question about the procedure, which the FAQ answers, as opposed to the complaint itself. Read
# after ``fold_dialect`` (咋→怎么, 啥/么子→什么), so dialect and traditional forms count too.
_REPORT_RE = re.compile(r"举报|投诉|反映|申诉|复核|复议|异议|告状|揭发|检举|讨说法|讨个说法")
_HOW_RE = re.compile(
    r"怎么|怎样|如何|哪里|哪儿|哪个|哪些|哪家|向哪|去哪|到哪|上哪|找谁|向谁|跟谁|给谁|何处|"
    r"什么(电话|号码|部门|单位|地方|渠道|途径|办法|程序|手续)|电话是多少|电话多少|渠道|途径|流程|程序|步骤|方式|"
    r"有没有.{0,2}(地方|部门|单位|渠道|电话)"
)
_CHANNEL_RE = re.compile(r"电话|热线|邮箱|地址|渠道|方式|途径|流程|程序")  # 投诉电话, 举报渠道
# "能举报吗", "可以去区民政局投诉不": whether one can report, which the same FAQ entries answer.
_CAN_RE = re.compile(r"能|可以|能否")
_YES_NO_RE = re.compile(r"吗|么|不$|不 ")
HOW_TO_REPORT_RE = re.compile(
    rf"({_HOW_RE.pattern}).{{0,12}}({_REPORT_RE.pattern})|({_REPORT_RE.pattern}).{{0,12}}({_HOW_RE.pattern})"
    rf"|({_REPORT_RE.pattern})({_CHANNEL_RE.pattern})"
    rf"|({_CAN_RE.pattern}).{{0,8}}({_REPORT_RE.pattern}).{{0,6}}({_YES_NO_RE.pattern})"
)
# What keeps such a question with staff: anger (a rhetorical 怎么回事 is no how-to question), a case
# already reported and stuck (反映了几次没人管), or a named person (某某, 张某, 李主任, 姓王的).
GRIEVANCE_RE = re.compile(
    r"气死|生气|火大|骂|凭什么|垃圾|不像话|太差|差劲|受够|忍无可忍|欺人太甚|欺负|刁难|太过分|岂有此理|"
    r"什么玩意|搞什么|怎么回事|怎么搞的|怎么办事|怎么当的|怎么做事|有没有王法|坑人|不作为|推诿|踢皮球|糊弄|"
    r"不管|没人管|没人理|没下文|石沉大海|(举报|投诉|反映|申诉)(了|过)|"
    r"某某|[\u4e00-\u9fff]某(?![些种个天年月日地处方位家件项])|姓[\u4e00-\u9fff]{1,2}的|"
    r"[王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余杜叶程魏苏吕丁沈姚卢汪范傅钟]"
    r"(主任|书记|村长|支书|科长|局长|乡长|镇长|所长|站长|会计|组长|队长|干部|经理|馆长|院长)"
)


def asks_how_to_report(text: str) -> bool:
    """A question about how or where to report, complain or appeal, without anger, a named person or
    words of danger: the FAQ can answer it, with a person on offer."""
    folded = fold_dialect(text)
    return bool(HOW_TO_REPORT_RE.search(folded)) and not GRIEVANCE_RE.search(folded) and not looks_urgent(text)
