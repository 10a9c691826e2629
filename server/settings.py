"""Configuration from the environment, read in one place so every limit is documented here.

`Settings.from_env` refuses bad values with a message naming the variable, so a typo stops the
server at start-up instead of quietly leaving a limit at its default."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://data/inventory.sqlite3"
DEFAULT_DATABASE_TIMEOUT_MS = 5_000
DEFAULT_GRACEFUL_TIMEOUT_SECONDS = 10.0
ENVIRONMENTS = ("development", "production")
# How the privacy notice lists recipients (Art. 13(1)(e)): by category only, or named.
NOTICE_RECIPIENTS = ("categories", "named")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([smh])\s*$")
REDIS_SCHEMES = ("redis", "rediss", "unix")
# A token an operator supplies (ADMIN_TOKEN_FILE) is held to what ours are worth: at least
# ADMIN_TOKEN_MIN characters, ADMIN_TOKEN_DISTINCT_MIN of them different (no "aaaa…" or
# "1234…" padding), of the characters a bearer token may hold, no longer than any key token.
ADMIN_TOKEN_MIN = 32
ADMIN_TOKEN_DISTINCT_MIN = 12
ADMIN_TOKEN_MAX = 200
_BEARER_CHARACTERS = re.compile(r"[A-Za-z0-9._~+/=-]+")


class SettingsError(ValueError):
    """A setting from the environment that cannot be used; the message says which and why."""


def parse_rate(text: str, name: str = "RATE_LIMIT") -> float:
    """`50/s`, `600/m` or `10000/h` as tokens per second."""
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise SettingsError(
            f"{name} must be a positive number of requests per s, m or h, like 50/s or "
            f"600/m; got {text!r}."
        )
    return float(match.group(1)) / RATE_UNITS[match.group(2)]


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    environment: str = "development"
    log_level: str = "INFO"
    # How long a request waits for the database (a lock another process holds, a connection)
    # before it is answered 503.
    database_timeout_ms: int = DEFAULT_DATABASE_TIMEOUT_MS
    # After SIGTERM, how long requests in flight may take before the server stops anyway.
    graceful_timeout_seconds: float = DEFAULT_GRACEFUL_TIMEOUT_SECONDS
    # Limits on what one request may ask for.
    max_page_size: int = 100
    default_page_size: int = 50
    max_body_bytes: int = 256 * 1024
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5000
    # Parsed documents, validations and cost plans kept, each an LRU by query text.
    query_cache_size: int = 256
    # Nodes a query may ask for: items of every list along each path multiplied, summed.
    max_query_cost: int = 2_000_000
    # How old the counts behind the requested cost may be (server/services/statistics.py).
    cost_statistics_seconds: int = 60
    # What one query may return (list items, counted as they are completed) and how long its
    # execution may take; past either it stops with ANSWER_TOO_LARGE or EXECUTION_TIMEOUT.
    max_answer_nodes: int = 200_000
    max_execution_ms: int = 10_000
    # Requests per second per key (principal, else client address); None turns the limit off.
    rate_limit: float | None = None
    # Requests a key may make at once after idling; None means twice the per-second rate.
    rate_limit_burst: int | None = None
    # Requests per second per client address that present no key the service knows (none, a
    # bogus one, a revoked one), counted before the key is looked up; None turns it off. On
    # even without RATE_LIMIT: such requests are otherwise free to flood the key lookup.
    anonymous_rate_limit: float | None = 1.0
    anonymous_rate_limit_burst: int = 20
    # Seconds a request's body may take to arrive, whole, once the key is accepted.
    body_timeout_seconds: float = 10.0
    # Origins (scheme://host[:port]) whose pages may call the API from a browser; none: no CORS.
    cors_origins: tuple[str, ...] = ()
    # Redis (redis://, rediss:// or unix://) where RATE_LIMIT is counted for all the replicas
    # that name it (server/ratelimit.py:SharedRateLimit); None keeps each process's own count.
    redis_url: str | None = None
    # A file holding a token (a mounted secret): at start-up an admin key with that token is
    # created if no key has it yet (server/services/keys.py:ensure_admin_from_file).
    admin_token_file: str | None = None
    # What the exports say of the organisation that the inventory does not hold (issue 16): the
    # record of processing's controller block (its name only while no establishment is on
    # record), and whether the notice names its recipients or only their categories.
    controller_name: str | None = None
    controller_contact: str | None = None
    dpo_contact: str | None = None
    representative_contact: str | None = None
    notice_names_recipients: bool = False

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def burst(self) -> int:
        if self.rate_limit_burst is not None:
            return self.rate_limit_burst
        return max(1, round(2 * (self.rate_limit or 0)))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        def number(name: str, default: int, low: int = 1, high: int = 2**31 - 1) -> int:
            return _integer(name, get(name), default, low, high)

        environment = get("INVENTORY_ENV") or "development"
        if environment.lower() not in ENVIRONMENTS:
            raise SettingsError(
                f"INVENTORY_ENV must be one of {', '.join(ENVIRONMENTS)}; got {environment!r}."
            )
        environment = environment.lower()
        log_level = get("LOG_LEVEL") or "INFO"
        if log_level.upper() not in LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {log_level!r}."
            )
        log_level = log_level.upper()
        rate_text = get("RATE_LIMIT")
        rate_limit = parse_rate(rate_text) if rate_text else None
        burst_text = get("RATE_LIMIT_BURST")
        if burst_text is not None and rate_limit is None:
            raise SettingsError("RATE_LIMIT_BURST needs RATE_LIMIT (like RATE_LIMIT=50/s).")
        burst = _integer("RATE_LIMIT_BURST", burst_text, 0, 1, 10**9) if burst_text else None
        anonymous_text = get("ANONYMOUS_RATE_LIMIT")
        anonymous_rate: float | None = 1.0
        if anonymous_text is not None:
            off = anonymous_text.lower() == "off"
            anonymous_rate = None if off else parse_rate(anonymous_text, "ANONYMOUS_RATE_LIMIT")
        anonymous_burst = get("ANONYMOUS_RATE_LIMIT_BURST")
        if anonymous_rate is None and anonymous_burst is not None:
            raise SettingsError(
                f"ANONYMOUS_RATE_LIMIT_BURST ({anonymous_burst!r}) has no effect with "
                "ANONYMOUS_RATE_LIMIT=off."
            )
        body_timeout = _seconds("BODY_TIMEOUT_SECONDS", get("BODY_TIMEOUT_SECONDS"), 10.0)
        redis_url = get("REDIS_URL")
        if redis_url is not None:
            check_redis_url(redis_url)
            if rate_limit is None:
                raise SettingsError(
                    "REDIS_URL shares RATE_LIMIT between replicas and has no effect without it: "
                    "set RATE_LIMIT (like RATE_LIMIT=50/s) or unset REDIS_URL."
                )
        admin_token_file = get("ADMIN_TOKEN_FILE")
        if admin_token_file is not None:
            read_admin_token(admin_token_file)
        notice_recipients = (get("NOTICE_RECIPIENTS") or "categories").lower()
        if notice_recipients not in NOTICE_RECIPIENTS:
            raise SettingsError(
                f"NOTICE_RECIPIENTS must be one of {', '.join(NOTICE_RECIPIENTS)}; got "
                f"{notice_recipients!r}."
            )
        max_page_size = number("MAX_PAGE_SIZE", 100)
        default_page_size = number("DEFAULT_PAGE_SIZE", min(50, max_page_size))
        if default_page_size > max_page_size:
            raise SettingsError(
                f"DEFAULT_PAGE_SIZE ({default_page_size}) must not exceed MAX_PAGE_SIZE "
                f"({max_page_size})."
            )
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=get("HOST") or "127.0.0.1",
            port=number("PORT", 8000, 1, 65535),
            environment=environment,
            log_level=log_level,
            database_timeout_ms=number(
                "DATABASE_TIMEOUT_MS", DEFAULT_DATABASE_TIMEOUT_MS, 1, 10 * 60 * 1000
            ),
            graceful_timeout_seconds=_seconds(
                "GRACEFUL_TIMEOUT_SECONDS",
                get("GRACEFUL_TIMEOUT_SECONDS"),
                DEFAULT_GRACEFUL_TIMEOUT_SECONDS,
            ),
            max_page_size=max_page_size,
            default_page_size=default_page_size,
            max_body_bytes=number("MAX_BODY_BYTES", 256 * 1024, 1024),
            max_query_depth=number("MAX_QUERY_DEPTH", 10),
            max_aliases=number("MAX_ALIASES", 30, 0),
            max_tokens=number("MAX_TOKENS", 5000, 10),
            query_cache_size=number("QUERY_CACHE_SIZE", 256, 1),
            max_query_cost=number("MAX_QUERY_COST", 2_000_000),
            cost_statistics_seconds=number("COST_STATISTICS_SECONDS", 60, 0, 86_400),
            max_answer_nodes=number("MAX_ANSWER_NODES", 200_000, 1),
            max_execution_ms=number("MAX_EXECUTION_MS", 10_000, 1),
            rate_limit=rate_limit,
            rate_limit_burst=burst,
            anonymous_rate_limit=anonymous_rate,
            anonymous_rate_limit_burst=number("ANONYMOUS_RATE_LIMIT_BURST", 20, 1, 10**6),
            body_timeout_seconds=body_timeout,
            cors_origins=parse_origins(get("CORS_ORIGINS") or ""),
            redis_url=redis_url,
            admin_token_file=admin_token_file,
            controller_name=get("CONTROLLER_NAME"),
            controller_contact=get("CONTROLLER_CONTACT"),
            dpo_contact=get("DPO_CONTACT"),
            representative_contact=get("REPRESENTATIVE_CONTACT"),
            notice_names_recipients=notice_recipients == "named",
        )


def check_redis_url(url: str) -> None:
    """redis://[:password@]host[:port][/db], rediss://… (TLS) or unix:///path/to/socket."""
    shown = re.sub(r"//[^@/]*@", "//***@", url)  # never a password in a message
    scheme, _, rest = url.partition("://")
    if scheme not in REDIS_SCHEMES or not rest:
        raise SettingsError(
            "REDIS_URL must be redis://host:port/db, rediss://host:port/db (TLS) or "
            f"unix:///path/to/redis.sock; got {shown!r}."
        )
    if scheme == "unix":
        if not rest.startswith("/"):
            raise SettingsError(
                f"REDIS_URL: a unix socket URL needs an absolute path, like "
                f"unix:///run/redis/redis.sock; got {shown!r}."
            )
        return
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise SettingsError(f"REDIS_URL's port must be a number from 1 to 65535: {shown!r}.")
    if not parts.hostname:
        raise SettingsError(f"REDIS_URL names no host: {shown!r}.")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise SettingsError(f"REDIS_URL's database must be a number, like /0; got {shown!r}.")


