//! The three-way merge of `secrets.enc.toml`, table by table, for the git merge driver.
//!
//! A table is one version of the access rules (`[_rules.N]`) or one slot: one (secret,
//! scope) value or its signed removal. Each table is merged on its own, as git merges
//! lines: unchanged on one side takes the other side's version (an addition, a change or a
//! removal); the same version on both sides is taken; different versions on both sides are
//! a conflict. So additions and changes of different slots on two branches always merge,
//! and nothing is resolved silently. Two branches that both sign a new version of the
//! access rules conflict on that version.
//!
//! One more rule after that: a merge that leaves two values of one secret covering the same
//! type or environment (one branch set `prod`, the other `prod,preview`) is a conflict too,
//! naming both slots: readers would otherwise have to pick one.
//!
//! A conflicting table is written between conflict markers as two whole tables (never
//! interleaved lines), which the store refuses to read until someone picks one (or sets the
//! value again).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::env::Scope;
use crate::file_error::FileError;
use crate::store::TableKey;
use crate::store::{FORMAT_VERSION, HEADER_COMMENT, Store};

/// The result of [`merge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged file, with conflict markers around conflicting tables.
    pub text: String,
    /// What conflicts, one line each: `GitHubAPIToken (type:production) was changed on both
    /// branches`, `access rules version 4 was changed on both branches`, `GitHubAPIToken:
    /// the values for type:production and type:preview,production both cover production
    /// after the merge`.
    pub conflicts: Vec<String>,
}

/// Merges `ours` and `theirs`, two versions of the store descended from `base`. `path`
/// names the file in errors (each text may be empty: no store on that side).
pub fn merge(path: &Path, base: &str, ours: &str, theirs: &str) -> Result<Merged, FileError> {
    let [base, ours, theirs] = [base, ours, theirs].map(|text| Store::parse(path, text));
    let (base, ours, theirs) = (base?, ours?, theirs?);
    let [base_tables, our_tables, their_tables] =
        [&base, &ours, &theirs].map(|store| store.tables().into_iter().collect::<BTreeMap<_, _>>());
    let keys: BTreeSet<&TableKey> = base_tables
        .keys()
        .chain(our_tables.keys())
        .chain(their_tables.keys())
        .collect();
    // The table taken for each key, and the store it comes from (`None`: removed).
    let mut taken: BTreeMap<TableKey, Option<(&String, &Store)>> = BTreeMap::new();
    let mut conflicts = Vec::new();
    let mut conflicting: BTreeSet<TableKey> = BTreeSet::new();
    for key in keys {
        let (b, o, t) = (
            base_tables.get(key),
            our_tables.get(key),
            their_tables.get(key),
        );
        let choice = if o == t || b == t || removed(&ours, key) && removed(&theirs, key) {
            // Both sides removed the value: two signed removals of one slot say the same.
            o.map(|table| (table, &ours))
        } else if b == o {
            t.map(|table| (table, &theirs))
        } else {
            conflicts.push(format!("{} was changed on both branches", describe(key)));
            conflicting.insert(key.clone());
            continue;
        };
        taken.insert(key.clone(), choice);
    }
    // Two values of one secret that cover one type or environment after the merge.
    let mut values: BTreeMap<&str, Vec<Scope>> = BTreeMap::new();
    for (key, choice) in &taken {
        if let (TableKey::Slot(name, scope), Some((_, store))) = (key, choice)
            && let Ok(scope) = Scope::parse_key(scope)
            && store.get(name, &scope).is_some()
        {
            values.entry(name.as_str()).or_default().push(scope);
        }
    }
    for (name, scopes) in values {
        for (i, a) in scopes.iter().enumerate() {
            for b in &scopes[i + 1..] {
                if let Some(common) = a.common(b) {
                    conflicts.push(format!(
                        "{name}: the values for {} and {} both cover {} after the merge",
                        a.key(),
                        b.key(),
                        common.describe()
                    ));
                    for scope in [a, b] {
                        conflicting.insert(TableKey::Slot(name.to_owned(), scope.key()));
                    }
                }
            }
        }
    }
    let format = [&base, &ours, &theirs]
        .iter()
        .map(|store| store.written_format())
        .max()
        .unwrap_or(FORMAT_VERSION);
    let mut text = String::from(HEADER_COMMENT);
    text.push_str(&format!("version = {format}\n"));
    let mut keys: BTreeSet<TableKey> = taken.keys().cloned().collect();
    keys.extend(conflicting.iter().cloned());
    for key in keys {
        if conflicting.contains(&key) {
            text.push_str("\n<<<<<<< ours\n");
            text.push_str(our_tables.get(&key).map_or("", String::as_str));
            text.push_str("=======\n");
            text.push_str(their_tables.get(&key).map_or("", String::as_str));
            text.push_str(">>>>>>> theirs\n");
        } else if let Some(Some((table, _))) = taken.get(&key) {
            text.push('\n');
            text.push_str(table);
        }
    }
    Ok(Merged { text, conflicts })
}

/// Whether `store` holds a signed removal for the slot `key`.
fn removed(store: &Store, key: &TableKey) -> bool {
    match key {
        TableKey::Slot(name, scope) => store
            .removals(name)
            .any(|(removed, _)| removed.key() == *scope),
        TableKey::Rules(_) => false,
    }
}

fn describe(key: &TableKey) -> String {
    match key {
        TableKey::Rules(version) => format!("access rules version {version}"),
        TableKey::Slot(name, scope) => format!("{name} ({scope})"),
    }
}
