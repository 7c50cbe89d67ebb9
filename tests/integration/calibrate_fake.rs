//! End-to-end calibration on a closed-form fake model injected as the point runner: the known
//! parameters that generated the "measurements" are recovered, the outputs are written and
//! re-applicable, and the run is deterministic across thread counts.

use std::path::{Path, PathBuf};

use dryfilm_sim::calibrate::{
    apply_overrides, calibrate, write_outputs, CalibrateOptions, Calibration, DataFile, Fitted,
};
use dryfilm_sim::results::RunResult;
use dryfilm_sim::scenario::raw::RawScenario;
use dryfilm_sim::sweep::engine::PointRunner;
use serde_json::Value;

/// A caricature of the film: σ = 0.5·σ_bulk·(1 − w/8)·(γ/0.05)^0.1 S/cm (so the two parameters
/// are coupled), strength = 1800·γ^0.8·(1 + 0.9 w) kPa, short circuit above 3 wt%; with w the
/// PTFE wt%, σ_bulk and γ the NPS bulk conductivity and surface energy of the scenario.
struct Fake;

fn model(raw: &RawScenario) -> (f64, f64) {
    let w = raw.powder.ptfe.wt_pct;
    let sb = raw.powder.nps.sigma_ion_bulk_s_cm;
    let g = raw.powder.nps.surface_energy_j_m2;
    let sigma = 0.5 * sb * (1.0 - w / 8.0) * (g / 0.05).powf(0.1);
    let strength = 1800.0 * g.powf(0.8) * (1.0 + 0.9 * w);
    (sigma, strength)
}

