from tortoise import migrations
from tortoise.migrations import operations as ops
from enum import StrEnum
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index



class DisclosureFrequency(StrEnum):
    CONTINUOUS = "CONTINUOUS"
    ON_REQUEST = "ON_REQUEST"


class SpecialCategoryCondition(StrEnum):
    EXPLICIT_CONSENT = "EXPLICIT_CONSENT"
    EMPLOYMENT_SOCIAL_SECURITY = "EMPLOYMENT_SOCIAL_SECURITY"
    VITAL_INTERESTS = "VITAL_INTERESTS"
    NOT_FOR_PROFIT_BODY = "NOT_FOR_PROFIT_BODY"
    MADE_PUBLIC_BY_SUBJECT = "MADE_PUBLIC_BY_SUBJECT"
    LEGAL_CLAIMS = "LEGAL_CLAIMS"
    SUBSTANTIAL_PUBLIC_INTEREST = "SUBSTANTIAL_PUBLIC_INTEREST"
    HEALTH_OR_SOCIAL_CARE = "HEALTH_OR_SOCIAL_CARE"
    PUBLIC_HEALTH = "PUBLIC_HEALTH"
    ARCHIVING_RESEARCH_STATISTICS = "ARCHIVING_RESEARCH_STATISTICS"
    CRIMINAL_DATA_AUTHORISED_BY_LAW = "CRIMINAL_DATA_AUTHORISED_BY_LAW"


async def fill_history(apps, schema_editor) -> None:
    """Facts recorded before they kept two clocks. A consent's old recorded_at was the caller's
    decision time and created_at our clock; a status change was recorded when it took effect;
    a disclosure's end, when its audit event says it was ended; each subject gets one version holding since it was created."""
    client = schema_editor.client
    await client.execute_script(
        "UPDATE consent_record SET decided_at = recorded_at;"
        "UPDATE consent_record SET recorded_at = created_at;"
        "UPDATE status_change SET recorded_at = at;"
        "UPDATE disclosure SET ended_recorded_at = COALESCE((SELECT max(a.at) FROM audit_event a "
        "WHERE a.entity_type = 'Disclosure' AND a.action = 'endDisclosure' "
        "AND a.entity_id = disclosure.id), created_at) WHERE effective_to IS NOT NULL;"
    )
    postgres = client.capabilities.dialect == "postgres"
    categories = (
        "(SELECT string_agg(category_id, ',' ORDER BY category_id) FROM subject_category "
        "WHERE subject_id = s.id)"
        if postgres
        else "(SELECT group_concat(category_id, ',') FROM (SELECT category_id FROM "
        "subject_category WHERE subject_id = s.id ORDER BY category_id))"
    )
    await client.execute_script(
        "INSERT INTO subject_version (subject_id, subject_type_id, country, categories_text, "
        "valid_from, recorded_at, actor) "
        f"SELECT s.id, s.subject_type_id, s.country, COALESCE({categories}, ''), s.created_at, "
        "s.updated_at, 'migration' FROM data_subject s"
    )


async def restore_indexes(apps, schema_editor) -> None:
    """SQLite makes a column NOT NULL by rebuilding its table, and the rebuild above drops the
    table's indexes: put back the two the models declare (a no-op where they survived)."""
    await schema_editor.client.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_status_chan_recipie_909b70" '
        'ON "status_change" ("recipient_id", "at");'
        'CREATE INDEX IF NOT EXISTS "idx_consent_rec_subject_6e05ca" '
        'ON "consent_record" ("subject_id", "recorded_at");'
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0005_disclosure_audience')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DisclosureEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('subject', fields.ForeignKeyField('models.DataSubject', source_field='subject_id', db_constraint=True, to_field='id', related_name='disclosure_events', on_delete=OnDelete.RESTRICT)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reference', fields.CharField(max_length=200)),
                ('note', fields.TextField(null=True, unique=False)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=200)),
            ],
            options={'table': 'disclosure_event', 'app': 'models', 'indexes': [Index(fields=['subject_id', 'occurred_at'])], 'pk_attr': 'id', 'table_description': "Append-only: one actual disclosure of one person's data under an ON_REQUEST disclosure."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubjectVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.ForeignKeyField('models.DataSubject', source_field='subject_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.RESTRICT)),
                ('subject_type_id', fields.CharField(max_length=200)),
                ('country', fields.CharField(max_length=2)),
                ('categories_text', fields.TextField(unique=False)),
                ('valid_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=200)),
            ],
            options={'table': 'subject_version', 'app': 'models', 'indexes': [Index(fields=['subject_id', 'valid_from'])], 'pk_attr': 'id', 'table_description': "Append-only: the subject's facts (type, country, categories) from `valid_from` on, as"},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='ConsentRecord',
            options={'table': 'consent_record', 'app': 'models', 'indexes': [Index(fields=['subject_id', 'recorded_at'])], 'pk_attr': 'id', 'table_description': 'Append-only: the consent of a subject to a purpose, as decided at `decided_at` (the'},
        ),
        ops.AddField(
            model_name='ConsentRecord',
            name='decided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ConsentRecord',
            name='explicit',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='ended_recorded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='frequency',
            field=fields.CharEnumField(default=DisclosureFrequency.CONTINUOUS, db_default='CONTINUOUS', description='CONTINUOUS: CONTINUOUS\nON_REQUEST: ON_REQUEST', enum_type=DisclosureFrequency, max_length=16),
        ),
        ops.AddField(
            model_name='Disclosure',
            name='special_category_condition',
            field=fields.CharEnumField(null=True, description='EXPLICIT_CONSENT: EXPLICIT_CONSENT\nEMPLOYMENT_SOCIAL_SECURITY: EMPLOYMENT_SOCIAL_SECURITY\nVITAL_INTERESTS: VITAL_INTERESTS\nNOT_FOR_PROFIT_BODY: NOT_FOR_PROFIT_BODY\nMADE_PUBLIC_BY_SUBJECT: MADE_PUBLIC_BY_SUBJECT\nLEGAL_CLAIMS: LEGAL_CLAIMS\nSUBSTANTIAL_PUBLIC_INTEREST: SUBSTANTIAL_PUBLIC_INTEREST\nHEALTH_OR_SOCIAL_CARE: HEALTH_OR_SOCIAL_CARE\nPUBLIC_HEALTH: PUBLIC_HEALTH\nARCHIVING_RESEARCH_STATISTICS: ARCHIVING_RESEARCH_STATISTICS\nCRIMINAL_DATA_AUTHORISED_BY_LAW: CRIMINAL_DATA_AUTHORISED_BY_LAW', enum_type=SpecialCategoryCondition, max_length=40),
        ),
        ops.AddField(
            model_name='StatusChange',
            name='recorded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(fill_history),
        ops.AlterField(
            model_name='ConsentRecord',
            name='decided_at',
            field=fields.DatetimeField(auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='StatusChange',
            name='recorded_at',
            field=fields.DatetimeField(auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(restore_indexes),
    ]
