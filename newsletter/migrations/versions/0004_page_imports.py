"""page_imports: editors' page imports, run by a worker, with their outcome

Importing a page from the editors' area used to fetch and read it inside the web request,
so two slow pages held both web workers. The request now records the import here and a
worker does it; the editor's page shows the row's state. An uploaded file waits in
`content` (at most FEED_MAX_BYTES) until the worker has read it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('page_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=2000), nullable=False),
    sa.Column('uploaded', sa.Boolean(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.Enum('queued', 'done', 'failed', name='import_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_page_imports_article_id_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['editor_id'], ['editors.id'], name=op.f('fk_page_imports_editor_id_editors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_imports'))
    )
    with op.batch_alter_table('page_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_imports_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('page_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_imports_created_at'))

    op.drop_table('page_imports')
