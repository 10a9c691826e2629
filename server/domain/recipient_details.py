"""A recipient's details, as the inventory records them: who it is (the recipients a controller
names under GDPR Art. 13(1)(e) and 30(1)(d)), where it is, what it does and where it publishes its
privacy policy. Which details a recipient must have, and the checks each one passes.

Plain Python, no ORM: the services check here before they touch the database. A detail given as
None was not given (or is being cleared), and only the rules about required details judge it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from server.domain import validation
from server.domain.errors import ErrorCollector


def check_details(
    errors: ErrorCollector,
    path: list[str],
    *,
    today: date,
    name: str | None = None,
    legal_name: str | None = None,
    description: str | None = None,
    country: str | None = None,
    services: list[str] | None = None,
    website: str | None = None,
    privacy_policy_url: str | None = None,
    dpa_signed_on: date | None = None,
    corporate_group: str | None = None,
) -> None:
    """Record under `path` what is wrong with each detail given."""
    if name is not None and (problem := validation.check_name(name)):
        errors.add([*path, "name"], problem)
    if legal_name is not None and (
        problem := validation.check_name(legal_name, "Legal name", validation.LEGAL_NAME_MAX)
    ):
        errors.add([*path, "legalName"], problem)
    if description is not None and (problem := validation.description_error(description)):
        errors.add([*path, "description"], problem)
    # Where the recipient is established: Art. 30(1)(e) and 44 ask whether data leaves the EEA.
    if country is not None and (problem := validation.country_error(country)):
        errors.add([*path, "country"], problem)
    if services is not None:
        if len(services) > validation.SERVICES_MAX:
            errors.add([*path, "services"], f"At most {validation.SERVICES_MAX} service tags.")
        for i, tag in enumerate(services):
            if problem := validation.service_tag_error(tag):
                errors.add([*path, "services", str(i)], problem)
    for field_name, value in (("website", website), ("privacyPolicyUrl", privacy_policy_url)):
        if value is not None and (problem := validation.url_error(value)):
            errors.add([*path, field_name], problem)
    if dpa_signed_on is not None and (problem := dpa_signed_on_error(dpa_signed_on, today)):
        errors.add([*path, "dpaSignedOn"], problem)
    # Binding corporate rules hold only within one group (Art. 47): a name, like the others.
    if corporate_group is not None and (problem := corporate_group_error(corporate_group)):
        errors.add([*path, "corporateGroup"], problem)


def dpa_signed_on_error(signed_on: date, today: date) -> str | None:
    """The day the data processing agreement was signed (Art. 28(3)): a fact, so never after
    today; a DPA to be signed later is not one yet."""
    if problem := validation.moment_error(signed_on):
        return problem
    if signed_on > today:
        return (
            f"dpaSignedOn {signed_on.isoformat()} is after today ({today.isoformat()}): record "
            "the day the DPA was signed, once it is (Art. 28(3) GDPR)."
        )
    return None


def corporate_group_error(value: str) -> str | None:
    """A corporate group is named like a recipient; an empty one is none (`corporate_group`)."""
    if not value.strip():
        return None
    return validation.check_name(value, "Corporate group", validation.NAME_MAX)


def corporate_group(value: str | None) -> str | None:
    """The group as stored: trimmed, and None for an empty one."""
    return (value.strip() or None) if value is not None else None


def check_new_details(
    errors: ErrorCollector,
    path: list[str],
    *,
    today: date,
    name: str | None,
    legal_name: str | None = None,
    description: str | None = None,
    country: str | None = None,
    services: list[str] | None = None,
    website: str | None = None,
    privacy_policy_url: str | None = None,
    dpa_signed_on: date | None = None,
    corporate_group: str | None = None,
) -> None:
    """A recipient being registered: it needs a name (a recipient is named, Art. 13(1)(e)), and
    each detail given passes `check_details`."""
    if name is None:
        errors.add([*path, "name"], "Name must not be empty.")
    check_details(
        errors,
        path,
        today=today,
        name=name,
        legal_name=legal_name,
        description=description,
        country=country,
        services=services,
        website=website,
        privacy_policy_url=privacy_policy_url,
        dpa_signed_on=dpa_signed_on,
        corporate_group=corporate_group,
    )


def check_not_cleared(
    errors: ErrorCollector, path: list[str], values: Mapping[str, object]
) -> None:
    """The details every recipient has (name, kind, role, country, services, its DPF
    certifications and whether it is an international organisation): a change may set them,
    never clear them. `values` maps each one's field name to its new value, None meaning
    cleared."""
    for field_name, value in values.items():
        if value is None:
            errors.add([*path, field_name], f"{field_name} cannot be cleared.")


def registration_slug(name: str | None, given: str | None) -> str:
    """The slug a new recipient gets: the one given, else one derived from its name; empty when
    neither gives one."""
    slug = given if given is not None else validation.slugify(name or "")
    return slug or ""


def registration_slug_error(given: str | None, slug: str) -> str | None:
    """Why a new recipient cannot have `slug` (from `registration_slug`); `given` is the slug
    the caller gave, if any."""
    if given is not None:
        return validation.slug_error(given)
    if not slug:
        return "Cannot derive a slug from this name: give one."
    return None


def status_since_error(status_since: datetime | None, now: datetime) -> str | None:
    """An imported recipient took its status at some moment, never one still to come."""
    if status_since is not None and (problem := validation.moment_error(status_since)):
        return problem
    if status_since is not None and status_since.tzinfo is None:
        status_since = status_since.replace(tzinfo=UTC)  # a naive time is taken as UTC
    if status_since is not None and status_since > now:
        return "statusSince must not be in the future."
    return None
