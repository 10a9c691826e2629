"""How bulk inserts split a table's rows into statements on SQLite."""

from __future__ import annotations

from server.db.bulk_inserts import _statement_rows


def test_full_statements_then_the_rest_in_powers_of_two() -> None:
    """Every row once, in statements of a few sizes only (sqlite3 keeps each size prepared)."""
    assert _statement_rows(0, 585) == []
    assert _statement_rows(7, 10) == [4, 2, 1]
    assert _statement_rows(20, 10) == [10, 10]
    assert _statement_rows(2500, 585) == [585, 585, 585, 585, 128, 32]
    sizes = {size for count in range(1, 3000) for size in _statement_rows(count, 585)}
    assert sizes <= {585, *(1 << i for i in range(10))}
    assert all(sum(_statement_rows(count, 585)) == count for count in range(3000))
