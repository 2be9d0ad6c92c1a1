"""Every resident-facing sentence of the Telegram bot, in plain and polite Chinese."""

from __future__ import annotations

# Telegram accepts up to 4096 characters; residents who send more than this are asked to split.
MAX_RESIDENT_TEXT_LENGTH = 2000

GREETING = "您好！这里是区民政局便民服务机器人。\n请点击下面的按钮，或直接用文字告诉我您想办的事。"

MENU_BUTTONS: tuple[tuple[str, str], ...] = (
    ("政策咨询", "/ask_help"),
    ("结婚登记预约", "/book_appointment"),
    ("办件进度查询", "/check_status"),
    ("转人工", "/request_human"),
)

HELP = (
    "我可以帮您：\n"
    "1. 政策咨询：低保、特困供养、临时救助、高龄津贴、残疾人补贴、养老、殡葬等\n"
    "2. 结婚登记预约：选择日期和时间，取消或改期\n"
    "3. 办件进度查询：凭受理编号查看办理到哪一步\n"
    "4. 转人工：请工作人员为您解答\n\n"
    "常用指令：\n"
    "/start 回到主菜单\n"
    "/human 转人工服务\n"
    "/cancel 取消当前操作\n"
    "/help 查看本说明\n\n"
    "直接用文字说出您的问题就可以，例如“低保怎么申请”。"
)

BUSY = "系统繁忙，请稍后再试"
# Rasa or the action server is down: a resident in danger must still read where to call (issue 9 item 3).
BUSY_HINT = (
    "（紧急情况请立即拨打 110（报警）或 120（急救）；其他事项可拨打 {hotline} 政务服务便民热线，或输入 /help 查看帮助）"
)

# The message may not have been handled (a server failed on the way): the resident sends it again.
RESEND = "抱歉，刚才这条消息没有处理成功，请您再发一次。紧急情况请立即拨打 110（报警）或 120（急救）。"
RESEND_AFTER_RESTART = "抱歉，系统刚才重启了，您的上一条消息没有处理完，请您再发一次。"

CANCELLED = "已取消当前操作。"
TOO_LONG = "您的消息太长了，请分几次简短地说"
UNKNOWN_COMMAND = "抱歉，没有这个指令。请输入 /help 查看可用功能，或直接用文字描述您的问题。"
TEXT_ONLY = "抱歉，我目前只能阅读文字消息。请用文字描述您的问题，或输入 /help 查看使用帮助。"
LOCATION_RECEIVED = "已收到您的位置，但目前还无法使用位置信息。请用文字告诉我们您所在的乡镇（街道）和您的问题。"
EDITED_MESSAGE = "我们只能处理新发送的消息，修改过的内容无法读取。如需更正，请重新发送一条。"
BUTTON_EXPIRED = "这个按钮已经失效了。请重新用文字告诉我您的问题，或输入 /start 回到主菜单。"
CHOOSE_PROMPT = "请选择："
# A command sent to the bot in a group: personal matters are handled in a private chat only.
PRIVATE_CHAT_ONLY = "为保护您的个人信息，请点击本机器人头像，在私聊中向我咨询或办理。"
ERROR_APOLOGY = "抱歉，系统出了点问题，请稍后再试。"

BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "主菜单"),
    ("help", "使用帮助"),
    ("human", "转人工服务"),
    ("cancel", "取消当前操作"),
)


def busy_message(hotline: str) -> str:
    """The reply when Rasa cannot be reached in time, naming the bureau's hotline."""
    return BUSY + "\n" + BUSY_HINT.format(hotline=hotline)
