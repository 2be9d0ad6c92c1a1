"""Every sentence the conversation service sends to residents, for the Telegram bot and the web chat.

One file for the bureau to review. The emergency replies and the handoff notice are also sent by
the Rasa actions (``actions/escalation.py``), so that a resident reads the same words whoever
answers. The web chat's own replies about a malformed request are here too; the page's wording is
in ``console/templates/chat.html``. The Telegram bot's own wording is in ``bot/texts.py``, the Rasa
actions' in ``actions/texts.py``.
"""

from __future__ import annotations

# --- emergencies (emergency.hotline_reply picks the lines that fit the message) ------------------------

SELF_HARM_REPLY = (
    "您现在的感受很重要，请不要一个人扛着。如果有生命危险，请立刻拨打 110 或 120。"
    "也可以拨打全国心理援助热线 12356，有专业人员倾听和帮助。请告诉身边信任的人陪着您。"
)
GENERAL_REPLY = (
    "如果有人正处在危险中，请立刻拨打 110 报警；有人受伤或急病请拨打 120。"
    "发现走失、被遗弃的儿童，或老人、儿童受到虐待、家暴，请马上报警 110。"
)
STREET_LINE = "发现流浪、乞讨或受冻的人员，可拨打 110，由民警护送到救助管理站；突发急病请拨打 120。"
# policy-facts.md: urgent temporary assistance is given where the hardship happens, simplified
# and given first (先行救助).
HUNGER_LINE = (
    "家里断了口粮、一时生活没有着落的，可以马上向所在乡镇（街道）或{bureau}求助："
    "急难型临时救助可以简化程序、先行救助，不论户籍在哪里。"
)
HOTLINE_LINE = "非紧急的求助，也可以拨打 {hotline} 政务服务便民热线或联系{bureau}。"
HANDED_OVER_REPLY = "我们已把您的消息以最高优先级转给工作人员，工作人员会尽快在这里联系您。"
# Words of danger while staff already hold the conversation (the hotlines go out first).
URGENT_WHILE_HELD_TEXT = "您的消息已标记为紧急，工作人员会优先处理。"

# --- handing over to staff (handoff.acknowledgement) ---------------------------------------------------

HANDOFF_ACKNOWLEDGEMENT = "已为您转接工作人员，请稍候，工作人员会直接在这里回复您。您可以先把要办的事情说清楚。"
# Added outside office hours; ``opening`` is when staff are back (office_hours.describe_opening).
AFTER_HOURS_LINE = (
    "\n现在是非工作时间，工作人员将在{opening}上班后尽快回复您。紧急情况请拨打 110 / 120，其他事项也可拨打 {hotline}。"
)

# --- rating the service after staff hand the conversation back -----------------------------------------

RATING_REQUEST = "本次人工服务已结束，之后机器人会继续为您解答。请为这次服务打分（5分最满意）："
# One button per score, best first.
RATING_BUTTON_TITLES = {5: "5分 非常满意", 4: "4分", 3: "3分", 2: "2分", 1: "1分 很不满意"}
RATING_THANKS = "感谢您的评价！还有问题可以继续问我。"
RATING_ALREADY = "收到，谢谢！还有问题可以继续问我。"

# --- when the bot cannot answer: these always name the emergency numbers --------------------------------

BUSY_TEXT = "系统繁忙，请稍后再试。紧急情况请立即拨打 110（报警）或 120（急救）。"
RESEND_TEXT = "抱歉，刚才这条消息没有处理成功，请您再发一次。紧急情况请立即拨打 110（报警）或 120（急救）。"
EMPTY_TEXT = "请先输入您的问题。"
SLOW_DOWN_TEXT = "您发送得太快了，请稍等一会儿再发。紧急情况请直接拨打 110 / 120。"

# --- notices pushed to residents by background jobs ------------------------------------------------------

# A subscribed application changed stage (civil_affairs/applications/notify.py); the meaning and
# 说明 lines only when there are any.
PROGRESS_NOTICE_HEADING = "您订阅的申请 {number}（{type_name}）有新进度："
PROGRESS_NOTICE_STAGE = "当前进度：{stage}（{stage_date}）"
PROGRESS_NOTICE_NOTE = "说明：{note}"
PROGRESS_NOTICE_NEXT_STEP = "下一步：{next_step}"
PROGRESS_UNSUBSCRIBE_TITLE = "取消进度提醒"
# The day before an appointment (civil_affairs/booking/reminders.py).
APPOINTMENT_REMINDER = (
    "温馨提醒：您预约了{day} {slot} 的{kind}，预约码 {code}。\n请双方本人带好居民身份证按时到场。"
    "如需改约或取消，请回复“改约”或“取消预约”；无法到场又未取消的，会记为爽约。"
)

# How a file the bot sent appears in the transcript (staff console, web chat history).
DOCUMENT_LINE = "[文件] {filename}"

# --- the web chat's replies to a request it cannot pass on (console/webchat.py) -------------------------

WEBCHAT_TOO_LONG_TEXT = "您的消息太长了，请分几次简短地说。"
WEBCHAT_BAD_REQUEST_TEXT = "请求格式不对，请刷新页面后再试。"
