//! The text of `secrets.enc.toml`: reading it (format 3, and formats 1 and 2 for `secret
//! migrate`) with the line of every table for messages, and writing it deterministically
//! (see the module above for the layout).

use std::fmt::Write;

use super::*;
use crate::toml_write;

impl Store {
    /// Parses the text of a store read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Store, FileError> {
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
            });
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
                });
            }
            Some((_, value)) => {
                let version = value.as_integer();
                if let Some(version) = version {
                    store.format = version;
                }
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
                    .with_help(help));
                }
            }
        }
        for (name, table) in root.iter() {
            if name.name == "version" {
                continue;
            }
            if name.name == RULES_KEY {
                store.rules = parse_rules(path, text, &lines, table)?;
                continue;
            }
            if !is_name(&name.name) {
                return Err(at(
                    name.span.start,
                    format!("`{}` is not a valid secret name", name.name),
                )
                .with_help(restore));
            }
            let Some(scopes) = table.as_table() else {
                return Err(at(
                    name.span.start,
                    format!("`{}` should be a table of values by scope", name.name),
                )
                .with_help(restore));
            };
            for (key, slot) in scopes.iter() {
                let scope = Scope::parse_key(&key.name)
                    .map_err(|message| at(key.span.start, message).with_help(restore))?;
                let line = lines.line(key.span.start);
                let removed = slot
                    .as_table()
                    .is_some_and(|fields| fields.iter().any(|(field, _)| field.name == "removed"));
                if scope.key() != key.name {
                    return Err(at(
                        key.span.start,
                        format!(
                            "the scope `{}` is not written canonically (expected `{}`)",
                            key.name,
                            scope.key()
                        ),
                    )
                    .with_help(restore));
                }
                if removed {
                    let removal = parse_removal(path, text, key, slot, line)?;
                    store
                        .removals
                        .entry(name.name.to_string())
                        .or_default()
                        .insert(scope.key(), (scope, removal));
                } else {
                    let entry = parse_entry(path, text, key, slot, line)?;
                    store
                        .entries
                        .entry(name.name.to_string())
                        .or_default()
                        .insert(scope.key(), (scope, entry));
                }
            }
        }
        store.entries.retain(|_, slots| !slots.is_empty());
        Ok(store)
    }

    /// The file's text as the tool writes it: the header, `version`, then every table after
    /// a blank line.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER_COMMENT);
        out.push_str(&format!("version = {}\n", self.written_format()));
        for (_, table) in self.tables() {
            out.push('\n');
            out.push_str(&table);
        }
        out
    }

    /// The format version the file is written in: the current one, except for a store of
    /// an older format that holds values and no signed rules yet (`migrate` upgrades it).
    pub(crate) fn written_format(&self) -> i64 {
        if self.rules.is_empty() && !(self.is_empty() && self.removals.is_empty()) {
            self.format.min(FORMAT_VERSION)
        } else {
            FORMAT_VERSION
        }
    }

    /// Every table of the file in the order it is written, each with its key: the access
    /// rules by version, then the values and removals by secret name and scope key. One
    /// table is one unit of the merge driver.
    pub(crate) fn tables(&self) -> Vec<(TableKey, String)> {
        let mut tables = Vec::new();
        for rules in &self.rules {
            let mut text = String::new();
            render_rules(&mut text, rules);
            tables.push((TableKey::Rules(rules.version), text));
        }
        let mut slots: Vec<(TableKey, String)> = Vec::new();
        for (name, values) in &self.entries {
            for (key, (_, entry)) in values {
                let mut text = String::new();
                render_entry(&mut text, name, key, entry);
                slots.push((TableKey::Slot(name.clone(), key.clone()), text));
            }
        }
        for (name, removals) in &self.removals {
            for (key, (_, removal)) in removals {
                let mut text = String::new();
                render_removal(&mut text, name, key, removal);
                slots.push((TableKey::Slot(name.clone(), key.clone()), text));
            }
        }
        slots.sort_by(|a, b| a.0.cmp(&b.0));
        tables.extend(slots);
        tables
    }
}

fn parse_entry(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    slot: &Value<'_>,
    line: usize,
) -> Result<Entry, FileError> {
    let restore =
        "restore the file from git history, or set the value again with `cargo xtask secret set`";
    let at = |offset: usize, message: String| {
        FileError::at(path, text, Some(offset), message).with_help(restore)
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
    let mut version = None;
    for (field, value) in fields.iter() {
        match (field.name.as_ref(), value.as_ref()) {
            ("version", _) => version = Some(slot_version(path, text, value, restore)?),
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
                        "unknown key `{other}`; a value has `version`, `recipients`, `exposed`, `writer`, `written`, `signature` and `value`"
                    ),
                ));
            }
        }
    }
    let missing = |what: &str| FileError {
        path: path.to_owned(),
        line: Some(line),
        message: format!("the value `{}` has no `{what}`", key.name),
        help: Some(restore.to_owned()),
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
        version,
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
        "[{}.{}]",
        toml_write::key(name),
        toml_write::basic(key)
    );
    if let Some(version) = entry.version {
        let _ = writeln!(out, "version = {version}");
    }
    out.push_str("recipients = [\n");
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

