"""Tortoise models. Many-to-many links are explicit tables with their own indexes:
tortoise's implicit M2M filters made SQLite scan whole tables (794 ms against 28 ms)."""

from __future__ import annotations

from typing import cast

from tortoise import fields
from tortoise.models import Model

from server.domain.access import Role
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    SpecialCategoryCondition,
    TransferMechanism,
)


def nullable_text() -> fields.Field[str | None]:
    """A TextField that may hold NULL, typed so: tortoise types every TextField as `str`."""
    return cast("fields.Field[str | None]", fields.TextField(null=True))


class DataCategory(Model):
    key = fields.CharField(primary_key=True, max_length=200)
    name = fields.CharField(max_length=200)
    description = nullable_text()
    sensitive = fields.BooleanField(default=False)
    parent: fields.ForeignKeyNullableRelation[DataCategory] = fields.ForeignKeyField(
        "models.DataCategory", related_name="children", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "data_category"


class Purpose(Model):
    key = fields.CharField(primary_key=True, max_length=200)
    name = fields.CharField(max_length=200)
    description = nullable_text()
    parent: fields.ForeignKeyNullableRelation[Purpose] = fields.ForeignKeyField(
        "models.Purpose", related_name="children", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "purpose"


class SubjectType(Model):
    key = fields.CharField(primary_key=True, max_length=200)
    name = fields.CharField(max_length=200)
    description = nullable_text()

    class Meta:
        table = "subject_type"


class Recipient(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=100, unique=True)
    name = fields.CharField(max_length=200)
    # Case-folded name: the listing orders by (sort_name, id) the same way on every database.
    sort_name = fields.CharField(max_length=200, db_index=True)
    # Case-folded name, legal name and slug: case-insensitive search beyond ASCII on SQLite too.
    search_text = fields.TextField(default="", db_default="")
    legal_name = fields.CharField(max_length=300, null=True)
    description = nullable_text()
    kind = fields.CharEnumField(RecipientKind, max_length=32, db_index=True)
    role = fields.CharEnumField(ProcessingRole, max_length=32, db_index=True)
    status = fields.CharEnumField(RecipientStatus, max_length=32, db_index=True)
    country = fields.CharField(max_length=2, db_index=True)
    services: fields.JSONField[list[str]] = fields.JSONField(default=list)
    website = fields.CharField(max_length=2000, null=True)
    privacy_policy_url = fields.CharField(max_length=2000, null=True)
    dpa_signed_on = fields.DateField(null=True)
    engaged_by: fields.ForeignKeyNullableRelation[Recipient] = fields.ForeignKeyField(
        "models.Recipient", related_name="subprocessors", null=True, on_delete=fields.RESTRICT
    )
    # Tortoise adds each foreign key's column as `<name>_id` at runtime; declared for mypy only.
    engaged_by_id: int | None
    # The deprecated summary of dpf_certifications as it stood when last written (an EU-US
    # certification in force that day): kept for the old column's readers, read by no answer.
    dpf_certified = fields.BooleanField(default=False)
    # Data Privacy Framework certifications, oldest first: a list of {"framework", "certifiedOn",
    # "lapsedOn"} (server/db/recipients.py reads them into regimes.DpfCertification).
    dpf_certifications: fields.JSONField[list[dict[str, str | None]]] = fields.JSONField(
        default=list, db_default="[]"
    )
    # The corporate group the recipient belongs to: binding corporate rules hold only within one.
    corporate_group = fields.CharField(max_length=200, null=True)
    # An international organisation (GDPR Art. 4(26)): restricted wherever its seat is.
    international_organisation = fields.BooleanField(default=False, db_default=False)
    registered_by = fields.CharField(max_length=200)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "recipient"
        indexes = (("engaged_by_id",),)


class Disclosure(Model):
    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation[Recipient] = fields.ForeignKeyField(
        "models.Recipient", related_name="disclosures", on_delete=fields.RESTRICT
    )
    recipient_id: int
    legal_basis = fields.CharEnumField(LegalBasis, max_length=32)
    ground = fields.CharEnumField(DisclosureGround, max_length=32)
    retention = fields.CharField(max_length=200, null=True)
    effective_from = fields.DateField()
    effective_to = fields.DateField(null=True)
    # When this service recorded the disclosure, and its end (set once, with effective_to): an
    # answer "as known at" a moment reads the end only if it was recorded by then.
    created_at = fields.DatetimeField()
    ended_recorded_at = fields.DatetimeField(null=True)
    frequency = fields.CharEnumField(
        DisclosureFrequency,
        max_length=16,
        default=DisclosureFrequency.CONTINUOUS,
        db_default=DisclosureFrequency.CONTINUOUS.value,
    )
    special_category_condition = fields.CharEnumField(
        SpecialCategoryCondition, max_length=40, null=True
    )
    # The establishment the data is disclosed from (GDPR Art. 3(1)): the main one when the caller
    # names none; null for a subprocessor's disclosure (its exporter is the processor that
    # engaged it) and for disclosures recorded before establishments existed.
    exporter: fields.ForeignKeyNullableRelation[Establishment] = fields.ForeignKeyField(
        "models.Establishment", related_name="disclosures", null=True, on_delete=fields.RESTRICT
    )
    exporter_id: int | None
    # A read model of the link tables below, written once with them (a disclosure's parts never
    # change): reports read a disclosure in one row instead of four lookups.
    categories_text = nullable_text()
    subject_types_text = nullable_text()
    purposes_text = nullable_text()
    transfers_json = nullable_text()
    # Moves on with each correction (updateDisclosure), against which the next is made.
    version = fields.IntField(default=1, db_default=1)
    # A correction splits a disclosure in effective time: from the day it applies, this row
    # holds the corrected terms (effective_from is that day, started_on the day the disclosure
    # first took effect, as people know it); the terms before live on, unchanged, in a row
    # ended that day whose corrected_into is this one, which reports at past moments read.
    started_on = fields.DateField(null=True)
    corrected_into: fields.ForeignKeyNullableRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="corrected_terms", null=True, on_delete=fields.RESTRICT
    )
    corrected_into_id: int | None

    class Meta:
        table = "disclosure"
        indexes = (("recipient_id", "effective_from"),)


class DisclosureCategory(Model):
    id = fields.IntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="category_links", on_delete=fields.CASCADE
    )
    category: fields.ForeignKeyRelation[DataCategory] = fields.ForeignKeyField(
        "models.DataCategory", related_name="disclosure_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "disclosure_category"
        unique_together = (("disclosure", "category"), ("category", "disclosure"))


class DisclosureSubjectType(Model):
    id = fields.IntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="subject_type_links", on_delete=fields.CASCADE
    )
    subject_type: fields.ForeignKeyRelation[SubjectType] = fields.ForeignKeyField(
        "models.SubjectType", related_name="disclosure_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "disclosure_subject_type"
        unique_together = (("disclosure", "subject_type"), ("subject_type", "disclosure"))


class DisclosureAudience(Model):
    """Whose data of which category a disclosure covers: one row per subject type and category
    pair, written with the disclosure. It indexes the question a rights request asks (this
    subject type, any of these categories), which the two link tables answer only by
    intersecting thousands of rows."""

    id = fields.IntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="audience", on_delete=fields.CASCADE
    )
    subject_type_id = fields.CharField(max_length=200)
    category_id = fields.CharField(max_length=200)

    class Meta:
        table = "disclosure_audience"
        unique_together = (("subject_type_id", "category_id", "disclosure"),)


