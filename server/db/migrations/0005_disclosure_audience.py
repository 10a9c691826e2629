from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields



async def fill_audience(apps, schema_editor) -> None:
    """Disclosures recorded before the audience index existed: derive it from the link tables."""
    await schema_editor.client.execute_script(
        "INSERT INTO disclosure_audience (disclosure_id, subject_type_id, category_id) "
        "SELECT dc.disclosure_id, st.subject_type_id, dc.category_id "
        "FROM disclosure_category dc "
        "JOIN disclosure_subject_type st ON st.disclosure_id = dc.disclosure_id"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0004_api_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DisclosureAudience',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='audience', on_delete=OnDelete.CASCADE)),
                ('subject_type_id', fields.CharField(max_length=200)),
                ('category_id', fields.CharField(max_length=200)),
            ],
            options={'table': 'disclosure_audience', 'app': 'models', 'unique_together': (('subject_type_id', 'category_id', 'disclosure'),), 'pk_attr': 'id', 'table_description': 'Whose data of which category a disclosure covers: one row per subject type and category'},
            bases=['Model'],
        ),
        ops.RunPython(fill_audience),
    ]
