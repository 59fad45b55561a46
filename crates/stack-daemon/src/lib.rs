//! `stack daemon`: the engine behind a versioned REST API on a UNIX socket,
//! and the client the CLI uses to talk to it.
