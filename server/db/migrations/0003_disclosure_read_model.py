from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields



async def fill_read_model(apps, schema_editor) -> None:
    """Disclosures recorded before the read model existed: derive it from the link tables."""
    from server.db.reports import parts_sql

    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    parts = parts_sql(postgres, "disclosure")
    await client.execute_script(
        "UPDATE disclosure SET (categories_text, subject_types_text, purposes_text, "
        f"transfers_json) = (SELECT {parts})"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0002_data_subjects')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Disclosure',
            name='categories_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='purposes_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='subject_types_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='transfers_json',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.RunPython(fill_read_model),
    ]
