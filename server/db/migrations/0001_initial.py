from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from enum import StrEnum

# Frozen copies of the enums (server.domain.enums) as they were when this migration was written:
# a migration never imports live project code, which may change after it has run.


class RecipientKind(StrEnum):
    SERVICE_PROVIDER = "SERVICE_PROVIDER"
    AI_PROVIDER = "AI_PROVIDER"
    ANALYTICS_PROVIDER = "ANALYTICS_PROVIDER"
    BUSINESS_PARTNER = "BUSINESS_PARTNER"
    GROUP_AFFILIATE = "GROUP_AFFILIATE"
    ACQUIRER = "ACQUIRER"
    PUBLIC_AUTHORITY = "PUBLIC_AUTHORITY"


class ProcessingRole(StrEnum):
    PROCESSOR = "PROCESSOR"
    SUBPROCESSOR = "SUBPROCESSOR"
    CONTROLLER = "CONTROLLER"
    JOINT_CONTROLLER = "JOINT_CONTROLLER"


class RecipientStatus(StrEnum):
    PROPOSED = "PROPOSED"
    UNDER_REVIEW = "UNDER_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    OFFBOARDED = "OFFBOARDED"


class LegalBasis(StrEnum):
    CONSENT = "CONSENT"
    CONTRACT = "CONTRACT"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    VITAL_INTERESTS = "VITAL_INTERESTS"
    PUBLIC_TASK = "PUBLIC_TASK"
    LEGITIMATE_INTERESTS = "LEGITIMATE_INTERESTS"


class DisclosureGround(StrEnum):
    SERVICE_PROVISION = "SERVICE_PROVISION"
    USER_PERMISSION = "USER_PERMISSION"
    CORPORATE_TRANSACTION = "CORPORATE_TRANSACTION"
    GROUP_SHARING = "GROUP_SHARING"
    LEGAL_DUTY = "LEGAL_DUTY"
    PROTECTION_OF_RIGHTS = "PROTECTION_OF_RIGHTS"


