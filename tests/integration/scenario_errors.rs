//! `dryfilm check` on good and bad scenario files: exit codes, every error reported with its field
//! path, value, allowed range and file position, no panics, and no files written.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dryfilm_sim::scenario::{self, ErrorKind, RawScenario, ScenarioError};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "dryfilm-scenario-errors-{}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `dryfilm check <arg> [extra]` with the current directory set to `cwd`, and asserts that the
/// directory's contents are unchanged and that nothing panicked.
fn run_check_in(cwd: &Path, arg: &str, extra: &[&str]) -> Outcome {
    let before = listing(cwd);
    let out = crate::support::cli::command(["check", arg])
        .args(extra)
        .current_dir(cwd)
        .output()
        .expect("run dryfilm");
    let o = Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!o.stderr.contains("panicked"), "panic: {}", o.stderr);
    assert_eq!(
        listing(cwd),
        before,
        "dryfilm check changed the current directory"
    );
    o
}

/// Writes `text` to `s.ron` in a fresh directory and checks it from there.
fn check_text(text: &str) -> Outcome {
    let dir = TempDir::new();
    fs::write(dir.0.join("s.ron"), text).expect("write scenario");
    run_check_in(&dir.0, "s.ron", &[])
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name)
}

/// `dryfilm check` on a scenario with `text` fails and names every needle on stderr.
fn refuses(text: &str, needles: &[&str]) {
    assert_fails_with(&check_text(text), needles);
}

fn assert_fails_with(o: &Outcome, needles: &[&str]) {
    assert_ne!(o.code, 0, "expected failure, stdout: {}", o.stdout);
    for n in needles {
        assert!(
            o.stderr.contains(n),
            "missing {n:?} in stderr:\n{}",
            o.stderr
        );
    }
}

/// A missing file, a directory and an endless file are refused with the path and the reason.
#[test]
fn unreadable_paths_are_refused() {
    let dir = TempDir::new();
    fs::create_dir(dir.0.join("sub.ron")).expect("mkdir");
    let mut cases = vec![
        ("no_such_scenario.ron", "cannot read scenario file"),
        ("sub.ron", "cannot read scenario file"),
    ];
    if cfg!(unix) {
        cases.push(("/dev/zero", "too large for a scenario file"));
    }
    for (path, reason) in cases {
        let o = run_check_in(&dir.0, path, &[]);
        assert_fails_with(&o, &[path, reason]);
    }
}

#[test]
fn advisories_do_not_fail() {
    let o = check_text("(fibrillation: (temperature_c: 10.0), properties: (voxel_size_um: 1.0))");
    assert_eq!(o.code, 0, "stderr: {}", o.stderr);
    assert!(o
        .stdout
        .contains("note: fibrillation.temperature_c = 10.0 °C is below PTFE's 19 °C"));
    assert!(o
        .stdout
        .contains("note: properties.voxel_size_um resolves the smallest particles with 2.0"));
}

#[test]
fn not_ron() {
    refuses("this is not a scenario\n", &["s.ron:1:", "Expected struct"]);
    // Unclosed parentheses: the error points just after the last complete value, where a comma or
    // the closing parenthesis is missing.
    refuses(
        "(\n  name: \"x\",\n  powder: (nps: (d50_um: 5.0)\n",
        &["s.ron:3:30:", "Expected comma", "(1 error)"],
    );
}

#[test]
fn not_utf8() {
    let dir = TempDir::new();
    fs::write(dir.0.join("s.ron"), b"(\n name: \"\xff\xfe\",\n)").expect("write");
    let o = run_check_in(&dir.0, "s.ron", &[]);
    assert_fails_with(&o, &["s.ron:2:", "not UTF-8"]);
}

#[test]
fn wrong_type() {
    refuses(
        "(\n  powder: (\n    nps: (\n      d50_um: \"five\",\n    ),\n  ),\n)\n",
        &[
            "s.ron:4:",
            "powder.nps.d50_um",
            "Expected float",
            "\"five\"",
        ],
    );
    refuses(
        "(\n  calender: (gaps: Geometric(start_um: 250, final_um: 110, passes: 2.5)),\n)",
        &["s.ron:2:", "calender.gaps.passes"],
    );
}

