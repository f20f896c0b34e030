"""leave_reason_counts, leave_comments: why readers leave, counted per month, without them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

REASONS = ('too-many', 'not-my-regions', 'not-interesting', 'other')


def upgrade():
    op.create_table(
        'leave_reason_counts',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('reason', sa.Enum(*REASONS, name='leave_reason', native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'reason', name=op.f('pk_leave_reason_counts')),
    )
    op.create_table(
        'leave_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('reason', sa.Enum(*REASONS, name='leave_reason', native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_leave_comments')),
    )
    with op.batch_alter_table('leave_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leave_comments_month'), ['month'], unique=False)


def downgrade():
    op.drop_table('leave_comments')
    op.drop_table('leave_reason_counts')
