//! The check: compares declarations with the store.
