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
    /// `glpat-`, `gldt-`, `glrt-` and GitLab's other prefixes, with each token's length.
    GitLabToken,
    /// Slack's bot, user, workspace, legacy, app-level and configuration tokens, and
    /// incoming webhook URLs.
    SlackToken,
    /// `sk_live_`, `rk_live_`, `sk_test_`, `rk_test_` and at least 16 letters or digits.
    StripeKey,
    /// `AKIA`, `ASIA`, `ABIA`, `ACCA` and 16 base32 characters.
    AwsAccessKey,
    /// `AIza` and 35 letters, digits, `-` or `_`.
    GoogleApiKey,
    /// `npm_` and 36 letters or digits; an `.npmrc` `//host/:_authToken=` line.
    NpmToken,
    /// A macaroon for pypi.org or test.pypi.org: its prefix and at least 50 more characters.
    PyPiToken,
    /// `SG.` and 66 letters, digits, `=`, `_`, `-` or `.`.
    SendGridKey,
    /// `SK` or `AC` and 32 hex digits.
    TwilioKey,
    /// A PEM block `-----BEGIN ... PRIVATE KEY-----` with a random-looking body, or a PuTTY
    /// key file.
    PrivateKey,
    /// A JSON Web Token: base64url parts, the first two JSON objects (`eyJ`), the signature
    /// optional.
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
    if value.len() < 10 || !may_have_shape(value.as_bytes()) {
        return None;
    }
    shape_of(value).filter(|_| !is_placeholder(value))
}

/// Which of [`shape`] and [`is_high_entropy`] may hold for a value ([`may_match`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Possible {
    /// [`shape`] may find a match.
    pub(crate) shape: bool,
    /// [`is_high_entropy`] may hold.
    pub(crate) high_entropy: bool,
}

impl Possible {
    /// Neither.
    pub(crate) const NONE: Possible = Possible {
        shape: false,
        high_entropy: false,
    };

    pub(crate) fn any(self) -> bool {
        self.shape || self.high_entropy
    }
}

/// Which rules `value` may match on its own, from one pass over its bytes: `false` only
/// where [`shape`] or [`is_high_entropy`] cannot hold (most literals are messages, with a
/// space, or identifiers and paths, and hold no shape's prefix).
pub(crate) fn may_match(value: &str) -> Possible {
    let b = value.as_bytes();
    if b.len() < 10 {
        return Possible::NONE;
    }
    Possible {
        shape: may_have_shape(b),
        high_entropy: (16..=2048).contains(&b.len()) && may_be_high_entropy(b),
    }
}

/// The tests of [`is_high_entropy`] on single bytes and pairs, in one pass.
fn may_be_high_entropy(b: &[u8]) -> bool {
    // What each byte says, as bits (`NEVER`: a byte no such value holds).
    const DIGIT: u8 = 1;
    const LOWER: u8 = 2;
    const UPPER: u8 = 4;
    const UNDERSCORE: u8 = 8;
    const OTHER: u8 = 16;
    const COLON: u8 = 32;
    const NEVER: u8 = 64;
    const CLASS: [u8; 256] = {
        let mut class = [OTHER; 256];
        let mut c = 0;
        while c < 256 {
            let byte = c as u8;
            class[c] = match byte {
                b'0'..=b'9' => DIGIT,
                b'a'..=b'z' => LOWER,
                b'A'..=b'Z' => UPPER,
                b'_' => UNDERSCORE,
                b':' => COLON | OTHER,
                b'\\' | b'{' | b'}' | b'%' | b'"' | b'\'' | b',' | b';' | b'(' | b')' | b'<'
                | b'>' => NEVER,
                _ if byte.is_ascii_whitespace() || byte.is_ascii_control() => NEVER,
                _ => OTHER,
            };
            c += 1;
        }
        class
    };
    // Most literals are messages: a space in their first bytes rules them out.
    let mut seen = 0;
    for chunk in b.chunks(16) {
        seen = chunk
            .iter()
            .fold(seen, |seen, &c| seen | CLASS[usize::from(c)]);
        if seen & NEVER != 0 {
            return false;
        }
    }
    if seen & COLON != 0 && memchr::memmem::find(b, b"::").is_some() {
        return false;
    }
    let (digits, lower, upper) = (seen & DIGIT != 0, seen & LOWER != 0, seen & UPPER != 0);
    let letters = lower || upper;
    let mixed = letters && (digits || (lower && upper && b.len() >= 20));
    // Identifiers: `SOME_CONSTANT`, `snake_case_name`.
    let all_word = seen & OTHER == 0;
    let identifier = all_word && (!lower || seen & UNDERSCORE != 0);
    mixed && !identifier && b[0] != b'/'
}

