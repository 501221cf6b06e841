//! The text of `secrets.enc.toml`: reading it (format 2, and format 1 for `secret migrate`)
//! with the line of every table for messages, and writing it deterministically (see the
//! module above for the layout).

use std::fmt::Write;

use super::*;
use crate::toml_write;

impl Store {
    /// Parses the text of a store read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Store, Error> {
        let at = |offset: usize, message: String| FileError::at(path, text, Some(offset), message);
        let restore = "restore the file from git history; it is written by `cargo xtask secret` and should not be edited by hand";
        if let Some(index) = text.lines().position(|line| {
            line.starts_with("<<<<<<< ") || line == "=======" || line.starts_with(">>>>>>> ")
        }) {
            return Err(FileError {
                path: path.to_owned(),
                line: Some(index + 1),
                message: "the store has an unresolved merge conflict".to_owned(),
                help: Some("keep one of the two tables between the markers (or neither), remove the marker lines, then `git add` the file; or set the value again with `cargo xtask secret set`. `cargo xtask secret init` sets up git's merge driver so that only the same value changed on two branches conflicts".to_owned()),
            }
            .into());
        }
        let root = toml_file::parse(path, text).map_err(|error| error.with_help(restore))?;
        let mut store = Self::empty(path.to_owned());
        let lines = LineIndex::new(text);
        if root.is_empty() {
            return Ok(store);
        }
        match root.iter().find(|(key, _)| key.name == "version") {
            None => {
                return Err(FileError {
                    path: path.to_owned(),
                    line: Some(1),
                    message: "the store has no `version`".to_owned(),
                    help: Some(restore.to_owned()),
                }
                .into());
            }
            Some((_, value)) => {
                let version = value.as_integer();
                if !version.is_some_and(|v| (OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&v)) {
                    let help = if version.is_some_and(|v| v > FORMAT_VERSION) {
                        "the file was written by a newer version of the secrets tool; upgrade it (update the secret-build and secret-runtime dependencies)".to_owned()
                    } else {
                        restore.to_owned()
                    };
                    return Err(at(
                        value.span.start,
                        format!(
                            "unsupported store format version {}; this tool reads versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}",
                            &text[value.span.start..value.span.end]
                        ),
                    )
                    .with_help(help)
                    .into());
                }
            }
        }
        for (name, table) in root.iter() {
            if name.name == "version" {
                continue;
            }
            if !is_name(&name.name) {
                return Err(at(
                    name.span.start,
                    format!("`{}` is not a valid secret name", name.name),
                )
                .with_help(restore)
                .into());
            }
            let Some(scopes) = table.as_table() else {
                return Err(at(
                    name.span.start,
                    format!("`{}` should be a table of values by scope", name.name),
                )
                .with_help(restore)
                .into());
            };
            let slots = store.entries.entry(name.name.to_string()).or_default();
            for (key, slot) in scopes.iter() {
                let scope = Scope::parse_key(&key.name)
                    .map_err(|message| at(key.span.start, message).with_help(restore))?;
                let line = lines.line(key.span.start);
                let entry = parse_entry(path, text, key, slot, line)?;
                if scope.key() != key.name {
                    return Err(at(
                        key.span.start,
                        format!(
                            "the scope `{}` is not written canonically (expected `{}`)",
                            key.name,
                            scope.key()
                        ),
                    )
                    .with_help(restore)
                    .into());
                }
                slots.insert(scope.key(), (scope, entry));
            }
        }
        Ok(store)
    }

    /// The file's text as the tool writes it.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER_COMMENT);
        out.push_str(&format!("version = {FORMAT_VERSION}\n"));
        for (name, slots) in &self.entries {
            for (key, (_, entry)) in slots {
                out.push('\n');
                render_entry(&mut out, name, key, entry);
            }
        }
        out
    }
}

