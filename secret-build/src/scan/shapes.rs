//! The rules of the `hardcoded-secret` finding on one string's value: credentials with a
//! shape their provider gives them (a GitHub token starts with `ghp_` and has 36 letters
//! and digits after it), private keys, JWTs, URLs with a password, and high-entropy strings
//! bound to a name that says they are secret. Hand-written matchers, no regular
//! expressions: each rule is a prefix and the characters and length that must follow.
//!
//! Quiet on what looks like a credential and is not one: placeholders (`xxxx`, `<token>`,
//! `changeme`, `your-token-here`, the AWS documentation's `...EXAMPLE` key), hashes (hex of
//! 32, 40 or 64 digits), UUIDs, and low-entropy or word-like strings.

/// Which rule a literal matched. Each has a stable name ([`Rule::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters or digits; `github_pat_` and 82.
    GitHubToken,
    /// `glpat-` and at least 20 letters, digits, `-` or `_`.
    GitLabToken,
    /// `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-` and a numbered token.
    SlackToken,
    /// `sk_live_` or `rk_live_` and at least 20 letters or digits.
    StripeKey,
    /// `AKIA`, `ASIA`, `ABIA`, `ACCA` and 16 base32 characters.
    AwsAccessKey,
    /// `AIza` and 35 letters, digits, `-` or `_`.
    GoogleApiKey,
    /// `npm_` and 36 letters or digits.
    NpmToken,
    /// `pypi-AgEIcHlwaS5vcmc` (a macaroon for pypi.org) and at least 50 more characters.
    PyPiToken,
    /// `SG.`, 22 characters, `.`, 43 characters.
    SendGridKey,
    /// `SK` or `AC` and 32 lowercase hex digits.
    TwilioKey,
    /// A PEM block `-----BEGIN ... PRIVATE KEY-----` with a body.
    PrivateKey,
    /// A JSON Web Token: three base64url parts, the first two JSON objects (`eyJ`).
    Jwt,
    /// A URL with a password: `scheme://user:password@host`.
    UrlPassword,
    /// A high-entropy string bound to a secret-looking name (`*_TOKEN`, `password`, ...).
    NamedSecret,
}

impl Rule {
    /// Every rule, in the order the docs list them.
    pub const ALL: [Rule; 14] = [
        Self::GitHubToken,
        Self::GitLabToken,
        Self::SlackToken,
        Self::StripeKey,
        Self::AwsAccessKey,
        Self::GoogleApiKey,
        Self::NpmToken,
        Self::PyPiToken,
        Self::SendGridKey,
        Self::TwilioKey,
        Self::PrivateKey,
        Self::Jwt,
        Self::UrlPassword,
        Self::NamedSecret,
    ];

    /// The rule's stable name: `github-token`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GitHubToken => "github-token",
            Self::GitLabToken => "gitlab-token",
            Self::SlackToken => "slack-token",
            Self::StripeKey => "stripe-key",
            Self::AwsAccessKey => "aws-access-key",
            Self::GoogleApiKey => "google-api-key",
            Self::NpmToken => "npm-token",
            Self::PyPiToken => "pypi-token",
            Self::SendGridKey => "sendgrid-key",
            Self::TwilioKey => "twilio-key",
            Self::PrivateKey => "private-key",
            Self::Jwt => "jwt",
            Self::UrlPassword => "url-password",
            Self::NamedSecret => "named-secret",
        }
    }

    /// What the rule found, for messages: `a GitHub token`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::GitHubToken => "a GitHub token",
            Self::GitLabToken => "a GitLab token",
            Self::SlackToken => "a Slack token",
            Self::StripeKey => "a Stripe live key",
            Self::AwsAccessKey => "an AWS access key id",
            Self::GoogleApiKey => "a Google API key",
            Self::NpmToken => "an npm token",
            Self::PyPiToken => "a PyPI token",
            Self::SendGridKey => "a SendGrid API key",
            Self::TwilioKey => "a Twilio key",
            Self::PrivateKey => "a private key",
            Self::Jwt => "a JSON Web Token",
            Self::UrlPassword => "a URL with a password",
            Self::NamedSecret => "a high-entropy string with a secret's name",
        }
    }

    /// A secret name to suggest for a value this rule found, when the code gives none.
    pub fn suggested_name(self) -> &'static str {
        match self {
            Self::GitHubToken => "GitHubToken",
            Self::GitLabToken => "GitLabToken",
            Self::SlackToken => "SlackToken",
            Self::StripeKey => "StripeKey",
            Self::AwsAccessKey => "AwsAccessKeyId",
            Self::GoogleApiKey => "GoogleApiKey",
            Self::NpmToken => "NpmToken",
            Self::PyPiToken => "PyPiToken",
            Self::SendGridKey => "SendGridKey",
            Self::TwilioKey => "TwilioKey",
            Self::PrivateKey => "PrivateKey",
            Self::Jwt => "Jwt",
            Self::UrlPassword => "DatabaseUrl",
            Self::NamedSecret => "ApiToken",
        }
    }
}