/// The top-level key of the signed access rules: not a valid secret name (those start with
/// a letter), so it never collides with one.
pub(crate) const RULES_KEY: &str = "_rules";

/// What a table of the file is: a version of the access rules, or one slot (a value or a
/// removal) of a secret. Tables sort in the order the file writes them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TableKey {
    /// `[_rules.N]`.
    Rules(u64),
    /// `[Name."scope key"]`.
    Slot(String, String),
}

/// A string field whose every byte is `allowed` (never empty), so that writing it back can
/// never produce TOML that no longer parses.
fn plain_field(
    path: &Path,
    text: &str,
    value: &Value<'_>,
    field: &str,
    allowed: &dyn Fn(u8) -> bool,
    restore: &str,
) -> Result<String, FileError> {
    match value.as_ref() {
        ValueInner::String(found) if !found.is_empty() && found.bytes().all(allowed) => {
            Ok(found.to_string())
        }
        ValueInner::String(_) => Err(FileError::at(
            path,
            text,
            Some(value.span.start),
            format!("`{field}` is malformed"),
        )
        .with_help(restore)),
        _ => Err(FileError::at(
            path,
            text,
            Some(value.span.start),
            format!("`{field}` has the wrong type"),
        )
        .with_help(restore)),
    }
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit()
}

fn is_time_byte(byte: u8) -> bool {
    byte.is_ascii_digit() || b"-:TZ".contains(&byte)
}

fn is_base64_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"+/=".contains(&byte)
}

/// A slot's `version`: a positive integer.
fn slot_version(
    path: &Path,
    text: &str,
    value: &Value<'_>,
    restore: &str,
) -> Result<u64, FileError> {
    match value.as_integer() {
        Some(version) if version > 0 => Ok(version as u64),
        _ => Err(FileError::at(
            path,
            text,
            Some(value.span.start),
            "`version` should be a positive integer".to_owned(),
        )
        .with_help(restore)),
    }
}

/// A signed removal: `version`, `removed = true`, `writer`, `written`, `signature`.
fn parse_removal(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    slot: &Value<'_>,
    line: usize,
) -> Result<Removal, FileError> {
    let restore =
        "restore the file from git history, or set the value again with `cargo xtask secret set`";
    let fields = slot.as_table().expect("checked by the caller");
    let (mut version, mut writer, mut written, mut signature) = (None, None, None, None);
    for (field, value) in fields.iter() {
        match field.name.as_ref() {
            "removed" if value.as_bool() == Some(true) => {}
            "version" => version = Some(slot_version(path, text, value, restore)?),
            "writer" => {
                writer = Some(plain_field(
                    path,
                    text,
                    value,
                    "writer",
                    &is_key_byte,
                    restore,
                )?)
            }
            "written" => {
                written = Some(plain_field(
                    path,
                    text,
                    value,
                    "written",
                    &is_time_byte,
                    restore,
                )?)
            }
            "signature" => {
                signature = Some(plain_field(
                    path,
                    text,
                    value,
                    "signature",
                    &is_base64_byte,
                    restore,
                )?)
            }
            other => {
                return Err(FileError::at(
                    path,
                    text,
                    Some(field.span.start),
                    if other == "removed" {
                        "`removed` can only be `true`".to_owned()
                    } else {
                        format!(
                            "unknown key `{}`; a removal has `version`, `removed`, `writer`, `written` and `signature`",
                            crate::text::escape_control(other)
                        )
                    },
                )
                .with_help(restore));
            }
        }
    }
    let missing = |what: &str| FileError {
        path: path.to_owned(),
        line: Some(line),
        message: format!("the removal `{}` has no `{what}`", key.name),
        help: Some(restore.to_owned()),
    };
    Ok(Removal {
        version: version.ok_or_else(|| missing("version"))?,
        signed: Signed {
            writer: writer.ok_or_else(|| missing("writer"))?,
            written: written.ok_or_else(|| missing("written"))?,
            signature: signature.ok_or_else(|| missing("signature"))?,
        },
        line,
    })
}