class TransferMechanism(StrEnum):
    NOT_RESTRICTED = "NOT_RESTRICTED"
    ADEQUACY_DECISION = "ADEQUACY_DECISION"
    STANDARD_CONTRACTUAL_CLAUSES = "STANDARD_CONTRACTUAL_CLAUSES"
    UK_IDTA = "UK_IDTA"
    UK_ADDENDUM = "UK_ADDENDUM"
    BINDING_CORPORATE_RULES = "BINDING_CORPORATE_RULES"
    DEROGATION_EXPLICIT_CONSENT = "DEROGATION_EXPLICIT_CONSENT"
    DEROGATION_CONTRACT = "DEROGATION_CONTRACT"
    DEROGATION_LEGAL_CLAIMS = "DEROGATION_LEGAL_CLAIMS"
    DEROGATION_PUBLIC_INTEREST = "DEROGATION_PUBLIC_INTEREST"
    DEROGATION_VITAL_INTERESTS = "DEROGATION_VITAL_INTERESTS"
    NONE = "NONE"


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='DataCategory',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('sensitive', fields.BooleanField(default=False)),
                ('parent', fields.ForeignKeyField('models.DataCategory', source_field='parent_id', null=True, db_constraint=True, to_field='key', related_name='children', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'data_category', 'app': 'models', 'pk_attr': 'key'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Purpose',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('parent', fields.ForeignKeyField('models.Purpose', source_field='parent_id', null=True, db_constraint=True, to_field='key', related_name='children', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'purpose', 'app': 'models', 'pk_attr': 'key'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Recipient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=100)),
                ('name', fields.CharField(max_length=200)),
                ('sort_name', fields.CharField(db_index=True, max_length=200)),
                ('legal_name', fields.CharField(null=True, max_length=300)),
                ('description', fields.TextField(null=True, unique=False)),
                ('kind', fields.CharEnumField(db_index=True, description='SERVICE_PROVIDER: SERVICE_PROVIDER\nAI_PROVIDER: AI_PROVIDER\nANALYTICS_PROVIDER: ANALYTICS_PROVIDER\nBUSINESS_PARTNER: BUSINESS_PARTNER\nGROUP_AFFILIATE: GROUP_AFFILIATE\nACQUIRER: ACQUIRER\nPUBLIC_AUTHORITY: PUBLIC_AUTHORITY', enum_type=RecipientKind, max_length=32)),
                ('role', fields.CharEnumField(db_index=True, description='PROCESSOR: PROCESSOR\nSUBPROCESSOR: SUBPROCESSOR\nCONTROLLER: CONTROLLER\nJOINT_CONTROLLER: JOINT_CONTROLLER', enum_type=ProcessingRole, max_length=32)),
                ('status', fields.CharEnumField(db_index=True, description='PROPOSED: PROPOSED\nUNDER_REVIEW: UNDER_REVIEW\nAPPROVED: APPROVED\nREJECTED: REJECTED\nACTIVE: ACTIVE\nSUSPENDED: SUSPENDED\nOFFBOARDED: OFFBOARDED', enum_type=RecipientStatus, max_length=32)),
                ('country', fields.CharField(db_index=True, max_length=2)),
                ('services', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('website', fields.CharField(null=True, max_length=2000)),
                ('privacy_policy_url', fields.CharField(null=True, max_length=2000)),
                ('dpa_signed_on', fields.DateField(null=True)),
                ('engaged_by', fields.ForeignKeyField('models.Recipient', source_field='engaged_by_id', null=True, db_constraint=True, to_field='id', related_name='subprocessors', on_delete=OnDelete.RESTRICT)),
                ('dpf_certified', fields.BooleanField(default=False)),
                ('registered_by', fields.CharField(max_length=200)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recipient', 'app': 'models', 'indexes': [Index(fields=['engaged_by_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=200)),
                ('action', fields.CharField(max_length=100)),
                ('entity_type', fields.CharField(max_length=50)),
                ('entity_id', fields.IntField()),
                ('recipient', fields.ForeignKeyField('models.Recipient', source_field='recipient_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.RESTRICT)),
                ('changes', fields.TextField(unique=False)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['recipient_id', 'id']), Index(fields=['entity_type', 'entity_id'])], 'pk_attr': 'id', 'table_description': 'Append-only audit log: who changed what, when, as before/after pairs.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Disclosure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.Recipient', source_field='recipient_id', db_constraint=True, to_field='id', related_name='disclosures', on_delete=OnDelete.RESTRICT)),
                ('legal_basis', fields.CharEnumField(description='CONSENT: CONSENT\nCONTRACT: CONTRACT\nLEGAL_OBLIGATION: LEGAL_OBLIGATION\nVITAL_INTERESTS: VITAL_INTERESTS\nPUBLIC_TASK: PUBLIC_TASK\nLEGITIMATE_INTERESTS: LEGITIMATE_INTERESTS', enum_type=LegalBasis, max_length=32)),
                ('ground', fields.CharEnumField(description='SERVICE_PROVISION: SERVICE_PROVISION\nUSER_PERMISSION: USER_PERMISSION\nCORPORATE_TRANSACTION: CORPORATE_TRANSACTION\nGROUP_SHARING: GROUP_SHARING\nLEGAL_DUTY: LEGAL_DUTY\nPROTECTION_OF_RIGHTS: PROTECTION_OF_RIGHTS', enum_type=DisclosureGround, max_length=32)),
                ('retention', fields.CharField(null=True, max_length=200)),
                ('effective_from', fields.DateField()),
                ('effective_to', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'disclosure', 'app': 'models', 'indexes': [Index(fields=['recipient_id', 'effective_from'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DisclosureCategory',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='category_links', on_delete=OnDelete.CASCADE)),
                ('category', fields.ForeignKeyField('models.DataCategory', source_field='category_id', db_constraint=True, to_field='key', related_name='disclosure_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'disclosure_category', 'app': 'models', 'unique_together': (('disclosure', 'category'), ('category', 'disclosure')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DisclosurePurpose',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='purpose_links', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.ForeignKeyField('models.Purpose', source_field='purpose_id', db_constraint=True, to_field='key', related_name='disclosure_links', on_delete=OnDelete.RESTRICT)),
                ('position', fields.SmallIntField(default=0)),
            ],
            options={'table': 'disclosure_purpose', 'app': 'models', 'unique_together': (('disclosure', 'purpose'), ('purpose', 'disclosure')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatusChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.Recipient', source_field='recipient_id', db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.RESTRICT)),
                ('from_status', fields.CharEnumField(null=True, description='PROPOSED: PROPOSED\nUNDER_REVIEW: UNDER_REVIEW\nAPPROVED: APPROVED\nREJECTED: REJECTED\nACTIVE: ACTIVE\nSUSPENDED: SUSPENDED\nOFFBOARDED: OFFBOARDED', enum_type=RecipientStatus, max_length=32)),
                ('to_status', fields.CharEnumField(description='PROPOSED: PROPOSED\nUNDER_REVIEW: UNDER_REVIEW\nAPPROVED: APPROVED\nREJECTED: REJECTED\nACTIVE: ACTIVE\nSUSPENDED: SUSPENDED\nOFFBOARDED: OFFBOARDED', enum_type=RecipientStatus, max_length=32)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('note', fields.TextField(null=True, unique=False)),
                ('actor', fields.CharField(max_length=200)),
            ],
            options={'table': 'status_change', 'app': 'models', 'indexes': [Index(fields=['recipient_id', 'at'])], 'pk_attr': 'id', 'table_description': 'Append-only: the status a recipient had at any moment is read from here.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubjectType',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'subject_type', 'app': 'models', 'pk_attr': 'key'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DisclosureSubjectType',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='subject_type_links', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.ForeignKeyField('models.SubjectType', source_field='subject_type_id', db_constraint=True, to_field='key', related_name='disclosure_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'disclosure_subject_type', 'app': 'models', 'unique_together': (('disclosure', 'subject_type'), ('subject_type', 'disclosure')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Transfer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('disclosure', fields.ForeignKeyField('models.Disclosure', source_field='disclosure_id', db_constraint=True, to_field='id', related_name='transfers', on_delete=OnDelete.CASCADE)),
                ('country', fields.CharField(db_index=True, max_length=2)),
                ('mechanism', fields.CharEnumField(description='NOT_RESTRICTED: NOT_RESTRICTED\nADEQUACY_DECISION: ADEQUACY_DECISION\nSTANDARD_CONTRACTUAL_CLAUSES: STANDARD_CONTRACTUAL_CLAUSES\nUK_IDTA: UK_IDTA\nUK_ADDENDUM: UK_ADDENDUM\nBINDING_CORPORATE_RULES: BINDING_CORPORATE_RULES\nDEROGATION_EXPLICIT_CONSENT: DEROGATION_EXPLICIT_CONSENT\nDEROGATION_CONTRACT: DEROGATION_CONTRACT\nDEROGATION_LEGAL_CLAIMS: DEROGATION_LEGAL_CLAIMS\nDEROGATION_PUBLIC_INTEREST: DEROGATION_PUBLIC_INTEREST\nDEROGATION_VITAL_INTERESTS: DEROGATION_VITAL_INTERESTS\nNONE: NONE', enum_type=TransferMechanism, max_length=40)),
                ('reference', fields.CharField(null=True, max_length=500)),
            ],
            options={'table': 'transfer', 'app': 'models', 'indexes': [Index(fields=['disclosure_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
