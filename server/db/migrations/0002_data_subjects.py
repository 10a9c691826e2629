from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index



def search_text(name: str, legal_name: str | None, slug: str) -> str:
    """A frozen copy of server.domain.validation.search_text as it was when this migration was
    written (a migration never imports live project code): what the dashboard's search matches,
    case-folded, so that it is case-insensitive beyond ASCII on every database."""
    return " ".join(part for part in (name, legal_name or "", slug) if part).casefold()


async def fill_search_text(apps, schema_editor) -> None:
    """Recipients registered before search_text existed: derive it as the services did then."""
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    _, rows = await client.execute_query("SELECT id, name, legal_name, slug FROM recipient")
    update = (
        "UPDATE recipient SET search_text = $1 WHERE id = $2"
        if postgres
        else "UPDATE recipient SET search_text = ? WHERE id = ?"
    )
    for row in rows:
        await client.execute_query(update, [search_text(row[1], row[2], row[3]), row[0]])


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataSubject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('external_ref', fields.CharField(unique=True, max_length=200)),
                ('subject_type', fields.ForeignKeyField('models.SubjectType', source_field='subject_type_id', db_constraint=True, to_field='key', related_name='data_subjects', on_delete=OnDelete.RESTRICT)),
                ('country', fields.CharField(max_length=2)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'data_subject', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person whose data the organisation holds, known by the reference of the calling system.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.ForeignKeyField('models.DataSubject', source_field='subject_id', db_constraint=True, to_field='id', related_name='consents', on_delete=OnDelete.RESTRICT)),
                ('purpose', fields.ForeignKeyField('models.Purpose', source_field='purpose_id', db_constraint=True, to_field='key', related_name='consents', on_delete=OnDelete.RESTRICT)),
                ('granted', fields.BooleanField()),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=200)),
            ],
            options={'table': 'consent_record', 'app': 'models', 'indexes': [Index(fields=['subject_id', 'recorded_at'])], 'pk_attr': 'id', 'table_description': 'Append-only: the consent of a subject to a purpose at a moment. The latest one counts.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubjectCategory',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.ForeignKeyField('models.DataSubject', source_field='subject_id', db_constraint=True, to_field='id', related_name='category_links', on_delete=OnDelete.CASCADE)),
                ('category', fields.ForeignKeyField('models.DataCategory', source_field='category_id', db_constraint=True, to_field='key', related_name='subject_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'subject_category', 'app': 'models', 'unique_together': (('subject', 'category'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Recipient',
            name='search_text',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.RunPython(fill_search_text),
    ]
