//! Tests of the process stages on small films: PTFE mass conservation, the fibrillation threshold,
//! target thickness with springback, and 90° turns. The property checks on the same films (more
//! shear more fibrils, MD alignment, springback independent of the relaxation time) are in the
//! validation tier (tests/validation/process_physics.rs).

use dryfilm_sim::dem::schedule::run_steps;
use dryfilm_sim::process::{ActiveStage, FilmSim, PtfeSources, StageSummary};

use crate::film_fixture::{quiet, scenario};

/// The 1.5 wt% test film mixed and fibrillated at `temp_c` (°C), with the fibrillation summary.
fn fibrillated(temp_c: f64) -> (FilmSim, StageSummary) {
    let mut sim = FilmSim::new(&scenario(temp_c, 1.5, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    let summary = sim.fibrillation(&quiet).unwrap();
    (sim, summary)
}

#[test]
fn ptfe_mass_is_conserved_at_every_step() {
    let mut sim = FilmSim::new(&scenario(90.0, 1.5, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    let v0 = sim.ptfe_volume0;
    // Fibrillation driven step by step, checking the PTFE volume after each one.
    {
        let mut src = sim.world.resource_mut::<PtfeSources>();
        src.critical_strain = dryfilm_sim::process::critical_fibrillation_strain(363.15);
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
    let (_, s) = fibrillated(15.0);
    assert_eq!(s.fibrils_intact + s.fibrils_failed as usize, 0);
    let (_, w) = fibrillated(90.0);
    assert!(
        w.fibrils_intact > 0,
        "fibrils at 90 °C: {}",
        w.fibrils_intact
    );
}

#[test]
fn calendering_reaches_target_thickness_with_positive_springback() {
    let (mut sim, _) = fibrillated(90.0);
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

#[test]
fn a_90_degree_turn_keeps_every_fibril_length() {
    // Positions, orientations and anchors must rotate together: a rigid in-plane turn of the film
    // changes no fibril's length and keeps the PTFE volume.
    let (mut sim, _) = fibrillated(90.0);
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

/// The process's step schedule (DEM slots, fibril forces, fibril drawing, the stage driver) has no
/// ambiguity: no two systems that touch the same data run in an undetermined order.
#[test]
fn the_step_schedule_has_no_ambiguous_systems() {
    use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings};
    let mut sim = FilmSim::new(&scenario(90.0, 1.5, false)).unwrap();
    sim.schedule.set_build_settings(ScheduleBuildSettings {
        ambiguity_detection: LogLevel::Error,
        ..Default::default()
    });
    if let Err(e) = sim.schedule.initialize(&mut sim.world) {
        panic!("ambiguous step schedule: {e}");
    }
    // A system that writes the DEM in the same slot as the contact forces is ambiguous: the check
    // catches it.
    fn meddle(mut dem: bevy_ecs::prelude::ResMut<dryfilm_sim::dem::schedule::DemWorld>) {
        dem.0.step += 0;
    }
    use bevy_ecs::schedule::IntoScheduleConfigs;
    sim.schedule
        .add_systems(meddle.in_set(dryfilm_sim::dem::schedule::StepSet::Force));
    assert!(sim.schedule.initialize(&mut sim.world).is_err());
}
