"""Issue 15 §2: a disclosure's version, first day and the row its terms before a correction
moved to; a change request's disclosure and what applies on its approval. Columns only."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_change_requests')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ChangeRequest',
            name='disclosure',
            field=fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', null=True, db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='ChangeRequest',
            name='proposal',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='corrected_into',
            field=fields.ForeignKeyField('models.Disclosure', source_field='corrected_into_id', null=True, db_constraint=True, to_field='id', related_name='corrected_terms', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='started_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
    ]
