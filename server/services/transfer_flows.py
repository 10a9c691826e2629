"""Disclosures as the transfer rules read them (`server.domain.transfers.Flow`): who exports
each one, to whom, on what, with the regimes that reached the exporter along a chain. The subject
report and the dashboard's gaps build their flows here, the one place that knows the rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from server.db.disclosures import DisclosureRow
from server.db.establishments import EstablishmentRow, main_establishment
from server.domain import transfers
from server.domain.enums import DisclosureFrequency, RecipientKind, TransferMechanism
from server.domain.transfers import ChainRegimes, Exporter, Flow

_MECHANISMS = {m.value: m for m in TransferMechanism}
_KINDS = {k.value: k for k in RecipientKind}
_FREQUENCIES = {f.value: f for f in DisclosureFrequency}

NO_ESTABLISHMENT = (
    "No establishment of the organisation is on record, so the law that governs this "
    "disclosure's transfers cannot be judged: register the establishments "
    "(registerEstablishment)."
)


def recipient_profile(row: Mapping[str, Any]) -> transfers.RecipientProfile:
    return transfers.RecipientProfile(
        str(row["id"]),
        row["name"],
        _KINDS[row["kind"]],
        row["country"],
        row["legal_name"],
        tuple(row["dpf_certifications"]),
        bool(row["international_organisation"]),
    )


def recorded_transfers(row: DisclosureRow) -> tuple[transfers.RecordedTransfer, ...]:
    return tuple(
        transfers.RecordedTransfer(
            t.country, _MECHANISMS[t.mechanism], t.reference, t.signed_on, t.within_adequacy_scope
        )
        for t in row.transfers
    )


class Flows:
    """Builds the flows of one answer from the rows it read: the establishments, and the
    recipients (with the processors that engaged them) by id."""

    def __init__(
        self,
        establishments: Mapping[int, EstablishmentRow],
        recipients: Mapping[int, Mapping[str, Any]],
    ) -> None:
        self.establishments = establishments
        self.main = main_establishment(establishments)
        self.recipients = recipients
        self._profiles: dict[int, transfers.RecipientProfile] = {}
        self._exporters: dict[int, Exporter] = {}

    def profile(self, recipient_id: int) -> transfers.RecipientProfile:
        found = self._profiles.get(recipient_id)
        if found is None:
            found = self._profiles[recipient_id] = recipient_profile(self.recipients[recipient_id])
        return found

    def exporter(self, row: DisclosureRow) -> Exporter | None:
        """Where the disclosure's data leaves from: the processor that engaged a subprocessor,
        in its country; else the establishment it names, or the main one. None when there is
        no establishment on record (or the engaging processor was not read)."""
        engager_id = self.recipients[row.recipient_id]["engaged_by_id"]
        if engager_id is not None:
            engager = self.recipients.get(engager_id)
            if engager is None:
                return None
            return Exporter(engager["name"], engager["country"], establishment=False)
        establishment = (
            self.establishments.get(row.exporter_id) if row.exporter_id is not None else None
        ) or self.main
        if establishment is None:
            return None
        found = self._exporters.get(establishment.id)
        if found is None:
            found = self._exporters[establishment.id] = Exporter(
                establishment.legal_name or establishment.name,
                establishment.country,
                frozenset(establishment.targets),
            )
        return found

    def _within_group(self, recipient: Mapping[str, Any], exporter: Exporter) -> bool:
        """Binding corporate rules bind one group: a group affiliate receiving from one of our
        establishments, or a subprocessor in the same corporate group as its processor."""
        if exporter.establishment:
            return recipient["kind"] == RecipientKind.GROUP_AFFILIATE.value
        engager = self.recipients[recipient["engaged_by_id"]]
        group = recipient["corporate_group"]
        return group is not None and group == engager["corporate_group"]

    def chain(self, rows: Iterable[DisclosureRow], day: date, lives_in: str | None) -> ChainRegimes:
        """The regimes reaching each recipient through the given disclosures (those that reach
        the person, or for a dashboard every one in effect)."""
        exporters: dict[int, list[Exporter]] = {}
        for row in rows:
            exporter = self.exporter(row)
            if exporter is not None:
                exporters.setdefault(row.recipient_id, []).append(exporter)
        engager_of = {rid: r["engaged_by_id"] for rid, r in self.recipients.items()}
        return ChainRegimes(exporters, engager_of, day, lives_in)

    def flow(self, row: DisclosureRow, chain: ChainRegimes) -> Flow | None:
        """The disclosure as a flow; None when its exporter cannot be known."""
        exporter = self.exporter(row)
        if exporter is None:
            return None
        recipient = self.recipients[row.recipient_id]
        return Flow(
            exporter,
            self.profile(row.recipient_id),
            recorded_transfers(row),
            _FREQUENCIES[row.frequency],
            row.effective_from,
            self._within_group(recipient, exporter),
            frozenset() if exporter.establishment else chain.upstream_of(row.recipient_id),
        )
