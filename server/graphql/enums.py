"""The contract's enums, registered with strawberry from the domain's own."""

from __future__ import annotations

import strawberry

from server.domain import enums

RecipientKind = strawberry.enum(
    enums.RecipientKind,
    description="What a recipient is to the data subject (the classes named in a privacy notice).",
)
ProcessingRole = strawberry.enum(
    enums.ProcessingRole, description="The recipient's role under data protection law."
)
RecipientStatus = strawberry.enum(
    enums.RecipientStatus,
    description=(
        "Lifecycle: PROPOSED -> UNDER_REVIEW -> APPROVED | REJECTED; APPROVED -> ACTIVE; "
        "ACTIVE <-> SUSPENDED; ACTIVE | SUSPENDED -> OFFBOARDED."
    ),
)
LegalBasis = strawberry.enum(enums.LegalBasis, description="GDPR Art. 6(1) legal bases.")
DisclosureGround = strawberry.enum(
    enums.DisclosureGround,
    description="The circumstance under which data is disclosed to the recipient.",
)
TransferMechanism = strawberry.enum(
    enums.TransferMechanism,
    description=(
        "How a transfer of personal data to another country is made lawful "
        "(GDPR / UK GDPR Chapter V)."
    ),
)
UserErrorCode = strawberry.enum(enums.UserErrorCode)