/// Whether `value` holds the start of one of the shapes: most literals do not, and are
/// ruled out in one pass that looks closer only at the pairs of bytes a prefix starts
/// with.
fn may_have_shape(value: &[u8]) -> bool {
    // The first two bytes of each prefix below, one bit per pair: common letters (`e`,
    // `p`, `h`) rarely start one of these pairs, so most bytes cost one lookup.
    const PAIRS: [u64; 1024] = {
        let pairs: [&[u8; 2]; 23] = [
            b"gh", b"gi", b"gl", b"xo", b"xa", b"_l", b"_t", b"AK", b"AS", b"AB", b"AC", b"AI",
            b"np", b"py", b"SG", b"SK", b"--", b":/", b"ho", b"GR", b"/:", b"Pu", b"ey",
        ];
        let mut table = [0u64; 1024];
        let mut i = 0;
        while i < pairs.len() {
            let pair = ((pairs[i][0] as usize) << 8) | pairs[i][1] as usize;
            table[pair >> 6] |= 1 << (pair & 63);
            i += 1;
        }
        table
    };
    let hex_after = |rest: &[u8]| rest.get(2).is_some_and(u8::is_ascii_hexdigit);
    value.windows(2).enumerate().any(|(i, pair)| {
        let pair = (usize::from(pair[0]) << 8) | usize::from(pair[1]);
        if PAIRS[pair >> 6] & (1 << (pair & 63)) == 0 {
            return false;
        }
        let rest = &value[i..];
        let starts = |prefix: &[u8]| rest.starts_with(prefix);
        match value[i] {
            b'g' => {
                (starts(b"gh") && rest.get(3) == Some(&b'_'))
                    || starts(b"github_pat_")
                    || (starts(b"gl") && gitlab_prefix(&rest[2..]))
            }
            b'x' => starts(b"xox") || starts(b"xapp-"),
            b'_' => starts(b"_live_") || starts(b"_test_"),
            b'A' => {
                starts(b"AKIA")
                    || starts(b"ASIA")
                    || starts(b"ABIA")
                    || starts(b"ACCA")
                    || starts(b"AIza")
                    || (starts(b"AC") && hex_after(rest))
            }
            b'n' => starts(b"npm_"),
            b'p' => starts(b"pypi-"),
            b'S' => starts(b"SG.") || (starts(b"SK") && hex_after(rest)),
            b'-' => starts(b"-----BEGIN"),
            // A URL with a password has a `@` after its `://`.
            b':' => starts(b"://") && memchr::memchr(b'@', &rest[3..]).is_some(),
            b'h' => starts(b"hooks.slack.com"),
            b'G' => starts(b"GR1348941"),
            b'/' => starts(b"/:_auth"),
            b'P' => starts(b"PuTTY"),
            b'e' => starts(b"eyJ"),
            _ => false,
        }
    })
}

/// Whether `rest`, after a `gl`, goes on as GitLab's prefixes do: lowercase letters, then
/// `-` (`glpat-`, `gldt-`, ...).
fn gitlab_prefix(rest: &[u8]) -> bool {
    let letters = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
    letters > 0 && rest.get(letters) == Some(&b'-')
}

