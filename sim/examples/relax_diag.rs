//! Diagnostic: run a scenario through calendering, then keep relaxing the free film as the process
//! does (`FilmSim::relax_free`) and print, every CHUNK steps, the film thickness (µm), the
//! kinetic energy (J), the unbalanced-force ratio, the percentiles of all particle tops (µm) and
//! the lowest particle bottom relative to the bottom wall (µm, negative when pressed into it). A
//! film at rest keeps its thickness and its kinetic energy decays. The relaxation damping is the
//! scenario's (`numerics.relax_local_damping`, `numerics.relax_damping_steps`). Each
//! chunk also prints its energy ledger (J): what the film dissipated, and where, while it relaxed.
//! Every chunk runs its full length (the kinetic tolerance is set to 0 after calendering). Two
//! experiments by environment variable: `DIAG_FIBRIL_INTERVAL=n` evaluates every fibril bundle
//! every n steps from then on, `DIAG_NO_ROLLING=1` switches rolling resistance off.
//! `cargo run --release -p dryfilm-sim --example relax_diag -- SCENARIO [chunks] [chunk_steps]`
use dryfilm_sim::process::FilmSim;

fn report(f: &FilmSim, k: usize) {
    let d = f.dem();
    let zb = d.walls.z_bottom;
    let mut tops: Vec<f64> =
        d.p.pos
            .iter()
            .zip(&d.p.radius)
            .map(|(x, r)| (x.z + r - zb) * 1e6)
            .collect();
    tops.sort_by(f64::total_cmp);
    let q = |p: f64| tops[((tops.len() as f64 * p) as usize).min(tops.len() - 1)];
    let (low, kl) =
        d.p.pos
            .iter()
            .zip(&d.p.radius)
            .enumerate()
            .map(|(k, (x, r))| ((x.z - r - zb) * 1e6, k))
            .fold((f64::MAX, 0), |a, b| if b.0 < a.0 { b } else { a });
    println!(
        "{k:4} film {:.2} µm  KE {:.3e} J  UFR {:.2e}  lumps {:.6e} m³  tops p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} µm  lowest {low:.2} µm ({:?}, r {:.2} µm)",
        f.thickness() * 1e6,
        d.kinetic_energy(),
        d.unbalanced_force_ratio(f.film_radius_floor()),
        f.world
            .resource::<dryfilm_sim::process::fibrillation_law::PtfeSources>()
            .volume
            .iter()
            .sum::<f64>(),
        q(0.5),
        q(0.9),
        q(0.99),
        tops[tops.len() - 1],
        f.phase[kl],
        d.p.radius[kl] * 1e6
    );
}

/// The `n` particles with the largest kinetic energy: index, phase, radius µm, height µm, speed
/// m/s, spin rad/s, net force N, external (fibril) force N, touching pairs.
fn hottest(f: &FilmSim, n: usize) {
    let d = f.dem();
    let p = &d.p;
    let mut touch = vec![0u32; p.len()];
    for q in d.pairs.iter_touching() {
        touch[q.i as usize] += 1;
        touch[q.j as usize] += 1;
    }
    let ke = |i: usize| {
        0.5 * p.mass[i] * p.vel[i].length_squared()
            + 0.2 * p.mass[i] * p.radius[i].powi(2) * p.omega[i].length_squared()
    };
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| ke(b).total_cmp(&ke(a)));
    for &i in idx.iter().take(n) {
        println!(
            "    #{i} {:?} r {:.2} z {:.2} KE {:.2e} v {:.2e} w {:.2e} F {:.2e} ext {:.2e} contacts {}",
            f.phase[i],
            p.radius[i] * 1e6,
            (p.pos[i].z - d.walls.z_bottom) * 1e6,
            ke(i),
            p.vel[i].length(),
            p.omega[i].length(),
            p.force[i].length(),
            p.ext.force[i].length(),
            touch[i]
        );
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let loaded = dryfilm_sim::scenario::load_file(std::path::Path::new(&a[1])).expect("scenario");
    let chunks: usize = a.get(2).map(|s| s.parse().unwrap()).unwrap_or(20);
    let chunk: u64 = a.get(3).map(|s| s.parse().unwrap()).unwrap_or(500);
    let mut f = FilmSim::new(&loaded.scenario).expect("film");
    let quiet = |_: &str, _: f64| {};
    f.mixing(&quiet).expect("mixing");
    f.fibrillation(&quiet).expect("fibrillation");
    let work = f
        .calender(&quiet)
        .expect("calender")
        .energy
        .booked
        .external_work();
    // Full chunks: the film is already at rest by the scenario's tolerance after the calender.
    f.scenario.numerics.relax_kinetic_tolerance = 0.0;
    if let Some(n) = std::env::var("DIAG_FIBRIL_INTERVAL")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        f.world
            .resource_mut::<dryfilm_sim::process::PtfeSources>()
            .force_interval = n;
    }
    if std::env::var("DIAG_NO_ROLLING").is_ok() {
        for pp in &mut f.dem_mut().table.params {
            pp.rolling_friction = 0.0;
        }
    }
    report(&f, 0);
    for k in 1..=chunks {
        let mark = f.energy_mark();
        f.relax_free(chunk, work, "relax", &quiet, (0.0, 1.0))
            .expect("relaxation");
        report(&f, k);
        let e = f.energy_since(&mark);
        let b = &e.booked;
        println!(
            "     ledger J: walls {:.2e} damping(relax) {:.2e} contact {:.2e} friction {:.2e} rolling {:.2e} plastic {:.2e} dashpot {:.2e} drawing {:.2e} breakage {:.2e} events {:.2e} | dKE {:.2e} dUc {:.2e} dUf {:.2e} closure {:.2e}",
            b.wall_work, b.relaxation_damping, b.contact_damping, b.friction, b.rolling, b.plastic,
            b.fibril_dashpot, b.fibril_drawing, b.fibril_breakage, b.events,
            e.kinetic_change, e.contact_elastic_change, e.fibril_elastic_change, e.closure_error
        );
        if k % 5 == 0 {
            hottest(&f, 6);
        }
    }
}