/// The `[_rules.N]` tables.
fn parse_rules(
    path: &Path,
    text: &str,
    lines: &LineIndex,
    table: &Value<'_>,
) -> Result<Vec<RulesVersion>, FileError> {
    let restore = "restore the file from git history: the access rules are written by `cargo xtask secret rekey` and signed";
    let at = |offset: usize, message: String| {
        FileError::at(path, text, Some(offset), message).with_help(restore)
    };
    let Some(versions) = table.as_table() else {
        return Err(at(
            table.span.start,
            format!("`{RULES_KEY}` should be a table of rule versions"),
        ));
    };
    let mut rules = Vec::new();
    for (key, version_table) in versions.iter() {
        let version: u64 = match key.name.parse::<u64>() {
            Ok(version) if version > 0 && key.name == version.to_string() => version,
            _ => {
                return Err(at(
                    key.span.start,
                    format!(
                        "`{}` is not a rules version (a positive number such as `[{RULES_KEY}.1]`)",
                        crate::text::escape_control(&key.name)
                    ),
                ));
            }
        };
        let line = lines.line(key.span.start);
        let Some(fields) = version_table.as_table() else {
            return Err(at(
                key.span.start,
                format!("`{RULES_KEY}.{version}` should be a table"),
            ));
        };
        let (mut signed, mut signatures, mut changes) = (None, None, None);
        for (field, value) in fields.iter() {
            match (field.name.as_ref(), value.as_ref()) {
                ("signed", _) => {
                    signed = Some(plain_field(
                        path,
                        text,
                        value,
                        "signed",
                        &is_time_byte,
                        restore,
                    )?)
                }
                ("signatures", ValueInner::Array(list)) => {
                    let mut found = Vec::new();
                    for item in list.iter() {
                        let pair = plain_field(
                            path,
                            text,
                            item,
                            "signatures",
                            &|byte| is_base64_byte(byte) || byte == b' ',
                            restore,
                        )?;
                        let Some((signer, signature)) = pair.split_once(' ').filter(|(k, s)| {
                            !k.is_empty()
                                && k.bytes().all(is_key_byte)
                                && !s.is_empty()
                                && s.bytes().all(is_base64_byte)
                        }) else {
                            return Err(at(
                                item.span.start,
                                "a signature is written `\"age1... <base64>\"`".to_owned(),
                            ));
                        };
                        found.push((signer.to_owned(), signature.to_owned()));
                    }
                    signatures = Some(found);
                }
                ("changes", ValueInner::String(body)) => {
                    let mut list = Vec::new();
                    for change in body.lines().filter(|change| !change.trim().is_empty()) {
                        let valid = (change.starts_with("+ ") || change.starts_with("- "))
                            && !change.chars().any(crate::text::needs_escape);
                        if !valid {
                            return Err(at(
                                value.span.start,
                                format!(
                                    "`{RULES_KEY}.{version}` has a change that is not `+ fact` or `- fact`: `{}`",
                                    crate::text::escape_control(change)
                                ),
                            ));
                        }
                        list.push(change.to_owned());
                    }
                    changes = Some(list);
                }
                (other, _) => {
                    return Err(at(
                        field.span.start,
                        format!(
                            "unknown key or wrong type `{}`; a rules version has `signed`, `signatures` and `changes`",
                            crate::text::escape_control(other)
                        ),
                    ));
                }
            }
        }
        let missing = |what: &str| FileError {
            path: path.to_owned(),
            line: Some(line),
            message: format!("`{RULES_KEY}.{version}` has no `{what}`"),
            help: Some(restore.to_owned()),
        };
        rules.push(RulesVersion {
            version,
            signed: signed.ok_or_else(|| missing("signed"))?,
            signatures: signatures.ok_or_else(|| missing("signatures"))?,
            changes: changes.ok_or_else(|| missing("changes"))?,
            line,
        });
    }
    rules.sort_by_key(|rules| rules.version);
    Ok(rules)
}

/// One version of the access rules, as [`Store::render`] writes it.
pub(crate) fn render_rules(out: &mut String, rules: &RulesVersion) {
    let _ = writeln!(
        out,
        "[{RULES_KEY}.{}]\nsigned = {}\nsignatures = [",
        rules.version,
        toml_write::basic(&rules.signed)
    );
    for (signer, signature) in &rules.signatures {
        let _ = writeln!(
            out,
            "    {},",
            toml_write::basic(&format!("{signer} {signature}"))
        );
    }
    let mut changes = String::new();
    for change in &rules.changes {
        changes.push_str(change);
        changes.push('\n');
    }
    let _ = writeln!(out, "]\nchanges = {}", toml_write::multi_line(&changes));
}

/// One signed removal, as [`Store::render`] writes it.
pub(crate) fn render_removal(out: &mut String, name: &str, key: &str, removal: &Removal) {
    let _ = writeln!(
        out,
        "[{}.{}]\nversion = {}\nremoved = true\nwriter = {}\nwritten = {}\nsignature = {}",
        toml_write::key(name),
        toml_write::basic(key),
        removal.version,
        toml_write::basic(&removal.signed.writer),
        toml_write::basic(&removal.signed.written),
        toml_write::basic(&removal.signed.signature)
    );
}
