"""User errors: what was wrong with the input, where, and what kind of wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.domain.enums import UserErrorCode


@dataclass(frozen=True)
class UserError:
    field: list[str] | None
    message: str
    code: UserErrorCode = UserErrorCode.INVALID


@dataclass
class UserErrors(Exception):
    """Raised by a service to abort its transaction; carries every error found."""

    errors: list[UserError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(e.message for e in self.errors)


class ErrorCollector:
    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def add(
        self, path: list[str] | None, message: str, code: UserErrorCode = UserErrorCode.INVALID
    ) -> None:
        self.errors.append(UserError(field=path, message=message, code=code))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise UserErrors(list(self.errors))
