"""Global IDs are Relay's: what strawberry.relay writes and reads."""

from __future__ import annotations

import pytest
from strawberry.relay import GlobalID, to_base64

from server.graphql.nodes import global_id


@pytest.mark.parametrize("pk", [1, 42, 99_999, 2**31 - 1])
@pytest.mark.parametrize("type_name", ["Recipient", "Disclosure", "DataSubject"])
def test_global_id_is_strawberrys(type_name: str, pk: int) -> None:
    made = global_id(type_name, pk)
    assert made == to_base64(type_name, pk)
    parsed = GlobalID.from_id(made)
    assert (parsed.type_name, parsed.node_id) == (type_name, str(pk))
