//! Planner (coming).
