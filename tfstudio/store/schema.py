"""The project schema as ordered migrations; a new column or table is a new function here."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from tfstudio.store.recorded import SOURCES as RECORDED_SOURCES
from tfstudio.store.recorded import from_file_name, stored_text

SPLITS = ("train", "val", "test")
SOURCES = ("human", "model")
REVIEW_STATES = ("none", "accepted", "rejected")
RUN_STATUSES = ("queued", "running", "stopped", "failed", "done")

migrations = Migrations("tfstudio")

# The label counts per recording and class and the triggers that keep them (made by m003;
# ``tfstudio check --repair`` makes them again when they are missing or not these).
LABEL_COUNTS_TABLE = """CREATE TABLE label_counts (
            recording_id INTEGER NOT NULL,
            class_id INTEGER NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (recording_id, class_id)
        ) WITHOUT ROWID;"""
LABEL_COUNTS_TRIGGERS = {
    "label_counts_insert": """CREATE TRIGGER label_counts_insert AFTER INSERT ON events
        WHEN NEW.source = 'human' OR NEW.review = 'accepted'
        BEGIN
            INSERT INTO label_counts (recording_id, class_id, n)
                VALUES (NEW.recording_id, NEW.class_id, 1)
                ON CONFLICT (recording_id, class_id) DO UPDATE SET n = n + 1;
        END;""",
    "label_counts_delete": """CREATE TRIGGER label_counts_delete AFTER DELETE ON events
        WHEN OLD.source = 'human' OR OLD.review = 'accepted'
        BEGIN
            UPDATE label_counts SET n = n - 1
                WHERE recording_id = OLD.recording_id AND class_id = OLD.class_id;
        END;""",
    "label_counts_update": """CREATE TRIGGER label_counts_update
        AFTER UPDATE OF recording_id, class_id, source, review ON events
        BEGIN
            UPDATE label_counts SET n = n - 1
                WHERE (OLD.source = 'human' OR OLD.review = 'accepted')
                AND recording_id = OLD.recording_id AND class_id = OLD.class_id;
            INSERT INTO label_counts (recording_id, class_id, n)
                SELECT NEW.recording_id, NEW.class_id, 1
                WHERE NEW.source = 'human' OR NEW.review = 'accepted'
                ON CONFLICT (recording_id, class_id) DO UPDATE SET n = n + 1;
        END;""",
}


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE recordings (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,          -- relative to the project folder when inside it
            name TEXT NOT NULL,                 -- file name, e.g. rec1.wav
            stem TEXT NOT NULL,                 -- file name without suffix, e.g. rec1
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            content_hash TEXT NOT NULL,
            sample_rate INTEGER NOT NULL CHECK (sample_rate > 0),
            channels INTEGER NOT NULL CHECK (channels > 0),
            frames INTEGER NOT NULL CHECK (frames > 0),
            duration REAL NOT NULL CHECK (duration > 0),
            split TEXT CHECK (split IS NULL OR split IN ('train', 'val', 'test')),
            status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing', 'changed')),
            added_at REAL NOT NULL
        );
        CREATE INDEX recordings_hash ON recordings (content_hash);
        CREATE INDEX recordings_stem ON recordings (stem);

        CREATE TABLE classes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
            color TEXT NOT NULL,
            hotkey TEXT,
            position INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            config TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'stopped', 'failed', 'done')),
            message TEXT NOT NULL DEFAULT '',
            device TEXT NOT NULL DEFAULT '',
            pid INTEGER,
            best_checkpoint TEXT,
            last_checkpoint TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL
        );

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
            class_id INTEGER NOT NULL REFERENCES classes (id),
            onset REAL NOT NULL CHECK (onset >= 0),
            offset REAL NOT NULL CHECK (offset >= onset),
            low_hz REAL,
            high_hz REAL,
            source TEXT NOT NULL DEFAULT 'human' CHECK (source IN ('human', 'model')),
            confidence REAL,
            run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
            review TEXT NOT NULL DEFAULT 'none' CHECK (review IN ('none', 'accepted', 'rejected')),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            CHECK (low_hz IS NULL OR high_hz IS NULL OR low_hz <= high_hz)
        );
        CREATE INDEX events_recording ON events (recording_id, onset);
        CREATE INDEX events_class ON events (class_id);
        CREATE INDEX events_source ON events (source, run_id);

        CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('batch', 'epoch', 'test')),
            epoch INTEGER NOT NULL,
            iteration INTEGER NOT NULL,
            tf_prob REAL,
            loss REAL,
            val_loss REAL,
            f1 REAL,
            er REAL,
            extra TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );
        CREATE INDEX metrics_run ON metrics (run_id, kind, iteration);

        -- Undo/redo that survives a restart: each row is one row change, grouped per user action.
        CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL,
            description TEXT NOT NULL,
            table_name TEXT NOT NULL CHECK (table_name IN ('events', 'classes')),
            row_id INTEGER NOT NULL,
            before TEXT,                        -- JSON row before the change, NULL for an insert
            after TEXT,                         -- JSON row after the change, NULL for a delete
            undone INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );
        CREATE INDEX history_group ON history (group_id);
        """
    )


@migrations()
def m002_run_process(db: Database) -> None:
    # Which process a running run belongs to: a pid alone may be reused after a kill.
    db.executescript(
        """
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE runs ADD COLUMN pid_started REAL;
        """
    )


