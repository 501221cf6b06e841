//! Attack 5: a table signed in another repository by the same key (one ops key serving many
//! repositories), copied in.

use super::*;

/// A production table that ops signed for another repository, for the same secret name and
/// scope and with the same recipients, is refused by every reader here and reported as
/// forged: each signature names the repository it was made for.
#[test]
fn cross_repository_replay_of_a_signed_table() {
    let team = Team::new();
    let ws = &team.ws;
    let mut other = Ws::new();
    other.write(
        "secrets.toml",
        &team_config(&team.ops.key, &team.dev.key, ""),
    );
    other.use_key(&team.ops.key);
    ok(&other.secret(&["set", "--type", "prod", "Token"], "other-repo-value"));
    ok(&other.secret(&["set", "--type", "prod", "Token"], "other-repo-value-2"));
    assert_ne!(repository_id(other.root()), repository_id(ws.root()));

    let replayed = table(&store_text(&other), PROD);
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), PROD, Some(&replayed)),
    )
    .unwrap();
    commit(ws, "sync the token from the other service");
    every_reader_refuses(
        ws,
        "prod",
        "Token",
        &[&format!(
            "claims to be written by {}, but its signature does not verify: it was changed after signing, signed for another repository, or forged",
            team.ops.key.public
        )],
        "other-repo-value",
    );
    assert_has(
        &check(ws, &["prod"], None),
        Severity::Error,
        Code::ForgedValue,
        &[
            "`Token` (type:production) claims writer",
            "signed for another repository",
        ],
    );
}
