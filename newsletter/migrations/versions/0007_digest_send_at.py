"""digests.send_at: a special edition scheduled for a time

NULL means "as soon as it is created" (every edition before this revision); a time means
the edition waits, planned and cancellable, until a beat sweep finds it due.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_column('send_at')
