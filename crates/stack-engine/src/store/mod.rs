//! The state store: what stack made, in SQLite under `<state root>/stack.db`.
//!
//! Why SQLite: one file, ACID transactions, a write-ahead log that survives a
//! killed process, and queries for `ps`/`down` without a stack file. Every
//! change that touches more than one row goes through [`Store::write`], one
//! transaction, so a crash at any point leaves either all of it or none.
//!
//! Concurrency: any number of readers (WAL lets them read while a writer
//! writes); one writer at a time across processes, serialized by a file lock
//! ([`lock::WriterLock`]) taken before SQLite's own `BEGIN IMMEDIATE`.
//!
//! Durability: `synchronous = NORMAL` in WAL mode. A killed process loses
//! nothing it committed; a power cut may lose the last transactions but never
//! corrupts the file. The reconciler compares the store with the kernel on
//! start anyway, so that trade buys fast commits at no loss of correctness.

mod containers;
mod error;
mod health;
mod images;
mod lock;
mod networks;
mod projects;
mod schema;
mod volumes;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use containers::ContainerRecord;
pub use error::{IntegrityProblems, StoreError};
pub use health::{HealthProbeRecord, HealthStatus, ProbeOutcome};
pub use images::ImageRefRecord;
pub use lock::WriterLock;
pub use networks::{IpAllocation, NetworkRecord};
pub use projects::ProjectRecord;
pub use schema::current_version as schema_version;
pub use volumes::VolumeRecord;

use error::SqlContext;

/// File name of the database inside the state root.
pub const DB_FILE: &str = "stack.db";
/// File name of the writer lock inside the state root.
pub const LOCK_FILE: &str = "stack.db.lock";

/// How long SQLite waits on its own locks (e.g. a WAL checkpoint) before
/// failing. Writers never get here in practice: the file lock orders them.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open state database.
pub struct Store {
    conn: Mutex<Connection>,
    db_path: PathBuf,
    lock_path: PathBuf,
}

/// Read access inside one consistent snapshot.
pub struct Reader<'a> {
    conn: &'a Connection,
}

/// Write access inside one transaction, committed when the closure given to
/// [`Store::write`] returns `Ok`, rolled back otherwise.
pub struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Writer<'_> {
    /// Reads inside this transaction (seeing its own uncommitted changes).
    pub fn read(&self) -> Reader<'_> {
        Reader { conn: &self.tx }
    }
}

impl Store {
    /// Opens (creating if needed) the database under `state_root` and brings
    /// its schema up to date.
    pub fn open(state_root: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(state_root).map_err(|source| StoreError::CreateDir {
            path: state_root.to_path_buf(),
            source,
        })?;
        let db_path = state_root.join(DB_FILE);
        let lock_path = state_root.join(LOCK_FILE);
        let opened = open_connection(&db_path).and_then(|conn| {
            let store = Store {
                conn: Mutex::new(conn),
                db_path: db_path.clone(),
                lock_path,
            };
            store.migrate().map(|()| store)
        });
        opened.map_err(|e| damaged(&db_path, e))
    }

    /// An empty database in memory, with the writer lock of `state_root`:
    /// what `down` works on when the file is damaged (see
    /// `apply::Host::open_despite_damage`), so the damaged file is never
    /// written to.
    pub fn scratch(state_root: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(state_root).map_err(|source| StoreError::CreateDir {
            path: state_root.to_path_buf(),
            source,
        })?;
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .ctx("enable foreign keys")?;
        let store = Store {
            conn: Mutex::new(conn),
            db_path: PathBuf::from(":memory:"),
            lock_path: state_root.join(LOCK_FILE),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Path of the database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Runs `f` on one consistent snapshot of the database.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock_connection();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .ctx("begin read transaction")?;
        let out = f(&Reader { conn: &tx })?;
        tx.finish().ctx("end read transaction")?;
        Ok(out)
    }

    /// Runs `f` in one write transaction while holding the writer lock.
    /// Everything `f` changes is committed together if it returns `Ok`, and
    /// nothing is if it returns `Err`, panics, or the process dies.
    /// Inside `f`, read through [`Writer::read`], never through this store
    /// (its connection is busy with `f`'s transaction).
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _writer = WriterLock::acquire(&self.lock_path)?;
        let mut conn = self.lock_connection();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin write transaction")?;
        let writer = Writer { tx };
        let out = f(&writer)?;
        writer.tx.commit().ctx("commit")?;
        Ok(out)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = self.lock_connection();
        user_version(&conn)
    }

