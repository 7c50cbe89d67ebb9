//! Diagnostic: PTFE cluster statistics of a saved snapshot.
//! `cargo run --release --example continuity_diag -- SNAPSHOT [anchor_tolerance_um] [wrap_fraction]`
use dryfilm_sim::solvers::continuity::{analyze, electronic_conductivity, ContinuityParams};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let snap =
        dryfilm_sim::snapshot::Snapshot::load(std::path::Path::new(&a[1])).expect("snapshot");
    let mut p = ContinuityParams::default();
    if let Some(t) = a.get(2) {
        p.anchor_tolerance = t.parse::<f64>().unwrap() * 1e-6;
    }
    if let Some(w) = a.get(3) {
        p.wrap_fraction = w.parse().unwrap();
    }
    let r = analyze(&snap, &p).expect("continuity");
    let h = snap.sim_box.z_top - snap.sim_box.z_bottom;
    // z extent of each cluster from its fibrils' anchors.
    let mut lo = vec![f64::INFINITY; r.n_clusters];
    let mut hi = vec![f64::NEG_INFINITY; r.n_clusters];
    for (f, &c) in r.fibril_cluster.iter().enumerate() {
        if c as usize >= r.n_clusters {
            continue;
        }
        for an in [snap.fibrils[f].a, snap.fibrils[f].b] {
            let z = snap.anchor_world(&an)[2];
            lo[c as usize] = lo[c as usize].min(z);
            hi[c as usize] = hi[c as usize].max(z);
        }
    }
    let mut ext: Vec<(f64, usize, f64)> = (0..r.n_clusters)
        .filter(|&c| hi[c] > lo[c])
        .map(|c| {
            (
                (hi[c] - lo[c]) / h,
                r.cluster_elements[c],
                r.cluster_volume_m3[c] / r.total_ptfe_volume_m3,
            )
        })
        .collect();
    ext.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap());
    println!(
        "clusters {} spanning {} thickness {:.1} um anode-connected vol {:.3}",
        r.n_clusters,
        r.spanning,
        h * 1e6,
        r.anode_connected_volume_fraction
    );
    let el = electronic_conductivity(&snap, &r, &p, 1e-8).expect("electronic conductivity");
    println!(
        "  sigma_e {:.3e} S/cm short {}",
        el.sigma_e_s_cm, el.short_circuit
    );
    for e in ext.iter().take(5) {
        println!(
            "  z-extent {:.2} of H, elements {}, PTFE vol fraction {:.3}",
            e.0, e.1, e.2
        );
    }
}
