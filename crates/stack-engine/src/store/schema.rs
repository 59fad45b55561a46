//! Schema migrations, tracked in SQLite's `user_version`.
//!
//! Each entry moves the database from version `i` to `i + 1`. Entries are
//! never edited once released: a change is a new entry, so a database made
//! by any older stack upgrades in place, inside the same transaction as the
//! version bump (a crash mid-upgrade leaves the old version intact).

/// The migrations, in order. `MIGRATIONS.len()` is the current version.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE projects (
        name          TEXT PRIMARY KEY NOT NULL,
        working_dir   TEXT,
        config_files  TEXT NOT NULL DEFAULT '[]',
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
    );

    CREATE TABLE containers (
        id             TEXT PRIMARY KEY NOT NULL,
        project        TEXT NOT NULL REFERENCES projects(name) ON DELETE RESTRICT,
        service        TEXT NOT NULL,
        replica        INTEGER NOT NULL,
        name           TEXT NOT NULL UNIQUE,
        oneoff         INTEGER NOT NULL DEFAULT 0,
        config_hash    TEXT NOT NULL,
        config_fields  TEXT NOT NULL DEFAULT '{}',
        image_ref      TEXT NOT NULL DEFAULT '',
        image_digest   TEXT,
        state          TEXT NOT NULL,
        health         TEXT,
        pid            INTEGER,
        exit_code      INTEGER,
        restart_count  INTEGER NOT NULL DEFAULT 0,
        manual_stop    INTEGER NOT NULL DEFAULT 0,
        created_at_ms  INTEGER NOT NULL,
        started_at_ms  INTEGER,
        finished_at_ms INTEGER,
        depends_on     TEXT NOT NULL DEFAULT '[]'
    );
    CREATE UNIQUE INDEX containers_replica
        ON containers(project, service, replica) WHERE oneoff = 0;
    CREATE INDEX containers_project ON containers(project, service);

    CREATE TABLE networks (
        name          TEXT PRIMARY KEY NOT NULL,
        project       TEXT REFERENCES projects(name) ON DELETE RESTRICT,
        key           TEXT NOT NULL,
        driver        TEXT NOT NULL DEFAULT 'bridge',
        config_hash   TEXT NOT NULL,
        config_fields TEXT NOT NULL DEFAULT '{}',
        subnet        TEXT,
        gateway       TEXT,
        bridge        TEXT,
        external      INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL
    );

    CREATE TABLE ip_allocations (
        network      TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
        address      TEXT NOT NULL,
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        PRIMARY KEY (network, address),
        UNIQUE (network, container_id)
    );

    CREATE TABLE volumes (
        name          TEXT PRIMARY KEY NOT NULL,
        project       TEXT REFERENCES projects(name) ON DELETE RESTRICT,
        key           TEXT NOT NULL,
        driver        TEXT NOT NULL DEFAULT 'local',
        config_hash   TEXT NOT NULL,
        config_fields TEXT NOT NULL DEFAULT '{}',
        external      INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL
    );

    CREATE TABLE image_refs (
        reference     TEXT PRIMARY KEY NOT NULL,
        digest        TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
    );

    CREATE TABLE health_history (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        started_ms   INTEGER NOT NULL,
        ended_ms     INTEGER NOT NULL,
        exit_code    INTEGER,
        outcome      TEXT NOT NULL,
        output       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX health_history_container ON health_history(container_id, seq);
    "#,
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}
