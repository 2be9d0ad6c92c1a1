"""What the booking forms say to residents that is not tied to one question (review here)."""

from __future__ import annotations

from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.models import Appointment
from civil_affairs.models.booking import KIND_LABELS

HUMAN_HINT = "如果填写有困难，可以说“转人工”请工作人员帮忙，或说“不约了”退出预约。"
ACTIVE_ELSEWHERE_TEXT = (
    "{role}已经有一个未完成的预约，每人同一时间只能有一个预约。"
    "如需换时间请说“改约”，不需要了请说“取消预约”（都需要预约成功时收到的预约码）。"
)
INCOMPLETE_TEXT = "抱歉，预约信息不完整，请重新说“预约结婚登记”。"


def confirmation_text(appointment: Appointment, title: str = "预约成功！") -> str:
    names = "、".join(p.name for p in appointment.parties)
    return (
        f"{title}\n预约码：{appointment.code}\n业务：{KIND_LABELS[appointment.kind]}\n"
        f"时间：{describe_date(appointment.day)} {appointment.slot.label}\n当事人：{names}\n"
        "请记好预约码。改约或取消时需要预约码和任一方身份证号后6位。"
        "约好后请按时到场，无法到场请提前取消，否则会记为爽约。"
    )
