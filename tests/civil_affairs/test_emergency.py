"""Emergency recognition: real danger is caught, grief and paperwork questions are not alarms."""

from __future__ import annotations

import pytest

from civil_affairs.conversations.emergency import is_self_harm, is_street_case, looks_urgent


@pytest.mark.parametrize(
    "text",
    [
        "我不想活了",
        "我真的撑不下去了 今晚就想从楼上跳下去",
        "路边有个老人冻得发抖 没地方住",
        "我爸喝醉了在家打我妈 往死里打",
        "商场门口有个小孩走丢了 找不到爸妈",
        "桥洞下面有人晕倒了",
        # Spelled out, not only 家暴: a resident asking this gets the hotlines, never "not our business".
        "遭遇家庭暴力怎么办？",
        # Someone taken ill right now, and no food today (added 1 Dec: such messages got "please rephrase").
        "我妈刚才突然晕过去了 喊不醒",
        "老伴倒地上了 口吐白沫",
        "家里断粮两天了 娃娃饿得直哭",
        "屋里米都冇得了 今天还冇吃饭",
    ],
)
def test_danger_is_recognised(text: str) -> None:
    assert looks_urgent(text)


@pytest.mark.parametrize(
    "text",
    [
        "我爷爷走了半年了 户口一直没去弄 现在卡里退休金还在打 会有啥麻烦",
        "我哥在厂里出了事故 认定了工伤 人没了 丧葬那块的补助按几个月工资算",
        "双色球中了500块 过了快两个月才想起来去兑 还来得及不",
        "老人去世了第一步做什么",
        "低保怎么申请",
        # A fall or an illness in the past, and words of self-harm with an everyday sense, alone.
        "去年我妈摔倒了 现在瘫在床上 能申请护理补贴吗",
        "每天都要喝药 看病的钱医疗救助能报多少",
        "这种日子过够了 离了婚一了百了 离婚要带什么",
    ],
)
def test_questions_about_death_or_money_are_not_alarms(text: str) -> None:
    assert not looks_urgent(text)


def test_self_harm_and_street_cases_are_told_apart() -> None:
    assert is_self_harm("我想自杀") and not is_self_harm("有人在路边乞讨")
    assert is_street_case("有人在路边乞讨") and not is_street_case("我想自杀")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("你们窗口那个小姑娘把我材料弄丢了 我要投诉她", True),
        ("气死我了 电话打不通 我要找你们局长", True),
        ("婚姻登记去年不是出了新规矩嘛 对我们老百姓来说哪里不一样了", False),
        ("我爸妈那一代没领过证 现在想补 能不能我替他们去办", False),
        ("我报的临时救助都四个月了 村里推镇里 镇里推村里 冇得一个人给个准话", True),
        ("村里评低保暗箱操作 我要反映", True),
        ("以前要户口本的说法还对吗", False),
        ("低保审批一般要多久", False),
        # Dialect folded first: 凭啥 is 凭什么, 冇人管 is 没人管.
        ("凭啥停俺的低保", True),
        ("报上去半年冇人管", True),
    ],
)
def test_complaints_are_told_from_policy_questions(text: str, complaint: bool) -> None:
    from civil_affairs.conversations.emergency import sounds_like_complaint

    assert sounds_like_complaint(text) is complaint


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        # An official only quoted, asked about, or a kind of person: a policy question.
        ("村干部说我不符合低保条件，是真的吗", False),
        ("村幹部說我不符合低保條件，是真的嗎", False),  # traditional characters
        ("工作人员说还要带户口本，是这样吗", False),
        ("社区领导讲我家有车就不能评低保，有车就不能评吗", False),
        ("村干部跟我讲特困要去镇上申请，对吗", False),
        ("退休干部去世了抚恤金谁发", False),
        # The official is the one complained of, or the one wanted.
        ("村干部优亲厚友 不符合的都吃上低保了", True),
        ("这个村干部办事不公道", True),
        ("民政所的干部天天不在岗", True),
        ("评低保都是村干部说了算", True),
        ("村干部说话不算数", True),
        ("村里的干部把我的补贴扣了一半", True),
        ("我要找你们局长", True),
        ("乡里干部说给我办 结果半年了没下文", True),  # quoted, but 没下文
        ("工作人员说不出理由 就说上面不批", True),
        ("每次评议村干部都说他家困难 请你们派人下来核查一下", True),  # quoted, but a person wanted
    ],
)
def test_a_complaint_about_an_official_is_told_from_a_question_that_quotes_one(text: str, complaint: bool) -> None:
    from civil_affairs.conversations.emergency import sounds_like_complaint

    assert sounds_like_complaint(text) is complaint


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        # Letters to the message board: an account of unfair treatment without 投诉 or 举报.
        ("村里评低保全是关系户 我家这么困难年年评不上", True),
        ("我爸的高龄津贴说停就停了 连个理由都没有", True),
        ("申请了三个月了一点消息都没有 到底有没有人管", True),
        ("殡仪馆硬要我们买他们的骨灰盒 一个要八千 这不是坑人吗", True),
        ("镇里和村里推三阻四 材料卡在村里半年不往上报", True),
        ("那个办事员态度凶得很 冲我吼 还把材料扔回来", True),
        ("跑了五趟还是没办下来 一个章盖了几个月", True),
        ("补贴被村会计扣了一半 要求你们来查一查", True),
        ("评特困都是村支书一个人说了算", True),
        ("今年的名额一个给了村主任的小舅子 我们真正困难的反倒没份", True),
        ("我家孩子读大学就把低保停了 这叫什么道理", True),
        ("补助说是村里代领了 到现在一分钱都没见到", True),
        ("殡仪馆的寿衣比外面贵了好几倍 不买还不让穿自己的", True),
        # The same hardship with a question about the policy, or a rule quoted: not a complaint.
        ("家里困难 老伴瘫在床上 像我这样能评低保吗", False),
        ("低保申请交上去两个月了 正常要等多久", False),
        ("殡仪馆的骨灰盒一般多少钱 有没有免费的", False),
        ("男人打老婆有没有人管", False),
        ("孩子没人照看 有没有人管这种留守儿童", False),
        ("户口本丢了还没补 领结婚证会不会卡住", False),
        ("我家吃低保第三年了 是不是每隔一段时间都要重新核查", False),
        ("村干部说评低保要看收入 我家这种收入算不算超标", False),
        ("经营性公墓收费可以乱收吗", False),
        ("得了大病看不起 可以申请啥补助", False),
        ("结婚登记现在是啥规矩", False),
        ("残疾证拿到手一直放在抽屉里 拿它去哪里办事", False),
        ("存折上的钱这个月没见着 低保金一般打到哪张卡", False),
        # A yes-no question (A不A) asks whether; the same words as a statement complain.
        ("我俩是远房表亲 去登记处人家给不给办", False),
        ("外地户口在这边给办不给办", False),
        ("殡仪馆这样收费合理不合理", False),
        ("村里评低保公平不公平 谁来监督", False),
        ("我们村评低保一点都不公平", True),
        ("登记处就是不给办 也不说为什么", True),
    ],
)
def test_a_letter_of_unfair_treatment_is_a_complaint_without_the_word(text: str, complaint: bool) -> None:
    from civil_affairs.conversations.emergency import sounds_like_complaint

    assert sounds_like_complaint(text) is complaint


