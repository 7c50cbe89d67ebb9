//! Hand-made snapshots (µm units) and helpers shared by the render and export tests.

use super::snap;
use dryfilm_sim::snapshot::{FibrilState, Phase, Snapshot, SnapshotMaterials};
use std::path::{Path, PathBuf};

pub use super::snap::UM;

/// The shared test materials with fibril strength 30 MPa, 0.5 GPa PTFE and NPS yield 0.5 GPa
/// (values only matter for the current-density estimate).
pub fn materials() -> SnapshotMaterials {
    SnapshotMaterials {
        fibril_strength: 30e6,
        ptfe_modulus: 0.5e9,
        nps_yield_pressure: 0.5e9,
        ..snap::materials()
    }
}

/// An empty snapshot of the first calender pass (seed 7, 1 wt% PTFE) with a box of `lx × ly`
/// (µm) between z = 0 and `hz` µm.
pub fn empty(lx_um: f64, ly_um: f64, hz_um: f64) -> Snapshot {
    let mut s = snap::empty(lx_um * UM, ly_um * UM, hz_um * UM);
    s.stage = "calender_pass_1".into();
    s.seed = 7;
    s.ptfe_wt_pct = 1.0;
    s.materials = materials();
    s
}

/// Add a particle at `pos_um` with radius `r_um`, with a distinct made-up stress per particle
/// (so that exports can be checked field by field); returns its index.
pub fn add_particle(s: &mut Snapshot, pos_um: [f64; 3], r_um: f64, phase: Phase) -> u32 {
    let pos = [pos_um[0] * UM, pos_um[1] * UM, pos_um[2] * UM];
    let i = snap::add_particle(s, pos, r_um * UM, phase);
    s.particles.stress[i as usize] = [i as f64, 2.0 * i as f64, -1.5e5, 1e3, -2e3, 3.5];
    i
}

/// Add a fibril between particles `a` and `b` with body-frame anchor offsets (µm) and radius (nm).
pub fn add_fibril(
    s: &mut Snapshot,
    a: u32,
    la_um: [f64; 3],
    b: u32,
    lb_um: [f64; 3],
    r_nm: f64,
) -> u32 {
    let k = s.fibrils.len() as u32;
    let um = |l: [f64; 3]| [l[0] * UM, l[1] * UM, l[2] * UM];
    let mut f = snap::fibril(a, um(la_um), b, um(lb_um), r_nm * 1e-9, 0.0, a);
    f.tension = 1e-7 * (k as f64 + 1.0);
    let d = s.sim_box.delta(s.anchor_world(&f.b), s.anchor_world(&f.a));
    f.length = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    f.rest_length = f.length;
    s.fibrils.push(f);
    k
}

/// Add a contact between `i` and `j` with contact radius `a_um` and PTFE coverage `theta`.
pub fn add_contact(s: &mut Snapshot, i: u32, j: u32, a_um: f64, theta: f64) {
    s.contacts.push(snap::contact(i, j, a_um * UM, theta));
}

/// A small film: NPS grains, a PTFE particle and a few fibrils, in a 24 × 16 × 10 µm box.
pub fn small_film() -> Snapshot {
    let mut s = empty(24.0, 16.0, 10.0);
    let grains = [
        ([3.0, 8.0, 3.0], 2.5),
        ([8.0, 7.0, 3.0], 2.5),
        ([13.0, 9.0, 2.6], 2.2),
        ([18.5, 8.0, 3.2], 2.8),
        ([23.0, 6.0, 7.0], 2.0),
        ([5.0, 3.0, 7.5], 2.0),
        ([11.0, 12.0, 7.0], 2.4),
        ([17.0, 2.0, 7.4], 2.1),
    ];
    for (p, r) in grains {
        add_particle(&mut s, p, r, Phase::Nps);
    }
    let ptfe = add_particle(&mut s, [15.0, 8.0, 7.8], 0.8, Phase::Ptfe);
    add_fibril(&mut s, ptfe, [0.0, 0.0, 0.0], 1, [0.0, 0.0, 2.5], 60.0);
    add_fibril(&mut s, ptfe, [0.0, 0.0, 0.0], 4, [0.0, 0.0, 0.0], 60.0);
    add_fibril(&mut s, 0, [0.0, 0.0, 2.5], 5, [0.0, 0.0, -2.0], 40.0);
    s.fibrils[2].state = FibrilState::Broken;
    add_contact(&mut s, 0, 1, 0.8, 0.0);
    add_contact(&mut s, 1, 2, 0.5, 0.3);
    add_contact(&mut s, 2, 3, 0.6, 0.0);
    s
}

/// A fresh, empty scratch directory for test `name` under the target's tmp dir.
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir under CARGO_TARGET_TMPDIR");
    d
}

/// Run `python3 tools/readback/<script> args...` and parse its JSON output. Fails (never skips)
/// when Python or its packages are missing, saying how to install them.
pub fn python_readback(script: &str, args: &[&Path]) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(root.join("tools/readback").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); install Python 3 and run tools/install-test-deps.sh")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        panic!("python read-back dependencies are missing: run `sh tools/install-test-deps.sh` ({stderr})");
    }
    assert!(out.status.success(), "{script} failed: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stderr}"))
}
