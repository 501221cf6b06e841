//! Environment types, environments and the scopes a stored value covers.

use std::collections::BTreeSet;
use std::fmt;

use crate::text::{escape_control, shell_quote};

/// One of the four environment types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EnvType {
    /// `production`, shorthand `prod`.
    Production,
    /// `development`, shorthand `dev`.
    Development,
    /// `preview`, shorthand `pr`.
    Preview,
    /// `local`.
    Local,
}

impl EnvType {
    /// Every name and shorthand [`EnvType::parse`] accepts, for suggestions.
    pub const NAMES: [&'static str; 7] = [
        "production",
        "prod",
        "development",
        "dev",
        "preview",
        "pr",
        "local",
    ];

    /// Every type, in the order reports show them.
    pub const ALL: [EnvType; 4] = [
        Self::Production,
        Self::Development,
        Self::Preview,
        Self::Local,
    ];

    /// Parses a type name or its shorthand (`production`/`prod`, `development`/`dev`,
    /// `preview`/`pr`, `local`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "production" | "prod" => Some(Self::Production),
            "development" | "dev" => Some(Self::Development),
            "preview" | "pr" => Some(Self::Preview),
            "local" => Some(Self::Local),
            _ => None,
        }
    }

    /// The long name, as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Development => "development",
            Self::Preview => "preview",
            Self::Local => "local",
        }
    }

    /// The shorthand accepted on the command line.
    pub fn short(self) -> &'static str {
        match self {
            Self::Production => "prod",
            Self::Development => "dev",
            Self::Preview => "pr",
            Self::Local => "local",
        }
    }

    /// Whether a missing value is an error (cloud types) rather than a warning (local).
    pub fn is_cloud(self) -> bool {
        self != Self::Local
    }
}

impl fmt::Display for EnvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an [`Environment`] was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvKind {
    /// By its type (`--env prod`): only values set for the type apply.
    Type,
    /// A named environment declared in `secrets.toml`.
    Named,
    /// A name matching a pattern declared in `secrets.toml` (such as `pr-*`); holds the pattern.
    Pattern(String),
}

/// An environment a program runs in or a command targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// The name as the user gave it (`staging`, `pr-42`), or the type's long name.
    pub name: String,
    /// The environment's type.
    pub ty: EnvType,
    /// How the name was resolved.
    pub kind: EnvKind,
}

impl Environment {
    /// The environment that stands for a whole type.
    pub fn of_type(ty: EnvType) -> Self {
        Self {
            name: ty.name().to_owned(),
            ty,
            kind: EnvKind::Type,
        }
    }

    /// The names a value may be stored under for this environment, most specific first:
    /// the environment's own name, then the pattern it matched.
    pub(crate) fn env_keys(&self) -> Vec<&str> {
        match &self.kind {
            EnvKind::Type => Vec::new(),
            EnvKind::Named => vec![self.name.as_str()],
            EnvKind::Pattern(pattern) => vec![self.name.as_str(), pattern.as_str()],
        }
    }
}

impl Environment {
    /// The command that sets a value of `name` for this environment:
    /// `cargo xtask secret set --type prod NAME` or `... --env staging NAME`.
    pub fn set_command(&self, name: &str) -> String {
        match self.kind {
            EnvKind::Type => format!(
                "cargo xtask secret set --type {} {}",
                self.ty.short(),
                shell_quote(name)
            ),
            EnvKind::Named | EnvKind::Pattern(_) => {
                format!(
                    "cargo xtask secret set --env {} {}",
                    shell_quote(&self.name),
                    shell_quote(name)
                )
            }
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            EnvKind::Type => write!(f, "{}", self.ty),
            _ => write!(f, "{} ({})", escape_control(&self.name), self.ty),
        }
    }
}

/// What one stored value covers: a set of types, or a set of named environments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The value applies to every environment of these types (unless a named value wins).
    Types(BTreeSet<EnvType>),
    /// The value applies to these named environments (or patterns).
    Envs(BTreeSet<String>),
}

impl Scope {
    /// The key under which the scope is written in `secrets.enc.toml`:
    /// `type:development,local` or `env:prod-eu,staging`.
    pub fn key(&self) -> String {
        match self {
            Self::Types(types) => {
                let names: Vec<_> = types.iter().map(|ty| ty.name()).collect();
                format!("type:{}", names.join(","))
            }
            Self::Envs(envs) => {
                let names: Vec<_> = envs.iter().map(String::as_str).collect();
                format!("env:{}", names.join(","))
            }
        }
    }

