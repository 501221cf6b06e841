//! `check-secrets --leaks`: looks for stored values in plain text in the files git tracks
//! and in the build output under the target directory.
//!
//! Every value the identity can decrypt is searched for as its bytes and as base64
//! (standard and URL-safe alphabets, padded or not, and at each of the three alignments a
//! value can have inside a longer base64 text), all patterns at once with one Aho-Corasick
//! automaton over each file, read as a stream. A finding names the file and the secret,
//! never the value and never the line (a source line would show it).
//!
//! Each value is also searched for without the blanks and line break around it, and a
//! multi-line value with both `\n` and `\r\n` line ends (`text_forms`).
//!
//! Values shorter than [`MIN_LEN`] bytes are not searched for: short strings (`true`,
//! `1234`) occur everywhere by chance, so they would drown the report in false alarms; the
//! check says which were skipped. Values the identity cannot decrypt are not searched for
//! either, and are named too.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::AhoCorasick;
use secrecy::ExposeSecret;
use secret_core::{Identities, Store};
use zeroize::Zeroizing;

use super::report::{Code, Diagnostic, Location, Severity};

/// Values shorter than this many bytes are not searched for (see the module docs).
pub const MIN_LEN: usize = 6;

/// How a value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Encoding {
    /// Its bytes as they are.
    Plain,
    /// Base64 (standard or URL-safe alphabet).
    Base64,
}

/// One leaked value: which secret, where, how.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Leak {
    /// The file, relative to the workspace root when inside it.
    pub path: PathBuf,
    /// The secret.
    pub name: String,
    /// The store scope of the value (`type:production`).
    pub scope: String,
    /// How it was written.
    pub encoding: Encoding,
}

/// What the search found and what it could not look for.
#[derive(Debug, Default)]
pub struct LeakSearch {
    /// The leaks, sorted by file then secret.
    pub leaks: Vec<Leak>,
    /// Values (`name` and scope key) skipped because they are shorter than [`MIN_LEN`].
    pub too_short: Vec<(String, String)>,
    /// Values the identity cannot decrypt, so they were not searched for.
    pub undecryptable: Vec<(String, String)>,
    /// How many files were read.
    pub files_searched: usize,
}

