//! `docs/scenario-reference.md` against the code: every documented default equals
//! `RawScenario::default()`, every field of the scenario format is documented, the doc's example is
//! a valid scenario, and every shipped scenario in `scenarios/` validates.

use std::collections::BTreeSet;
use std::path::Path;

use dryfilm_sim::scenario::{self, RawScenario};
use dryfilm_sim::sweep::table::dotted;
use serde_json::Value;

fn doc_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario-reference.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// (path, default) of every table row whose first cell is a backticked field path.
fn doc_rows(text: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(
            cells.len(),
            5,
            "a row needs path|meaning|unit|range|default: {line}"
        );
        let unquote = |c: &str| {
            c.strip_prefix('`')
                .and_then(|c| c.strip_suffix('`'))
                .unwrap_or_else(|| panic!("cell must be in backticks: {c} (row {line})"))
                .to_string()
        };
        rows.push((unquote(cells[0]), unquote(cells[4])));
    }
    rows
}

/// Is `v` a serialised enum variant with fields (`{"Geometric": {...}}`)?
fn variant(v: &Value) -> Option<(&String, &Value)> {
    match v.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next()?;
            k.starts_with(|c: char| c.is_ascii_uppercase())
                .then_some((k, inner))
        }
        _ => None,
    }
}

/// The value at a dotted path; enum variants are transparent (`calender.gaps.start_um`).
fn at<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = root;
    for seg in path.split('.') {
        if let Some((_, inner)) = variant(v) {
            v = inner;
        }
        v = v.as_object()?.get(seg)?;
    }
    Some(v)
}

/// Every documentable path of the default: leaves, plus enum-valued fields themselves.
fn leaf_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let v = if let Some((_, inner)) = variant(v) {
        out.insert(prefix.to_string());
        inner
    } else {
        v
    };
    match v.as_object() {
        Some(m) => {
            for (k, child) in m {
                leaf_paths(child, &dotted(prefix, k), out);
            }
        }
        None => {
            out.insert(prefix.to_string());
        }
    }
}

fn same(doc: &str, code: &Value) -> bool {
    if let Some((name, _)) = variant(code) {
        return doc == name;
    }
    if let Value::String(s) = code {
        // Unit enum variants serialise as strings and are written bare (`Film`).
        if doc == s {
            return true;
        }
    }
    match serde_json::from_str::<Value>(doc) {
        Ok(d) => json_eq(&d, code),
        Err(_) => false,
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        _ => a == b,
    }
}

#[test]
fn documented_defaults_match_code() {
    let defaults = serde_json::to_value(RawScenario::default()).expect("serialise defaults");
    let rows = doc_rows(&doc_text());
    assert!(rows.len() > 40, "found only {} rows", rows.len());
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, default) in &rows {
        assert!(seen.insert(path.clone()), "{path} documented twice");
        match at(&defaults, path) {
            None => bad.push(format!("{path}: documented but not a field of RawScenario")),
            Some(v) if !same(default, v) => {
                bad.push(format!("{path}: doc says {default}, code says {v}"))
            }
            Some(_) => {}
        }
    }
    let mut fields = BTreeSet::new();
    leaf_paths(&defaults, "", &mut fields);
    for f in &fields {
        if !seen.contains(f) {
            bad.push(format!(
                "{f}: field missing from docs/scenario-reference.md"
            ));
        }
    }
    assert!(bad.is_empty(), "reference out of date:\n{}", bad.join("\n"));
}

#[test]
fn doc_example_is_valid() {
    let text = doc_text();
    let start = text.find("```ron\n").expect("a ```ron example block") + "```ron\n".len();
    let len = text[start..].find("```").expect("closed example block");
    let example = &text[start..start + len];
    if let Err(e) = scenario::load_str(example, "docs/scenario-reference.md example") {
        panic!("the documented example does not validate:\n{e}");
    }
}

#[test]
fn every_shipped_file_passes_dryfilm_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 18, "{} shipped files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let out =
            crate::support::cli::dryfilm(["check".as_ref(), "--json".as_ref(), path.as_os_str()]);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !out.status.success() {
            failures.push(format!("{name}: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        let v: Value = serde_json::from_slice(&out.stdout).expect("check --json prints JSON");
        // Sweep files are named `*_sweep*.ron` (`sweep_film.ron` is a scenario).
        let kind = if name.contains("_sweep") {
            "sweep"
        } else {
            "scenario"
        };
        assert_eq!(v["kind"], kind, "{name}: {v}");
        if kind == "sweep" {
            let points = v["points"].as_u64().unwrap_or(0);
            let seeds = v["seeds"].as_array().map_or(0, Vec::len) as u64;
            assert!(points >= 1, "{name}: {v}");
            assert_eq!(v["runs"].as_u64(), Some(points * seeds), "{name}: {v}");
        }
        if name == "paper_ptfe_sweep.ron" {
            assert_eq!(
                (v["points"].as_u64(), v["runs"].as_u64()),
                (Some(6), Some(18))
            );
        }
    }
    assert!(
        failures.is_empty(),
        "shipped files refused by dryfilm check:\n{}",
        failures.join("\n")
    );
}
