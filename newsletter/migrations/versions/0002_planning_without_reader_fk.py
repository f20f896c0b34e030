"""deliveries: no foreign key to subscribers, lease index on rows being sent only

Planning a digest inserts one row per reader; the foreign key's per-row check was half of
that time at a million readers. Erasing or purging a reader now nulls its rows explicitly.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SENDING = sa.text("state = 'sending'")


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deliveries_subscriber_id_subscribers', type_='foreignkey')
        batch_op.drop_index('ix_deliveries_lease')
        batch_op.create_index(
            'ix_deliveries_lease',
            ['lease_expires_at'],
            unique=False,
            postgresql_where=SENDING,
            sqlite_where=SENDING,
        )


def downgrade():
    # Rows of readers deleted meanwhile would break the constraint: null them first.
    op.execute(
        "UPDATE deliveries SET subscriber_id = NULL WHERE subscriber_id IS NOT NULL"
        " AND subscriber_id NOT IN (SELECT id FROM subscribers)"
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_lease')
        batch_op.create_index('ix_deliveries_lease', ['state', 'lease_expires_at'], unique=False)
        batch_op.create_foreign_key(
            'fk_deliveries_subscriber_id_subscribers',
            'subscribers',
            ['subscriber_id'],
            ['id'],
            ondelete='SET NULL',
        )
