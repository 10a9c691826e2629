from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_history')]

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
    ]
