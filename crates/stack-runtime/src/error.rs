//! The runtime's error type. Errors raised inside a new container travel
//! back to the engine as text with their context (see `channel.rs`), so
//! every variant carries a sentence saying what was being done.

/// Anything that can go wrong creating, running or removing a container.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Sys {
        context: String,
        #[source]
        source: nix::Error,
    },
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    /// A user or group the container's passwd or group file does not
    /// have: the caller asked for something this container cannot give.
    #[error("{what}: {message}")]
    UnknownIdentity { what: String, message: &'static str },
    /// Reported from inside the container's namespaces before exec.
    #[error("{0}")]
    Setup(String),
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("container {0} is running; stop it first or use --force")]
    Running(String),
    /// A change the container cannot take as asked (`update` values that
    /// would not hold together, a limit this host cannot set): the
    /// caller's to change, unlike [`Error::Invalid`].
    #[error("{what}: {message}")]
    Refused { what: String, message: String },
    #[error("container {0} is already paused")]
    AlreadyPaused(String),
    #[error("container {0} is not paused")]
    NotPaused(String),
    /// Refused while the container is frozen: what it would do could not
    /// run (Docker's words).
    #[error("container {0} is paused, unpause the container before exec")]
    Paused(String),
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    pub fn sys(context: impl Into<String>, source: nix::Error) -> Error {
        Error::Sys {
            context: context.into(),
            source,
        }
    }
    pub fn refused(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Refused {
            what: what.into(),
            message: message.into(),
        }
    }
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}

/// Adds context to nix and io results.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, nix::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::sys(what(), source))
    }
}

impl<T> Context<T> for Result<T, std::io::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::io(what(), source))
    }
}
