"""deliveries: no foreign keys, only the claim index and the unique key

Planning a digest inserts one row per reader, and sending rewrites each row two or three
times: every index and foreign key is paid a million times per digest. Each foreign key's
per-row check was half of planning at a million readers (erasing or purging a reader now
nulls its rows explicitly; digests are never deleted, and a plan holds its digest's lock).
The subscriber index served only lookups that now go through (digest_id, subscriber_id). The lease index held a dead entry for every row sent since the
last vacuum, and PostgreSQL scanned it whole at each handoff: the reconciler finds expired
leases through the claim index, one digest at a time.

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


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deliveries_subscriber_id_subscribers', type_='foreignkey')
        batch_op.drop_constraint('fk_deliveries_digest_id_digests', type_='foreignkey')
        batch_op.drop_index('ix_deliveries_subscriber_id')
        batch_op.drop_index('ix_deliveries_lease')


def downgrade():
    # Rows of readers or digests deleted meanwhile would break the constraints.
    op.execute("DELETE FROM deliveries WHERE digest_id NOT IN (SELECT id FROM digests)")
    op.execute(
        "UPDATE deliveries SET subscriber_id = NULL WHERE subscriber_id IS NOT NULL"
        " AND subscriber_id NOT IN (SELECT id FROM subscribers)"
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_lease', ['state', 'lease_expires_at'], unique=False)
        batch_op.create_index('ix_deliveries_subscriber_id', ['subscriber_id'], unique=False)
        batch_op.create_foreign_key(
            'fk_deliveries_subscriber_id_subscribers',
            'subscribers',
            ['subscriber_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            'fk_deliveries_digest_id_digests', 'digests', ['digest_id'], ['id'], ondelete='CASCADE'
        )
