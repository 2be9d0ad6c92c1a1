"""Every sentence the custom actions send to residents, in one file for the bureau to review.

The replies that dialogue rules send directly (greeting, help, goodbye, …) are the ``responses:`` in
domain.yml; everything an action in ``actions/`` says is here. ``{name}`` placeholders are filled
with ``str.format`` by the actions or the helpers below.

Said by actions but worded elsewhere, because other code sends the same words:
- the emergency hotlines and the handoff notice: ``civil_affairs/conversations/texts.py`` (the
  conversation service sends them too, e.g. while staff hold the conversation);
- the FAQ answers themselves: the FAQ store, edited in the staff console;
- refusal reasons of the domain checks, which the staff console shows as well: ID-number problems
  (``civil_affairs/identity.py``), booking refusals, day checks and the no-show block
  (``civil_affairs/booking/``), and the dates and slot labels those modules format.
Words read *from* residents (yes/no words, patterns) stay with the code that parses them.
"""

from __future__ import annotations

from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.models import Appointment
from civil_affairs.models.booking import KIND_LABELS

Button = dict[str, str]

# --- policy questions (actions/faq.py) -----------------------------------------------------------------

FAQ_NOT_TEXT = "我只能看懂文字消息。请用文字简单说说您想问的事，比如“低保怎么申请”。"
FAQ_UNKNOWN = (
    "抱歉，这个问题我暂时答不上来，已经记录下来，工作人员会尽快补充答案。"
    "您可以换个说法再问一次，或者说“转人工”请工作人员帮忙。"
)
FAQ_NONE = (
    "抱歉没有找到您要问的问题，已经记录下来，工作人员会补充。您可以换个说法再问一次，或者说“转人工”请工作人员帮忙。"
)
FAQ_RELATED = "您可能还想问："
FAQ_WHICH_ONE = "您是想问下面哪个问题？请点选："
# After the answer to one part of a message that asked two things, when the other part is not clear.
FAQ_OTHER_PART = "您还问了另一件事，是想问下面哪个问题？请点选："
# A message that only names a programme ("高龄津贴", "想问下特困"): its main questions as buttons.
FAQ_WHICH_ASPECT = "关于{name}，您想了解哪方面？请点选："
FAQ_CHOICE_UNCLEAR = "请直接点选上面的问题按钮，或者把您的问题再说一遍。"
FAQ_NONE_BUTTON_TITLE = "都不是"
HUMAN_BUTTON_TITLE = "转人工"
# Put before the handoff notice when the bot failed twice in a row.
MISUNDERSTOOD_PREFIX = "抱歉，我没能帮上忙。"

# --- handing over (actions/handoff.py) --------------------------------------------------------------------

# After the FAQ answer to "怎么举报/去哪申诉": a person stays one reply away.
REPORT_PERSON_OFFER = "如果需要工作人员帮您跟进具体情况，回复“转人工”或点下面的按钮。"
# The complaint words left a booking or status-lookup form, but the bot answered instead of staff.
FORM_SET_ASIDE = "刚才正在办的预约或查询已先停下，需要时跟我说一声就能重新开始。"

# --- status lookup (办件进度查询, actions/status_lookup.py) -------------------------------------------------

ASK_APPLICATION_NUMBER = "请发送申请编号（写在受理回执上，例如 DB202610080021）。"
ASK_ID_LAST6 = "为保护个人信息，请再发送申请人身份证号的后6位（最后一位可能是X）。"
ID_LAST6_INVALID = "身份证号后6位应是6个数字（最后一位可能是X），请再发一次。"

LOOKUP_RESULT = (
    "申请编号：{number}\n业务类型：{type_name}\n申请人：{masked_name}\n受理单位：{office}\n"
    "当前进度：{stage}（{stage_date}）\n{meaning}{note_line}\n下一步：{next_step}"
)
NOTE_LINE = "\n说明：{note}"
LOOKUP_FAILED = "没有查到与这个编号和身份证号后6位相符的申请。请核对受理回执上的申请编号和申请人身份证号后6位后再试。"
LOOKUP_LOCKED = (
    "为保护申请人的信息，这里的查询失败次数过多，查询已暂停1小时，请稍后再试。"
    "急需了解进度的，可带上受理回执到受理窗口询问，或{contact}"
)
# Where to ask in person or by phone; the phone and hours parts only when the bureau has them.
CONTACT = "联系{name}"
CONTACT_PHONE = "（电话 {phone}）"
CONTACT_HOURS = "，办公时间 {hours}"
CONTACT_HOTLINE = "，也可拨打 {hotline} 政务服务便民热线。"

