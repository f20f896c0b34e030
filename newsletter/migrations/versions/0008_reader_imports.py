"""reader_imports: admins' CSV imports of readers, run by a worker, with every rejected row

An admin uploads a CSV from the console; the file waits in `content` (at most
READER_IMPORT_MAX_BYTES) until a worker imports it with the command line's importer, then is
dropped. The counts stay on the row and each rejected row (line, address as read, reason) in
reader_import_rejections, so the report can be read and downloaded later.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reader_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('encoding', sa.String(length=40), nullable=False),
    sa.Column('consent_note', sa.String(length=500), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='reader_import_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('lines_total', sa.Integer(), nullable=False),
    sa.Column('lines_read', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('already_known', sa.Integer(), nullable=False),
    sa.Column('suppressed', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('editor_email', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['editor_id'], ['editors.id'], name=op.f('fk_reader_imports_editor_id_editors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_imports'))
    )
    with op.batch_alter_table('reader_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_imports_created_at'), ['created_at'], unique=False)

    op.create_table('reader_import_rejections',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=400), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['reader_imports.id'], name=op.f('fk_reader_import_rejections_import_id_reader_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'line', name=op.f('pk_reader_import_rejections'))
    )


def downgrade():
    op.drop_table('reader_import_rejections')
    with op.batch_alter_table('reader_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_imports_created_at'))

    op.drop_table('reader_imports')