/// A match: the rule, and where in the value the credential starts (the preview shows a
/// few characters from there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Match {
    pub(crate) rule: Rule,
    /// Byte offset in the value where the credential starts.
    pub(crate) at: usize,
    /// How many leading characters of the credential are its public shape (the prefix),
    /// shown in the preview.
    pub(crate) shown: usize,
}

/// The shape rules' match in `value`, if any (the first rule that matches, in
/// [`Rule::ALL`] order). Placeholders never match.
pub(crate) fn shape(value: &str) -> Option<Match> {
    if value.len() < 10 || is_placeholder(value) {
        return None;
    }
    let b = value.as_bytes();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let dash_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    for (prefix, rule) in [
        ("ghp_", Rule::GitHubToken),
        ("gho_", Rule::GitHubToken),
        ("ghu_", Rule::GitHubToken),
        ("ghs_", Rule::GitHubToken),
        ("ghr_", Rule::GitHubToken),
    ] {
        for at in starts(value, prefix) {
            if run(b, at + 4, alnum) == 36 {
                return Some(found(rule, at, 4));
            }
        }
    }
    for at in starts(value, "github_pat_") {
        if run(b, at + 11, word) >= 82 {
            return Some(found(Rule::GitHubToken, at, 11));
        }
    }
    for at in starts(value, "glpat-") {
        if run(b, at + 6, dash_word) >= 20 {
            return Some(found(Rule::GitLabToken, at, 6));
        }
    }
    for at in starts(value, "xox") {
        let kind = b.get(at + 3).copied();
        if matches!(kind, Some(b'b' | b'p' | b'a' | b'r' | b's' | b'e'))
            && b.get(at + 4) == Some(&b'-')
        {
            let body = at + 5;
            let len = run(b, body, |c| c.is_ascii_alphanumeric() || c == b'-');
            let digits = run(b, body, |c| c.is_ascii_digit());
            if len >= 20 && digits >= 1 && value[body..body + len].contains('-') {
                return Some(found(Rule::SlackToken, at, 5));
            }
        }
    }
    for prefix in ["sk_live_", "rk_live_"] {
        for at in starts(value, prefix) {
            if run(b, at + 8, alnum) >= 20 {
                return Some(found(Rule::StripeKey, at, 8));
            }
        }
    }
    for prefix in ["AKIA", "ASIA", "ABIA", "ACCA"] {
        for at in starts(value, prefix) {
            let base32 = |c: u8| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c);
            if run(b, at + 4, base32) == 16 && !b.get(at + 20).is_some_and(|&c| alnum(c)) {
                return Some(found(Rule::AwsAccessKey, at, 4));
            }
        }
    }
    for at in starts(value, "AIza") {
        if run(b, at + 4, dash_word) == 35 {
            return Some(found(Rule::GoogleApiKey, at, 4));
        }
    }
    for at in starts(value, "npm_") {
        if run(b, at + 4, alnum) == 36 {
            return Some(found(Rule::NpmToken, at, 4));
        }
    }
    for at in starts(value, "pypi-AgEIcHlwaS5vcmc") {
        if run(b, at + 20, dash_word) >= 50 {
            return Some(found(Rule::PyPiToken, at, 5));
        }
    }
    for at in starts(value, "SG.") {
        let first = run(b, at + 3, dash_word);
        if first == 22 && b.get(at + 25) == Some(&b'.') && run(b, at + 26, dash_word) == 43 {
            return Some(found(Rule::SendGridKey, at, 3));
        }
    }
    for prefix in ["SK", "AC"] {
        for at in starts(value, prefix) {
            let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
            if run(b, at + 2, hex) == 32 && !b.get(at + 34).is_some_and(|&c| alnum(c)) {
                return Some(found(Rule::TwilioKey, at, 2));
            }
        }
    }
    if let Some(at) = private_key(value) {
        return Some(found(Rule::PrivateKey, at, 10));
    }
    if let Some(at) = jwt(value) {
        return Some(found(Rule::Jwt, at, 3));
    }
    if let Some((at, shown)) = url_password(value) {
        return Some(found(Rule::UrlPassword, at, shown));
    }
    None
}

