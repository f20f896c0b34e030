"""click_counts: anonymous clicks per edition, article and section of the letter

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'click_counts',
        sa.Column('digest_id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('section', sa.String(length=40), nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['digest_id'], ['digests.id'],
            name=op.f('fk_click_counts_digest_id_digests'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('digest_id', 'article_id', 'section', name=op.f('pk_click_counts')),
    )


def downgrade():
    op.drop_table('click_counts')
