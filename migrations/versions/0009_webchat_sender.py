"""web chat sender ids become a SHA-256 of the visitor's cookie

Until now a web visitor's sender id was ``web-<cookie>``: anyone who could read a transcript row,
Rasa's tracker store or search the console could take over the visitor's chat. Every table with a
``sender_id`` column is rewritten to ``web-<sha256(cookie)>``, the form the console now uses, so
existing conversations, subscriptions and appointments keep working with the same cookie.

Revision ID: 0009_webchat_sender
Revises: 0008_security
Create Date: 2026-11-30 10:30:00.000000
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0009_webchat_sender"
down_revision = "0008_security"
branch_labels = None
depends_on = None


def _hashed(sender_id: str) -> str:
    return "web-" + hashlib.sha256(sender_id[len("web-") :].encode("utf-8")).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table_name in inspector.get_table_names():
        if "sender_id" not in {column["name"] for column in inspector.get_columns(table_name)}:
            continue
        table = sa.table(table_name, sa.column("sender_id", sa.String))
        senders = (
            bind.execute(sa.select(table.c.sender_id).distinct().where(table.c.sender_id.like("web-%"))).scalars().all()
        )
        for sender_id in senders:
            bind.execute(table.update().where(table.c.sender_id == sender_id).values(sender_id=_hashed(sender_id)))


def downgrade() -> None:
    # A hash cannot be turned back into the cookie; older code simply starts new web conversations.
    pass