impl LeakSearch {
    /// One error diagnostic per (file, secret).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        type Found<'a> = (BTreeSet<&'a str>, BTreeSet<Encoding>);
        let mut grouped: BTreeMap<(&Path, &str), Found<'_>> = BTreeMap::new();
        for leak in &self.leaks {
            let entry = grouped.entry((&leak.path, &leak.name)).or_default();
            entry.0.insert(&leak.scope);
            entry.1.insert(leak.encoding);
        }
        grouped
            .into_iter()
            .map(|((path, name), (scopes, encodings))| {
                let how = match (
                    encodings.contains(&Encoding::Plain),
                    encodings.contains(&Encoding::Base64),
                ) {
                    (true, true) => "in plain text and base64-encoded",
                    (false, true) => "base64-encoded",
                    _ => "in plain text",
                };
                let scopes: Vec<&str> = scopes.into_iter().collect();
                Diagnostic {
                    severity: Severity::Error,
                    code: Code::LeakedSecret,
                    message: format!(
                        "the value of secret `{name}` ({}) appears {how} in {}",
                        scopes.join(", "),
                        path.display()
                    ),
                    secret: Some(name.to_owned()),
                    environment: None,
                    location: Some(Location {
                        path: path.to_owned(),
                        line: None,
                        column: None,
                        end: None,
                    }),
                    label: None,
                    notes: Vec::new(),
                    help: Some(if path.starts_with("target") || path.is_absolute() {
                        "delete the build output (`cargo clean`), find what wrote the value there, and rotate the secret if the file left this machine".to_owned()
                    } else {
                        format!(
                            "remove the value from the file and from git history, then rotate it: `cargo xtask secret set ... {name}`"
                        )
                    }),
                }
            })
            .collect()
    }

    /// Notes for stderr: what was not searched for.
    pub fn notes(&self) -> Vec<String> {
        let list = |values: &[(String, String)]| {
            values
                .iter()
                .map(|(name, scope)| format!("{name} ({scope})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut notes = Vec::new();
        if !self.too_short.is_empty() {
            notes.push(format!(
                "--leaks: not searched for, shorter than {MIN_LEN} bytes (too likely to match by chance): {}",
                list(&self.too_short)
            ));
        }
        if !self.undecryptable.is_empty() {
            notes.push(format!(
                "--leaks: not searched for, your identity cannot decrypt them: {}",
                list(&self.undecryptable)
            ));
        }
        notes
    }
}

/// A pattern: which value, how encoded.
struct Pattern {
    value: usize,
    encoding: Encoding,
}

/// Searches the files git tracks in `root` and the files under `target_dir` for every value
/// of the store in `root` that `identities` can decrypt.
pub fn find(
    root: &Path,
    target_dir: &Path,
    identities: &Identities,
) -> Result<LeakSearch, secret_core::Error> {
    let store = Store::load(root)?;
    let mut search = LeakSearch::default();
    let mut values: Vec<(String, String)> = Vec::new();
    let mut bytes: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut meaning: Vec<Pattern> = Vec::new();
    for name in store.names() {
        for (scope, _) in store.slots(name) {
            let key = (name.to_owned(), scope.key());
            let value = match store.decrypt_unverified(name, scope, identities) {
                Ok(value) => value,
                Err(_) => {
                    search.undecryptable.push(key);
                    continue;
                }
            };
            let value = value.expose_secret().as_bytes();
            let texts = text_forms(value);
            if texts.is_empty() {
                search.too_short.push(key);
                continue;
            }
            let index = values.len();
            values.push(key);
            let mut forms: Vec<(Zeroizing<Vec<u8>>, Encoding)> = Vec::new();
            for text in texts {
                for encoded in base64_forms(&text) {
                    forms.push((encoded, Encoding::Base64));
                }
                forms.push((text, Encoding::Plain));
            }
            for (form, encoding) in forms {
                if !patterns.iter().any(|known| **known == *form) {
                    patterns.push(form);
                    meaning.push(Pattern {
                        value: index,
                        encoding,
                    });
                }
            }
            bytes.push(Zeroizing::new(value.to_vec()));
        }
    }
    if patterns.is_empty() {
        return Ok(search);
    }
    let automaton =
        AhoCorasick::new(patterns.iter().map(|pattern| pattern.as_slice())).map_err(|error| {
            secret_core::FileError {
                path: store.path().to_owned(),
                line: None,
                message: format!("cannot build the leak search: {error}"),
                help: None,
            }
        })?;
    let files = files_to_search(root, target_dir);
    search.files_searched = files.len();
    let next = AtomicUsize::new(0);
    let found: Mutex<BTreeSet<Leak>> = Mutex::new(BTreeSet::new());
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = files.get(index) else { break };
            let Ok(reader) = File::open(file) else {
                continue;
            };
            let reader = std::io::BufReader::with_capacity(1 << 16, reader);
            let mut hits = BTreeSet::new();
            for hit in automaton.stream_find_iter(reader) {
                let Ok(hit) = hit else { break };
                let pattern = &meaning[hit.pattern().as_usize()];
                hits.insert((pattern.value, pattern.encoding));
            }
            if hits.is_empty() {
                continue;
            }
            let path = file
                .strip_prefix(root)
                .map(Path::to_owned)
                .unwrap_or_else(|_| file.clone());
            let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
            for (value, encoding) in hits {
                let (name, scope) = &values[value];
                found.insert(Leak {
                    path: path.clone(),
                    name: name.clone(),
                    scope: scope.clone(),
                    encoding,
                });
            }
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    search.leaks = found
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .collect();
    Ok(search)
}

/// The regular files git tracks in `root` (none outside a repository) and the regular files
/// under `target_dir`, without following symbolic links.
fn files_to_search(root: &Path, target_dir: &Path) -> Vec<PathBuf> {
    let mut files = BTreeSet::new();
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached"])
        .output();
    if let Ok(output) = output
        && output.status.success()
    {
        for path in output.stdout.split(|&byte| byte == 0) {
            if path.is_empty() {
                continue;
            }
            #[cfg(unix)]
            let path =
                root.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path));
            #[cfg(not(unix))]
            let path = root.join(String::from_utf8_lossy(path).as_ref());
            if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file()) {
                files.insert(path);
            }
        }
    }
    for entry in walkdir::WalkDir::new(target_dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() {
            files.insert(entry.into_path());
        }
    }
    files.into_iter().collect()
}

