"""Dagster's SQLite event log, with a batch of asset events written in one transaction.

A run over the whole history plans and materializes ``orders`` and ``orders_rejected`` for every
day: two years are 2,920 asset events. Dagster's :class:`SqliteEventLogStorage` commits each
event on its own, to the run's database and again to the index, opening and closing (and so
checkpointing) both files every time: 5-8 ms an event on a quiet disk, 30-55 ms on a busy one,
most of a 10-million-line run's bookkeeping. Dagster already hands such events over in batches
(the planned events of a run, the materializations of one output's partitions) when
``DAGSTER_EVENT_BATCH_SIZE`` is set, but the SQLite storage stores a batch one event at a time.
:class:`BatchingSqliteEventLogStorage` writes the same rows, through the same Dagster code, in one
transaction per database. (dagster-postgres, the production profile's storage, has a batch
write of its own for materializations; that profile does not set ``DAGSTER_EVENT_BATCH_SIZE``,
so it writes one event at a time.)

Configured in ``deploy/dagster.yaml`` (``event_log_storage``); it stores its files where the
default storage does (``$DAGSTER_HOME/history/runs``), so an existing instance keeps its history.
Every Dagster process of the instance (webserver, daemon, CLI) imports this module: it imports
Dagster alone, not the platform's storage package (pandas, DuckDB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as db
from dagster import Field, StringSource
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_select
from dagster._serdes import ConfigurableClassData

BATCH_SIZE = 1000
"""Events per batch (``DAGSTER_EVENT_BATCH_SIZE``): a run's planned events come in batches of
this many, so two years of both daily assets are two batches."""


def default_base_dir() -> str:
    """Where Dagster's default SQLite storage keeps event logs: ``$DAGSTER_HOME/history/runs``."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(
            "BatchingSqliteEventLogStorage (event_log_storage in dagster.yaml) keeps its files "
            "in $DAGSTER_HOME/history/runs: set DAGSTER_HOME, or give it a base_dir"
        )
    return os.path.join(home, "history", "runs", "")


def _is_asset_event(event: EventLogEntry) -> bool:
    dagster_event = event.dagster_event
    return dagster_event is not None and dagster_event.event_type in ASSET_EVENTS


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """:class:`SqliteEventLogStorage` whose ``store_event_batch`` uses one transaction per file."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Dagster reads the batch size from the environment of every process that writes events
        # (the CLI, the run worker and its steps, the webserver); each of them builds this
        # storage first, so this is where batching is switched on for them.
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(BATCH_SIZE))
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchingSqliteEventLogStorage:
        return cls(config_value.get("base_dir") or default_base_dir(), inst_data)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        run_ids = {event.run_id for event in events}
        if len(run_ids) != 1:
            super().store_event_batch(events)  # one at a time, as Dagster does
            return
        # A run's planned events mix in its checks' (ASSET_CHECK_EVALUATION_PLANNED): those are
        # stored one at a time, as Dagster does, after the batch.
        asset_events = [event for event in events if _is_asset_event(event)]
        if asset_events:
            self._store_asset_events(run_ids.pop(), asset_events)
        for event in events:
            if not _is_asset_event(event):
                self.store_event(event)

    def _store_asset_events(self, run_id: str, events: Sequence[EventLogEntry]) -> None:
        """What ``SqliteEventLogStorage.store_event`` writes for each event: the run's own
        file, then the index with the events' tags and their assets' latest records. Two files,
        two transactions (the storage's lock is not reentrant)."""
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        id_column = SqlEventLogStorageTable.c.id
        with self.index_transaction() as conn:
            # One multi-row insert, then its ids: the rows after the last id before it. No other
            # writer runs inside a SQLite write transaction, and new ids only grow.
            before = conn.execute(db_select([db.func.max(id_column)])).scalar() or 0
            conn.execute(SqlEventLogStorageTable.insert(), rows)
            inserted = db_select([id_column]).where(id_column > before).order_by(id_column)
            event_ids = [row[0] for row in conn.execute(inserted)]
            # Cannot differ inside one write transaction; if it did, the index is rolled back
            # rather than tag the wrong events (the run's own file already holds the rows).
            if len(event_ids) != len(rows):
                raise RuntimeError(f"{len(rows)} events inserted, {len(event_ids)} ids found")
            self._store_asset_event_tags(conn, events, event_ids)
            for event, event_id in _last_of_each_kind(events, event_ids):
                self._store_asset_event(conn, event, event_id)


def _last_of_each_kind(
    events: Sequence[EventLogEntry], event_ids: Sequence[int]
) -> list[tuple[EventLogEntry, int]]:
    """Per asset and event type, its last event, in the batch's order. An asset's row keeps, in
    each column, what the last event writing that column wrote, and an event of one type writes
    the same columns as any other of that type: updating the row with these events alone leaves
    it as updating it with every event would (730 days of one asset: one update, not 730)."""
    last: dict[tuple[str, str], tuple[int, EventLogEntry, int]] = {}
    for position, (event, event_id) in enumerate(zip(events, event_ids, strict=True)):
        dagster_event = event.get_dagster_event()
        key = (dagster_event.asset_key.to_string(), dagster_event.event_type_value)
        last[key] = (position, event, event_id)
    return [(event, event_id) for _, event, event_id in sorted(last.values(), key=lambda x: x[0])]
