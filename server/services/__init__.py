"""Use cases. Each write is one transaction that validates first, writes its audit events, and
writes nothing at all when any user error is found."""
