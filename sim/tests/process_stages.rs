//! Tests of the process stages on small films: PTFE mass conservation, the fibrillation threshold and
//! its strain dependence, calender alignment and 90° turns, target thickness and springback.

use dryfilm_sim::dem::schedule::run_steps;
use dryfilm_sim::process::film::{ActiveStage, FilmSim, PtfeSources};
use dryfilm_sim::scenario::{load_str, Scenario};

fn scenario(temp_c: f64, strain: f64, turn: bool) -> Scenario {
    scenario_alpha(temp_c, strain, turn, 0.3, "[40.0, 30.0, 24.0]")
}

fn scenario_alpha(temp_c: f64, strain: f64, turn: bool, alpha: f64, gaps: &str) -> Scenario {
    scenario_relax(temp_c, strain, turn, alpha, gaps, 400, 3.0)
}

fn scenario_relax(
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

fn quiet(_: &str, _: f64) {}

#[test]
fn ptfe_mass_is_conserved_at_every_step() {
    let mut sim = FilmSim::new(&scenario(90.0, 1.5, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    let v0 = sim.ptfe_volume0;
    // Fibrillation driven step by step, checking the PTFE volume after each one.
    {
        let mut src = sim.world.resource_mut::<PtfeSources>();
        src.critical_strain = dryfilm_sim::process::film::critical_fibrillation_strain(363.15);
    }
    *sim.world.resource_mut::<ActiveStage>() = ActiveStage::Fibrillation;
    let v = 4000.0 * 40e-6;
    // The roll holds the confining pressure while it shears (a velocity-driven wall with no load
    // slides over the film instead of shearing it).
    sim.dem_mut().walls.top_drive = dryfilm_sim::dem::WallDrive::Pressure {
        pressure: 300e3,
        max_speed: 0.05,
        shear: glam::DVec3::new(v, 0.0, 0.0),
    };
    // Step until fibrils are being drawn and 1000 steps beyond (at most 30 000), every step checked.
    let mut drawn = 0;
    let mut first_draw = None;
    for k in 0..30_000 {
        run_steps(&mut sim.world, &mut sim.schedule, 1).unwrap();
        let err = (sim.ptfe_volume() - v0).abs() / v0;
        assert!(err < 1e-9, "PTFE volume error {err} at step {k}");
        drawn = sim.fibril_stats().0;
        if drawn > 0 && first_draw.is_none() {
            first_draw = Some(k);
        }
        if first_draw.is_some_and(|f| k >= f + 1000) {
            break;
        }
    }
    assert!(
        drawn > 0,
        "no fibril was drawn, the test does not exercise the transfer (largest local strain {}, ε_c {})",
        sim.world
            .resource::<PtfeSources>()
            .strain
            .iter()
            .cloned()
            .fold(0.0, f64::max),
        sim.world.resource::<PtfeSources>().critical_strain
    );
    // And across whole stages.
    let f = sim.fibrillation(&quiet).unwrap();
    assert!(f.ptfe_mass_error < 1e-9);
    let c = sim.calender(&quiet).unwrap();
    assert!(c.ptfe_mass_error < 1e-9);
}

#[test]
fn no_fibrils_below_the_19c_transition() {
    let mut cold = FilmSim::new(&scenario(15.0, 1.5, false)).unwrap();
    cold.mixing(&quiet).unwrap();
    let s = cold.fibrillation(&quiet).unwrap();
    assert_eq!(s.fibrils_intact + s.fibrils_failed as usize, 0);
    let mut warm = FilmSim::new(&scenario(90.0, 1.5, false)).unwrap();
    warm.mixing(&quiet).unwrap();
    let w = warm.fibrillation(&quiet).unwrap();
    assert!(
        w.fibrils_intact > 0,
        "fibrils at 90 °C: {}",
        w.fibrils_intact
    );
}

fn fibrillate(strain: f64) -> dryfilm_sim::process::film::StageSummary {
    let mut sim = FilmSim::new(&scenario(90.0, strain, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap()
}

#[test]
fn more_shear_strain_gives_more_fibrils() {
    // Fibrils are counted as strands (real fibrils); model fibrils are bundles of the strands one
    // lump drew between one pair of grains, so their number need not grow.
    let a = fibrillate(0.8);
    let b = fibrillate(2.5);
    assert!(
        b.fibril_strands > a.fibril_strands,
        "strands {} vs {}",
        a.fibril_strands,
        b.fibril_strands
    );
    assert!(
        b.ptfe_fibrillated_fraction > a.ptfe_fibrillated_fraction,
        "fibrillated fraction {} vs {}",
        a.ptfe_fibrillated_fraction,
        b.ptfe_fibrillated_fraction
    );
    // Strands drawn again between the same grains join their bundle: fewer entities than strands.
    assert!(b.fibril_strands > b.fibrils_intact as f64);
}

#[test]
fn more_shear_strain_gives_longer_fibrils() {
    let a = fibrillate(0.8);
    let b = fibrillate(2.5);
    assert!(
        b.fibril_mean_length_um > a.fibril_mean_length_um,
        "length {} vs {}",
        a.fibril_mean_length_um,
        b.fibril_mean_length_um
    );
}

#[test]
fn calendering_reaches_target_thickness_with_positive_springback() {
    let mut sim = FilmSim::new(&scenario(90.0, 1.5, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap();
    let c = sim.calender(&quiet).unwrap();
    let target = 25.0;
    assert!(
        (c.thickness_um / target - 1.0).abs() <= 0.02,
        "thickness {} µm vs target {target}: {:?}",
        c.thickness_um,
        c.passes
    );
    // Springback of every pass in which the roll actually pressed the film.
    for p in c.passes.iter().filter(|p| p.peak_pressure_mpa > 1.0) {
        assert!(
            p.springback_pct > 0.0,
            "pass {}: springback {}%",
            p.pass,
            p.springback_pct
        );
    }
}

/// The thickness after a pass is the film's own (its springback), not where a released film
/// drifted: with 4× the relaxation steps the first pressing pass ends at the same thickness within
/// 3 %, and the film rests on the bottom wall. Before the film's rigid-body drift was removed, the
/// film rode the retreating roll and the thickness grew with the relaxation time. At 0.2 wt% PTFE:
/// at 2–5 wt% released films still swell with time (the fibril forces are not conservative,
/// docs/validation.md), which this test does not cover.
#[test]
fn springback_does_not_grow_with_the_relaxation_time() {
    let first_pressing_pass = |relax: u64| {
        let s = scenario_relax(90.0, 1.0, false, 0.3, "[40.0, 30.0]", relax, 0.2);
        let mut sim = FilmSim::new(&s).unwrap();
        sim.mixing(&quiet).unwrap();
        sim.fibrillation(&quiet).unwrap();
        let c = sim.calender(&quiet).unwrap();
        let d = sim.dem();
        let low =
            d.p.pos
                .iter()
                .zip(&d.p.radius)
                .map(|(x, r)| x.z - r)
                .fold(f64::MAX, f64::min);
        assert!(
            low <= d.walls.z_bottom + 1e-12,
            "relax {relax}: the film floats {} µm above the bottom wall",
            (low - d.walls.z_bottom) * 1e6
        );
        let p = c
            .passes
            .iter()
            .find(|p| p.peak_pressure_mpa > 1.0)
            .cloned()
            .expect("a pass pressed the film");
        (p.pass, p.thickness_um, p.springback_pct)
    };
    let short = first_pressing_pass(400);
    let long = first_pressing_pass(1600);
    assert_eq!(short.0, long.0, "{short:?} vs {long:?}");
    assert!(
        (long.1 / short.1 - 1.0).abs() <= 0.03,
        "pass {}: {:.2} µm (springback {:.1} %) after 400 relaxation steps, {:.2} µm ({:.1} %) after 1600",
        short.0,
        short.1,
        short.2,
        long.1,
        long.2
    );
}

#[test]
fn calendering_aligns_fibrils_along_md_and_turns_lower_it() {
    // Strong MD elongation (α = 0.8), as when a dough is rolled out mostly lengthwise.
    let gaps = "[40.0, 32.0, 27.0]";
    let mut sim = FilmSim::new(&scenario_alpha(90.0, 1.5, false, 0.8, gaps)).unwrap();
    sim.mixing(&quiet).unwrap();
    let f = sim.fibrillation(&quiet).unwrap();
    let c = sim.calender(&quiet).unwrap();
    assert!(
        c.fibril_orientation_md > f.fibril_orientation_md + 0.05,
        "⟨P2⟩ {} → {}",
        f.fibril_orientation_md,
        c.fibril_orientation_md
    );
    // The same film turned 90° between passes is less aligned with MD.
    let mut turned = FilmSim::new(&scenario_alpha(90.0, 1.5, true, 0.8, gaps)).unwrap();
    turned.mixing(&quiet).unwrap();
    turned.fibrillation(&quiet).unwrap();
    let t = turned.calender(&quiet).unwrap();
    assert!(
        t.fibril_orientation_md < c.fibril_orientation_md,
        "turned ⟨P2⟩ {} vs straight {}",
        t.fibril_orientation_md,
        c.fibril_orientation_md
    );
}

#[test]
fn a_90_degree_turn_keeps_every_fibril_length() {
    // Positions, orientations and anchors must rotate together: a rigid in-plane turn of the film
    // changes no fibril's length and keeps the PTFE volume.
    let mut sim = FilmSim::new(&scenario(90.0, 1.5, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap();
    let before = sim.snapshot("before");
    assert!(!before.fibrils.is_empty());
    sim.turn_90();
    let after = sim.snapshot("after");
    assert_eq!(before.sim_box.lx, after.sim_box.ly);
    for (a, b) in before.fibrils.iter().zip(&after.fibrils) {
        assert!(
            (a.length - b.length).abs() <= 1e-9 * a.length.max(1e-12),
            "fibril length {} → {}",
            a.length,
            b.length
        );
    }
}
