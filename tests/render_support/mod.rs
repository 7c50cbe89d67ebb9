//! Hand-made snapshots and helpers shared by the render and export tests.
#![allow(dead_code)]

use dryfilm_sim::snapshot::{
    Anchor, Contact, Fibril, FibrilState, ParticleArrays, Phase, SimBox, Snapshot,
    SnapshotMaterials, SNAPSHOT_FORMAT, SNAPSHOT_VERSION,
};
use std::path::{Path, PathBuf};

/// 1 µm in metres.
pub const UM: f64 = 1e-6;

/// Plausible material data (values only matter for the current-density estimate).
pub fn materials() -> SnapshotMaterials {
    SnapshotMaterials {
        nps_sigma_ion: 1.49e-2,
        nps_sigma_e: 1e-7,
        reduced_ptfe_sigma_e: 10.0,
        nps_density: 2210.0,
        ptfe_density: 2200.0,
        fibril_strength: 30e6,
        fibril_yield: 10e6,
        ptfe_modulus: 0.5e9,
        anchor_strength: 1.0,
        ptfe_bridge_strength: 0.0,
        nps_modulus: 20e9,
        nps_poisson: 0.3,
        nps_yield_pressure: 0.5e9,
        nps_surface_energy: 0.1,
        nps_friction: 0.3,
    }
}

/// An empty snapshot with a box of `lx × ly` (µm) between z = 0 and `hz` µm.
pub fn empty(lx_um: f64, ly_um: f64, hz_um: f64) -> Snapshot {
    Snapshot {
        format: SNAPSHOT_FORMAT.into(),
        version: SNAPSHOT_VERSION,
        stage: "calender_pass_1".into(),
        scenario: "test".into(),
        seed: 7,
        ptfe_wt_pct: 1.0,
        sim_box: SimBox {
            lx: lx_um * UM,
            ly: ly_um * UM,
            z_bottom: 0.0,
            z_top: hz_um * UM,
        },
        materials: materials(),
        particles: ParticleArrays::default(),
        contacts: Vec::new(),
        wall_contacts: Vec::new(),
        fibrils: Vec::new(),
        fibril_contacts: Vec::new(),
    }
}

/// Add a particle at `pos_um` with radius `r_um`; returns its index.
pub fn add_particle(s: &mut Snapshot, pos_um: [f64; 3], r_um: f64, phase: Phase) -> u32 {
    let p = &mut s.particles;
    let i = p.pos.len() as u32;
    p.pos.push([pos_um[0] * UM, pos_um[1] * UM, pos_um[2] * UM]);
    p.radius.push(r_um * UM);
    p.phase.push(phase);
    p.orientation.push([0.0, 0.0, 0.0, 1.0]);
    p.vel.push([0.0; 3]);
    p.force.push([0.0; 3]);
    p.stress
        .push([i as f64, 2.0 * i as f64, -1.5e5, 1e3, -2e3, 3.5]);
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
    let anchor = |particle, l: [f64; 3]| Anchor {
        particle,
        local: [l[0] * UM, l[1] * UM, l[2] * UM],
    };
    let fa = anchor(a, la_um);
    let fb = anchor(b, lb_um);
    let mut f = Fibril {
        a: fa,
        b: fb,
        source: a,
        radius: r_nm * 1e-9,
        rest_length: 0.0,
        count: 1.0,
        length: 0.0,
        tension: 1e-7 * (k as f64 + 1.0),
        state: FibrilState::Intact,
    };
    let pa = s.anchor_world(&fa);
    let pb = s.anchor_world(&fb);
    let d = s.sim_box.delta(pb, pa);
    f.length = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    f.rest_length = f.length;
    s.fibrils.push(f);
    k
}

/// Add a contact between `i` and `j` with contact radius `a_um` and PTFE coverage `theta`.
pub fn add_contact(s: &mut Snapshot, i: u32, j: u32, a_um: f64, theta: f64) {
    s.contacts.push(Contact {
        i,
        j,
        radius: a_um * UM,
        overlap: 0.0,
        normal_force: 0.0,
        ptfe_coverage: theta,
    });
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