impl PointRunner for Fake {
    fn run_point(&self, raw: &RawScenario, dir: &Path) -> Result<RunResult, String> {
        assert!(dir.is_dir(), "the run folder exists");
        let (sigma, strength) = model(raw);
        Ok(RunResult {
            ptfe_wt_pct: raw.powder.ptfe.wt_pct,
            sigma_ion_s_cm: sigma,
            tensile_strength_md_kpa: Some(strength),
            short_circuit: raw.powder.ptfe.wt_pct > 3.0,
            seed: raw.seed,
            ..RunResult::default()
        })
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dryfilm_calib_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn validate(raw: &RawScenario) -> Result<(), String> {
    dryfilm_sim::scenario::validate(raw, None, "<test>")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Data for true values σ_bulk = 6e-4 S/cm and γ = 0.02 J/m², measured at 0.2 wt%.
fn data(truth: (f64, f64)) -> DataFile {
    let base = root().join("scenarios/calib_0p2wt.ron");
    let loaded = dryfilm_sim::scenario::load_file(&base).expect("shipped scenario loads");
    let mut raw = loaded.raw.clone();
    raw.powder.nps.sigma_ion_bulk_s_cm = truth.0;
    raw.powder.nps.surface_energy_j_m2 = truth.1;
    let (sigma, strength) = model(&raw);
    let text = format!(
        r#"(
    points: [
        (name: "s", scenario: "{b}", quantity: "sigma_ion_S_cm", value: {sigma:e}),
        (name: "t", scenario: "{b}", quantity: "tensile_strength_md_kPa", value: {strength:e},
         uncertainty: 0.1),
    ],
    params: [
        (path: "powder.nps.sigma_ion_bulk_s_cm", lower: 1.0e-5, upper: 1.0e-1, scale: Log),
        (path: "powder.nps.surface_energy_j_m2", lower: 0.005, upper: 1.0, scale: Log),
    ],
    seeds: [3, 4],
    residual: Log,
    predict: [(name: "5wt", scenario: "{p}",
               measured: [(quantity: "short_circuit", value: 1.0)])],
    optimizer: (max_evals: 400, xtol: 1e-6, ftol: 1e-14),
)"#,
        b = base.display(),
        p = root().join("scenarios/calib_5wt.ron").display(),
    );
    DataFile::parse(&text).expect("test data parses")
}

#[test]
fn recovers_known_parameters_and_writes_outputs() {
    let truth = (6e-4, 0.02);
    let cal = Calibration::from_data(data(truth), Path::new("."), "<test>", &validate)
        .expect("valid data");
    let out = tmp("fake");
    let count = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_: &dryfilm_sim::calibrate::EvalRecord| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let opts = CalibrateOptions {
        out_dir: out.clone(),
        threads: 2,
        max_evals: None,
        progress: &progress,
    };
    let report = calibrate(&cal, &Fake, &opts).expect("calibration runs");
    assert!(report.converged, "{} evals", report.history.len());
    assert_eq!(count.into_inner(), report.history.len());
    let got: Vec<f64> = report.fitted.overrides.iter().map(|o| o.value).collect();
    assert!((got[0] / truth.0 - 1.0).abs() < 1e-3, "σ_bulk {got:?}");
    assert!((got[1] / truth.1 - 1.0).abs() < 1e-3, "γ {got:?}");
    assert!(report.fitted.objective < 1e-8);
    // Every point's final residual is tiny; both seeds ran in every evaluation.
    for p in &report.history[report.best].points {
        assert!(p.residual.expect("finite").abs() < 1e-4, "{p:?}");
    }
    assert!(out.join("evals/e0000/calib_0p2wt_s3").is_dir());
    assert!(out.join("evals/e0000/calib_0p2wt_s4").is_dir());
    // The prediction ran with the fitted values.
    let pr = &report.predictions[0];
    assert_eq!(pr.results.len(), 2);
    assert_eq!(pr.compare[0].2, Some(1.0));
    // The table shows the fitted values and the prediction (both seeds shorted).
    let t = dryfilm_sim::calibrate::table(&report);
    assert!(t.contains("powder.nps.surface_energy_j_m2"), "{t}");
    assert!(t.contains("short 2/2"), "{t}");
    // Outputs: fitted.ron re-applies to a scenario; calibration.json holds the history.
    write_outputs(&report, &out).expect("outputs written");
    let text = std::fs::read_to_string(out.join("fitted.ron")).expect("fitted.ron");
    let fitted: Fitted = ron::from_str(&text).expect("fitted.ron parses");
    assert_eq!(fitted, report.fitted);
    let base =
        dryfilm_sim::scenario::load_file(&root().join("scenarios/calib_0p2wt.ron")).expect("base");
    let applied = apply_overrides(&base.raw, &fitted.overrides).expect("overrides apply");
    assert_eq!(applied.powder.nps.sigma_ion_bulk_s_cm, got[0]);
    assert_eq!(applied.powder.nps.surface_energy_j_m2, got[1]);
    let j: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("calibration.json")).expect("calibration.json"),
    )
    .expect("json");
    assert_eq!(
        j["history"].as_array().map(|a| a.len()),
        Some(report.history.len())
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn same_result_on_one_and_two_threads() {
    let run = |threads: usize| {
        let mut d = data((3e-4, 0.1));
        d.optimizer.max_evals = 30;
        let cal = Calibration::from_data(d, Path::new("."), "<test>", &validate).expect("valid");
        let out = tmp(&format!("det{threads}"));
        let quiet = |_: &dryfilm_sim::calibrate::EvalRecord| {};
        let opts = CalibrateOptions {
            out_dir: out.clone(),
            threads,
            max_evals: None,
            progress: &quiet,
        };
        let r = calibrate(&cal, &Fake, &opts).expect("runs");
        let _ = std::fs::remove_dir_all(&out);
        // Everything but the wall times, with the objectives to the bit.
        r.history
            .iter()
            .map(|e| {
                let p: Vec<u64> = e.params.values().map(|x| x.to_bits()).collect();
                (p, e.objective.map(f64::to_bits))
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.len(), 30);
    assert!(a == b, "histories differ between 1 and 2 threads");
}

#[test]
fn predict_only_uses_the_given_values_and_refuses_foreign_paths() {
    use dryfilm_sim::calibrate::{predict, Override};
    let cal = Calibration::from_data(data((6e-4, 0.02)), Path::new("."), "<test>", &validate)
        .expect("valid");
    let out = tmp("predict");
    let quiet = |_: &dryfilm_sim::calibrate::EvalRecord| {};
    let opts = CalibrateOptions {
        out_dir: out.clone(),
        threads: 2,
        max_evals: None,
        progress: &quiet,
    };
    let fitted = Fitted {
        source: "<test>".into(),
        objective: 0.0,
        overrides: vec![Override {
            path: "powder.nps.sigma_ion_bulk_s_cm".into(),
            value: 2e-3,
        }],
    };
    let preds = predict(&cal, &Fake, &fitted, &opts).expect("predictions run");
    assert_eq!(preds.len(), 1);
    // 5 wt%: σ = 0.5 · 2e-3 · (1 − 5/8) · (γ/0.05)^0.1 with γ left at the scenario's value.
    let base =
        dryfilm_sim::scenario::load_file(&root().join("scenarios/calib_5wt.ron")).expect("base");
    let g = base.raw.powder.nps.surface_energy_j_m2;
    let want = 0.5 * 2e-3 * (1.0 - 5.0 / 8.0) * (g / 0.05).powf(0.1);
    for r in &preds[0].results {
        let got = r.as_ref().expect("ran").sigma_ion_s_cm;
        assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
    }
    let bad = Fitted {
        overrides: vec![Override {
            path: "powder.ptfe.wt_pct".into(),
            value: 1.0,
        }],
        ..fitted
    };
    assert!(predict(&cal, &Fake, &bad, &opts).is_err());
    let _ = std::fs::remove_dir_all(&out);
}
