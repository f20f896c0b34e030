"""send_rates, send_rate_samples: adaptive send rates after throttle replies, per minute

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'send_rates',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('rate', sa.Float(), nullable=False),
        sa.Column('throttled_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_send_rates')),
    )
    op.create_table(
        'send_rate_samples',
        sa.Column('digest_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rate', sa.Float(), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.Column('throttled', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['digest_id'], ['digests.id'],
                                name=op.f('fk_send_rate_samples_digest_id_digests'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('digest_id', 'key', 'minute', name=op.f('pk_send_rate_samples')),
    )


def downgrade():
    op.drop_table('send_rate_samples')
    op.drop_table('send_rates')
