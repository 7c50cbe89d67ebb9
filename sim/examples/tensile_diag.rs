//! Diagnostic: run the virtual tensile test on a saved snapshot and print its statistics.
//! `cargo run --release -p dryfilm-sim --example tensile_diag -- SNAPSHOT [x|y] [max_strain] [KEY=VALUE...]`
//! Keys: `step`, `tol`, `over`, `gap`, `stop`, `window`, `scale` (TensileParams fields), `resid`
//! (0 = keep the zero-strain stress), `prestress` (1 = keep the fibril prestress), and material
//! overrides `bridge_mpa` (PTFE bridge strength, MPa), `w` (NPS work of adhesion, J/m²), `e_gpa`
//! (PTFE modulus, GPa).
use dryfilm_sim::solvers::tensile::{tensile_test, Axis, TensileParams};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mut snap =
        dryfilm_sim::snapshot::Snapshot::load(std::path::Path::new(&a[1])).expect("snapshot");
    let axis = if a.get(2).map(|s| s.as_str()) == Some("y") {
        Axis::Y
    } else {
        Axis::X
    };
    let mut p = TensileParams::default();
    if let Some(m) = a.get(3) {
        p.max_strain = m.parse().unwrap();
    }
    for kv in a.iter().skip(4) {
        let (k, v) = kv.split_once('=').expect("key=value");
        let v: f64 = v.parse().unwrap();
        match k {
            "step" => p.strain_step = v,
            "tol" => p.force_tolerance = v,
            "over" => p.overshoot_tolerance = v,
            "gap" => p.latent_contact_gap = v,
            "stop" => p.stop_fraction = v,
            "window" => p.stop_strain_window = v,
            "bridge_mpa" => snap.materials.ptfe_bridge_strength = v * 1e6,
            "w" => snap.materials.nps_surface_energy = v,
            "e_gpa" => snap.materials.ptfe_modulus = v * 1e9,
            "prestress" => p.relax_fibril_prestress = v == 0.0,
            "resid" => p.subtract_residual = v != 0.0,
            "scale" => p.contact_stiffness_scale = v,
            _ => panic!("unknown {k}"),
        }
    }
    let t = std::time::Instant::now();
    let r = tensile_test(&snap, axis, &p).expect("tensile");
    println!(
        "peak {:.1} kPa at {:.4}; broken contacts {} fibrils {} detached {}; relax {} iters {} unconv {}",
        r.curve.peak_stress_pa * 1e-3,
        r.curve.strain_at_peak,
        r.broken.contacts,
        r.broken.fibrils,
        r.broken.detached,
        r.work.relaxations,
        r.work.iterations,
        r.work.unconverged
    );
    println!(
        "time {:.1} s, curve points {}",
        t.elapsed().as_secs_f64(),
        r.curve.strain.len()
    );
}
