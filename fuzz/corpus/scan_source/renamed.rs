pub(crate) use secret_runtime::{Secret, secret as declare};

pub(crate) static RENAMED: Secret = declare!("RenamedImport");