fn shape_of(value: &str) -> Option<Match> {
    let b = value.as_bytes();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let dash_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let hex = |c: u8| c.is_ascii_hexdigit();
    // Random enough: a run of one repeated character, or a short alphabet, is no key.
    let random = |at: usize, len: usize, bits: f64| entropy(&value[at..at + len]) >= bits;
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        for at in starts(value, prefix) {
            if run(b, at + 4, alnum) == 36 && random(at + 4, 36, 3.0) {
                return Some(found(Rule::GitHubToken, at, 4));
            }
        }
    }
    for at in starts(value, "github_pat_") {
        if run(b, at + 11, word) >= 82 {
            return Some(found(Rule::GitHubToken, at, 11));
        }
    }
    // GitLab's prefixes, each with the length of its token.
    for (prefix, min, max) in [
        ("glpat-", 20, 50),
        ("gldt-", 20, 50),
        ("glrt-", 20, 50),
        ("glsoat-", 20, 50),
        ("glcbt-", 20, 50),
        ("glffct-", 20, 50),
        ("glft-", 20, 50),
        ("glimt-", 25, 50),
        ("glptt-", 40, 40),
        ("glagent-", 50, 50),
        ("gloas-", 64, 64),
        ("GR1348941", 20, 50),
    ] {
        for at in starts(value, prefix) {
            let len = run(b, at + prefix.len(), dash_word);
            if (min..=max).contains(&len) && random(at + prefix.len(), len, 3.0) {
                return Some(found(Rule::GitLabToken, at, prefix.len().min(6)));
            }
        }
    }
    if let Some(at) = slack(value) {
        return Some(found(Rule::SlackToken, at, 5));
    }
    for prefix in ["sk_live_", "rk_live_", "sk_test_", "rk_test_"] {
        for at in starts(value, prefix) {
            if run(b, at + 8, alnum) >= 16 {
                return Some(found(Rule::StripeKey, at, 8));
            }
        }
    }
    for prefix in ["AKIA", "ASIA", "ABIA", "ACCA"] {
        for at in starts(value, prefix) {
            let base32 = |c: u8| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c);
            if run(b, at + 4, base32) == 16
                && !b.get(at + 20).is_some_and(|&c| alnum(c))
                && random(at, 20, 3.0)
            {
                return Some(found(Rule::AwsAccessKey, at, 4));
            }
        }
    }
    for at in starts(value, "AIza") {
        if run(b, at + 4, dash_word) == 35
            && random(at + 4, 35, 3.5)
            && !PUBLIC_GOOGLE_KEYS.contains(&&value[at..at + 39])
        {
            return Some(found(Rule::GoogleApiKey, at, 4));
        }
    }
    for at in starts(value, "npm_") {
        if run(b, at + 4, alnum) == 36 && random(at + 4, 36, 3.0) {
            return Some(found(Rule::NpmToken, at, 4));
        }
    }
    if let Some(at) = npmrc_auth(value) {
        return Some(found(Rule::NpmToken, at, 2));
    }
    // Macaroons for pypi.org and test.pypi.org.
    for prefix in ["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"] {
        for at in starts(value, prefix) {
            if run(b, at + prefix.len(), dash_word) >= 50 {
                return Some(found(Rule::PyPiToken, at, 5));
            }
        }
    }
    for at in starts(value, "SG.") {
        let sendgrid = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-' | b'.');
        if run(b, at + 3, sendgrid) == 66 && random(at + 3, 66, 3.5) {
            return Some(found(Rule::SendGridKey, at, 3));
        }
    }
    for prefix in ["SK", "AC"] {
        for at in starts(value, prefix) {
            if run(b, at + 2, hex) == 32
                && !b.get(at + 34).is_some_and(|&c| alnum(c))
                && random(at + 2, 32, 3.0)
            {
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

/// Example keys published in Firebase's SDKs: public, in many repositories, and no
/// credential of anyone's.
const PUBLIC_GOOGLE_KEYS: [&str; 16] = [
    "AIzaSyabcdefghijklmnopqrstuvwxyz1234567",
    "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs",
    "AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM",
    "AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU",
    "AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0",
    "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
    "AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c",
    "AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4",
    "AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY",
    "AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
    "AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ",
    "AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g",
    "AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU",
    "AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw",
    "AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE",
    "AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY",
];

/// Where a Slack token starts: bot (`xoxb-` digits `-` at least 18 more), user and
/// enterprise (`xoxp-`, `xoxe-`: three groups of digits and a part of 10 or more),
/// workspace and refresh (`xoxa-`, `xoxr-`), legacy (`xoxo-`, `xoxs-`: digit groups and
/// hex), app-level (`xapp-`), configuration (`xoxe.xoxp-`, `xoxe-1-`), and an incoming
/// webhook URL.
fn slack(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    let digits = |at: usize| run(b, at, |c| c.is_ascii_digit());
    let alnum = |at: usize| run(b, at, |c| c.is_ascii_alphanumeric());
    let token = |at: usize| run(b, at, |c| c.is_ascii_alphanumeric() || c == b'-');
    // `n` groups of at least `min` digits, each after a `-`, from `at` (just after the
    // prefix's `-`); returns where the text after the last group starts.
    let groups = |mut at: usize, n: usize, min: usize| {
        for index in 0..n {
            if index > 0 {
                if b.get(at) != Some(&b'-') {
                    return None;
                }
                at += 1;
            }
            let len = digits(at);
            if len < min {
                return None;
            }
            at += len;
        }
        Some(at)
    };
    for at in starts(value, "xox") {
        let Some(&kind) = b.get(at + 3) else { continue };
        let body = at + 5;
        if b.get(at + 4) == Some(&b'.') && value[at..].starts_with("xoxe.xox") {
            // Configuration token: `xoxe.xoxp-1-` and 100 or more characters.
            if digits(at + 10) == 1 && alnum(at + 12) >= 100 {
                return Some(at);
            }
            continue;
        }
        if b.get(at + 4) != Some(&b'-') {
            continue;
        }
        let found = match kind {
            b'b' => groups(body, 1, 8).is_some_and(|end| {
                b.get(end) == Some(&b'-')
                    && token(end + 1) >= 18
                    && entropy(&value[end + 1..end + 1 + token(end + 1)]) >= 3.0
            }),
            b'p' | b'e' => {
                groups(body, 3, 6)
                    .is_some_and(|end| b.get(end) == Some(&b'-') && alnum(end + 1) >= 10)
                    || (kind == b'e'
                        && digits(body) == 1
                        && b.get(body + 1) == Some(&b'-')
                        && alnum(body + 2) >= 100)
            }
            b'a' | b'r'
                if groups(body, 3, 6)
                    .is_some_and(|end| b.get(end) == Some(&b'-') && alnum(end + 1) >= 10) =>
            {
                true
            }
            b'a' | b'r' => {
                let start = if digits(body) == 1 && b.get(body + 1) == Some(&b'-') {
                    body + 2
                } else {
                    body
                };
                let len = alnum(start);
                (8..=48).contains(&len)
                    && b.get(start + len)
                        .is_none_or(|&c| c == b'-' || !c.is_ascii_alphanumeric())
                    && value[start..start + len]
                        .bytes()
                        .any(|c| c.is_ascii_digit())
            }
            b'o' | b's' => groups(body, 3, 1).is_some_and(|end| {
                b.get(end) == Some(&b'-') && run(b, end + 1, |c| c.is_ascii_hexdigit()) >= 8
            }),
            _ => false,
        };
        if found {
            return Some(at);
        }
    }
    for at in starts(value, "xapp-") {
        let body = at + 5;
        if digits(body) == 1 && b.get(body + 1) == Some(&b'-') {
            let id = alnum(body + 2);
            let after = body + 2 + id;
            if id >= 8
                && b.get(after) == Some(&b'-')
                && let Some(end) = groups(after + 1, 1, 8)
                && b.get(end) == Some(&b'-')
                && alnum(end + 1) >= 32
            {
                return Some(at);
            }
        }
    }
    for (at, _) in value.match_indices("hooks.slack.com/services/T") {
        let path = &value[at + 25..];
        let parts: Vec<&str> = path
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '/'))
            .next()
            .unwrap_or_default()
            .split('/')
            .collect();
        if parts.len() >= 3
            && parts[0].len() >= 8
            && parts[1].starts_with('B')
            && parts[1].len() >= 8
            && parts[2].len() >= 20
        {
            let start = value[..at].rfind("https://").unwrap_or(at);
            return Some(start);
        }
    }
    None
}

/// Where an `.npmrc` credential starts: `//host/:_authToken=VALUE` or `//host/:_auth=VALUE`
/// with a value that is not a template (`${NPM_TOKEN}`).
fn npmrc_auth(value: &str) -> Option<usize> {
    for key in ["/:_authToken=", "/:_auth="] {
        for (at, _) in value.match_indices(key) {
            let Some(slashes) = value[..at].rfind("//") else {
                continue;
            };
            let host = &value[slashes + 2..at];
            let secret = value[at + key.len()..].trim_start();
            let secret = secret
                .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                .next()
                .unwrap_or_default();
            if !host.is_empty()
                && !host.contains('/')
                && !secret.is_empty()
                && !secret.starts_with("${")
            {
                return Some(slashes);
            }
        }
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

/// Where a private key starts: a PEM block `-----BEGIN ... PRIVATE KEY-----` (or a PuTTY
/// key file's first line) with a random-looking body.
fn private_key(value: &str) -> Option<usize> {
    if let Some(at) = value.find("PuTTY-User-Key-File-")
        && value[at + 20..].starts_with(|c: char| c.is_ascii_digit())
    {
        return Some(at);
    }
    let at = value.find("-----BEGIN ")?;
    let header_end = value[at..].find("PRIVATE KEY")? + at;
    let after = value[header_end..].find("-----")? + header_end + 5;
    let body: String = value[after..]
        .chars()
        .take_while(|&c| c != '-')
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let label = &value[at + 11..header_end];
    (body.len() >= 32 && entropy(&body) >= 4.0 && label.len() <= 20 && !label.contains('\n'))
        .then_some(at)
}

/// Where a JWT starts: `eyJ...` `.` `eyJ...`, and an optional signature; the first two
/// parts decode (base64url) to JSON objects.
fn jwt(value: &str) -> Option<usize> {
    use base64::Engine as _;
    let b = value.as_bytes();
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'=';
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
    };
    let object = |part: &str| {
        decode(part)
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|json| json.is_object())
    };
    // A header is a small JSON object; one that does not parse must at least be text.
    let header_like = |part: &str| {
        object(part)
            || decode(part).is_some_and(|bytes| {
                let text = bytes
                    .iter()
                    .filter(|&&c| c.is_ascii_graphic() || c.is_ascii_whitespace())
                    .count();
                bytes.ends_with(b"}") && text * 10 >= bytes.len() * 9
            })
    };
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
        if payload >= 10
            && header_like(&value[at..at + header])
            && object(&value[payload_at..payload_at + payload])
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
        || has("${")
        || has("{{")
        || ((has("your-") || has("your_") || has("<your"))
            && (has("here") || has("token") || has("key")))
        || (lower.contains('<') && lower.contains('>'))
        || has_word(
            value,
            &[
                "changeme",
                "change_me",
                "example",
                "dummy",
                "placeholder",
                "redacted",
                "fake",
                "sample",
            ],
        )
}

/// Whether one of `needles` is in a run of letters of `value` that no case change breaks
/// (`EXAMPLE`, `example.com`, `MYFAKETOKEN`), so that a random string holding `FaKe` by
/// chance is not taken for a placeholder.
fn has_word(value: &str, needles: &[&str]) -> bool {
    let mut word = String::new();
    let mut previous_lower = false;
    let check = |word: &mut String| {
        let found = needles.iter().any(|needle| word.contains(needle));
        word.clear();
        found
    };
    for c in value.chars().chain(std::iter::once(' ')) {
        let letter = c.is_ascii_alphabetic() || c == '_';
        if (!letter || (c.is_ascii_uppercase() && previous_lower)) && check(&mut word) {
            return true;
        }
        previous_lower = c.is_ascii_lowercase();
        if letter {
            word.push(c.to_ascii_lowercase());
        }
    }
    false
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
    let bytes = value.as_bytes();
    if !(16..=2048).contains(&bytes.len())
        || bytes
            .iter()
            .any(|&c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return false;
    }
    let digits = bytes.iter().any(u8::is_ascii_digit);
    let lower = bytes.iter().any(u8::is_ascii_lowercase);
    let upper = bytes.iter().any(u8::is_ascii_uppercase);
    let letters = lower || upper;
    if !(letters && (digits || (lower && upper && bytes.len() >= 20))) {
        return false;
    }
    // A path, a URL without a password, a module path, a registry key, a template or words
    // are not a credential.
    if value.contains("::")
        || value.contains("://")
        || value.starts_with('/')
        || value.contains(['\\', '{', '}', '%', '"', '\'', ',', ';', '(', ')', '<', '>'])
        || looks_like_words(value)
    {
        return false;
    }
    if bytes
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        && (bytes.iter().all(|c| !c.is_ascii_lowercase()) || value.contains('_'))
    {
        return false;
    }
    value.chars().count() >= 16
        && !is_placeholder(value)
        && !is_hash_or_uuid(value)
        && entropy(value) >= 3.5
}

/// Shannon entropy of `value`'s bytes, in bits per byte.
pub(crate) fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for &b in value.as_bytes() {
        counts[usize::from(b)] += 1;
    }
    let total = value.len() as f64;
    if value.is_empty() {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum()
}

/// Whether an identifier or key names a secret: one of its words (split at `_`, `-` and
/// case changes) is `token`, `secret`, `password`, `passwd`, `passphrase`, `pass`, `pwd`,
/// `credential(s)`, `auth` or `bearer`, or two adjacent words make `api key`, `access
/// key`, `private key` and the like (also written as one word: `apikey`); and it does not
/// end in a word that makes it the name of something else (`TOKEN_ENV`, `secret_name`,
/// `password_file`, `token_url`), nor say it is a test, an example or public.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let words: Vec<String> = split_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    const SECRET_WORDS: [&str; 16] = [
        "token",
        "tokens",
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "pass",
        "pwd",
        "credential",
        "credentials",
        "creds",
        "auth",
        "bearer",
        "apikey",
    ];
    const KEY_KINDS: [&str; 14] = [
        "api",
        "access",
        "private",
        "secret",
        "signing",
        "encryption",
        "master",
        "session",
        "client",
        "app",
        "auth",
        "hmac",
        "webhook",
        "license",
    ];
    let secretish = words.iter().any(|word| {
        SECRET_WORDS.contains(&word.as_str())
            || word
                .strip_suffix("key")
                .is_some_and(|kind| KEY_KINDS.contains(&kind))
    }) || words
        .windows(2)
        .any(|pair| pair[1] == "key" && KEY_KINDS.contains(&pair[0].as_str()));
    let other = [
        "name", "names", "env", "var", "vars", "variable", "path", "file", "dir", "url", "uri",
        "header", "prefix", "suffix", "len", "length", "count", "type", "kind", "pattern",
        "format", "label", "field", "id", "endpoint", "hint", "message", "msg", "error", "help",
        "regex", "re", "test", "example", "mode", "method", "scheme", "check", "policy", "routine",
        "func", "flag", "flags", "option", "options", "info", "usage",
    ]
    .contains(&last.as_str());
    let quiet_word = words.iter().any(|word| {
        [
            "test", "example", "dummy", "fake", "mock", "sample", "public", "pub",
        ]
        .contains(&word.as_str())
    });
    secretish && !other && !quiet_word
}

