macro_rules! with_token {
    () => {
        secret_runtime::secret!("InMacroRules")
    };
    ($name:literal) => {
        secret_runtime::secret!($name)
    };
}

pub(crate) fn all() {
    let handles = vec![secret!("InVecMacro")];
    println!("{}", secret!("InPrintln").name());
    let _ = (handles, with_token!());
}

#[path = "extra/by_path.rs"]
mod by_path;