class DisclosurePurpose(Model):
    id = fields.IntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="purpose_links", on_delete=fields.CASCADE
    )
    purpose: fields.ForeignKeyRelation[Purpose] = fields.ForeignKeyField(
        "models.Purpose", related_name="disclosure_links", on_delete=fields.RESTRICT
    )
    # Order as entered: the first purpose sorts a subject's reasons.
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "disclosure_purpose"
        unique_together = (("disclosure", "purpose"), ("purpose", "disclosure"))


class Transfer(Model):
    id = fields.IntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="transfers", on_delete=fields.CASCADE
    )
    country = fields.CharField(max_length=2, db_index=True)
    mechanism = fields.CharEnumField(TransferMechanism, max_length=40)
    reference = fields.CharField(max_length=500, null=True)
    # When the safeguard took effect (the day it was signed); null when not recorded.
    signed_on = fields.DateField(null=True)
    # For a limited adequacy decision: the importer is attested to fall within its scope.
    within_adequacy_scope = fields.BooleanField(null=True)

    class Meta:
        table = "transfer"
        indexes = (("disclosure_id",),)


class StatusChange(Model):
    """Append-only: the status a recipient had at any moment is read from here."""

    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation[Recipient] = fields.ForeignKeyField(
        "models.Recipient", related_name="status_changes", on_delete=fields.RESTRICT
    )
    from_status = fields.CharEnumField(RecipientStatus, max_length=32, null=True)
    to_status = fields.CharEnumField(RecipientStatus, max_length=32)
    # When the move took effect (may be dated in the past), and when this service recorded it.
    at = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    note = nullable_text()
    actor = fields.CharField(max_length=200)

    class Meta:
        table = "status_change"
        indexes = (("recipient_id", "at"),)


