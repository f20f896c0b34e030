"""deliveries.sections, consent_events.digest_id, digests.tally: which sections each letter
had, which edition a reader left from, and a finished edition's figures

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: adding the column rewrites no row (letters sent before it have
    # none, and the report falls back for them).
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sections', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tally', sa.JSON(), nullable=True))
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_consent_events_digest_id'), ['digest_id'], unique=False
        )
        batch_op.create_index('ix_consent_events_kind_at', ['kind', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_events_kind_at')
        batch_op.drop_index(batch_op.f('ix_consent_events_digest_id'))
        batch_op.drop_column('digest_id')
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_column('tally')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('sections')
