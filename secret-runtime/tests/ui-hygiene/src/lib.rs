//! A crate that wraps `secret!` for its users, the way a company's shared crate would, over a
//! renamed `secret-runtime` dependency. Its tests (`tests/pass`) compile crates that reach
//! `secret!` by the new name and through these wrappers.

// This test crate has no secrets.toml: the build-time check's "unchecked" warning is expected.
#![allow(deprecated)]

pub use secrets;

/// `secret!` through this crate: forwards to the re-exported runtime's macro.
#[macro_export]
macro_rules! app_secret {
    ($($invocation:tt)*) => {
        $crate::secrets::secret!($($invocation)*)
    };
}

/// `secret!` through this crate, handing the runtime's path to the proc macro directly.
#[macro_export]
macro_rules! app_secret_with_path {
    ($($invocation:tt)*) => {
        $crate::secrets::__private::secret!([$crate::secrets] $($invocation)*)
    };
}

/// This crate's own declaration, through the renamed dependency.
pub static SHARED_TOKEN: secrets::Secret = secrets::secret!("SharedToken");