def admin_token_problem(token: str) -> str | None:
    """Why a token an operator supplies is not good enough for an admin key, or None."""
    if len(token) < ADMIN_TOKEN_MIN:
        return (
            f"the token is {len(token)} characters; it needs at least {ADMIN_TOKEN_MIN} "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if len(token) > ADMIN_TOKEN_MAX:
        return f"the token is {len(token)} characters; at most {ADMIN_TOKEN_MAX}"
    if not _BEARER_CHARACTERS.fullmatch(token):
        return "the token may hold only letters, digits and . _ ~ + / = -"
    if len(set(token)) < ADMIN_TOKEN_DISTINCT_MIN:
        return (
            f"the token repeats itself: {len(set(token))} different characters, at least "
            f"{ADMIN_TOKEN_DISTINCT_MIN} needed; use a random one"
        )
    return None


def read_admin_token(path: str) -> str:
    """The token in ADMIN_TOKEN_FILE (surrounding whitespace and a final newline dropped), or a
    SettingsError naming the file and what is wrong. The token never appears in the message."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SettingsError(f"ADMIN_TOKEN_FILE {path!r} does not exist.") from None
    except IsADirectoryError:
        raise SettingsError(f"ADMIN_TOKEN_FILE {path!r} is a folder, not a file.") from None
    except PermissionError:
        raise SettingsError(f"ADMIN_TOKEN_FILE {path!r} cannot be read by this user.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"ADMIN_TOKEN_FILE {path!r} cannot be read: {exc}.") from None
    if not token:
        raise SettingsError(f"ADMIN_TOKEN_FILE {path!r} is empty.")
    if problem := admin_token_problem(token):
        raise SettingsError(f"ADMIN_TOKEN_FILE {path!r}: {problem}.")
    return token


def _integer(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number; got {text!r}.") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}; got {value}.")
    return value


def _seconds(name: str, text: str | None, default: float) -> float:
    """A duration in seconds, fractions allowed (tests use a fraction), up to an hour."""
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds; got {text!r}.") from None
    if not 0.1 <= value <= 3600:
        raise SettingsError(f"{name} must be between 0.1 and 3600 seconds; got {text!r}.")
    return value


def parse_origins(text: str, name: str = "CORS_ORIGINS") -> tuple[str, ...]:
    """A comma-separated list of origins, each as a browser sends it in `Origin`: lower case,
    without the scheme's default port (https://Example.com:443 is https://example.com), so
    that the comparison the CORS middleware makes, exact text, matches.

    `*` is refused. The service runs on internal networks: with `*`, any web page a colleague
    opens could use their browser to call it and read the answers (what needs no key, like
    /readyz, and whatever a key the page holds reads). Naming the dashboards that may call it
    keeps that to them."""
    origins: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item == "*":
            raise SettingsError(
                f"{name} does not take '*': list each origin that may call the API, like "
                "https://dashboard.example.com."
            )
        origin = _origin(item)
        if origin is None:
            raise SettingsError(
                f"{name} must list origins as scheme://host[:port] (http or https, no path), "
                f"like https://dashboard.example.com or http://localhost:3000; got {item!r}."
            )
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


# A host name as browsers serialise it: dot-separated labels of letters, digits and hyphens.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(text: str) -> str | None:
    """`text` as an origin in its serialised form, or None when it is not one."""
    try:
        parts = urlsplit(text)
    except ValueError:  # an invalid IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or parts.path or parts.query or parts.fragment:
        return None
    if "?" in text or "#" in text or "@" in parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if port == 0:
        return None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        try:
            host = "[" + str(ipaddress.IPv6Address(host)) + "]"
        except ValueError:
            return None
    elif not _HOST.fullmatch(host):
        return None
    if port is not None and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"
