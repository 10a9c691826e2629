from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_transfer_regimes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChangeRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.Recipient', source_field='recipient_id', db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=40)),
                ('status', fields.CharField(default='PENDING', max_length=16)),
                ('authors', fields.TextField(unique=False)),
                ('summary', fields.TextField(unique=False)),
                ('changes', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=200)),
                ('note', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'change_request', 'app': 'models', 'indexes': [Index(fields=['status', 'created_at']), Index(fields=['recipient_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A change to a recipient that waits for a second key (issue 15 §2): an import that'},
            bases=['Model'],
        ),
    ]
