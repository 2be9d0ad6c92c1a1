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
from civil_affairs.text import fold_dialect, normalize, question_clauses

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
    r"反映|不公平|不公正|个说法|个交代|个准话|暗箱|冒领|骗保|信访|纪检|糊弄|没下文|没有下文|没有人理|没人回|石沉大海|推来推去|"
    # Letters to the bureau's message board: a long account of unfair treatment with neither 投诉 nor
    # 举报 (nlu/complaint_letters.yml). Read together with the model's `complain`: a question that
    # only tells of hardship has none of these words, and a quoted official is not one of them.
    # Unfair selection, favouritism.
    r"不公(?!开|示|布)|优亲厚友|关系户|人情保|关系保|走后门|开后门|有关系的|沾亲带故|走得近|猫腻|黑幕|有鬼|搞鬼|"
    r"(一个人|自己|他们|他|干部)说了算|"
    # Stopped or refused without a word, nobody answering, passed from one office to the next.
    r"连个理由|一句解释|一个解释|没有任何(解释|说法|理由|答复|回复)|不给理由|不说理由|没给理由|说停就停|"
    r"说取消就取消|无缘无故|没(有)?人(说|讲|告诉|解释)(一声|为什么|原因|理由)|"
    r"(?<!有)没有人管|到底有没有人管|没人接|没有人接|没有人回|没人处理|没有人处理|没人搭理|不理人|不理我|爱答不理|爱理不理|不搭理|"
    r"杳无音信|不闻不问|不管不问|没人负责|管事的|没人办事|你们(到底)?管不管|到底管不管|推三阻四|互相推|推给|"
    r"推脱|互相扯皮|来回扯皮|踢来踢去|一问三不知|敷衍|应付我|应付了事|"
    # Kept waiting, blocked, sent back and forth.
    r"卡着不(办|批|报|放|给我)|卡在(村|镇|乡)|压着|压在.{0,2}(村|镇|乡|手里)|拖着不(办|批|报|给|发|管|理)|拖拖拉拉|一拖再拖|故意拖|"
    r"不给批|不给报|不往上报|不上报|就是不办|不给我办|(都|也|还是)(没)?办不成|没办成|办不下来|趟.{0,4}(还是|都|也|还)(没(有)?(办|批|弄成|下来|结果)|办不|不给)|"
    r"跑断腿|折腾(死|人)|效率(太|真|这么)?(低|慢|差)|什么效率|这效率|"
    # Overcharging.
    r"乱收(了|我|俺)|多收了|多收我|坑人|坑钱|宰人|黑心|太黑|敲诈|强买强卖|捆绑|强制(收费|消费)|变相收费|逼(着|我|我们)买|"
    r"硬要.{0,4}买|不给票|不开票|漫天要价|狮子大开口|"
    # Rude staff.
    r"凶我|很凶|好凶|太凶|凶巴巴|吼|甩脸|脸色|不耐烦|冷嘲热讽|羞辱|嘲笑|瞧不起|大呼小叫|大吼大叫|难听|扔回来|"
    r"一肚子气|受(过)?(这个|这种)气|道歉|"
    # Money kept back, a rule applied wrongly, wanting a check.
    r"截留|克扣|扣了(我|我们|一半|老人)|被.{0,4}扣(了|走|掉|下)|扣下|私吞|吞了|侵占|贪污|贪了|被.{0,6}领走|挪用|中饱私囊|送礼|"
    r"好处费|收红包|吃拿卡要|不认账|不承认|说不过去|没道理|不讲理|不讲道理|乱来|乱搞|胡来|瞎搞|欺人|过分|不负责|"
    r"官僚|懒政|对得起|良心|曝光|媒体|上访|告你们|我要告|要去告|告到|检举|告状|查清楚|查一查|查账|要求重新|重新(调查|核实)|"
    r"(要求|要)你们.{0,4}查|要求.{0,8}(调查|核实|核查)|没往上报|气人|烂透|太烂|门难进|牛头不对马嘴|没见过这么|"
    # The story words of such letters, as precise as they come: a cadre's relatives, others got it
    # instead, indignation at a decision, money never seen, a clerk's contempt, an inflated bill.
    r"(村主任|村支书|支书|书记|村长|会计|组长|村委|院长)(他|她)?(家)?(的)?"
    r"(亲戚|亲家|小舅子|丈母娘|老丈人|本家|自家人|堂弟|堂哥|侄子|外甥|叔叔|老娘|爹|兄弟|亲属)|"
    r"一碗水端不平|看关系|看跟谁亲|搞人情|自家人|(反倒|反而)(评上|领上|吃上|住进|报上)|倒(先)?(评上|领上|吃上|住进|报上|拿了)|"
    r"这叫什么(道理|规矩|事)|哪门子|凭的是什么|这还叫|哪有这么|死板|不合理|没天理|说不通|这是什么话|谁服气|"
    r"哪里公平|睁眼说瞎话|不给改|不给补|不听解释|看都不看|故意为难|为难我|两边推|次次|回回|每回都|"
    r"(村里|镇里|乡里|镇上|社区|街道|区里)推(镇里|村里|乡里|镇上|社区|街道|区里|县里)|"
    r"没人(给个|过问|当回事|帮我|给我办|提了)|一分(钱)?(都|也)?没(见|给)|没到过账|回音都没有|一点回音|连个回音|"
    r"侮辱|翻白眼|阴阳怪气|嚷嚷|呵斥|冲我|说话很冲|别来了|懒得|装穷|一扔|"
    r"比外面贵|外面才|贵(了)?好几倍|贵一倍|另算|加收|串通|明摆着|逼人|非(要|让).{0,4}买|太狠|"
    # Complaints told without the words of one (2026-12-02, scripts/faq_staff_share.py): months
    # without an answer, money short or gone while others got theirs, sent back and forth, a bribe
    # asked, staff out of reach or scornful, a rhetorical "is this right", wanting a person.
    r"(半年|一年|好几个月|几个月|[一二两三四五六七八九十\d]+个(多)?月|好久|这么久)(了)?(都|还|也)?(没|没有|不见)"
    r"(下来|发|到|批|消息|动静|结果|回音|回复|办好|落实)|(审|审核|等|拖)了(快|大)?(半年|一年|[一二两三四五六七八九十\d]+个(多)?月)|"
    r"一点(消息|动静|音信|回音)(都|也)没|什么办事效率|这办事效率|说话(不)?算(不算)?数|说话不算话|离谱|白跑|一趟一趟|一趟又一趟|"
    r"我不服|不服气|理由(都|也)不(说|给)|这合理吗|这(样|么)做对吗|不管管|打不进(去|来)?|(一直|老是|总是)占线|找不到人|"
    r"没(有)?公示|不上心|不当回事|当官的|还怪我|(反倒|倒)怪我|看不起(我|人|俺|咱|农村|老百姓)|钱(都)?(去|到|花)哪(里|儿)?(去)?了|少发了|少打了|少给了|"
    r"名额(都)?给了|别人(家)?都(发|领|拿|有)(了|到)|别的村(早就|都)|吃饭才|(好处|给钱|送钱)才|人都(没|走|死)了|"
    r"(说|答|回)的都不对|(说|答|回)得都不对|(跟|和|找)(真)?人(说|讲|聊|谈)|能做主的|管事的人"
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


