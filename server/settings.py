"""Configuration from the environment, read in one place so every limit is documented here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite://data/inventory.sqlite3"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    environment: str = "development"
    # Limits on what one request may ask for.
    max_page_size: int = 100
    default_page_size: int = 50
    max_body_bytes: int = 256 * 1024
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("HOST") or "127.0.0.1",
            port=int(env.get("PORT") or 8000),
            environment=env.get("INVENTORY_ENV") or "development",
        )