    /// Parses a key written by [`Scope::key`].
    pub fn parse_key(key: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{key}` is not a scope; expected `type:` followed by types (`type:development,local`) or `env:` followed by environments (`env:staging`)"
            )
        };
        if let Some(list) = key.strip_prefix("type:") {
            let types: Option<BTreeSet<_>> = list.split(',').map(EnvType::parse).collect();
            match types {
                Some(types) if !types.is_empty() => Ok(Self::Types(types)),
                _ => Err(bad()),
            }
        } else if let Some(list) = key.strip_prefix("env:") {
            let envs: BTreeSet<String> = list.split(',').map(str::to_owned).collect();
            if envs.iter().any(|env| env.is_empty()) {
                return Err(bad());
            }
            Ok(Self::Envs(envs))
        } else {
            Err(bad())
        }
    }

    /// How well this scope matches `env`: `Some(0)` for the environment's own name, `Some(1)`
    /// for its pattern, `Some(2)` for its type, `None` when it does not apply. Lower wins.
    pub fn rank(&self, env: &Environment) -> Option<u8> {
        match self {
            Self::Envs(envs) => env
                .env_keys()
                .iter()
                .position(|key| envs.contains(*key))
                .map(|position| position as u8),
            Self::Types(types) => types.contains(&env.ty).then_some(2),
        }
    }

    /// The `set`/`unset` flags that select this scope: `--type dev,local` or
    /// `--env staging`, shell-quoted to paste.
    pub fn flags(&self) -> String {
        match self {
            Self::Types(types) => {
                let names: Vec<_> = types.iter().map(|ty| ty.short()).collect();
                format!("--type {}", names.join(","))
            }
            Self::Envs(envs) => {
                let names: Vec<_> = envs.iter().map(String::as_str).collect();
                format!("--env {}", shell_quote(&names.join(",")))
            }
        }
    }

    /// What this scope and `other` both cover (types with types, environments with
    /// environments), or `None` when they share nothing.
    pub fn common(&self, other: &Scope) -> Option<Scope> {
        let shared = match (self, other) {
            (Self::Types(a), Self::Types(b)) => Self::Types(a & b),
            (Self::Envs(a), Self::Envs(b)) => Self::Envs(a & b),
            _ => return None,
        };
        (!shared.is_empty()).then_some(shared)
    }

    /// Whether this scope and `other` share a type or an environment (types never overlap
    /// environments).
    pub fn overlaps(&self, other: &Scope) -> bool {
        self.common(other).is_some()
    }

    /// This scope without the members of `other`; `None` when nothing is left.
    pub(crate) fn minus(&self, other: &Scope) -> Option<Scope> {
        let rest = match (self, other) {
            (Self::Types(a), Self::Types(b)) => Self::Types(a - b),
            (Self::Envs(a), Self::Envs(b)) => Self::Envs(a - b),
            _ => return Some(self.clone()),
        };
        (!rest.is_empty()).then_some(rest)
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::Types(set) => set.is_empty(),
            Self::Envs(set) => set.is_empty(),
        }
    }

    /// A human description: `development, local` or `env staging`.
    pub fn describe(&self) -> String {
        match self {
            Self::Types(types) => types
                .iter()
                .map(|ty| ty.name())
                .collect::<Vec<_>>()
                .join(", "),
            Self::Envs(envs) => {
                let names: Vec<_> = envs.iter().map(|env| escape_control(env)).collect();
                format!("env {}", names.join(", "))
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Whether `name` matches the environment pattern `pattern`, where `*` stands for any
/// run of characters (possibly empty).
pub(crate) fn pattern_matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether some name matches both environment patterns `a` and `b` (`*` stands for any run
/// of characters): a new pattern that overlaps another may take names from it.
pub(crate) fn patterns_overlap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // seen[i][j]: the pair of positions was already tried (and failed).
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    let mut todo = vec![(0, 0)];
    while let Some((i, j)) = todo.pop() {
        if std::mem::replace(&mut seen[i][j], true) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        // A `*` matches nothing, or also the next character (or `*`) of the other side.
        if a.get(i) == Some(&'*') {
            todo.push((i + 1, j));
            if j < b.len() {
                todo.push((i, j + 1));
            }
        }
        if b.get(j) == Some(&'*') {
            todo.push((i, j + 1));
            if i < a.len() {
                todo.push((i + 1, j));
            }
        }
        if let (Some(x), Some(y)) = (a.get(i), b.get(j))
            && x == y
            && *x != '*'
        {
            todo.push((i + 1, j + 1));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_patterns() {
        for (a, b) in [
            ("eu-*", "eu-w*"),
            ("eu-*", "*-west"),
            ("*", "anything"),
            ("a*c", "ab*"),
            ("pr-*", "pr-42"),
        ] {
            assert!(patterns_overlap(a, b), "{a} {b}");
            assert!(patterns_overlap(b, a), "{b} {a}");
        }
        for (a, b) in [("eu-*", "us-*"), ("a*b", "a*c"), ("pr-*", "prod")] {
            assert!(!patterns_overlap(a, b), "{a} {b}");
            assert!(!patterns_overlap(b, a), "{b} {a}");
        }
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("pr-*", "pr-42"));
        assert!(pattern_matches("pr-*", "pr-"));
        assert!(!pattern_matches("pr-*", "prod"));
        assert!(pattern_matches("*-eu", "prod-eu"));
        assert!(pattern_matches("a*b*c", "axxbyyc"));
        assert!(!pattern_matches("a*b*c", "acb"));
        assert!(pattern_matches("exact", "exact"));
        assert!(!pattern_matches("exact", "exactly"));
    }

    #[test]
    fn scope_keys_round_trip_and_rank() {
        let scope = Scope::Types([EnvType::Local, EnvType::Development].into());
        assert_eq!(scope.key(), "type:development,local");
        assert_eq!(Scope::parse_key(&scope.key()).unwrap(), scope);
        assert!(Scope::parse_key("type:").is_err());
        assert!(Scope::parse_key("types:dev").is_err());
        let named = Scope::Envs(["pr-*".to_owned()].into());
        let env = Environment {
            name: "pr-7".into(),
            ty: EnvType::Preview,
            kind: EnvKind::Pattern("pr-*".into()),
        };
        assert_eq!(named.rank(&env), Some(1));
        assert_eq!(Scope::Types([EnvType::Preview].into()).rank(&env), Some(2));
        assert_eq!(scope.rank(&env), None);
    }
}
