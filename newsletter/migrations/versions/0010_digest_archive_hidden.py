"""digests.archive_hidden: an edition editors keep out of the public archive

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('archive_hidden', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_column('archive_hidden')
