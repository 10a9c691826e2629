from tortoise import migrations
from tortoise.migrations import operations as ops
from enum import StrEnum
from tortoise import fields


# The mechanisms as they stood when this migration was written: the 2010 standard contractual
# clauses added (issue 13). The column is a varchar(40): no stored value changes.
class TransferMechanism(StrEnum):
    NOT_RESTRICTED = "NOT_RESTRICTED"
    ADEQUACY_DECISION = "ADEQUACY_DECISION"
    STANDARD_CONTRACTUAL_CLAUSES = "STANDARD_CONTRACTUAL_CLAUSES"
    STANDARD_CONTRACTUAL_CLAUSES_2010 = "STANDARD_CONTRACTUAL_CLAUSES_2010"
    UK_IDTA = "UK_IDTA"
    UK_ADDENDUM = "UK_ADDENDUM"
    BINDING_CORPORATE_RULES = "BINDING_CORPORATE_RULES"
    DEROGATION_EXPLICIT_CONSENT = "DEROGATION_EXPLICIT_CONSENT"
    DEROGATION_CONTRACT = "DEROGATION_CONTRACT"
    DEROGATION_LEGAL_CLAIMS = "DEROGATION_LEGAL_CLAIMS"
    DEROGATION_PUBLIC_INTEREST = "DEROGATION_PUBLIC_INTEREST"
    DEROGATION_VITAL_INTERESTS = "DEROGATION_VITAL_INTERESTS"
    NONE = "NONE"


async def restore_indexes(apps, schema_editor) -> None:
    """SQLite changes a column by rebuilding its table, which drops the table's indexes (see
    0006): put back the transfer's two (a no-op where they survived)."""
    await schema_editor.client.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_transfer_disclos_36d220" ON "transfer" ("disclosure_id");'
        'CREATE INDEX IF NOT EXISTS "idx_transfer_country_fcfc72" ON "transfer" ("country");'
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0006_history')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Transfer',
            name='mechanism',
            field=fields.CharEnumField(description='NOT_RESTRICTED: NOT_RESTRICTED\nADEQUACY_DECISION: ADEQUACY_DECISION\nSTANDARD_CONTRACTUAL_CLAUSES: STANDARD_CONTRACTUAL_CLAUSES\nSTANDARD_CONTRACTUAL_CLAUSES_2010: STANDARD_CONTRACTUAL_CLAUSES_2010\nUK_IDTA: UK_IDTA\nUK_ADDENDUM: UK_ADDENDUM\nBINDING_CORPORATE_RULES: BINDING_CORPORATE_RULES\nDEROGATION_EXPLICIT_CONSENT: DEROGATION_EXPLICIT_CONSENT\nDEROGATION_CONTRACT: DEROGATION_CONTRACT\nDEROGATION_LEGAL_CLAIMS: DEROGATION_LEGAL_CLAIMS\nDEROGATION_PUBLIC_INTEREST: DEROGATION_PUBLIC_INTEREST\nDEROGATION_VITAL_INTERESTS: DEROGATION_VITAL_INTERESTS\nNONE: NONE', enum_type=TransferMechanism, max_length=40),
        ),
        ops.RunPython(restore_indexes),
    ]