SUBSCRIBE_OFFER = "进度有变化时需要提醒您吗？"
SUBSCRIBE_BUTTON_TITLE = "订阅进度提醒"
SUBSCRIBE_PAYLOAD = '/subscribe_status{{"application_number":"{number}"}}'
SUBSCRIBED = "已订阅申请 {number} 的进度提醒。工作人员更新进度后，会在这里通知您。不需要时可以说“取消订阅”。"
SUBSCRIBE_NEEDS_LOOKUP = "请先查询一次办件进度（说“查进度”），查询成功后再点“订阅进度提醒”。"
UNSUBSCRIBED = "已取消 {count} 项进度提醒，以后不再通知您。"
NO_SUBSCRIPTION = "您目前没有订阅任何进度提醒。"

# --- booking: the forms' questions (actions/booking/questions.py) ------------------------------------------

ASK_DIVORCE_APPLICATION_DATE = (
    "预约冷静期满后领离婚证，需要先算出可以领证的日期。请问离婚登记申请是哪天被受理的？"
    "（看受理回执单上的日期，比如“11月2日”）"
)
# A 结婚登记 names the parties 男方/女方; the other kinds 一方/另一方.
ASK_PARTY1_NAME = "请输入一方当事人的姓名（和身份证上一致）。"
ASK_PARTY1_NAME_MARRIAGE = "请输入男方的姓名（和身份证上一致）。"
ASK_PARTY1_ID = "请输入这一方的18位身份证号码。号码只用于预约核对，系统不保存完整号码。"
ASK_PARTY1_ID_MARRIAGE = "请输入男方的18位身份证号码。号码只用于预约核对，系统不保存完整号码。"
ASK_PARTY2_NAME = "请输入另一方当事人的姓名（和身份证上一致）。"
ASK_PARTY2_NAME_MARRIAGE = "请输入女方的姓名（和身份证上一致）。"
ASK_PARTY2_ID = "请输入另一方的18位身份证号码。"
ASK_PARTY2_ID_MARRIAGE = "请输入女方的18位身份证号码。"
ASK_BOOKING_PHONE = "请留一个联系电话（手机号），登记处有变动时会联系您。"
ASK_BOOKING_CODE = "请发送预约码（预约成功时收到的，格式像 YY20261208-417）。"
ASK_BOOKING_ID_LAST6 = "为保护个人信息，请再发送任一方身份证号码的最后6位（最后一位可能是X）。"

DEFAULT_KIND_LABEL = "婚姻登记"
NO_FREE_DAYS = "抱歉，近期{kind}的预约名额已满（或尚未开放）。您可以输入想约的日期试试，或说“转人工”咨询工作人员。"
ASK_BOOKING_DATE = (
    "您预约的是：{kind}。请问想约哪一天？可以点下面有空位的日期，也可以直接输入，比如“下周三”“12月8日”“七夕”。"
)
DATE_BUTTON_TITLE = "{day}（余{free}）"
ASK_BOOKING_SLOT = "{day}还有这些时段可以预约，请选择："
SLOT_BUTTON_TITLE = "{slot}（余{free}个）"

CONFIRM_HEADING = "请核对预约信息："
CONFIRM_KIND_LINE = "业务：{kind}"
CONFIRM_TIME_LINE = "时间：{day} {slot}"
CONFIRM_PARTY_LINE = "{role}：{name}（身份证 {masked_id}）"
CONFIRM_PHONE_LINE = "联系电话：{masked_phone}"
CONFIRM_BUTTONS: list[Button] = [{"title": "确认预约", "payload": "/affirm"}, {"title": "不约了", "payload": "/deny"}]

# --- booking: checking the answers (actions/booking/form.py, answers.py) ------------------------------------

MARRIAGE_ROLES = ("男方", "女方")
OTHER_ROLES = ("一方", "另一方")
MALE_WORD = "男性"
FEMALE_WORD = "女性"
# Added to an answer's problem after repeated failures.
HUMAN_HINT = "如果填写有困难，可以说“转人工”请工作人员帮忙，或说“不约了”退出预约。"