#[test]
fn unknown_field_typo() {
    refuses(
        "(\n  powder: (\n    nps: (\n      d50_mu: 5.0,\n    ),\n  ),\n)\n",
        &[
            "s.ron:4:7: powder.nps.d50_mu: unknown field `d50_mu`",
            "did you mean `d50_um`?",
        ],
    );
    refuses("(seeed: 3)", &["s.ron:1:2: seeed", "did you mean `seed`?"]);
}

#[test]
fn negative_radius_and_diameter() {
    refuses(
        "(\n  powder: (\n    ptfe: (fibril_radius_nm: -50.0, lump_diameter_um: -2),\n  ),\n)",
        &[
            "s.ron:3:12: powder.ptfe.fibril_radius_nm = -50.0: must be in [5, 500] nm",
            "s.ron:3:37: powder.ptfe.lump_diameter_um = -2: must be in [0.2, 20] µm",
            "(2 errors)",
        ],
    );
}

#[test]
fn wt_pct_out_of_range() {
    for v in ["100", "-1", "100.0"] {
        let o = check_text(&format!("(powder: (ptfe: (wt_pct: {v})))"));
        let want = format!("s.ron:1:18: powder.ptfe.wt_pct = {v}: must be in [0, 100) wt%");
        assert_fails_with(&o, &[&want]);
    }
    // Films above 20 wt% are implausible, accepted when explicitly allowed.
    refuses(
        "(powder: (ptfe: (wt_pct: 30)))",
        &[
            "powder.ptfe.wt_pct = 30: must be ≤ 20 wt% for a film",
            "allow_implausible",
        ],
    );
}

#[test]
fn nan_and_inf_refused() {
    refuses(
        "(\n powder: (nps: (gsd: NaN)),\n)",
        &["s.ron:2:17: powder.nps.gsd = NaN: must be in [1, 4]"],
    );
    refuses(
        "(\n domain: (lx_um: inf, ly_um: -inf),\n)",
        &[
            "domain.lx_um = inf: must be in [5, 2000] µm",
            "domain.ly_um = -inf",
        ],
    );
}

#[test]
fn empty_size_distribution() {
    refuses(
        "(powder: (nps: (d_min_um: 12.0, d_max_um: 2.0)))",
        &[
            "powder.nps.d_min_um = 12.0: must be < d_max_um = 2 µm",
            "empty size distribution",
        ],
    );
    // Cut-offs hugging the median of a very wide distribution keep < 1e-6 of it.
    refuses(
        "(powder: (nps: (d50_um: 5.0, gsd: 4.0, d_min_um: 4.9999999, d_max_um: 5.0000001)))",
        &["powder.nps.gsd = 4.0", "empty size distribution"],
    );
    // d50 outside the cut-offs.
    refuses(
        "(powder: (nps: (d50_um: 1.0, d_min_um: 2.0, d_max_um: 12.0)))",
        &["powder.nps.d_min_um = 2.0: must be < d50_um = 1 µm"],
    );
}

#[test]
fn implausible_modulus_refused_then_allowed() {
    refuses(
        "(powder: (nps: (youngs_modulus_gpa: 500.0)))",
        &[
            "powder.nps.youngs_modulus_gpa = 500.0: must be in [1, 200] GPa",
            "set powder.allow_implausible: true",
        ],
    );
    let o = check_text("(powder: (allow_implausible: true, nps: (youngs_modulus_gpa: 500.0)))");
    assert_eq!(o.code, 0, "stderr: {}", o.stderr);
    // Allowing implausible values does not allow impossible ones.
    refuses(
        "(powder: (allow_implausible: true, nps: (youngs_modulus_gpa: -1.0)))",
        &["powder.nps.youngs_modulus_gpa = -1.0: must be in (0, ∞) GPa"],
    );
}

#[test]
fn gap_larger_than_film() {
    // Default loading: h_s ≈ 99.6 µm, h0 = h_s / 0.3 ≈ 331.8 µm.
    refuses(
        "(\n calender: (\n  gaps: List([400.0, 200.0]),\n ),\n)",
        &[
            "s.ron:3:15: calender.gaps[0] = 400.0: must be ≤ the initial powder height 331.8",
            "gap larger than the film",
        ],
    );
    refuses(
        "(calender: (gaps: Geometric(start_um: 400, final_um: 110, passes: 3)))",
        &["calender.gaps.start_um = 400: must be ≤ the initial powder height"],
    );
}