fn found(rule: Rule, at: usize, shown: usize) -> Match {
    Match { rule, at, shown }
}

/// Offsets of `prefix` in `value` where it starts a token (no letter or digit before).
fn starts<'a>(value: &'a str, prefix: &'a str) -> impl Iterator<Item = usize> + 'a {
    value
        .match_indices(prefix)
        .map(|(at, _)| at)
        .filter(move |&at| at == 0 || !value.as_bytes()[at - 1].is_ascii_alphanumeric())
}

/// How many bytes from `from` satisfy `ok`.
fn run(b: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    b.get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&c| ok(c)).count())
}

/// Where a PEM private key block with a body starts.
fn private_key(value: &str) -> Option<usize> {
    let at = value.find("-----BEGIN ")?;
    let header_end = value[at..].find("PRIVATE KEY")? + at;
    let after = value[header_end..].find("-----")? + header_end + 5;
    let body = value[after..]
        .bytes()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        .take(32)
        .count();
    let label = &value[at + 11..header_end];
    (body >= 32 && label.len() <= 20 && !label.contains('\n')).then_some(at)
}

/// Where a JWT starts: `eyJ...` `.` `eyJ...` `.` signature, each part base64url.
fn jwt(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    for at in starts(value, "eyJ") {
        let header = run(b, at, b64);
        let payload_at = at + header + 1;
        if header < 10
            || b.get(at + header) != Some(&b'.')
            || !value[payload_at..].starts_with("eyJ")
        {
            continue;
        }
        let payload = run(b, payload_at, b64);
        let signature_at = payload_at + payload + 1;
        if payload >= 10
            && b.get(payload_at + payload) == Some(&b'.')
            && run(b, signature_at, b64) >= 16
        {
            return Some(at);
        }
    }
    None
}

/// Where a URL with a real-looking password starts, and how much of it is shown (the
/// scheme and `://`).
fn url_password(value: &str) -> Option<(usize, usize)> {
    for (sep, _) in value.match_indices("://") {
        let b = value.as_bytes();
        let scheme_start = value[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
            .map_or(0, |at| at + 1);
        if scheme_start == sep || !b[scheme_start].is_ascii_alphabetic() {
            continue;
        }
        let rest = &value[sep + 3..];
        let authority_end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let Some((user, password)) = authority[..at].split_once(':') else {
            continue;
        };
        let host = &authority[at + 1..];
        if password.is_empty() || host.is_empty() || is_default_password(user, password) {
            continue;
        }
        return Some((scheme_start, sep + 3 - scheme_start));
    }
    None
}

/// Passwords that are not secrets: defaults of development databases, the user's own
/// name, template placeholders.
fn is_default_password(user: &str, password: &str) -> bool {
    let lower = password.to_ascii_lowercase();
    lower == user.to_ascii_lowercase()
        || [
            "password", "pass", "passwd", "secret", "postgres", "root", "admin", "guest", "test",
            "changeme", "example", "mysql", "redis", "user", "pwd",
        ]
        .contains(&lower.as_str())
        || password.starts_with(['$', '{', '<', '%', '*'])
        || password.chars().all(|c| c == 'x' || c == 'X' || c == '*')
        || is_placeholder(password)
}

/// Whether `value` is a placeholder rather than a credential: `xxxx`, `****`, `<token>`,
/// `changeme`, `your-api-key-here`, `${TOKEN}`, `{{ token }}`, and the words `example`,
/// `dummy`, `placeholder`, `redacted`, `fake`, `sample`.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    has("xxxx")
        || has("****")
        || has("....")
        || has("changeme")
        || has("change_me")
        || has("change-me")
        || has("example")
        || has("dummy")
        || has("placeholder")
        || has("redacted")
        || has("fake")
        || has("sample")
        || has("${")
        || has("{{")
        || ((has("your-") || has("your_") || has("<your"))
            && (has("here") || has("token") || has("key")))
        || (lower.contains('<') && lower.contains('>'))
}

/// Whether `value` is a hash (hex of 32, 40, 64 or 128 digits) or a UUID: public
/// identifiers and digests, not credentials, whatever their name says.
pub(crate) fn is_hash_or_uuid(value: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit());
    if [32, 40, 64, 128].contains(&value.len()) && hex(value) {
        return true;
    }
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| hex(p))
}

