"""articles.title_folded: the title in lower case without accents, for the editors' search

Filled here for the articles already stored; the model sets it with the title afterwards.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 1000


def fold(text):
    """As newsletter.models.article.fold was when this revision was written."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def upgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('title_folded', sa.String(length=500), server_default='', nullable=False)
        )
    articles = sa.table('articles', sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('title_folded', sa.String))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.title)
            .where(articles.c.id > last).order_by(articles.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            articles.update().where(articles.c.id == sa.bindparam('row_id'))
            .values(title_folded=sa.bindparam('folded')),
            [{'row_id': row.id, 'folded': fold(row.title or '')[:500]} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('title_folded')
