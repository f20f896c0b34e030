"""editor_sessions: server-side editors' sessions, revocable

The session cookie used to hold the editor's id, so a copied cookie outlived logout and a
new password. Each login now gets a row here, keyed by the hash of a random value that the
cookie holds; logout revokes the row, a new password or deactivation revokes them all.
Existing cookies carry no such value: every editor logs in again once after the upgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('editor_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=400), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['editor_id'], ['editors.id'], name=op.f('fk_editor_sessions_editor_id_editors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_editor_sessions'))
    )
    with op.batch_alter_table('editor_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_editor_sessions_editor_id'), ['editor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('editor_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_editor_sessions_editor_id'))

    op.drop_table('editor_sessions')
