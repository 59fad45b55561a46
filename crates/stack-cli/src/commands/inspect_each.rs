//! `inspect NAME...` as Docker prints it for every kind of object: one
//! JSON array of the objects found, then an error naming each one that
//! was not (exit 1), so a script gets what exists even when one is wrong.

use miette::IntoDiagnostic;

/// Looks up each of `names` with `find` and prints the found ones as
/// `doc` renders them.
pub fn print<T>(
    names: &[String],
    find: impl Fn(&str) -> Result<T, stack_api::error::Failure>,
    doc: impl Fn(&T) -> serde_json::Value,
) -> miette::Result<()> {
    let mut docs = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match find(name) {
            Ok(found) => docs.push(doc(&found)),
            Err(err) => missing.push(err.to_string()),
        }
    }
    println!("{}", serde_json::to_string_pretty(&docs).into_diagnostic()?);
    if !missing.is_empty() {
        miette::bail!("{}", missing.join("\n"));
    }
    Ok(())
}
