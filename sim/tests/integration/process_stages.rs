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
    // Positions, orientations, anchors and periodic images must rotate together: a rigid in-plane
    // turn of the film changes no fibril's length and turns each chord (x, y) → (y, −x), on the
    // image the snapshot stores.
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
        let (ca, cb) = (before.fibril_chord(a), after.fibril_chord(b));
        let turned = [ca[1], -ca[0], ca[2]];
        let err = (0..3)
            .map(|k| (cb[k] - turned[k]).abs())
            .fold(0.0, f64::max);
        assert!(err <= 1e-9 * a.length, "chord {ca:?} → {cb:?}");
        let len = cb.iter().map(|c| c * c).sum::<f64>().sqrt();
        assert!(
            (len - b.length).abs() <= 1e-9 * b.length,
            "{len} vs {}",
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

#[test]
fn spent_lumps_leave_the_film_and_no_particle_lies_below_the_bottom_wall() {
    // At 5 wt% with a fast fibrillation rate many lumps are drawn down to nothing. A spent lump
    // stops and touches nothing (it used to keep its mass on a 1 pm radius and drift through the
    // walls); snapshots leave it out.
    use crate::film_fixture::scenario_relax;
    use dryfilm_sim::process::Material;
    use dryfilm_sim::snapshot::{Phase, Snapshot};
    let mut s = scenario_relax(90.0, 1.5, false, 0.3, "[40.0, 30.0, 24.0]", 400, 5.0);
    s.ptfe.fibrillation_rate = 20.0;
    let mut sim = FilmSim::new(&s).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap();
    let parked: Vec<usize> = {
        let p = &sim.dem().p;
        (0..p.len())
            .filter(|&k| p.material[k] == Material::Spent.id())
            .collect()
    };
    let mut snaps = vec![sim.snapshot("fibrillation")];
    sim.calender(&quiet).unwrap();
    snaps.extend(sim.pass_snapshots.iter().cloned());
    snaps.push(sim.snapshot("calender"));
    let p = &sim.dem().p;
    let spent = p
        .material
        .iter()
        .filter(|&&m| m == Material::Spent.id())
        .count();
    assert!(spent > 0, "no lump was spent: the test exercises nothing");
    let floor = sim.film_radius_floor();
    // Spent lumps stand still (they only follow the affine maps of the whole film: MD elongation).
    for &k in &parked {
        assert_eq!(p.material[k], Material::Spent.id());
        assert_eq!(
            (p.vel[k], p.omega[k]),
            (glam::DVec3::ZERO, glam::DVec3::ZERO)
        );
        assert!(p.radius[k] < floor);
    }
    let check = |snap: &Snapshot| {
        let (pa, b) = (&snap.particles, &snap.sim_box);
        for k in 0..pa.pos.len() {
            assert!(
                pa.pos[k][2] >= b.z_bottom,
                "{}: particle {k} ({:?}) lies below the bottom wall: z = {} m",
                snap.stage,
                pa.phase[k],
                pa.pos[k][2]
            );
            assert!(
                pa.phase[k] == Phase::Nps || pa.radius[k] >= floor,
                "{}: spent lump {k} (r = {} m) in the snapshot",
                snap.stage,
                pa.radius[k]
            );
        }
        for f in &snap.fibrils {
            assert!(f.source.is_none_or(|s| pa.phase[s as usize] == Phase::Ptfe));
        }
    };
    snaps.iter().for_each(check);
    let last = snaps.last().unwrap();
    let lumps = last.particles.phase.iter().filter(|&&ph| ph == Phase::Ptfe);
    let total = p
        .material
        .iter()
        .filter(|&&m| m != dryfilm_sim::process::Material::Nps.id());
    assert_eq!(lumps.count() + spent, total.count());
}