DATE_UNREADABLE = "抱歉，没看懂这个日期。可以点下面的日期按钮，或者输入“12月8日”“下周三”“七夕”这样的日期。"
SLOT_UNREADABLE = "请点选下面的时段按钮，或者输入时间，比如“上午9点”。"
SLOT_FULL = "{slot} 这个时段已经约满了，请换一个时段。"
APPLICATION_DATE_UNREADABLE = "没看懂这个日期，请输入离婚登记申请被受理的日期（受理回执单上的日期），比如“11月2日”。"
APPLICATION_DATE_IN_FUTURE = "申请受理日期不能晚于今天，请核对受理回执单上的日期。"
CALENDAR_MISSING = "这段时间的节假日安排还没有录入，暂时算不出冷静期，请说“转人工”由工作人员帮您预约。"
DIVORCE_WINDOW_EXPIRED = (
    "按《民法典》第1077条，冷静期满后30日内双方应当亲自到登记机关申请发给离婚证，"
    "您这份申请的领证期限到{last}已经结束，未申请的视为撤回离婚登记申请。"
    "如仍要离婚，需要重新申请离婚登记。"
)
DIVORCE_WINDOW_TOO_EARLY = (
    "您的离婚冷静期满后，可以领证的日期是{first}至{last}。目前只开放{days}天内的预约，请在{come_back}及以后再来预约。"
)
DIVORCE_WINDOW = "冷静期满后可以领证的日期是{first}至{last}，下面只列出这个范围内可以预约的日期。"
NAME_UNREADABLE = "请只输入{role}的姓名（和身份证上一致），比如“张伟”。"
# ``problem`` is the ID-number check's reason (civil_affairs/identity.py).
ID_PROBLEM = "{role}的{problem}"
SAME_ID_TWICE = "两位当事人的身份证号码不能相同，请输入另一方的身份证号码。"
WRONG_SEX = "这个身份证号码显示是{sex}，这里需要填写{role}的身份证号码，请核对后重新输入。"
# Added to the marriage-age check's reason (civil_affairs/identity.py).
AGE_PROBLEM_HINT = "请核对身份证号码，如有疑问可说“转人工”。"
PHONE_UNREADABLE = "请输入11位手机号码（如 13912345678），或带区号的固定电话（如 0793-1234567）。"
CONFIRM_UNCLEAR = "请点“确认预约”提交，或点“不约了”放弃这次预约。"
ACTIVE_ELSEWHERE = (
    "{role}已经有一个未完成的预约，每人同一时间只能有一个预约。"
    "如需换时间请说“改约”，不需要了请说“取消预约”（都需要预约成功时收到的预约码）。"
)

# --- booking: submitting (actions/booking/submit.py) --------------------------------------------------------

NOT_SUBMITTED = "好的，这次预约没有提交。需要时随时说“预约结婚登记”。"
INCOMPLETE = "抱歉，预约信息不完整，请重新说“预约结婚登记”。"
BOOKED_TITLE = "预约成功！"
CONFIRMATION = (
    "{title}\n预约码：{code}\n业务：{kind}\n时间：{day} {slot}\n当事人：{names}\n"
    "请记好预约码。改约或取消时需要预约码和任一方身份证号后6位。"
    "约好后请按时到场，无法到场请提前取消，否则会记为爽约。"
)
NAMES_SEPARATOR = "、"
# When the full confirmation could not be built after booking.
BOOKED_SHORT = "预约成功，预约码：{code}。请记好预约码。"
DOCUMENTS_INTRO = "办理时请带好以下材料：\n"
DOCUMENTS_FALLBACK = "办理时请双方带好本人居民身份证。具体材料可以问我“{kind}要带什么”。"
# The calendar file (.ics) sent after booking.
ICS_SUMMARY = "{kind}（预约码 {code}）"
ICS_DESCRIPTION = "请双方本人携带居民身份证按时到场。改约或取消请在聊天中说“改约”或“取消预约”。"
ICS_LOCATION_FALLBACK = "{bureau}婚姻登记处"
ICS_CAPTION = "预约已加入日历文件，点开即可添加到手机日历。"

# --- booking: cancelling and rescheduling (actions/booking/manage.py) ----------------------------------------

