//! Diagnostic: a pellet scenario's pressing, watched. Runs mixing (the die fill), then the pellet
//! stage's two pressing phases (the affine compaction to the pressure, then the servo hold until
//! the bottom wall carries it too; docs/model.md, "Pellet") in chunks of `chunk_steps` steps,
//! printing after each: the top and bottom wall pressures (MPa, the bottom's the force that
//! reached it through the powder), the wall gap (µm), the kinetic energy (J) and the solid
//! fraction of each tenth of the gap (sphere volumes cut by the slab, overlaps counted twice).
//! `cargo run --release -p dryfilm-sim --example pellet_diag -- SCENARIO [chunk_steps]`
use bevy_ecs::prelude::*;
use dryfilm_sim::dem::schedule::DemWorld;
use dryfilm_sim::process::measure::slab_solid_fractions;
use dryfilm_sim::process::{FilmSim, PhaseControl, StagePhase};

fn report(f: &FilmSim, label: &str) {
    let d = f.dem();
    let area = d.lx * d.ly;
    let tenths = slab_solid_fractions(d, d.walls.z_bottom, d.walls.z_top, 10);
    let t: Vec<String> = tenths.iter().map(|x| format!("{x:.2}")).collect();
    println!(
        "{label:>14}  top {:8.2} MPa  bottom {:8.2} MPa  gap {:7.1} µm  KE {:.2e} J  tenths (bottom→top) {}",
        d.walls.top_force_avg / area * 1e-6,
        d.walls.bottom_force / area * 1e-6,
        (d.walls.z_top - d.walls.z_bottom) * 1e6,
        d.kinetic_energy(),
        t.join(" ")
    );
}

/// Runs `phase` to its end in chunks of `chunk` steps, reporting after each.
fn watch(f: &mut FilmSim, phase: StagePhase, name: &str, chunk: u64) {
    f.world.resource_scope(|w, mut ctl: Mut<PhaseControl>| {
        ctl.start(phase, &mut w.resource_mut::<DemWorld>().into_inner().0);
    });
    let mut n = 0;
    while !f.world.resource::<PhaseControl>().done {
        for _ in 0..chunk {
            f.schedule.run(&mut f.world);
            n += 1;
            if f.world.resource::<PhaseControl>().done {
                break;
            }
        }
        report(f, &format!("{name} {n}"));
    }
    f.world.resource_mut::<PhaseControl>().phase = None;
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let loaded = dryfilm_sim::scenario::load_file(std::path::Path::new(&a[1])).expect("scenario");
    let chunk: u64 = a.get(2).map(|s| s.parse().unwrap()).unwrap_or(2000);
    let s = &loaded.scenario;
    let mut f = FilmSim::new(s).expect("pellet");
    let quiet = |_: &str, _: f64| {};
    f.mixing(&quiet).expect("mixing");
    report(&f, "filled");
    let compact = f.pellet_compaction();
    watch(&mut f, StagePhase::Compact(compact), "compact", chunk);
    let hold = f.pellet_hold();
    watch(&mut f, StagePhase::Hold(hold), "hold", 100);
}