class AuditEvent(Model):
    """Append-only audit log: who changed what, when, as before/after pairs."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=200)
    action = fields.CharField(max_length=100)
    entity_type = fields.CharField(max_length=50)
    entity_id = fields.IntField()
    recipient: fields.ForeignKeyNullableRelation[Recipient] = fields.ForeignKeyField(
        "models.Recipient", related_name="audit_events", null=True, on_delete=fields.RESTRICT
    )
    changes = fields.TextField()

    class Meta:
        table = "audit_event"
        indexes = (("recipient_id", "id"), ("entity_type", "entity_id"))


class DataSubject(Model):
    """A person whose data the organisation holds, known by the reference of the calling system."""

    id = fields.IntField(primary_key=True)
    external_ref = fields.CharField(max_length=200, unique=True)
    subject_type: fields.ForeignKeyRelation[SubjectType] = fields.ForeignKeyField(
        "models.SubjectType", related_name="data_subjects", on_delete=fields.RESTRICT
    )
    subject_type_id: str
    country = fields.CharField(max_length=2)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "data_subject"


class SubjectVersion(Model):
    """Append-only: the subject's facts (type, country, categories) from `valid_from` on, as
    recorded at `recorded_at`. The data_subject row and its categories are the read model of
    the version with the latest valid_from."""

    id = fields.IntField(primary_key=True)
    subject: fields.ForeignKeyRelation[DataSubject] = fields.ForeignKeyField(
        "models.DataSubject", related_name="versions", on_delete=fields.RESTRICT
    )
    subject_id: int
    subject_type_id = fields.CharField(max_length=200)
    country = fields.CharField(max_length=2)
    categories_text = fields.TextField()
    valid_from = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    actor = fields.CharField(max_length=200)

    class Meta:
        table = "subject_version"
        indexes = (("subject_id", "valid_from"),)


class SubjectCategory(Model):
    id = fields.IntField(primary_key=True)
    subject: fields.ForeignKeyRelation[DataSubject] = fields.ForeignKeyField(
        "models.DataSubject", related_name="category_links", on_delete=fields.CASCADE
    )
    category: fields.ForeignKeyRelation[DataCategory] = fields.ForeignKeyField(
        "models.DataCategory", related_name="subject_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "subject_category"
        unique_together = (("subject", "category"),)


class ConsentRecord(Model):
    """Append-only: the consent of a subject to a purpose, as decided at `decided_at` (the
    calling system's word) and recorded at `recorded_at` (our clock). The latest decision counts."""

    id = fields.IntField(primary_key=True)
    subject: fields.ForeignKeyRelation[DataSubject] = fields.ForeignKeyField(
        "models.DataSubject", related_name="consents", on_delete=fields.RESTRICT
    )
    purpose: fields.ForeignKeyRelation[Purpose] = fields.ForeignKeyField(
        "models.Purpose", related_name="consents", on_delete=fields.RESTRICT
    )
    granted = fields.BooleanField()
    explicit = fields.BooleanField(default=False, db_default=False)
    decided_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    created_at = fields.DatetimeField()
    actor = fields.CharField(max_length=200)

    class Meta:
        table = "consent_record"
        indexes = (("subject_id", "recorded_at"),)


class DisclosureEvent(Model):
    """Append-only: one actual disclosure of one person's data under an ON_REQUEST disclosure."""

    id = fields.IntField(primary_key=True)
    disclosure: fields.ForeignKeyRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="events", on_delete=fields.RESTRICT
    )
    disclosure_id: int
    subject: fields.ForeignKeyRelation[DataSubject] = fields.ForeignKeyField(
        "models.DataSubject", related_name="disclosure_events", on_delete=fields.RESTRICT
    )
    subject_id: int
    occurred_at = fields.DatetimeField()
    reference = fields.CharField(max_length=200)
    note = nullable_text()
    recorded_at = fields.DatetimeField()
    actor = fields.CharField(max_length=200)

    class Meta:
        table = "disclosure_event"
        indexes = (("subject_id", "occurred_at"),)