CODE_UNREADABLE = "请发送预约成功时收到的预约码，格式像 YY20261208-417。"
LAST6_UNREADABLE = "请输入任一方身份证号码的最后6位（最后一位可能是X）。"
BOOKING_FOUND = "已找到您的预约：{day} {slot}。"
ASK_CANCEL = "确定要取消预约 {code} 吗？取消后名额会让给其他人。"
CANCEL_BUTTONS: list[Button] = [{"title": "确认取消", "payload": "/affirm"}, {"title": "保留预约", "payload": "/deny"}]
CANCEL_UNCLEAR = "请点“确认取消”或“保留预约”。"
KEPT = "好的，预约保留不变，请按时到场。"
CANCELLED = "预约 {code} 已取消。需要时可以随时重新预约。"
RESCHEDULED_TITLE = "改约成功！原预约 {old_code} 已作废，新的预约码如下。"
RESCHEDULE_INCOMPLETE = "抱歉，改约信息不完整，请重新说“改约”。"
STOPPED = "好的，已退出预约，没有保存任何信息。还有别的问题可以直接问我。"
# A message that is only a booking code, outside the forms that ask for one: the resident has not
# said what to do with it, so the bot asks (the buttons carry the code into the chosen form).
BOOKING_CODE_WHAT_TO_DO = "收到预约码 {code}。请问您想对这个预约做什么？"
BOOKING_CODE_ACTIONS: list[Button] = [
    {"title": "改约（换日期或时段）", "payload": "/reschedule_appointment"},
    {"title": "取消这个预约", "payload": "/cancel_appointment"},
]


# --- helpers that compose the texts above -------------------------------------------------------------------


def lookup_result(
    *,
    number: str,
    type_name: str,
    masked_name: str,
    office: str,
    stage: str,
    stage_date: object,
    meaning: str,
    note: str | None,
    next_step: str,
) -> str:
    """The status of one application; the 说明 line only when the application has a note."""
    return LOOKUP_RESULT.format(
        number=number,
        type_name=type_name,
        masked_name=masked_name,
        office=office,
        stage=stage,
        stage_date=stage_date,
        meaning=meaning,
        note_line=NOTE_LINE.format(note=note) if note else "",
        next_step=next_step,
    )


def contact_line(*, name: str, phone: str | None, hours: str | None, hotline: str) -> str:
    """Where a resident can ask in person or by phone."""
    line = CONTACT.format(name=name)
    if phone:
        line += CONTACT_PHONE.format(phone=phone)
    if hours:
        line += CONTACT_HOURS.format(hours=hours)
    return line + CONTACT_HOTLINE.format(hotline=hotline)


def lookup_locked(contact: str) -> str:
    """Lookups are paused; ``contact`` says where to ask instead."""
    return LOOKUP_LOCKED.format(contact=contact)


def subscribe_buttons(number: str) -> list[Button]:
    """The button that subscribes the chat to ``number`` (canonical form, as the lookup verified it)."""
    return [{"title": SUBSCRIBE_BUTTON_TITLE, "payload": SUBSCRIBE_PAYLOAD.format(number=number)}]


def subscribed(number: str) -> str:
    return SUBSCRIBED.format(number=number)


def unsubscribed(count: int) -> str:
    return UNSUBSCRIBED.format(count=count)


def role_label(kind: str | None, position: int) -> str:
    """男方/女方 for a 结婚登记 (or no kind yet), else 一方/另一方."""
    roles = MARRIAGE_ROLES if kind in (None, "marriage") else OTHER_ROLES
    return roles[0] if position == 1 else roles[1]


def booking_summary(
    *, kind: str, day: str | None, slot: str, parties: list[tuple[str, object, str]], masked_phone: str
) -> str:
    """What the resident confirms; ``parties`` are (role, name, masked ID), the time line needs ``day``."""
    lines = [
        CONFIRM_HEADING,
        CONFIRM_KIND_LINE.format(kind=KIND_LABELS[kind]),
        CONFIRM_TIME_LINE.format(day=day, slot=slot) if day else "",
    ]
    lines += [CONFIRM_PARTY_LINE.format(role=role, name=name, masked_id=masked) for role, name, masked in parties]
    lines.append(CONFIRM_PHONE_LINE.format(masked_phone=masked_phone))
    return "\n".join(line for line in lines if line)


def confirmation(appointment: Appointment, title: str = BOOKED_TITLE) -> str:
    """The booked (or rescheduled) appointment with its code, as the resident should keep it."""
    return CONFIRMATION.format(
        title=title,
        code=appointment.code,
        kind=KIND_LABELS[appointment.kind],
        day=describe_date(appointment.day),
        slot=appointment.slot.label,
        names=NAMES_SEPARATOR.join(p.name for p in appointment.parties),
    )


def documents(answers: list[str], kind: str) -> str:
    """What to bring: the FAQ store's answers for this kind, or a general hint when it has none."""
    if not answers:
        return DOCUMENTS_FALLBACK.format(kind=KIND_LABELS[kind])
    return DOCUMENTS_INTRO + "\n\n".join(answers)
