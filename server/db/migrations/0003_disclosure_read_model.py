from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


# The backfill as server.db.reports.parts_sql(postgres, "disclosure") wrote it when this migration
# was written, copied as literal SQL: a migration never imports live project code.
FILL_READ_MODEL_POSTGRES = (
    "UPDATE disclosure SET (categories_text, subject_types_text, purposes_text, transfers_json) = ("
    "SELECT "
    "(SELECT string_agg(category_id, ',' ORDER BY category_id) FROM disclosure_category "
    "WHERE disclosure_id = disclosure.id), "
    "(SELECT string_agg(subject_type_id, ',' ORDER BY subject_type_id) "
    "FROM disclosure_subject_type WHERE disclosure_id = disclosure.id), "
    "(SELECT string_agg(purpose_id, ',' ORDER BY position, purpose_id) "
    "FROM disclosure_purpose WHERE disclosure_id = disclosure.id), "
    "(SELECT json_agg(json_build_array(country, mechanism, reference) ORDER BY id)::text "
    "FROM transfer WHERE disclosure_id = disclosure.id)"
    ")"
)
# SQLite 3.40 has no ORDER BY inside aggregates: it aggregates rows in the order an ordered
# subquery yields them.
FILL_READ_MODEL_SQLITE = (
    "UPDATE disclosure SET (categories_text, subject_types_text, purposes_text, transfers_json) = ("
    "SELECT "
    "(SELECT group_concat(category_id, ',') FROM (SELECT category_id FROM "
    "disclosure_category WHERE disclosure_id = disclosure.id ORDER BY category_id)), "
    "(SELECT group_concat(subject_type_id, ',') FROM (SELECT subject_type_id FROM "
    "disclosure_subject_type WHERE disclosure_id = disclosure.id ORDER BY subject_type_id)), "
    "(SELECT group_concat(purpose_id, ',') FROM (SELECT purpose_id FROM disclosure_purpose "
    "WHERE disclosure_id = disclosure.id ORDER BY position, purpose_id)), "
    "(SELECT json_group_array(json_array(country, mechanism, reference)) FROM (SELECT "
    "country, mechanism, reference FROM transfer WHERE disclosure_id = disclosure.id "
    "ORDER BY id))"
    ")"
)


async def fill_read_model(apps, schema_editor) -> None:
    """Disclosures recorded before the read model existed: derive it from the link tables."""
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    await client.execute_script(FILL_READ_MODEL_POSTGRES if postgres else FILL_READ_MODEL_SQLITE)


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
