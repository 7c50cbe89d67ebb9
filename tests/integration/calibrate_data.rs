//! Calibration data files: parsing and the errors reported before anything runs (library and
//! `dryfilm calibrate`).

use std::path::{Path, PathBuf};

use crate::support::cli::{dryfilm, dryfilm_ok, stderr};
use dryfilm_sim::calibrate::{CalibrateError, Calibration};
use dryfilm_sim::scenario::raw::RawScenario;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate(raw: &RawScenario) -> Result<(), String> {
    dryfilm_sim::scenario::validate(raw, None, "<test>")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Writes `text` as a data file in a fresh temp folder (scenario paths absolute).
fn write(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dryfilm_calib_data_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    let p = d.join("data.ron");
    std::fs::write(&p, text).expect("write");
    p
}

fn quick() -> String {
    root().join("scenarios/quick.ron").display().to_string()
}

fn problems(text: &str, name: &str) -> Vec<String> {
    match Calibration::load(&write(name, text), &validate) {
        Err(CalibrateError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn shipped_data_file_is_valid() {
    let cal = Calibration::load(&root().join("data/calibration.ron"), &validate)
        .expect("data/calibration.ron is valid");
    assert!(!cal.data.points.is_empty());
    // Points sharing a scenario share one run per evaluation.
    assert!(cal.bases.len() <= cal.data.points.len());
    for (q, s) in cal.data.params.iter().zip(&cal.start) {
        assert!(*s >= q.lower && *s <= q.upper, "{} start {s}", q.path);
    }
}

#[test]
fn start_defaults_to_the_base_scenario_value() {
    let text = format!(
        r#"(points: [(name: "a", scenario: "{q}", quantity: "sigma_ion_S_cm", value: 1e-4)],
            params: [(path: "powder.nps.surface_energy_j_m2", lower: 0.001, upper: 1.0, scale: Log)])"#,
        q = quick()
    );
    let cal = Calibration::load(&write("start", &text), &validate).expect("valid");
    let base = dryfilm_sim::scenario::load_file(Path::new(&quick())).expect("quick");
    assert_eq!(cal.start[0], base.raw.powder.nps.surface_energy_j_m2);
}

#[test]
fn every_problem_is_listed() {
    let text = format!(
        r#"(points: [
              (name: "a", scenario: "{q}", quantity: "sigma_ion_s_cm", value: 1e-4),
              (name: "a", scenario: "{q}", quantity: "sigma_ion_S_cm", value: 0.0),
            ],
            params: [
              (path: "powder.nps.sigma_ion_bulk", lower: 1e-5, upper: 1e-2),
              (path: "powder.nps.surface_energy_j_m2", lower: 1.0, upper: 0.1),
              (path: "powder.ptfe.anchor_strength_n_m", lower: 0.0, upper: 2.0, scale: Log),
            ])"#,
        q = quick()
    );
    let p = problems(&text, "many");
    let all = p.join("\n");
    assert!(all.contains("unknown quantity \"sigma_ion_s_cm\""), "{all}");
    assert!(all.contains("duplicate point name"), "{all}");
    assert!(all.contains("must be finite and non-zero"), "{all}");
    assert!(
        all.contains("unknown scenario field path \"powder.nps.sigma_ion_bulk\""),
        "{all}"
    );
    assert!(all.contains("bounds inverted"), "{all}");
    assert!(all.contains("scale: Log needs lower > 0"), "{all}");
}

#[test]
fn empty_lists_are_refused() {
    let p = problems("(points: [], params: [])", "empty");
    assert!(p.iter().any(|s| s.contains("`points` is empty")), "{p:?}");
    assert!(p.iter().any(|s| s.contains("`params` is empty")), "{p:?}");
}

#[test]
fn bounds_outside_the_scenario_validation_are_refused() {
    // A negative bulk conductivity fails the scenario validation at the lower bound.
    let text = format!(
        r#"(points: [(name: "a", scenario: "{q}", quantity: "sigma_ion_S_cm", value: 1e-4)],
            params: [(path: "powder.nps.sigma_ion_bulk_s_cm", lower: -1.0, upper: 1e-2)])"#,
        q = quick()
    );
    let p = problems(&text, "range");
    assert!(
        p.iter()
            .any(|s| s.contains("powder.nps.sigma_ion_bulk_s_cm = -1")),
        "{p:?}"
    );
}

#[test]
fn missing_scenario_and_syntax_errors() {
    let text = r#"(points: [(name: "a", scenario: "nope.ron", quantity: "sigma_ion_S_cm", value: 1e-4)],
                   params: [(path: "seed", lower: 1.0, upper: 2.0)])"#;
    let p = problems(text, "missing");
    assert!(p.iter().any(|s| s.contains("nope.ron")), "{p:?}");
    let bad = write("syntax", "(points: [], params: [], colour: 1)");
    match Calibration::load(&bad, &validate) {
        Err(CalibrateError::Parse { message, .. }) => {
            assert!(message.contains("colour"), "{message}")
        }
        other => panic!("expected Parse, got {other:?}"),
    }
}

#[test]
fn cli_reports_bad_data_before_running() {
    let bad = write("cli", "(points: [], params: [])");
    let out_dir = bad.parent().expect("dir").join("out");
    let out = dryfilm([
        "calibrate".as_ref(),
        bad.as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`points` is empty"), "{err}");
    assert!(
        !bad.parent().expect("dir").join("out").exists(),
        "nothing ran"
    );
    let data = root().join("data/calibration.ron");
    dryfilm_ok(["calibrate".as_ref(), "--check".as_ref(), data.as_os_str()]);
}
