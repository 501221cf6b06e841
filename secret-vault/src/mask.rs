//! Text the server (or a gateway, a proxy) sends, made fit for a terminal and a CI log:
//! every secret the request carried is masked by value first, so no cut can leave part of
//! one; then line breaks become spaces and control, bidi and zero-width characters are
//! escaped; then it is cut.

use std::borrow::Cow;

use zeroize::Zeroizing;

/// The secrets to remove from server text: the token, the AppRole credentials, the proxy's
/// password and the values being written. Each is masked as sent and as it appears inside
/// a JSON string (a gateway that quotes the request body quotes it as JSON).
#[derive(Default)]
pub(crate) struct Mask {
    secrets: Vec<(Zeroizing<String>, &'static str)>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mask({} secrets)", self.secrets.len())
    }
}

impl Mask {
    /// Masks `secret` (and its JSON-escaped form) as `[label]`.
    pub(crate) fn add(&mut self, secret: &str, label: &'static str) {
        if secret.is_empty() {
            return;
        }
        let escaped = json_escaped(secret);
        if escaped.as_str() != secret {
            self.secrets.push((escaped, label));
        }
        self.secrets
            .push((Zeroizing::new(secret.to_owned()), label));
        // Longer first: a value that contains the token is masked whole.
        self.secrets
            .sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
    }

    /// `text` with every secret replaced by its label.
    pub(crate) fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (secret, label) in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), &format!("[{label}]")));
            }
        }
        out
    }
}

/// The server's `text` for a message: masked, on one line, escaped, and cut at `max`
/// characters.
pub(crate) fn clean(text: &str, mask: &Mask, max: usize) -> String {
    let masked = mask.apply(text);
    let one_line: String = masked
        .chars()
        .map(|ch| {
            if matches!(ch, '\n' | '\r' | '\t') {
                ' '
            } else {
                ch
            }
        })
        .collect();
    cut(
        secret_core::text::escape_control(one_line.trim()).as_ref(),
        max,
    )
}

/// `text` cut at `max` characters, with `…` when something was cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// `secret` as it appears between the quotes of a JSON string.
fn json_escaped(secret: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(secret.len()));
    for ch in secret.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ch if u32::from(ch) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out
}

/// Wipes every string of a JSON answer (tokens, values) before it is dropped.
pub(crate) fn zero_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => zeroize::Zeroize::zeroize(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(zero_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(zero_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression test: the server's text was cut at 300 characters before the token was
    // masked, so the first part of a token that straddled the cut was printed.
    #[test]
    fn a_secret_straddling_the_cut_is_masked_whole() {
        let token = "s.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH";
        let mut mask = Mask::default();
        mask.add(token, "token");
        let text = format!("{}{token} and more", "x".repeat(280));
        let out = clean(&text, &mask, 300);
        assert!(!out.contains("s.0123456789"), "{out}");
        assert!(out.contains("[token]"), "{out}");
    }

    // Regression test: a gateway that quotes the request body printed the value being
    // written (JSON-escaped in the body).
    #[test]
    fn values_are_masked_raw_and_json_escaped() {
        let mut mask = Mask::default();
        mask.add("pa\"ss\\word", "value");
        let body = r#"bad gateway: {"v":"pa\"ss\\word"} echo pa"ss\word"#;
        assert_eq!(
            clean(body, &mask, 300),
            r#"bad gateway: {"v":"[value]"} echo [value]"#
        );
    }

    #[test]
    fn control_bidi_and_zero_width_characters_are_escaped() {
        let out = clean(
            "a\u{1b}[2J b\u{202e}c\u{200b}d\u{2066}e\u{feff}\nf",
            &Mask::default(),
            300,
        );
        assert_eq!(
            out,
            "a\\u{1b}[2J b\\u{202e}c\\u{200b}d\\u{2066}e\\u{feff} f"
        );
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
