from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_scc_2010_value')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Establishment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=100)),
                ('name', fields.CharField(max_length=200)),
                ('legal_name', fields.CharField(null=True, max_length=300)),
                ('country', fields.CharField(max_length=2)),
                ('targets_text', fields.CharField(default='', max_length=100)),
                ('main', fields.BooleanField(default=False)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'establishment', 'app': 'models', 'pk_attr': 'id', 'table_description': "One of the organisation's own legal entities: the controller a disclosure comes from"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TransferConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.ForeignKeyField('models.DataSubject', source_field='subject_id', db_constraint=True, to_field='id', related_name='transfer_consents', on_delete=OnDelete.RESTRICT)),
                ('recipient', fields.ForeignKeyField('models.Recipient', source_field='recipient_id', db_constraint=True, to_field='id', related_name='transfer_consents', on_delete=OnDelete.RESTRICT)),
                ('country', fields.CharField(max_length=2)),
                ('granted', fields.BooleanField()),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=200)),
            ],
            options={'table': 'transfer_consent', 'app': 'models', 'indexes': [Index(fields=['subject_id', 'decided_at'])], 'pk_attr': 'id', 'table_description': "Append-only: one person's explicit consent to the transfer of their data to one"},
            bases=['Model'],
        ),
    ]
