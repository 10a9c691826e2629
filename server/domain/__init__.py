"""Plain-Python privacy rules: no ORM, no GraphQL."""
