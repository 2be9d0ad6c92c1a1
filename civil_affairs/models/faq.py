"""Policy FAQ store (政策问答库) and the questions the bot could not answer."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, String, Text

from civil_affairs.models.base import Base, utcnow

CATEGORIES = ("benefits", "elderly", "disability_children", "marriage", "funeral", "other")
CATEGORY_LABELS = {
    "benefits": "社会救助",
    "elderly": "养老服务",
    "disability_children": "残疾人和儿童福利",
    "marriage": "婚姻登记",
    "funeral": "殡葬服务",
    "other": "其他民政业务",
}
LOCALITIES = ("national", "local")


class FaqEntry(Base):
    """One policy answer; ``locality='local'`` answers get the bureau's confirm line appended."""

    __tablename__ = "faq_entry"

    id = Column(Integer, primary_key=True)
    key = Column(String(80), nullable=False, unique=True)
    category = Column(String(32), nullable=False, index=True)
    question = Column(String(200), nullable=False)
    alternatives = Column(JSON, nullable=False, default=list)
    keywords = Column(JSON, nullable=False, default=list)
    # Training examples of the FAQ ranker, edited by staff like the rest of the entry: residents'
    # phrasings of this question, and near misses [{"text", "answer": key of the entry they
    # belong to, or "none"}] that share its words but ask something else.
    variants = Column(JSON, nullable=False, default=list)
    near_misses = Column(JSON, nullable=False, default=list)
    # Keys of the entries this one offers as buttons. An entry with choices asks back ("有什么补贴":
    # which programme?): its answer introduces them, and the resident picks one, as with "您是想问…".
    choices = Column(JSON, nullable=False, default=list)
    answer = Column(Text, nullable=False)
    source = Column(String(500), nullable=False, default="")
    locality = Column(String(16), nullable=False, default="national")
    reviewed = Column(Date, nullable=True)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class UnansweredQuestion(Base):
    """A question the bot could not answer, grouped by its normalised text and counted."""

    __tablename__ = "unanswered_question"

    id = Column(Integer, primary_key=True)
    normalized = Column(String(200), nullable=False, unique=True)
    text = Column(String(500), nullable=False)
    count = Column(Integer, nullable=False, default=1)
    intent = Column(String(64), nullable=True)
    first_seen = Column(DateTime, nullable=False, default=utcnow)
    last_seen = Column(DateTime, nullable=False, default=utcnow, index=True)
    resolved = Column(Boolean, nullable=False, default=False)
