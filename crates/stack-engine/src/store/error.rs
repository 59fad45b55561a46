//! Errors of the state store, each saying what was being done.

use std::path::PathBuf;

/// Something the state store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create state directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open state database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// SQLite says the file is not a database or is corrupt. Nothing is
    /// written to it; the message says how to get going again.
    #[error(
        "state database {path} is damaged ({source}); stack leaves it as it is. \
         Run `stack system check --repair`: it moves the file aside (never deletes it) and \
         rebuilds the database from the containers, networks and volumes on the host"
    )]
    Damaged {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot move the damaged database {path} aside")]
    MoveAside {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot take the writer lock {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than this stack understands \
         ({supported}); upgrade stack"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// A uniqueness or reference rule of the schema refused the change
    /// (a name already taken, a project that does not exist).
    #[error("cannot {context}: {detail}")]
    Conflict { context: String, detail: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("state database holds an invalid {field}: {value:?}")]
    Corrupt { field: &'static str, value: String },
    #[error("state database: cannot {context}")]
    Sql {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
}

/// Adds what was being done to a SQLite error; a constraint violation becomes
/// [`StoreError::Conflict`] so callers can tell "already there" from a fault.
pub(crate) trait SqlContext<T> {
    fn ctx(self, context: impl Into<String>) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: impl Into<String>) -> Result<T, StoreError> {
        self.map_err(|source| {
            let context = context.into();
            match source.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict {
                    context,
                    detail: source.to_string(),
                },
                _ => StoreError::Sql { context, source },
            }
        })
    }
}

/// Errors while decoding a row, where the column is named by the caller.
impl From<rusqlite::Error> for StoreError {
    fn from(source: rusqlite::Error) -> Self {
        StoreError::Sql {
            context: "read a row".into(),
            source,
        }
    }
}

/// What SQLite's integrity check found wrong, one problem a line: the
/// database opened and answered, but its file is not consistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct IntegrityProblems(pub Vec<String>);