#[test]
fn gaps_too_small_and_target_too_dense() {
    refuses(
        "(calender: (gaps: List([200.0, 40.0]), target_thickness_um: 100.0))",
        &[
            "calender.gaps[1] = 40.0: must be > 0.5 × the fully dense thickness = 49.7",
            "calender.target_thickness_um = 100.0: must be > fully dense thickness / 0.98 = 101.5",
        ],
    );
}

#[test]
fn opening_gap_schedule() {
    refuses(
        "(calender: (gaps: List([200.0, 250.0, 150.0])))",
        &["s.ron:1:32: calender.gaps[1] = 250.0: must be ≤ the previous gap 200 µm"],
    );
    refuses(
        "(calender: (gaps: Geometric(start_um: 110, final_um: 250, passes: 3)))",
        &["calender.gaps.final_um = 250: must be ≤ start_um = 110 µm"],
    );
}

#[test]
fn zero_passes() {
    refuses(
        "(calender: (gaps: Geometric(start_um: 250, final_um: 110, passes: 0)))",
        &["s.ron:1:59: calender.gaps.passes = 0: must be an integer in [1, 1000]"],
    );
    refuses(
        "(calender: (gaps: List([])))",
        &["calender.gaps = List([]): must be at least 1 pass"],
    );
}

#[test]
fn fibril_force_interval_out_of_range() {
    refuses(
        "(numerics: (fibril_force_interval: 0))",
        &["s.ron:1:13: numerics.fibril_force_interval = 0: must be an integer in [1, 64]"],
    );
    refuses(
        "(numerics: (fibril_force_interval: 65))",
        &["numerics.fibril_force_interval = 65: must be"],
    );
}

#[test]
fn ptfe_bridge_and_wrap_out_of_range() {
    refuses(
        "(powder: (ptfe: (bridge_strength_mpa: -1)))",
        &["s.ron:1:18: powder.ptfe.bridge_strength_mpa = -1: must be in [0, 200] MPa"],
    );
    refuses(
        "(powder: (ptfe: (wrap_fraction: 1.5)))",
        &["s.ron:1:18: powder.ptfe.wrap_fraction = 1.5: must be in [0, 1]"],
    );
}

#[test]
fn temperature_below_absolute_zero() {
    let o =
        check_text("(fibrillation: (temperature_c: -300), calender: (roll_temperature_c: 330))");
    assert_fails_with(
        &o,
        &[
            "fibrillation.temperature_c = -300: must be in (-273.15, 327) °C",
            "calender.roll_temperature_c = 330: must be in (-273.15, 327) °C",
        ],
    );
}

#[test]
fn multiple_errors_reported_together_in_file_order() {
    let path = fixture("multi_error.ron");
    let dir = TempDir::new();
    let o = run_check_in(&dir.0, path.to_str().expect("utf-8 path"), &[]);
    let want = [
        ":6:13: powder.nps.d50_um = -3",
        ":7:13: powder.nps.gsd = NaN",
        ":9:16: powder.ptfe.wt_pct = 100.0",
        ":9:31: powder.ptfe.fibril_radius_nm = -50.0",
        ":11:20: fibrillation.temperature_c = -300.0",
        ":12:35: calender.gaps[1] = 250.0",
        ":13:37: output.slice_fractions[1] = inf",
    ];
    assert_fails_with(&o, &want);
    assert!(
        o.stderr.contains(&format!("({} errors)", want.len())),
        "{}",
        o.stderr
    );
    // One line per error, in file order.
    let lines: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.contains("multi_error.ron:"))
        .collect();
    assert_eq!(lines.len(), want.len(), "{}", o.stderr);
    for (line, w) in lines.iter().zip(want) {
        assert!(line.contains(w), "{line} vs {w}");
    }
}

