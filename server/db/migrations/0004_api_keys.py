from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from enum import StrEnum

# A frozen copy of server.domain.access.Role as it was when this migration was written: a
# migration never imports live project code, which may change after it has run.


class Role(StrEnum):
    VIEWER = "viewer"
    PROCUREMENT = "procurement"
    PRIVACY = "privacy"
    ADMIN = "admin"


class Migration(migrations.Migration):
    dependencies = [('models', '0003_disclosure_read_model')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('role', fields.CharEnumField(description='VIEWER: viewer\nPROCUREMENT: procurement\nPRIVACY: privacy\nADMIN: admin', enum_type=Role, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An API key: a name (the audit actor), a role, and the sha256 of its token. Tokens are 256'},
            bases=['Model'],
        ),
    ]
