// This file does not parse: `let = ...` is a syntax error.
fn broken() {
    let = secret!("InBrokenFile");
}
