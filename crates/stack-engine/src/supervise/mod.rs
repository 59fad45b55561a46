//! Supervision (coming).