@pytest.mark.parametrize(
    ("text", "must", "must_not"),
    [
        ("我不想活了", ("110", "120", "12356", "12345"), ("救助管理站",)),
        ("路边有个老人冻得发抖 没地方住", ("110", "120", "救助管理站"), ("12356",)),
        ("我爸在家打我妈", ("110", "120"), ("12356", "救助管理站")),
        # Words with everyday senses too choose the self-harm reply once the message is an emergency.
        ("实在不想再拖累孩子们了 打算一了百了", ("110", "12356"), ("救助管理站",)),
        ("家里断粮两天了 娃娃饿得直哭", ("110", "先行救助", "区民政局"), ("12356",)),
    ],
)
def test_hotline_reply_fits_the_danger(text: str, must: tuple[str, ...], must_not: tuple[str, ...]) -> None:
    from civil_affairs.conversations.emergency import hotline_reply

    reply = hotline_reply(text, hotline="12345", bureau="区民政局")
    assert all(number in reply for number in must) and not any(word in reply for word in must_not)


@pytest.mark.parametrize(
    "text",
    [
        "感觉活着没有意思了 安眠药我攒好了",
        "这日子活够了 死了算了",
        "他喝醉了拿着菜刀说要杀了我 我躲在房间里",
        "楼下有个小孩一直在惨叫 像是被大人用衣架抽",
    ],
)
def test_danger_in_plain_words_without_the_textbook_terms(text: str) -> None:
    """Residents in danger rarely say 自杀 or 家暴: what they describe must still count."""
    assert looks_urgent(text)


@pytest.mark.parametrize("text", ["砍树要办什么手续", "打死也不信低保这么难办", "离婚冷静期怎么算"])
def test_everyday_words_are_not_danger(text: str) -> None:
    assert not looks_urgent(text)


def test_traditional_characters_are_read_too() -> None:
    assert looks_urgent("隔壁有人拿著刀說要殺人")
    assert is_self_harm("我真的不想活了")
    assert is_self_harm("活著沒意思")


