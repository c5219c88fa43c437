"""Brazil's rules at the box office: ticket types in quota groups and with the document the door
asks for, and each session's age rating (``sessions.rating``, ``L`` for all or the least age).

Carried data: every session stored before this revision keeps the ticket types it has; a type
with a quota gets ``quota_group`` = its code (it was its own quota, and stays so), and every
session is rated ``L``. ``sessions_rating_known`` admits only the ratings of ClassInd.

The downgrade drops the rating and the new keys of the ticket types. Types that shared a group
would each count alone under 0007, a quota the sessions did not promise: it refuses then.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Each type of each session, with quota_group set to its code where it has a quota and no group.
_NAME_GROUPS = """
UPDATE sessions SET ticket_types = (
    SELECT jsonb_agg(
        CASE WHEN t ? 'quota_percent' AND NOT t ? 'quota_group'
            THEN t || jsonb_build_object('quota_group', t->>'code')
            ELSE t END
        ORDER BY n
    )
    FROM jsonb_array_elements(ticket_types) WITH ORDINALITY AS e(t, n)
)
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(ticket_types) AS e(t) WHERE t ? 'quota_percent')
"""

# Sessions where two types share one group: revision 0007 would count them each on its own.
_SHARED_GROUPS = """
SELECT count(*) FROM sessions AS se
WHERE EXISTS (
    SELECT 1 FROM jsonb_array_elements(se.ticket_types) AS e(t)
    WHERE t ? 'quota_group'
    GROUP BY t->>'quota_group'
    HAVING count(*) > 1
)
"""

_DROP_KEYS = """
UPDATE sessions SET ticket_types = (
    SELECT jsonb_agg(t - 'quota_group' - 'document' ORDER BY n)
    FROM jsonb_array_elements(ticket_types) WITH ORDINALITY AS e(t, n)
)
"""


def upgrade() -> None:
    op.add_column("sessions", sa.Column("rating", sa.Text, nullable=False, server_default="L"))
    op.create_check_constraint(
        "sessions_rating_known", "sessions", "rating IN ('L', '10', '12', '14', '16', '18')"
    )
    op.execute(_NAME_GROUPS)


def downgrade() -> None:
    shared = op.get_bind().execute(sa.text(_SHARED_GROUPS)).scalar_one()
    if shared:
        raise RuntimeError(
            f"{shared} sessions have ticket types in shared quota groups, "
            "which revision 0007 cannot describe"
        )
    op.execute(_DROP_KEYS)
    op.drop_constraint("sessions_rating_known", "sessions", type_="check")
    op.drop_column("sessions", "rating")
