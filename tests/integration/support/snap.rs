//! Hand-built snapshots for the solver, render and export tests: one set of material values, an
//! empty box, and builders for particles, contacts and fibrils. Lengths in metres (SI) unless a
//! name says `_um`.

use dryfilm_sim::snapshot::{
    Anchor, Contact, Fibril, FibrilState, Phase, SimBox, Snapshot, SnapshotMaterials,
};

/// 1 µm in metres.
pub const UM: f64 = 1e-6;

/// Plausible material data: NPS σ 0.0149 S/m (1.49e-4 S/cm), 20 GPa, yield 0.3 GPa, surface
/// energy 0.1 J/m², friction 0.3; PTFE 2200 kg/m³, 0.4 GPa, fibril strength 20 MPa, yield 10 MPa;
/// anchor strength 1 N/m; no PTFE bridges. Tests that need other values override fields with
/// `SnapshotMaterials { field: value, ..materials() }`.
pub fn materials() -> SnapshotMaterials {
    SnapshotMaterials {
        nps_sigma_ion: 0.0149,
        nps_sigma_e: 1e-7,
        reduced_ptfe_sigma_e: 10.0,
        nps_density: 2210.0,
        ptfe_density: 2200.0,
        fibril_strength: 2e7,
        fibril_yield: 1e7,
        ptfe_modulus: 4e8,
        anchor_strength: 1.0,
        ptfe_bridge_strength: 0.0,
        nps_modulus: 2e10,
        nps_poisson: 0.3,
        nps_yield_pressure: 3e8,
        nps_surface_energy: 0.1,
        nps_friction: 0.3,
    }
}

/// An empty snapshot (stage and scenario "test", seed 0, no PTFE) of a periodic `lx × ly` box
/// (m) between the walls z = 0 and `z_top` (m), with [`materials`].
pub fn empty(lx: f64, ly: f64, z_top: f64) -> Snapshot {
    let sim_box = SimBox {
        lx,
        ly,
        z_bottom: 0.0,
        z_top,
    };
    Snapshot::empty("test", "test", 0, 0.0, sim_box, materials())
}

/// A snapshot holding NPS grains of radius `r` (m) at `pos` (m), at rest and unstressed, in a
/// `lx × ly` box (m) of height `z_top` (m).
pub fn grains(pos: Vec<[f64; 3]>, r: f64, lx: f64, ly: f64, z_top: f64) -> Snapshot {
    let mut s = empty(lx, ly, z_top);
    for p in pos {
        add_particle(&mut s, p, r, Phase::Nps);
    }
    s
}

/// Adds a particle at `pos` (m) with radius `r` (m), at rest, unrotated and unstressed; returns
/// its index.
pub fn add_particle(s: &mut Snapshot, pos: [f64; 3], r: f64, phase: Phase) -> u32 {
    s.push_particle(pos, r, phase)
}

/// A contact between particles `i` and `j` (stored lower index first) with contact radius `a`
/// (m), PTFE coverage `theta` (0..1), no overlap and no load.
pub fn contact(i: u32, j: u32, a: f64, theta: f64) -> Contact {
    Contact {
        i: i.min(j),
        j: i.max(j),
        radius: a,
        overlap: 0.0,
        normal_force: 0.0,
        ptfe_coverage: theta,
    }
}

/// An intact single-strand fibril from particle `a` to particle `b` with body-frame anchor offsets
/// `la`, `lb` (m), radius `radius` (m), rest length and length `length` (m), no tension, drawn
/// from particle `source`.
pub fn fibril(
    a: u32,
    la: [f64; 3],
    b: u32,
    lb: [f64; 3],
    radius: f64,
    length: f64,
    source: u32,
) -> Fibril {
    Fibril {
        a: Anchor {
            particle: a,
            local: la,
        },
        b: Anchor {
            particle: b,
            local: lb,
        },
        source: Some(source),
        radius,
        rest_length: length,
        count: 1.0,
        length,
        tension: 0.0,
        state: FibrilState::Intact,
        image: None,
    }
}

/// Adds an intact fibril of radius `radius` (m) between the world points `pa` on particle `ia`
/// and `pb` on particle `ib` (anchor offsets from the particles' centres, length the straight
/// distance), drawn from particle `source`; returns its index.
pub fn add_fibril_between(
    s: &mut Snapshot,
    (ia, pa): (u32, [f64; 3]),
    (ib, pb): (u32, [f64; 3]),
    radius: f64,
    source: u32,
) -> u32 {
    let ca = s.particles.pos[ia as usize];
    let cb = s.particles.pos[ib as usize];
    let local = |p: [f64; 3], c: [f64; 3]| [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
    let len = ((pa[0] - pb[0]).powi(2) + (pa[1] - pb[1]).powi(2) + (pa[2] - pb[2]).powi(2)).sqrt();
    let f = fibril(ia, local(pa, ca), ib, local(pb, cb), radius, len, source);
    s.fibrils.push(f);
    s.fibrils.len() as u32 - 1
}