/// Whether `value` is random enough to be a credential when a secret's name holds it: at
/// least 16 characters without spaces, letters and digits mixed, and at least 3.5 bits of
/// entropy per character; not a placeholder, hash, UUID, path or identifier.
pub(crate) fn is_high_entropy(value: &str) -> bool {
    let len = value.chars().count();
    if !(16..=512).contains(&len)
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
        || is_placeholder(value)
        || is_hash_or_uuid(value)
    {
        return false;
    }
    let digits = value.bytes().any(|c| c.is_ascii_digit());
    let lower = value.bytes().any(|c| c.is_ascii_lowercase());
    let upper = value.bytes().any(|c| c.is_ascii_uppercase());
    let letters = lower || upper;
    if !(letters && (digits || (lower && upper && len >= 20))) {
        return false;
    }
    // A path, a URL without a password, a module path or an identifier is not a credential.
    if value.contains("::") || value.contains("://") || value.starts_with('/') {
        return false;
    }
    if value
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && (value.bytes().all(|c| !c.is_ascii_lowercase()) || value.contains('_'))
    {
        return false;
    }
    entropy(value) >= 3.5
}

/// Shannon entropy of `value`'s characters, in bits per character.
pub(crate) fn entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

/// Whether an identifier or key names a secret: it holds `token`, `secret`, `password`,
/// `passwd`, `pwd`, `api_key`, `access_key`, `private_key`, `credential`, `auth` or
/// `bearer` (case and `_`/`-` ignored), and does not end in a word that makes it the name
/// of something else (`TOKEN_ENV`, `secret_name`, `password_file`, `token_url`).
pub(crate) fn is_secret_name(name: &str) -> bool {
    let words: Vec<String> = split_words(name);
    if words.is_empty() {
        return false;
    }
    let joined: String = words.concat();
    let secretish = [
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "apikey",
        "accesskey",
        "privatekey",
        "signingkey",
        "encryptionkey",
        "masterkey",
        "credential",
        "auth",
        "bearer",
    ]
    .iter()
    .any(|needle| joined.contains(needle));
    let last = words.last().map(String::as_str).unwrap_or_default();
    let other = [
        "name", "names", "env", "var", "vars", "variable", "path", "file", "dir", "url", "uri",
        "header", "prefix", "suffix", "len", "length", "count", "type", "kind", "pattern",
        "format", "label", "field", "id", "endpoint", "hint", "message", "msg", "error", "help",
        "regex", "re", "test", "example", "mode", "method", "scheme",
    ]
    .contains(&last);
    let quiet_word = words.iter().any(|word| {
        [
            "test", "example", "dummy", "fake", "mock", "sample", "public", "pub",
        ]
        .contains(&word.as_str())
    });
    secretish && !other && !quiet_word
}

/// The lowercase words of an identifier or key: `GITHUB_TOKEN`, `githubToken` and
/// `x-api-key` split at `_`, `-`, spaces and lower-to-upper changes.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The redacted preview of a value matched at `m`: its first characters (the public
/// prefix for a provider token, three for a named secret) and `…`; never more than a
/// quarter of the credential.
pub(crate) fn preview(value: &str, at: usize, shown: usize) -> String {
    let credential = &value[at..];
    let total = credential.chars().count();
    let shown = shown.min(total / 4).max(1).min(total.saturating_sub(1));
    let mut text: String = credential.chars().take(shown).collect();
    text.push('…');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words_whatever_their_case() {
        assert_eq!(split_words("GITHUB_TOKEN"), ["github", "token"]);
        assert_eq!(split_words("githubToken"), ["github", "token"]);
        assert_eq!(split_words("x-api-key"), ["x", "api", "key"]);
        assert!(is_secret_name("STRIPE_SECRET"));
        assert!(is_secret_name("apiKey"));
        assert!(is_secret_name("x-api-key"));
        assert!(!is_secret_name("TOKEN_ENV"));
        assert!(!is_secret_name("secret_name"));
        assert!(!is_secret_name("TEST_TOKEN"));
    }

    #[test]
    fn a_preview_never_shows_more_than_a_quarter() {
        assert_eq!(
            preview("ghp_abcdefghijklmnopqrstuvwxyz0123456789", 0, 4),
            "ghp_…"
        );
        assert_eq!(preview("abcdefgh", 0, 4), "ab…");
    }
}
