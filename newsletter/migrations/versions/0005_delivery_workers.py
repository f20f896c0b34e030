"""delivery_workers and deliveries.lease_owner: who holds a lease, and whether it still lives

A SIGKILLed worker left its claimed rows `sending` until their lease ran out (300 s), and the
reconciler counted those dead leases as drains at work, so nobody drained the rest meanwhile.
Each worker process now records itself here with a heartbeat, and its claims name it in
`lease_owner`: the reconciler counts only the leases of live processes, and a restarted
worker gives back, at once, the rows its dead predecessor (same node name) never handed over.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_workers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_workers'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('lease_owner')

    op.drop_table('delivery_workers')