/// Whether `value` is mostly words (`pkcs-9-at-passwordCheck`, `id-aa-timeStampToken`,
/// `SecretRetainedAudio`): most of its letters are in runs of four or more that a case
/// change or another character does not break, which random text rarely has.
fn looks_like_words(value: &str) -> bool {
    let mut letters = 0usize;
    let mut in_words = 0usize;
    let mut run = 0usize;
    let mut previous_lower = false;
    let close = |run: &mut usize, in_words: &mut usize| {
        if *run >= 4 {
            *in_words += *run;
        }
        *run = 0;
    };
    for c in value.chars() {
        if !c.is_ascii_alphabetic() {
            close(&mut run, &mut in_words);
            previous_lower = false;
            continue;
        }
        letters += 1;
        if c.is_ascii_uppercase() && previous_lower {
            close(&mut run, &mut in_words);
        }
        previous_lower = c.is_ascii_lowercase();
        run += 1;
    }
    close(&mut run, &mut in_words);
    letters > 0 && in_words * 2 > letters
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
        assert!(is_secret_name("client_secret"));
        assert!(is_secret_name("SIGNING_KEY"));
        assert!(is_secret_name("bearer_auth"));
        assert!(!is_secret_name("AUTHORITY_REVOCATION_LIST"));
        assert!(!is_secret_name("SPTOKENKEY_RETAINEDAUDIO"));
        assert!(!is_secret_name("aarch64-unknown-linux-pauthtest"));
    }

    #[test]
    fn words_are_told_from_random_text() {
        assert!(looks_like_words("pkcs-9-at-passwordCheck"));
        assert!(looks_like_words("id-aa-timeStampToken"));
        assert!(!looks_like_words("keEdoZdVvFYddC69jhFBcXhp"));
        assert!(!looks_like_words("Qm9xR2k7Tz4pLw8vNc3sYh6jDf1aGb5u"));
        assert!(is_high_entropy("keEdoZdVvFYddC69jhFBcXhp"));
        assert!(!is_high_entropy("Software\\Microsoft\\Cryptography1"));
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
