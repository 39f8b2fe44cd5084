"""WeChat mini-program: the login mapping (wechat_users) and the moderation flag of a turn.

Revision ID: 0003_wechat
Revises: 0002
Create Date: 2025-07-01

``wechat_users`` maps a WeChat key (``unionid:<unionid>`` or ``openid:<appid>:<openid>``) to the
assistant's user id; no session_key is stored. ``turns.flag`` is NULL for an ordinary turn, else
``risky`` (refused), ``review`` (answered, for a human to look at) or ``sec_unavailable`` (answered while
the content check could not be done, PA_WECHAT_SEC_FAIL=open).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_wechat"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_users",
        sa.Column("wechat_key", sa.String(200), nullable=False),
        sa.Column("appid", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("wechat_key", name="pk_wechat_users"),
    )
    op.create_index("ix_wechat_users_user_id", "wechat_users", ["user_id"])
    op.add_column("turns", sa.Column("flag", sa.String(16), nullable=True))  # SQLite adds a column in place


def downgrade() -> None:
    op.drop_column("turns", "flag")
    op.drop_index("ix_wechat_users_user_id", table_name="wechat_users")
    op.drop_table("wechat_users")
