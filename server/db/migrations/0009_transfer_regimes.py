"""Issue 13 part 5: a disclosure's exporting establishment, a transfer's signing day and
adequacy scope, and a recipient's dated DPF certifications, corporate group and whether it is an
international organisation. Every column is added (SQLite adds a column without rebuilding the
table, so no index is lost); the disclosures' transfers_json read model is not rewritten: its
old three-element rows read as having neither signing day nor scope."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


async def fill_dpf_certifications(apps, schema_editor) -> None:
    """Recipients flagged DPF-certified before certifications were dated: one EU-US
    certification from the day the recipient was recorded (its created_at, in UTC), still in
    force. The flag said nothing of the UK Extension, so none is recorded. The old column stays."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "UPDATE recipient SET dpf_certifications = jsonb_build_array(jsonb_build_object("
            "'framework', 'EU_US', 'certifiedOn', "
            "to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'lapsedOn', NULL)) "
            "WHERE dpf_certified"
        )
    else:
        # SQLite's date() reads the stored offset and gives the day in UTC.
        await client.execute_script(
            "UPDATE recipient SET dpf_certifications = json_array(json_object("
            "'framework', 'EU_US', 'certifiedOn', date(created_at), 'lapsedOn', NULL)) "
            "WHERE dpf_certified"
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0008_establishments_transfer_consents')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Disclosure',
            name='exporter',
            field=fields.ForeignKeyField('models.Establishment', source_field='exporter_id', null=True, db_constraint=True, to_field='id', related_name='disclosures', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Recipient',
            name='corporate_group',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Recipient',
            name='dpf_certifications',
            field=fields.JSONField(default=list, db_default='[]', encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Recipient',
            name='international_organisation',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Transfer',
            name='signed_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Transfer',
            name='within_adequacy_scope',
            field=fields.BooleanField(null=True),
        ),
        ops.RunPython(fill_dpf_certifications),
    ]
