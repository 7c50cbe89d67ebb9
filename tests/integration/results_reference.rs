//! `docs/results.md` against [`RunResult`]: every field of `result.json` is documented, and every
//! documented field exists.

use std::collections::BTreeSet;
use std::path::Path;

use dryfilm_sim::results::RunResult;

/// The field names in the first column of the doc's table (one or more `name`s per row).
fn documented() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/results.md");
    let text = std::fs::read_to_string(&path).expect("docs/results.md");
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let first = l.split('|').nth(1).unwrap_or("");
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_result_field_is_documented_and_every_documented_field_exists() {
    let doc = documented();
    let code: BTreeSet<String> = RunResult::field_names().into_iter().collect();
    let undocumented: Vec<&String> = code.difference(&doc).collect();
    let unknown: Vec<&String> = doc.difference(&code).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "fields missing from docs/results.md: {undocumented:?}; documented but not in RunResult: \
         {unknown:?}"
    );
}
