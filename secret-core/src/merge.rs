//! The three-way merge of `secrets.enc.toml`, slot by slot, for the git merge driver.
//!
//! A slot is one (secret, scope) value. Each slot is merged on its own, as git merges lines:
//! unchanged on one side takes the other side's version (an addition, a change or a
//! removal); the same version on both sides is taken; different versions on both sides are a
//! conflict. So additions and changes of different slots on two branches always merge, and
//! nothing is resolved silently. A conflicting slot is written between conflict markers as
//! two whole tables (never interleaved lines), which the store refuses to read until someone
//! picks one (or sets the value again).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Error;
use crate::store::{FORMAT_VERSION, HEADER_COMMENT, Store, render_entry};

/// The result of [`merge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged file, with conflict markers around conflicting slots.
    pub text: String,
    /// The conflicting slots: (secret, scope key).
    pub conflicts: Vec<(String, String)>,
}

/// Merges `ours` and `theirs`, two versions of the store descended from `base`. `path`
/// names the file in errors (each text may be empty: no store on that side).
pub fn merge(path: &Path, base: &str, ours: &str, theirs: &str) -> Result<Merged, Error> {
    let [base, ours, theirs] = [base, ours, theirs].map(|text| slots(path, text));
    let (base, ours, theirs) = (base?, ours?, theirs?);
    let keys: BTreeSet<&(String, String)> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut text = String::from(HEADER_COMMENT);
    text.push_str(&format!("version = {FORMAT_VERSION}\n"));
    let mut conflicts = Vec::new();
    for key in keys {
        let (b, o, t) = (base.get(key), ours.get(key), theirs.get(key));
        let taken = if o == t {
            o
        } else if b == o {
            t
        } else if b == t {
            o
        } else {
            conflicts.push(key.clone());
            text.push_str("\n<<<<<<< ours\n");
            text.push_str(o.map_or("", String::as_str));
            text.push_str("=======\n");
            text.push_str(t.map_or("", String::as_str));
            text.push_str(">>>>>>> theirs\n");
            continue;
        };
        if let Some(table) = taken {
            text.push('\n');
            text.push_str(table);
        }
    }
    Ok(Merged { text, conflicts })
}

/// Each slot of a store's text, as the tool renders its table.
fn slots(path: &Path, text: &str) -> Result<BTreeMap<(String, String), String>, Error> {
    let store = Store::parse(path, text)?;
    let mut slots = BTreeMap::new();
    for (name, values) in &store.entries {
        for (key, (_, entry)) in values {
            let mut table = String::new();
            render_entry(&mut table, name, key, entry);
            slots.insert((name.clone(), key.clone()), table);
        }
    }
    Ok(slots)
}
