//! Golden fingerprints: `scenarios/quick.ron` and one small film per PTFE loading
//! (`tests/golden/golden_{0p2,1,5}wt.ron`) run through the whole pipeline (every stage and every
//! solver, no images), and what they produce is compared with the committed fingerprint
//! `tests/golden/<name>.json`: every `result.json` field (numbers rounded to
//! [`SIGNIFICANT_DIGITS`] significant digits, integers, booleans and strings exact) plus the
//! SHA-256 of the final snapshot's content, which changes when any stored bit does.
//!
//! A refactor must leave every fingerprint as it is. A deliberate model change re-blesses them:
//! `bash tools/bless.sh` (this test with `DRYFILM_BLESS=1`) rewrites the files and prints every
//! change, old → new, for the commit message; the diff of `tests/golden/` is then reviewed with the
//! change. Results do not depend on the thread count, the build profile or the machine (same
//! toolchain): the default tier checks the fingerprints in a debug build on the test harness's
//! thread pool, the validation tier in a release build on one thread.
//!
//! This file is self-contained (no shared fixtures), so that the validation tier includes it too
//! and checks the same fingerprints in a release build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dryfilm_sim::pipeline::{run_to_dir, RunOptions};
use dryfilm_sim::scenario::load_file;
use dryfilm_sim::snapshot::Snapshot;
use dryfilm_sim::sweep::table::flatten;
use serde_json::{json, Value};

/// Significant digits kept of every floating-point `result.json` quantity.
pub const SIGNIFICANT_DIGITS: usize = 6;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `x` rounded to [`SIGNIFICANT_DIGITS`], as text (`1.23457e-4`).
fn rounded(x: f64) -> String {
    format!("{:.*e}", SIGNIFICANT_DIGITS - 1, x)
}

/// A `result.json` value as fingerprinted: floats rounded, everything else as is.
fn fingerprint_value(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => Value::String(rounded(n.as_f64().unwrap_or(f64::NAN))),
        other => other.clone(),
    }
}

/// Runs `scenario` (path relative to the repository) into a scratch folder and returns its
/// fingerprint.
fn fingerprint(scenario: &str) -> Value {
    let loaded = load_file(&repo().join(scenario)).expect("golden scenario validates");
    let out_dir = std::env::temp_dir().join(format!(
        "dryfilm-golden-{}-{}",
        loaded.scenario.name,
        std::process::id()
    ));
    let quiet = |_: &str, _: f64| {};
    let run = || {
        run_to_dir(
            &loaded,
            &out_dir,
            &RunOptions {
                threads: rayon::current_num_threads(),
                progress: &quiet,
                render: None,
            },
        )
    };
    // The default tier (debug) runs on the global pool, the validation tier (release) on one
    // thread: one fingerprint pins both thread counts and both build profiles.
    let out = if cfg!(debug_assertions) {
        run()
    } else {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
        pool.expect("a one-thread pool").install(run)
    }
    .expect("golden scenario runs");
    let final_snapshot = last_snapshot(&out_dir.join("snapshots"));
    let snap = Snapshot::load(&final_snapshot).expect("final snapshot reads back");
    let _ = std::fs::remove_dir_all(&out_dir);
    let result: BTreeMap<String, Value> = match serde_json::to_value(&out.result) {
        Ok(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), fingerprint_value(v)))
            .collect(),
        _ => panic!("result.json is an object"),
    };
    json!({
        "scenario": scenario,
        "significant_digits": SIGNIFICANT_DIGITS,
        "result": result,
        "final_snapshot": {
            "stage": snap.stage,
            "particles": snap.particles.pos.len(),
            "fibrils": snap.fibrils.len(),
            "content_sha256": snap.content_sha256(),
        },
    })
}

/// The last snapshot file of a run (they are numbered in stage order).
fn last_snapshot(dir: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("snapshots folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files.pop().expect("at least one snapshot")
}

/// Every leaf of `v` as `dotted.path → text` (strings bare, other values as JSON).
fn leaves(v: &Value) -> BTreeMap<String, String> {
    let mut flat = BTreeMap::new();
    flatten("", v, &mut flat);
    flat.into_iter()
        .map(|(k, x)| match x {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

/// One line per leaf that differs, `path: old → new` (`(none)` where a side lacks it).
fn changes(old: &Value, new: &Value) -> Vec<String> {
    let (a, b) = (leaves(old), leaves(new));
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let none = "(none)".to_string();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "{k}: {} → {}",
                a.get(k).unwrap_or(&none),
                b.get(k).unwrap_or(&none)
            )
        })
        .collect()
}

/// Runs `scenario` and compares its fingerprint with `tests/golden/<name>.json`; with
/// `DRYFILM_BLESS=1` writes the new fingerprint instead and prints what changed.
pub fn check(name: &str, scenario: &str) {
    let path = repo().join("tests/golden").join(format!("{name}.json"));
    let new = fingerprint(scenario);
    let old: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let diff = changes(&old, &new);
    if std::env::var("DRYFILM_BLESS").is_ok_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&new).expect("fingerprint serializes") + "\n";
        std::fs::write(&path, text).expect("write the fingerprint");
        // One print per fingerprint, so that fingerprints blessed in parallel do not interleave.
        let mut report = format!("golden {name}: ");
        if diff.is_empty() {
            report.push_str("unchanged");
        } else {
            report.push_str(&format!("{} change(s) blessed", diff.len()));
            for line in &diff {
                report.push_str(&format!("\n  {line}"));
            }
        }
        println!("{report}");
        return;
    }
    assert!(
        diff.is_empty(),
        "golden fingerprint {name} ({scenario}) changed; if the change is meant, run \
         `bash tools/bless.sh` and commit tests/golden/ with the change:\n  {}",
        diff.join("\n  ")
    );
}

#[test]
fn quick_film_matches_its_fingerprint() {
    check("quick", "scenarios/quick.ron");
}

#[test]
fn small_0p2wt_film_matches_its_fingerprint() {
    check("golden_0p2wt", "tests/golden/golden_0p2wt.ron");
}

#[test]
fn small_1wt_film_matches_its_fingerprint() {
    check("golden_1wt", "tests/golden/golden_1wt.ron");
}

#[test]
fn small_5wt_film_matches_its_fingerprint() {
    check("golden_5wt", "tests/golden/golden_5wt.ron");
}

#[test]
fn changes_name_every_differing_leaf() {
    let old = json!({"a": "1.00000e0", "b": {"c": true, "d": 3}});
    let new = json!({"a": "1.00001e0", "b": {"c": true, "e": 4}});
    assert_eq!(
        changes(&old, &new),
        vec![
            "a: 1.00000e0 → 1.00001e0",
            "b.d: 3 → (none)",
            "b.e: (none) → 4"
        ]
    );
    assert!(changes(&new, &new).is_empty());
    assert_eq!(rounded(3.545875294560845e-5), "3.54588e-5");
    assert_eq!(fingerprint_value(&json!(814)), json!(814));
}