class Establishment(Model):
    """One of the organisation's own legal entities: the controller a disclosure comes from
    (GDPR Art. 3(1)), and the regimes whose people it targets (Art. 3(2)). One is the main one."""

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=100, unique=True)
    name = fields.CharField(max_length=200)
    legal_name = fields.CharField(max_length=300, null=True)
    country = fields.CharField(max_length=2)
    # Jurisdiction values, comma-joined in their enum order.
    targets_text = fields.CharField(max_length=100, default="")
    main = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "establishment"


class TransferConsent(Model):
    """Append-only: one person's explicit consent to the transfer of their data to one
    recipient in one country (GDPR Art. 49(1)(a)), not to a purpose. The latest decision
    counts (by decided_at, ties by recorded_at)."""

    id = fields.IntField(primary_key=True)
    subject: fields.ForeignKeyRelation[DataSubject] = fields.ForeignKeyField(
        "models.DataSubject", related_name="transfer_consents", on_delete=fields.RESTRICT
    )
    subject_id: int
    recipient: fields.ForeignKeyRelation[Recipient] = fields.ForeignKeyField(
        "models.Recipient", related_name="transfer_consents", on_delete=fields.RESTRICT
    )
    recipient_id: int
    country = fields.CharField(max_length=2)
    granted = fields.BooleanField()
    decided_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    actor = fields.CharField(max_length=200)

    class Meta:
        table = "transfer_consent"
        indexes = (("subject_id", "decided_at"),)


class ApiKey(Model):
    """An API key: a name (the audit actor), a role, and the sha256 of its token. Tokens are 256
    random bits, so a fast hash is enough: there is nothing to guess or brute-force, and the
    token itself is never stored. Revoked keys stay, so a name is never reused."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    role = fields.CharEnumField(Role, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class ChangeRequest(Model):
    """A change to a recipient that waits for a second key (issue 15 §2): an import that
    registered it straight into a later status (kind IMPORT, confirmed or rejected), and, as the
    review of material changes grows, the changes themselves. Append-only but for its decision,
    written once. `authors` is a JSON list of the keys that authored any part of it (none of
    them may decide it); `changes` a JSON object of the fields it changes, each [before, after]."""

    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation[Recipient] = fields.ForeignKeyField(
        "models.Recipient", related_name="change_requests", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=40)
    status = fields.CharField(max_length=16, default="PENDING")
    authors = fields.TextField()
    summary = fields.TextField()
    changes = fields.TextField()
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    decided_by = fields.CharField(max_length=200, null=True)
    note = fields.TextField(null=True)
    # For a change of one disclosure (corrected or ended): which.
    disclosure: fields.ForeignKeyNullableRelation[Disclosure] = fields.ForeignKeyField(
        "models.Disclosure", related_name="change_requests", null=True, on_delete=fields.RESTRICT
    )
    disclosure_id: int | None
    # What applies on approval, as a JSON object (services/change_decisions.py reads it back).
    proposal = fields.TextField(null=True)

    class Meta:
        table = "change_request"
        indexes = (("status", "created_at"), ("recipient_id", "created_at"))