@pytest.mark.parametrize(
    "text",
    [
        "发现低保优亲厚友、违规办理，怎么举报？",
        "有人冒领高龄津贴，应该向哪里反映？",
        "对低保审批结果有异议去哪里申诉",
        "有人骗低保 该找谁举报",
        "殡仪馆乱收费 打什么电话投诉",
        "民政局的投诉电话是多少",
        "低保复核结果不服 复核的流程是怎样的",
        "发现有人骗低保能举报吗",
        "乡里办事的人态度很差 能投诉不",
        # Traditional characters.
        "低保優親厚友怎麼舉報",
        "對低保審批結果有異議 去哪裡申訴",
        # Dialect, folded first (咋→怎么, 么子/啥→什么).
        "低保不批 咋申诉",
        "俺村有人冒领补贴 咋个举报",
        "民政的事投诉打么子电话",
        "有人吃人情保 向啥部门反映",
    ],
)
def test_questions_about_how_to_report_are_recognised(text: str) -> None:
    from civil_affairs.conversations.emergency import asks_how_to_report

    assert asks_how_to_report(text)


@pytest.mark.parametrize(
    "text",
    [
        # A grievance told with anger, or about a named case: staff, not the FAQ.
        "你们工作人员态度太差了，我要投诉",
        "我的低保被取消了凭什么",
        "我要举报某某社区主任冒领",
        "我要举报王主任冒领低保 找谁",
        "张某冒领高龄津贴 去哪举报",
        "你们怎么回事 我要投诉",
        "气死了 去哪里投诉你们",
        "我都反映过三次了 到底找谁",
        "凭啥不给俺低保 去哪讨说法",
        "妳們態度太差了 我要投訴 去哪投訴",
        # Words of danger stay with staff too.
        "邻居家暴孩子 应该向哪里举报",
        # No procedure asked, or no report at all.
        "我要投诉",
        "低保怎么申请",
        "高龄津贴去哪里领",
    ],
)
def test_grievances_and_other_messages_are_not_how_to_report_questions(text: str) -> None:
    from civil_affairs.conversations.emergency import asks_how_to_report

    assert not asks_how_to_report(text)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        # Complaints told without the words of one (2026-12-02): months without an answer, money
        # short or gone, sent back and forth, a bribe asked, staff out of reach, wanting a person.
        ("残疾证办了三个月了还没下来 每次去都说下周", True),
        ("护理补贴审核了半年 等批下来人都没了", True),
        ("交了材料半年了一点消息都没有", True),
        ("说好十五个工作日 现在两个月了 你们说话算不算数", True),
        ("殡仪馆收费太离谱了 一个骨灰盒要八千", True),
        ("我申请临时救助被拒了 理由都不说一个 我不服", True),
        ("你们网上说可以预约 结果到了现场不认 白跑一趟", True),
        ("申请了特困供养 村干部说要请他吃饭才给报", True),
        ("你们这个热线一直占线 打了一上午都打不进去", True),
        ("去年的取暖补贴到现在还没发 别人家都发了", True),
        ("敬老院伙食太差了 钱都去哪了", True),
        ("你这机器人说的都不对 我要跟人说", True),
        # Policy questions with the same topics stay questions.
        ("低保申请交上去两个月了 正常要等多久", False),
        ("得了大病看不起 可以申请啥补助", False),
        ("残疾证办下来要多长时间", False),
        ("取暖补贴一般几月份发", False),
    ],
)
def test_complaints_without_the_words_of_one(text: str, complaint: bool) -> None:
    from civil_affairs.conversations.emergency import sounds_like_complaint

    assert sounds_like_complaint(text) is complaint


@pytest.mark.parametrize(
    "text",
    [
        "殡仪馆乱收钱 可以去边度投诉",
        "一个月冷静期满了以后 我们又拖了四十多天才去 工作人员说不给发证了 这是啥规定",
        "评低保时村干部收好处 这种违规的事向乡里还是区民政局举报",
        "人情保 举报？",
        "登记处強制收拍照費 可以投訴嗎",
    ],
)
def test_policy_questions_told_with_a_grievance_are_questions(text: str) -> None:
    from civil_affairs.conversations.emergency import asks_policy_question

    assert asks_policy_question(text)


@pytest.mark.parametrize(
    "text",
    [
        # Statements, rhetorical questions, anger, a named person, a wish for a person, danger.
        "我要投诉镇民政办的那个女的 说话阴阳怪气的",
        "办个结婚证还要我们交三百块钱的照相费 这合理吗",
        "低保说停就停 一个电话都没有 你们这样做对吗",
        "交了材料半年了一点消息都没有 这是什么办事效率",
        "凭什么不给我办 材料都齐了",
        "你们到底管不管",
        "张主任冒领低保 去哪举报",
        "给我一个负责人的电话 我要当面问清楚",
        "转人工 低保怎么申请",
        "邻居家暴孩子 应该向哪里举报",
    ],
)
def test_complaints_and_wishes_for_a_person_are_not_policy_questions(text: str) -> None:
    from civil_affairs.conversations.emergency import asks_policy_question

    assert not asks_policy_question(text)
