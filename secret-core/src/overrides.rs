//! The local override files at the workspace root, never committed:
//! `.secrets.local.toml` (`Name = "value"`) and `.secrets.local.cue` (Encore's format, see
//! [`crate::cue`]).
//!
//! Both the run time (for values) and the `secret!` macro (for names only) read them
//! through [`load`].

use std::collections::BTreeMap;
use std::path::Path;

use secrecy::SecretString;
use zeroize::Zeroize;

use crate::cue;
use crate::file_error::FileError;
use crate::toml_file::{self, ValueInner};

/// The file name of the TOML override file.
pub const OVERRIDE_TOML: &str = ".secrets.local.toml";
/// The file name of the CUE override file (Encore's format).
pub const OVERRIDE_CUE: &str = ".secrets.local.cue";
/// Both override files, in the order they are read (the TOML file wins a name both set).
pub const FILES: [&str; 2] = [OVERRIDE_TOML, OVERRIDE_CUE];

/// The names the override files at `root` set; their values are dropped (zeroed) at once.
/// A file that cannot be read or parsed sets nothing here: the run time reports it.
pub fn names(root: &Path) -> std::collections::BTreeSet<String> {
    FILES
        .iter()
        .filter_map(|file| load(&root.join(file)).ok().flatten())
        .flat_map(BTreeMap::into_keys)
        .collect()
}

/// Reads the override file at `path` (CUE when its extension is `.cue`, else TOML).
/// `Ok(None)` when it does not exist. The file's text is wiped after parsing.
pub fn load(path: &Path) -> Result<Option<BTreeMap<String, SecretString>>, FileError> {
    let mut text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(FileError::at(
                path,
                "",
                None,
                format!("cannot read the override file: {error}"),
            ));
        }
    };
    let parsed = if path.extension().is_some_and(|ext| ext == "cue") {
        parse_cue_overrides(path, &text)
    } else {
        parse_toml_overrides(path, &text)
    };
    text.zeroize();
    parsed.map(Some)
}

fn parse_cue_overrides(
    path: &Path,
    text: &str,
) -> Result<BTreeMap<String, SecretString>, FileError> {
    let fields = cue::parse(text).map_err(|error| FileError {
        path: path.to_owned(),
        line: Some(error.line),
        message: error.message,
        help: None,
    })?;
    Ok(fields.into_iter().collect())
}

/// Parses the text of a `.secrets.local.toml` read from `path` (for messages): top-level
/// `Name = "value"` pairs; anything but a string is an error naming its line.
pub fn parse_toml(path: &Path, text: &str) -> Result<BTreeMap<String, SecretString>, FileError> {
    parse_toml_overrides(path, text)
}

fn parse_toml_overrides(
    path: &Path,
    text: &str,
) -> Result<BTreeMap<String, SecretString>, FileError> {
    let table = toml_file::parse(path, text)?;
    let mut values = BTreeMap::new();
    let mut bad = None;
    for (name, mut value) in table {
        let start = value.span.start;
        let name_start = name.span.start;
        let name = name.name.into_owned();
        if !crate::is_secret_name(&name) {
            return Err(FileError::at(
                path,
                text,
                Some(name_start),
                format!(
                    "`{}` is not a valid secret name",
                    crate::text::escape_control(&name)
                ),
            )
            .with_help(crate::NAME_RULE));
        }
        match value.take() {
            ValueInner::String(value) => {
                values.insert(name, SecretString::from(value.as_ref()));
                // Borrowed from the file's text (wiped by `load`) unless it had escapes.
                if let std::borrow::Cow::Owned(mut value) = value {
                    value.zeroize();
                }
            }
            other => {
                if bad.is_none() {
                    bad = Some((name, start, other.type_str()));
                }
                drop(other);
            }
        }
    }
    match bad {
        None => Ok(values),
        Some((name, start, kind)) => Err(FileError::at(
            path,
            text,
            Some(start),
            format!("secret key {name} is not a string (found a {kind})"),
        )
        .with_help(format!("write `{name} = \"value\"`"))),
    }
}