def _asks_a_not_a(folded: str, start: int) -> bool:
    """The 不 at ``start`` is the middle of a yes-no question ("给不给办", "给办不给办", "合理不合理"):
    it asks whether, and complains of nothing."""
    if not folded.startswith("不", start):
        return False
    return any(n <= start and folded[start - n : start] == folded[start + 1 : start + 1 + n] for n in (1, 2))


def sounds_like_complaint(text: str) -> bool:
    """Words of a complaint or of wanting a person, as opposed to a plain policy question (dialect
    folded first: 凭啥 is 凭什么, 冇人管 is 没人管)."""
    folded = fold_dialect(text)
    complaint = any(not _asks_a_not_a(folded, m.start()) for m in COMPLAINT_RE.finditer(folded))
    return complaint or complains_of_official(folded)


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


# Wanting a person or someone in charge: never answered from the FAQ in place of staff.
# Questions ``question_clauses`` misses once punctuation is folded away: a choice between offices
# ("向乡里还是区民政局举报"), Cantonese and Wu question words (边度, 点样, 哪能).
_ASKS_RE = re.compile(r"还是.{1,12}(举报|投诉|反映|申诉|找|去|打)|边度|点样|哪能|啥地方")
# Questions that only voice a complaint ("这合理吗", "你们这样做对吗", "这是什么办事效率").
_RHETORICAL_RE = re.compile(r"这合理吗|这(样|么)(做)?对吗|什么(办事)?效率|讲不讲(道)?理|有没有天理|这是什么世道")
WANTS_PERSON_RE = re.compile(r"人工|真人|找个人|叫个人|派(个)?人|来个人|当面|领导|局长|负责人|能做主|管事的")


def asks_something(text: str) -> bool:
    """Any question at all (吗/怎么/哪/多少…, a choice between offices, a question mark), angry or
    rhetorical ones too."""
    folded = fold_dialect(text)
    return bool(
        question_clauses(text) or question_clauses(folded) or _ASKS_RE.search(folded) or re.search("[?？]", text)
    )


def asks_policy_question(text: str) -> bool:
    """A question (吗/怎么/哪/多少…) without anger, a named person, a wish for a person or words of
    danger: a policy question that also tells a grievance ("殡仪馆乱收钱 可以去边度投诉",
    "冷静期过了 工作人员说不给发证了 这是啥规定"), which the FAQ may answer with a person on offer."""
    folded = fold_dialect(text)
    return (
        asks_something(text)
        and not GRIEVANCE_RE.search(folded)
        and not WANTS_PERSON_RE.search(folded)
        and not _RHETORICAL_RE.search(folded)
        and not looks_urgent(text)
    )


def asks_how_to_report(text: str) -> bool:
    """A question about how or where to report, complain or appeal, without anger, a named person or
    words of danger: the FAQ can answer it, with a person on offer."""
    folded = fold_dialect(text)
    return bool(HOW_TO_REPORT_RE.search(folded)) and not GRIEVANCE_RE.search(folded) and not looks_urgent(text)


# A wish to know said without a question word ("想问问政策", "想确认一下", "请问"), a yes-no question
# ("报不报", "给不给办"), a Wu question particle ("伐"): the message asks after all.
_WANTS_TO_KNOW_RE = re.compile(r"想(问|了解|确认|咨询|知道|打听)|请问|问(一)?下|问问|伐\s*$|([\u4e00-\u9fff])不\3")


def tells_without_asking(text: str) -> bool:
    """No question of any kind (``asks_something``), nor a wish to know said without one: the
    resident tells something and asks nothing."""
    return not asks_something(text) and not _WANTS_TO_KNOW_RE.search(fold_dialect(text))
