//! Diagnostic: a pellet scenario's pressing, watched. Runs mixing (the die fill), then presses
//! with the stage's servo (the scenario's pressure and speed cap `strain_rate · h`) for `chunks`
//! chunks of `chunk` steps, printing after each: the top and bottom wall pressures (MPa, the
//! bottom's the force that reached it through the powder), the wall gap (µm), the kinetic energy
//! (J) and the solid fraction of each tenth of the gap (sphere volume cut by the slab, overlaps
//! counted twice). A quasi-statically pressed pellet carries the same force on both walls and is
//! dense through its whole thickness.
//! `cargo run --release -p dryfilm-sim --example pellet_diag -- SCENARIO [chunks] [chunk_steps]`
use dryfilm_sim::dem::engine::{Dem, WallDrive};
use dryfilm_sim::process::FilmSim;
use glam::DVec3;

/// Solid fraction of each tenth of the gap between the walls.
fn tenths(d: &Dem) -> Vec<f64> {
    let (zb, zt) = (d.walls.z_bottom, d.walls.z_top);
    let h = (zt - zb) / 10.0;
    // Volume of the sphere of radius r (centre at 0) between the planes a < b.
    let cut = |r: f64, a: f64, b: f64| {
        let (a, b) = (a.max(-r), b.min(r));
        let f = |z: f64| std::f64::consts::PI * (r * r * z - z * z * z / 3.0);
        if b > a {
            f(b) - f(a)
        } else {
            0.0
        }
    };
    (0..10)
        .map(|k| {
            let (z0, z1) = (zb + k as f64 * h, zb + (k + 1) as f64 * h);
            let v: f64 =
                d.p.pos
                    .iter()
                    .zip(&d.p.radius)
                    .map(|(x, &r)| cut(r, z0 - x.z, z1 - x.z))
                    .sum();
            v / (d.lx * d.ly * h)
        })
        .collect()
}

fn report(f: &FilmSim, label: &str) {
    let d = f.dem();
    let area = d.lx * d.ly;
    let t: Vec<String> = tenths(d).iter().map(|x| format!("{x:.2}")).collect();
    println!(
        "{label:>8}  top {:8.2} MPa  bottom {:8.2} MPa  gap {:7.1} µm  KE {:.2e} J  tenths (bottom→top) {}",
        d.walls.top_force_avg / area * 1e-6,
        d.walls.bottom_force / area * 1e-6,
        (d.walls.z_top - d.walls.z_bottom) * 1e6,
        d.kinetic_energy(),
        t.join(" ")
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let loaded = dryfilm_sim::scenario::load_file(std::path::Path::new(&a[1])).expect("scenario");
    let chunks: usize = a.get(2).map(|s| s.parse().unwrap()).unwrap_or(40);
    let chunk: u64 = a.get(3).map(|s| s.parse().unwrap()).unwrap_or(1000);
    let s = &loaded.scenario;
    let mut f = FilmSim::new(s).expect("pellet");
    let quiet = |_: &str, _: f64| {};
    f.mixing(&quiet).expect("mixing");
    report(&f, "filled");
    {
        let d = f.dem_mut();
        let h = d.walls.z_top - d.walls.z_bottom;
        d.walls.top_drive = WallDrive::Pressure {
            pressure: s.pellet.pressure,
            max_speed: s.pellet.strain_rate * h,
            shear: DVec3::ZERO,
        };
    }
    for k in 1..=chunks {
        for _ in 0..chunk {
            f.schedule.run(&mut f.world);
        }
        report(&f, &format!("{}", k as u64 * chunk));
    }
}