/// The texts a value may appear as, each at least [`MIN_LEN`] bytes: as stored, without the
/// blanks and line break around it (a value set from a file often ends with a newline that
/// a program trims, and a file holding it may not), and a multi-line value with its lines
/// ending in `\n` and in `\r\n` (a file checked out or written on Windows).
pub(crate) fn text_forms(value: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    for text in [value, value.trim_ascii()] {
        let mut lf = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut crlf = Zeroizing::new(Vec::with_capacity(text.len() + 8));
        for (at, &byte) in text.iter().enumerate() {
            let after_cr = at > 0 && text[at - 1] == b'\r';
            if byte == b'\n' {
                if after_cr {
                    lf.pop();
                } else {
                    crlf.push(b'\r');
                }
            }
            lf.push(byte);
            crlf.push(byte);
        }
        for form in [Zeroizing::new(text.to_vec()), lf, crlf] {
            if form.len() >= MIN_LEN && !forms.iter().any(|known| **known == *form) {
                forms.push(form);
            }
        }
    }
    forms
}

/// The base64 texts that contain `value` (standard and URL-safe alphabets): for each of
/// the three offsets the value can start at inside a longer encoded text, the characters
/// that depend on the value's bytes only. Padding is never part of a pattern, so padded
/// and unpadded encodings both match.
pub fn base64_forms(value: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms = Vec::new();
    for shift in 0..3usize {
        let mut input = Zeroizing::new(vec![0u8; shift]);
        input.extend_from_slice(value);
        let bits = input.len() * 8;
        // Characters wholly inside the value's bits.
        let first = (shift * 8).div_ceil(6);
        let last = bits / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = encode(&input, engine);
            let form = Zeroizing::new(encoded[first..last.min(encoded.len())].to_vec());
            if !form.is_empty()
                && !forms
                    .iter()
                    .any(|known: &Zeroizing<Vec<u8>>| **known == *form)
            {
                forms.push(form);
            }
        }
    }
    forms
}

/// Base64 with `engine` (no padding), into a buffer that is zeroed on drop.
fn encode(input: &[u8], engine: &base64::engine::GeneralPurpose) -> Zeroizing<Vec<u8>> {
    use base64::Engine as _;
    let mut out = Zeroizing::new(vec![0u8; input.len().div_ceil(3) * 4]);
    let written = engine
        .encode_slice(input, &mut out[..])
        .expect("the buffer fits any encoding of the input");
    out.truncate(written);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_forms_match_every_alignment() {
        let value = b"s3cr\xcf\xbf-value";
        let forms = base64_forms(value);
        // The padded standard encoding of the whole text, as a file would hold it.
        let reference = |bytes: &[u8]| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into_bytes()
        };
        for prefix in [&b""[..], b"a", b"ab", b"abc"] {
            for suffix in [&b""[..], b"z", b"zz"] {
                let mut whole = prefix.to_vec();
                whole.extend_from_slice(value);
                whole.extend_from_slice(suffix);
                let text = reference(&whole);
                assert!(
                    forms
                        .iter()
                        .any(|form| text.windows(form.len()).any(|window| window == &form[..])),
                    "prefix {prefix:?} suffix {suffix:?}"
                );
            }
        }
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        assert_eq!(&*encode(b"hello", &STANDARD_NO_PAD), b"aGVsbG8");
        assert_eq!(&*encode(b"\xfb\xff", &STANDARD_NO_PAD), b"+/8");
        assert_eq!(&*encode(b"\xfb\xff", &URL_SAFE_NO_PAD), b"-_8");
    }
}