#[test]
fn valid_film_summary_and_json() {
    let path = fixture("valid_film.ron");
    let dir = TempDir::new();
    let p = path.to_str().expect("utf-8 path");
    let o = run_check_in(&dir.0, p, &[]);
    assert_eq!(o.code, 0, "stderr: {}", o.stderr);
    for n in [
        "fixture_film",
        "Film",
        "0.2 wt%",
        "280.0 → 220.0",
        "(5 passes)",
    ] {
        assert!(o.stdout.contains(n), "missing {n:?} in {}", o.stdout);
    }
    let o = run_check_in(&dir.0, p, &["--json"]);
    assert_eq!(o.code, 0);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("json summary");
    // h_s = m_A / ρ_mix with 1/ρ_mix = 0.998/2210 + 0.002/2200; 22 mg/cm² = 0.22 kg/m².
    let h_s = 0.22 * (0.998 / 2210.0 + 0.002 / 2200.0) * 1e6;
    let got = v["solid_thickness_um"].as_f64().expect("number");
    assert!((got - h_s).abs() < 1e-9 * h_s, "{got} vs {h_s}");
    let h0 = v["initial_height_um"].as_f64().expect("number");
    assert!((h0 - h_s / 0.3).abs() < 1e-9 * h0);
    assert_eq!(v["gaps_um"].as_array().map(Vec::len), Some(5));
    let count = v["estimated_nps_particles"].as_f64().expect("number");
    assert!(count > 1000.0 && count < 1e6, "{count}");
    // --json on errors: a machine-readable list, still a failure.
    let o = check_text_json("(powder: (nps: (d50_um: -3)))");
    assert_ne!(o.code, 0);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("json errors");
    assert_eq!(v["errors"][0]["path"], "powder.nps.d50_um");
    assert_eq!(v["errors"][0]["value"], "-3");
    assert_eq!(v["errors"][0]["line"], 1);
}

fn check_text_json(text: &str) -> Outcome {
    let dir = TempDir::new();
    fs::write(dir.0.join("s.ron"), text).expect("write scenario");
    run_check_in(&dir.0, "s.ron", &["--json"])
}

#[test]
fn pellet_ignores_film_geometry_but_refuses_written_ptfe() {
    let path = fixture("pellet.ron");
    let dir = TempDir::new();
    let o = run_check_in(&dir.0, path.to_str().expect("utf-8 path"), &[]);
    assert_eq!(o.code, 0, "stderr: {}", o.stderr);
    assert!(o.stdout.contains("Pellet"));
    refuses(
        "(product: Pellet, powder: (ptfe: (wt_pct: 5.0)))",
        &["powder.ptfe.wt_pct = 5.0: must be 0 for a pellet"],
    );
}

#[test]
fn library_validate_and_load_str() {
    // Code-built scenarios: errors without text point at 1:1 and quote the parsed value.
    let mut raw = RawScenario::default();
    raw.powder.nps.d50_um = -3.0;
    raw.numerics.rayleigh_fraction = f64::NAN;
    let err = scenario::validate(&raw, None, "<sweep>").expect_err("invalid");
    let ScenarioError::Invalid { errors, .. } = &err else {
        panic!("expected Invalid, got {err}")
    };
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e.line == 1 && e.column == 1));
    assert_eq!(errors[0].kind, ErrorKind::OutOfRange);
    assert!(err
        .to_string()
        .starts_with("<sweep>:1:1: powder.nps.d50_um = -3: must be"));
    // load_str: SHA-256 of the text, SI values.
    let loaded = scenario::load_str("(domain: (lx_um: 50.0))", "<text>").expect("valid");
    assert_eq!(loaded.hash.len(), 64);
    assert_eq!(
        loaded.hash,
        scenario::sha256_hex(b"(domain: (lx_um: 50.0))")
    );
    assert_eq!(loaded.scenario.domain.lx, 50e-6);
    assert_eq!(loaded.raw.domain.lx_um, 50.0);
}

#[test]
fn fibrillation_law_fields() {
    refuses(
        "(\n  fibrillation: (shear_strain: 5.0, process_strain: 2.0),\n)",
        &[
            "s.ron:2:",
            "fibrillation.process_strain = 2.0: must be ≥ shear_strain = 5",
        ],
    );
    refuses(
        "(powder: (ptfe: (fibrillation_driver: Work, fibrillation_energy_mj_m3: 0.0)))",
        &["powder.ptfe.fibrillation_energy_mj_m3 = 0.0: must be in [0.1, 10000] MJ/m³"],
    );
    refuses(
        "(powder: (ptfe: (fibrillation_driver: Energy)))",
        &["s.ron:1:", "fibrillation_driver", "Energy"],
    );
}
