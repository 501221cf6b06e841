//! The CLI engine.
