//! Where a problem is in a file, and what to do about it: [`FileError`] (file, line,
//! message, help), line numbers from byte offsets, and "did you mean" suggestions. The
//! lowest layer of the crate's errors: every module that reads a file reports through it.

use std::fmt;
use std::path::PathBuf;

/// A problem in a file the user or the tool wrote: where it is, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl FileError {
    /// A problem at `offset` (a byte offset into `text`, the file's contents).
    pub fn at(
        path: impl Into<PathBuf>,
        text: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            line: offset.map(|offset| line_of(text, offset)),
            message: message.into(),
            help: None,
        }
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// The 1-based line number of byte `offset` in `text` (for many offsets in one text, build
/// a [`LineIndex`] once).
pub fn line_of(text: &str, offset: usize) -> usize {
    LineIndex::new(text).line(offset)
}

/// The 1-based line of a byte offset, found by binary search over the newline offsets:
/// counting newlines from the start for every value made parsing the store quadratic in the
/// number of values (2 s for a `set` in a store of 400 values, in a debug build).
#[derive(Debug)]
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    /// The newline offsets of `text`.
    pub fn new(text: &str) -> Self {
        Self(
            text.bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(at, _)| at)
                .collect(),
        )
    }

    /// The 1-based line holding byte `offset` (a newline belongs to the line it ends).
    pub fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

/// The candidate closest to `input` by edit distance, when it is close enough to be a
/// plausible typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| {
            let (input, lower) = (input.to_lowercase(), candidate.to_lowercase());
            // An abbreviation (`devel` for `development`) counts as a near miss.
            let distance = if input.len() >= 3 && lower.starts_with(&input) {
                1
            } else {
                edit_distance(&input, &lower)
            };
            (distance, candidate)
        })
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(input.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("enviroments", ["environments", "recipients"]),
            Some("environments")
        );
        assert_eq!(
            did_you_mean("stagin", ["staging", "prod-eu"]),
            Some("staging")
        );
        assert_eq!(did_you_mean("zzz", ["staging"]), None);
        assert_eq!(line_of("a\nb\nc", 2), 2);
    }
}
