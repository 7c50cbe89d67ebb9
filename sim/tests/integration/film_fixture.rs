//! The small test film of the process-stage tests (32 × 32 µm, 4 mg/cm², calendered to ~25 µm),
//! shared by the default tier (`process_stages`) and the validation tier
//! (`tests/validation/process_physics.rs`, which includes this file by path).

#![allow(dead_code)]

use dryfilm_sim::scenario::{load_str, Scenario};

/// The test film at 3 wt% PTFE, fibrillated at `temp_c` (°C) to shear strain `strain`, gaps
/// 40/30/24 µm, MD elongation exponent 0.3, turned 90° between passes when `turn`.
pub fn scenario(temp_c: f64, strain: f64, turn: bool) -> Scenario {
    scenario_alpha(temp_c, strain, turn, 0.3, "[40.0, 30.0, 24.0]")
}

/// [`scenario`] with MD elongation exponent `alpha` and the gap list `gaps` (µm, RON list).
pub fn scenario_alpha(temp_c: f64, strain: f64, turn: bool, alpha: f64, gaps: &str) -> Scenario {
    scenario_relax(temp_c, strain, turn, alpha, gaps, 400, 3.0)
}

/// [`scenario_alpha`] with `relax` relaxation steps and `wt_pct` PTFE.
pub fn scenario_relax(
    temp_c: f64,
    strain: f64,
    turn: bool,
    alpha: f64,
    gaps: &str,
    relax: u64,
    wt_pct: f64,
) -> Scenario {
    let text = format!(
        r#"(
    name: "t", seed: 5,
    powder: (nps: (d50_um: 4.0, gsd: 1.4, d_min_um: 2.5, d_max_um: 7.0), ptfe: (wt_pct: {wt_pct})),
    domain: (lx_um: 32.0, ly_um: 32.0, mass_loading_mg_cm2: 4.0, initial_solid_fraction: 0.3),
    mixing: (shear_rate_per_s: 2000.0, shear_strain: 0.2, confining_pressure_kpa: 100.0),
    fibrillation: (temperature_c: {temp_c}, shear_rate_per_s: 4000.0, shear_strain: {strain}, confining_pressure_kpa: 300.0),
    calender: (gaps: List({gaps}), target_thickness_um: 25.0, md_elongation_exponent: {alpha}, turn_90_between_passes: {turn}),
    numerics: (mass_scaling: 1.0e6, relax_steps: {relax}),
    properties: (tensile: false),
    output: (images: false, exports: false),
)"#
    );
    load_str(&text, "test")
        .expect("valid test scenario")
        .scenario
}

/// A progress callback that shows nothing.
pub fn quiet(_: &str, _: f64) {}