fn parse_entry(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    slot: &Value<'_>,
    line: usize,
) -> Result<Entry, Error> {
    let restore =
        "restore the file from git history, or set the value again with `cargo xtask secret set`";
    let at = |offset: usize, message: String| {
        Error::from(FileError::at(path, text, Some(offset), message).with_help(restore))
    };
    let Some(fields) = slot.as_table() else {
        return Err(at(
            key.span.start,
            format!(
                "`{}` should be a table with `recipients` and `value`",
                key.name
            ),
        ));
    };
    // A field's text must be one of these characters, so that rendering it back can never
    // produce TOML that no longer parses (found by fuzzing `Store::parse`).
    let plain = |value: &Value<'_>, field: &str, allowed: &dyn Fn(u8) -> bool| match value.as_ref()
    {
        ValueInner::String(text) if !text.is_empty() && text.bytes().all(allowed) => {
            Ok(text.to_string())
        }
        ValueInner::String(_) => Err(at(
            value.span.start,
            format!("`{field}` of `{}` is malformed", key.name),
        )),
        _ => Err(at(
            value.span.start,
            format!("`{field}` has the wrong type"),
        )),
    };
    let is_key = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let is_time = |byte: u8| byte.is_ascii_digit() || b"-:TZ".contains(&byte);
    let is_base64 = |byte: u8| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte);
    let mut recipients = None;
    let mut ciphertext = None;
    let (mut writer, mut written, mut signature) = (None, None, None);
    let mut exposed = Vec::new();
    for (field, value) in fields.iter() {
        match (field.name.as_ref(), value.as_ref()) {
            ("recipients", ValueInner::Array(list)) => {
                let mut keys = Vec::new();
                for item in list.iter() {
                    keys.push(plain(item, "recipients", &is_key).map_err(|_| {
                        at(
                            item.span.start,
                            "a recipient should be an age public key (`age1...`)".to_owned(),
                        )
                    })?);
                }
                if keys.is_empty() {
                    return Err(at(
                        value.span.start,
                        format!("`{}` has no recipients: nobody can read it", key.name),
                    ));
                }
                recipients = Some(keys);
            }
            ("value", ValueInner::String(text)) => {
                // Only age armor (base64, `=`, the BEGIN/END lines).
                if text.trim().is_empty()
                    || !text
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || b"+/=- \r\n".contains(&byte))
                {
                    return Err(at(
                        value.span.start,
                        format!(
                            "the value of `{}` is not an age-armored ciphertext",
                            key.name
                        ),
                    ));
                }
                ciphertext = Some(text.to_string());
            }
            ("writer", _) => writer = Some(plain(value, "writer", &is_key)?),
            ("written", _) => written = Some(plain(value, "written", &is_time)?),
            ("signature", _) => signature = Some(plain(value, "signature", &is_base64)?),
            ("exposed", ValueInner::Array(list)) => {
                for item in list.iter() {
                    let Some(pair) = item.as_table() else {
                        return Err(at(
                            item.span.start,
                            "an exposure should be `{ recipient = \"age1...\", since = \"...\" }`"
                                .to_owned(),
                        ));
                    };
                    let (mut recipient, mut since) = (None, None);
                    for (name, value) in pair.iter() {
                        match name.name.as_ref() {
                            "recipient" => recipient = Some(plain(value, "recipient", &is_key)?),
                            "since" => since = Some(plain(value, "since", &is_time)?),
                            other => {
                                return Err(at(
                                    name.span.start,
                                    format!(
                                        "unknown key `{other}`; an exposure has `recipient` and `since`"
                                    ),
                                ));
                            }
                        }
                    }
                    match (recipient, since) {
                        (Some(recipient), Some(since)) => {
                            exposed.push(Exposure { recipient, since })
                        }
                        _ => {
                            return Err(at(
                                item.span.start,
                                "an exposure needs `recipient` and `since`".to_owned(),
                            ));
                        }
                    }
                }
            }
            ("recipients" | "value" | "exposed", _) => {
                return Err(at(
                    value.span.start,
                    format!("`{}` has the wrong type", field.name),
                ));
            }
            (other, _) => {
                return Err(at(
                    field.span.start,
                    format!(
                        "unknown key `{other}`; a value has `recipients`, `exposed`, `writer`, `written`, `signature` and `value`"
                    ),
                ));
            }
        }
    }
    let missing = |what: &str| {
        Error::from(FileError {
            path: path.to_owned(),
            line: Some(line),
            message: format!("the value `{}` has no `{what}`", key.name),
            help: Some(restore.to_owned()),
        })
    };
    let signed = match (writer, written, signature) {
        (None, None, None) => None,
        (Some(writer), Some(written), Some(signature)) => Some(Signed {
            writer,
            written,
            signature,
        }),
        (writer, written, _) => {
            return Err(missing(if writer.is_none() {
                "writer"
            } else if written.is_none() {
                "written"
            } else {
                "signature"
            }));
        }
    };
    exposed.sort();
    exposed.dedup();
    Ok(Entry {
        recipients: recipients.ok_or_else(|| missing("recipients"))?,
        signed,
        exposed,
        line,
        ciphertext: ciphertext.ok_or_else(|| missing("value"))?,
    })
}

/// One value's table, as [`Store::render`] writes it: recipients, exposures, writer, time,
/// signature, then the ciphertext. Every string is written with [`toml_write`], so any text
/// the parser accepted reads back the same (a hand-edited file may hold any character in
/// any of them; found by fuzzing).
pub(crate) fn render_entry(out: &mut String, name: &str, key: &str, entry: &Entry) {
    let _ = writeln!(
        out,
        "[{}.{}]\nrecipients = [",
        toml_write::key(name),
        toml_write::basic(key)
    );
    for recipient in &entry.recipients {
        let _ = writeln!(out, "    {},", toml_write::basic(recipient));
    }
    out.push_str("]\n");
    if !entry.exposed.is_empty() {
        out.push_str("exposed = [\n");
        for exposure in &entry.exposed {
            let _ = writeln!(
                out,
                "    {{ recipient = {}, since = {} }},",
                toml_write::basic(&exposure.recipient),
                toml_write::basic(&exposure.since)
            );
        }
        out.push_str("]\n");
    }
    if let Some(signed) = &entry.signed {
        let _ = writeln!(
            out,
            "writer = {}\nwritten = {}\nsignature = {}",
            toml_write::basic(&signed.writer),
            toml_write::basic(&signed.written),
            toml_write::basic(&signed.signature)
        );
    }
    // The ciphertext as it is: armor ends in a line feed, so the closing quotes sit on a
    // line of their own.
    let _ = writeln!(out, "value = {}", toml_write::multi_line(&entry.ciphertext));
}
