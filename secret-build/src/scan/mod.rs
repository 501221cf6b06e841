//! The workspace scanner: finds every `secret!` declaration.