@migrations()
def m003_scale(db: Database) -> None:
    # Large projects (issue 11): see tfstudio.store.history for the undo design.
    db.executescript(
        f"""
        -- Undo, redo and "drop the redo steps" find their groups through this index instead
        -- of scanning the whole history.
        CREATE INDEX history_undone ON history (undone, group_id);

        -- An entry with last_row_id stands for every human event with an id in
        -- row_id..last_row_id, all inserted by one step (an import): one row, not one per event.
        ALTER TABLE history ADD COLUMN last_row_id INTEGER;

        -- The events an undone range entry took away, kept for its redo (the events columns).
        CREATE TABLE history_events (
            history_id INTEGER NOT NULL,
            id INTEGER NOT NULL,
            recording_id INTEGER NOT NULL,
            class_id INTEGER NOT NULL,
            onset REAL NOT NULL,
            offset REAL NOT NULL,
            low_hz REAL,
            high_hz REAL,
            source TEXT NOT NULL,
            confidence REAL,
            run_id INTEGER,
            review TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX history_events_entry ON history_events (history_id);

        -- Labels per recording and class, kept by triggers: the recording browser reads it on
        -- every change, and counting a million events each time took a fifth of a second.
        {LABEL_COUNTS_TABLE}
        INSERT INTO label_counts (recording_id, class_id, n)
            SELECT recording_id, class_id, count(*) FROM events
            WHERE source = 'human' OR review = 'accepted'
            GROUP BY recording_id, class_id;

        {LABEL_COUNTS_TRIGGERS["label_counts_insert"]}

        {LABEL_COUNTS_TRIGGERS["label_counts_delete"]}

        {LABEL_COUNTS_TRIGGERS["label_counts_update"]}
        """
    )


@migrations()
def m004_event_tier(db: Database) -> None:
    # The TextGrid tier an imported label came from (NULL for every other label), so a
    # TextGrid's tiers come back out as they went in (issue 14). Undone imports keep it too.
    db.executescript(
        """
        ALTER TABLE events ADD COLUMN tier TEXT;
        ALTER TABLE history_events ADD COLUMN tier TEXT;
        """
    )


@migrations()
def m005_history_splits(db: Database) -> None:
    # Setting splits becomes an undoable step: the journal may name the recordings table
    # (only their split is kept in such an entry). SQLite cannot change a CHECK in place, so
    # the table is made again with its rows, ids and indexes.
    db.executescript(
        """
        CREATE TABLE history_new (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL,
            description TEXT NOT NULL,
            table_name TEXT NOT NULL
                CHECK (table_name IN ('events', 'classes', 'recordings')),
            row_id INTEGER NOT NULL,
            before TEXT,
            after TEXT,
            undone INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            last_row_id INTEGER
        );
        INSERT INTO history_new (id, group_id, description, table_name, row_id, before, after,
                                 undone, created_at, last_row_id)
            SELECT id, group_id, description, table_name, row_id, before, after, undone,
                   created_at, last_row_id
            FROM history;
        DROP TABLE history;
        ALTER TABLE history_new RENAME TO history;
        CREATE INDEX history_group ON history (group_id);
        CREATE INDEX history_undone ON history (undone, group_id);
        """
    )


@migrations()
def m006_recording_audio(db: Database) -> None:
    # The audio each recording has had, and since when the project has had it: a detection
    # is made from the audio its recording had when the detection was created (created_at,
    # which no edit, undo or redo changes), so one made before the file changed and was
    # imported again is known as such (Project.detections_from_other_audio), whichever way
    # it was stored, and an undo that brings one back brings back what it was made from.
    # A project made before this takes what it has detected as made from its audio now.
    db.executescript(
        """
        CREATE TABLE recording_audio (
            recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
            since REAL NOT NULL,
            content_hash TEXT NOT NULL,
            PRIMARY KEY (recording_id, since)
        ) WITHOUT ROWID;
        INSERT INTO recording_audio (recording_id, since, content_hash)
            SELECT id, added_at, content_hash FROM recordings;
        """
    )


@migrations()
def m007_recording_name_index(db: Database) -> None:
    # Label files name recordings by file name (find_recordings: path, then name, then stem):
    # without an index each name was a scan of every recording, 2.4 ms among 20 000 (a
    # deployment of 40 sites, each with the same hourly file names), 5 s for 2 000 tables.
    db.executescript("CREATE INDEX recordings_name ON recordings (name);")


@migrations()
def m008_recorded_at(db: Database) -> None:
    # When each recording started on the recorder's clock (ISO 8601 text) and where that was
    # read: GUANO, an AudioMoth's comment, a bext header or the file name (store.recorded).
    # The headers are read on import; a project made before this takes what its recordings'
    # file names say (no file is opened here), and importing the files again reads the rest.
    sources = ", ".join(f"'{source}'" for source in RECORDED_SOURCES)
    db.executescript(
        f"""
        ALTER TABLE recordings ADD COLUMN recorded_at TEXT;
        ALTER TABLE recordings ADD COLUMN recorded_at_source TEXT
            CHECK (recorded_at_source IS NULL OR recorded_at_source IN ({sources}));
        """
    )
    dated = []
    for rec_id, name in db.execute("SELECT id, name FROM recordings").fetchall():
        start = from_file_name(name)
        if start is not None:
            dated.append((stored_text(start), rec_id))
    db.conn.executemany(
        "UPDATE recordings SET recorded_at = ?, recorded_at_source = 'name' WHERE id = ?", dated
    )


# Stored in PRAGMA user_version: a database with a larger one was made by a newer tfstudio.
SCHEMA_VERSION = 8
MIGRATION_NAMES = tuple(m.name for m in migrations._migrations)
assert len(MIGRATION_NAMES) == SCHEMA_VERSION, "a new migration raises SCHEMA_VERSION"
