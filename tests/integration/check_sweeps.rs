//! `dryfilm check` on sweep files: a valid sweep is summarised (points, seeds, runs); a broken one
//! is refused with every problem at its file, line and column (the sweep file for its own fields
//! and swept values, the base scenario for the rest), a non-zero exit, and no file written.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::sweep::temp_dir;

fn check(file: &Path, json: bool) -> Output {
    let mut c = crate::support::cli::command(["check".as_ref(), file.as_os_str()]);
    if json {
        c.arg("--json");
    }
    c.output().expect("run dryfilm check")
}

/// The folder's file names, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A folder with `quick.ron` as the base and the sweep file `sweep.ron` holding `text`.
fn sweep(name: &str, text: &str) -> std::path::PathBuf {
    let d = temp_dir(name);
    let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quick.ron");
    std::fs::copy(quick, d.join("quick.ron")).unwrap();
    std::fs::write(d.join("sweep.ron"), text).unwrap();
    d.join("sweep.ron")
}

/// Refused with a non-zero exit, nothing written; returns stderr.
fn refused(file: &Path) -> String {
    let dir = file.parent().unwrap();
    let before = listing(dir);
    let o = check(file, false);
    assert!(
        !o.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(listing(dir), before, "check wrote a file");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_valid_sweep_is_summarised_with_its_point_count() {
    let f = sweep(
        "check-sweep-ok",
        r#"(
    base: "quick.ron",
    axes: [
        (path: "powder.ptfe.wt_pct", values: List([0.2, 1.0, 5.0])),
        (path: "fibrillation.temperature_c", values: Linear(start: 40.0, stop: 90.0, n: 2)),
    ],
    replicates: 3,
)"#,
    );
    let o = check(&f, true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "sweep");
    assert_eq!(v["points"], 6);
    assert_eq!(v["runs"], 18);
    assert_eq!(v["seeds"], serde_json::json!([7, 8, 9]));
    assert_eq!(v["axes"][1]["values"], serde_json::json!([40.0, 90.0]));
    let text = check(&f, false);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("points               6") && out.contains("runs                 18"));
}

/// The sweep `text` (in a folder named `name` beside `quick.ron`) is refused with every one of
/// `expected` in the message.
fn assert_refused(name: &str, text: &str, expected: &[&str]) {
    let err = refused(&sweep(name, text));
    for e in expected {
        assert!(err.contains(e), "missing {e:?} in:\n{err}");
    }
}

#[test]
fn sweep_syntax_and_unknown_keys_are_located() {
    let syntax = "(\n    base: \"quick.ron\",\n    axes: [,\n)\n";
    assert_refused("check-sweep-syntax", syntax, &["sweep.ron:3:"]);
    let key = "(\n    base: \"quick.ron\",\n    seeds: [1],\n    replicate: 2,\n)\n";
    assert_refused(
        "check-sweep-key",
        key,
        &[
            "sweep.ron:4:5: replicate: unknown field `replicate`",
            "did you mean `replicates`?",
        ],
    );
}

#[test]
fn a_missing_base_and_a_broken_base_are_located() {
    let missing = "(\n  base: \"nope.ron\",\n)\n";
    let expected = "sweep.ron:2:3: base = \"nope.ron\": cannot read";
    assert_refused("check-sweep-nobase", missing, &[expected]);

    let f = sweep("check-sweep-badbase", "(\n  base: \"quick.ron\",\n)\n");
    let base = f.with_file_name("quick.ron");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replace("seed: 7,", "seed: 7,\n    sed: 1,")).unwrap();
    let err = refused(&f);
    assert!(
        err.contains("quick.ron:7:5: sed: unknown field `sed`"),
        "{err}"
    );
}

#[test]
fn axis_paths_and_values_are_checked_where_they_are_written() {
    let axes = r#"(
    base: "quick.ron",
    axes: [
        (path: "powder.ptfe.wt_pcnt", values: List([1.0])),
        (path: "numerics.relax_steps", values: List([300, 10.5])),
    ],
)"#;
    assert_refused(
        "check-sweep-axes",
        axes,
        &[
            "sweep.ron:4:10: axis 0: unknown scenario field path \"powder.ptfe.wt_pcnt\"",
            "wt_pct, youngs_modulus_gpa",
            "sweep.ron:5:",
            "10.5 is not a whole number",
        ],
    );
    let empty =
        "(\n  base: \"quick.ron\",\n  axes: [(path: \"domain.lx_um\", values: List([]))],\n)";
    let expected = "sweep.ron:3:33: axis 0 (domain.lx_um): the axis has no values";
    assert_refused("check-sweep-empty-axis", empty, &[expected]);
}

#[test]
fn every_invalid_point_is_reported_at_its_value_or_in_the_base() {
    let f = sweep(
        "check-sweep-points",
        r#"(
    base: "quick.ron",
    axes: [
        (path: "powder.ptfe.wt_pct", values: List([1.0, -2.0, 150.0])),
        (path: "domain.lx_um", values: List([40.0, 10.0])),
    ],
    seeds: [1, 2],
)"#,
    );
    let o = check(&f, true);
    assert!(!o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).expect("--json error report");
    let errors = v["errors"].as_array().unwrap();
    let at = |line: u64, col: u64| {
        errors
            .iter()
            .find(|e| e["line"] == line && e["column"] == col)
            .unwrap_or_else(|| panic!("no error at {line}:{col}: {v}"))
    };
    // -2 (points 2, 3) and 150 (points 4, 5), each at its value in the list (columns 57, 63).
    let neg = at(4, 57);
    assert!(
        neg["file"].as_str().unwrap().ends_with("sweep.ron"),
        "{neg}"
    );
    assert!(
        neg["message"]
            .as_str()
            .unwrap()
            .ends_with("[points p0002, p0003]"),
        "{neg}"
    );
    assert!(at(4, 63)["message"].as_str().unwrap().contains("150"));
    // A 10 µm box is too small for quick.ron's 7 µm grains: the base's field, with the points
    // whose swept values cause it.
    let dmax = errors
        .iter()
        .find(|e| e["path"] == "powder.nps.d_max_um")
        .unwrap_or_else(|| panic!("{v}"));
    assert!(
        dmax["file"].as_str().unwrap().ends_with("quick.ron"),
        "{dmax}"
    );
    assert_eq!(dmax["line"], 8);
    let m = dmax["message"].as_str().unwrap();
    assert!(
        m.contains("p0001 with powder.ptfe.wt_pct = 1.0, domain.lx_um = 10.0"),
        "{m}"
    );
    let err = refused(&f);
    assert!(
        err.contains("invalid sweep") && err.contains("error"),
        "{err}"
    );
}