    /// SQLite's own consistency check of the whole file: `Ok(())` or the
    /// problems it found. The outer error is a check that could not run.
    pub fn check_integrity(&self) -> Result<Result<(), IntegrityProblems>, StoreError> {
        let conn = self.lock_connection();
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .ctx("check integrity")?;
        let lines = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .ctx("check integrity")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("check integrity")?;
        if lines == ["ok"] {
            Ok(Ok(()))
        } else {
            Ok(Err(IntegrityProblems(lines)))
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let target = schema::current_version();
        if self.schema_version()? == target {
            return Ok(());
        }
        let _writer = WriterLock::acquire(&self.lock_path)?;
        let mut conn = self.lock_connection();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin migration")?;
        let found = user_version(&tx)?;
        if found > target {
            return Err(StoreError::TooNew {
                path: self.db_path.clone(),
                found,
                supported: target,
            });
        }
        for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.execute_batch(sql)
                .ctx(format!("migrate schema to version {}", index + 1))?;
        }
        tx.pragma_update(None, "user_version", target)
            .ctx("record schema version")?;
        tx.commit().ctx("commit migration")?;
        Ok(())
    }

    /// A poisoned mutex only means another thread panicked mid-transaction;
    /// SQLite already rolled that transaction back, so the connection is fine.
    fn lock_connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx("set busy timeout")?;
    enable_wal(&conn)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .ctx("set synchronous mode")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .ctx("enable foreign keys")?;
    Ok(conn)
}

/// Switches the file to WAL unless it already is. Changing the journal
/// mode needs the database to itself, and SQLite answers SQLITE_BUSY to it
/// without consulting the busy handler, so a `stack ps` opening the file
/// while `stack up` writes it retries here instead of failing. Once the
/// file is in WAL (it stays so), the check alone is a plain read.
fn enable_wal(conn: &Connection) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        let mode: Result<String, _> = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0));
        let result = match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(_) => conn.pragma_update(None, "journal_mode", "WAL"),
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(err).ctx("enable write-ahead log"),
        }
    }
}

/// Turns SQLite's "not a database" and "corrupt" answers into
/// [`StoreError::Damaged`], which names the file and the way out.
fn damaged(path: &Path, err: StoreError) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    let source = match err {
        StoreError::Sql { source, .. } | StoreError::Open { source, .. } => source,
        other => return other,
    };
    match source.sqlite_error_code() {
        Some(NotADatabase | DatabaseCorrupt) => StoreError::Damaged {
            path: path.to_path_buf(),
            source,
        },
        _ => StoreError::Sql {
            context: format!("open {}", path.display()),
            source,
        },
    }
}

fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .ctx("read schema version")
}

/// Encodes a per-field configuration view for a TEXT column.
fn fields_to_json(fields: &std::collections::BTreeMap<String, String>) -> String {
    // A map of strings always serializes; the fallback is never taken.
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".into())
}

/// Decodes a per-field configuration view; a value that is not a JSON map
/// of strings is reported as a conversion error of that column.
fn fields_from_json(
    row: &rusqlite::Row<'_>,
    column: usize,
) -> rusqlite::Result<std::collections::BTreeMap<String, String>> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Milliseconds since the Unix epoch, the unit of every time in the store.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
