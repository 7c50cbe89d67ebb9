//! PTFE continuity, reduction at the anode, electronic conductivity and short circuits on
//! hand-built snapshots.

use crate::support::snap::{self, UM};
use dryfilm_sim::snapshot::{FibrilState, Phase, Snapshot, Wall, WallContact};
use dryfilm_sim::solvers::continuity::{
    analyze, electronic_conductivity, spanning_probability, ContinuityParams, NO_CLUSTER,
};
use dryfilm_sim::solvers::network::{ionic_conductivity, Direction};

const RF: f64 = 0.05 * UM; // fibril radius
const TOL: f64 = 1e-12;

/// Empty box 20 µm × 20 µm × 10 µm holding 1 wt% PTFE.
fn empty() -> Snapshot {
    let mut s = snap::empty(20.0 * UM, 20.0 * UM, 10.0 * UM);
    s.ptfe_wt_pct = 1.0;
    s
}

fn particle(s: &mut Snapshot, pos: [f64; 3], r: f64, phase: Phase) -> u32 {
    snap::add_particle(s, pos, r, phase)
}

/// A fibril of radius [`RF`] between world points `pa` and `pb`, anchored on particles `ia`, `ib`
/// (anchor offsets computed from the particles' centres), drawn from `source`.
fn fibril(s: &mut Snapshot, ia: u32, pa: [f64; 3], ib: u32, pb: [f64; 3], source: u32) -> u32 {
    snap::add_fibril_between(s, (ia, pa), (ib, pb), RF, source)
}

/// [`fibril`] with the anchor points given in µm.
fn fibril_um(s: &mut Snapshot, a: (u32, [f64; 3]), b: (u32, [f64; 3]), source: u32) -> u32 {
    let m = |p: [f64; 3]| p.map(|c| c * UM);
    fibril(s, a.0, m(a.1), b.0, m(b.1), source)
}

/// Snapshot with a fully drawn (radius 0) PTFE source particle 0 and NPS anchor particles 1..,
/// one per entry of `centres` (radius 1 µm).
fn with_anchors(centres: &[[f64; 3]]) -> Snapshot {
    let mut s = empty();
    particle(&mut s, [1.0 * UM, 1.0 * UM, 5.0 * UM], 0.0, Phase::Ptfe);
    for &c in centres {
        particle(&mut s, c, 1.0 * UM, Phase::Nps);
    }
    s
}

/// A fibril along z at (`x`, `y`) µm from `z.0` to `z.1` µm, anchored on particles `ends`, drawn
/// from particle 0.
fn vertical(s: &mut Snapshot, ends: (u32, u32), (x, y): (f64, f64), z: (f64, f64)) -> u32 {
    let (a, b) = ([x * UM, y * UM, z.0 * UM], [x * UM, y * UM, z.1 * UM]);
    fibril(s, ends.0, a, ends.1, b, 0)
}

/// Two NPS grains on the axis x = y = 10 µm at heights `anchor_z` (µm) and a fibril between
/// them along that axis from `fibril_z.0` to `fibril_z.1` µm.
fn column(anchor_z: [f64; 2], fibril_z: (f64, f64)) -> Snapshot {
    let mut s = with_anchors(&anchor_z.map(|z| [10.0 * UM, 10.0 * UM, z * UM]));
    vertical(&mut s, (1, 2), (10.0, 10.0), fibril_z);
    s
}

fn params() -> ContinuityParams {
    ContinuityParams::default()
}

#[test]
fn isolated_fibrils_do_not_span() {
    let mut s = with_anchors(&[
        [5.0 * UM, 5.0 * UM, 4.0 * UM],
        [5.0 * UM, 5.0 * UM, 6.0 * UM],
        [12.0 * UM, 12.0 * UM, 4.0 * UM],
        [12.0 * UM, 12.0 * UM, 6.0 * UM],
    ]);
    vertical(&mut s, (1, 2), (5.0, 5.0), (3.0, 7.0));
    vertical(&mut s, (3, 4), (12.0, 12.0), (3.0, 7.0));
    let r = analyze(&s, &params()).expect("analyze");
    assert_eq!(r.n_clusters, 2);
    assert_eq!(r.fibril_cluster, vec![0, 1]);
    assert!(!r.spanning && r.spanning_clusters.is_empty());
    assert_eq!(r.anode_connected_volume_fraction, 0.0);
    assert!(r.ptfe_particle_cluster.iter().all(|c| c.is_none()));
}

#[test]
fn straight_fibril_from_bottom_to_top_spans() {
    let mut s = column([1.0, 9.0], (0.0, 10.0));
    let r = analyze(&s, &params()).expect("analyze");
    assert!(r.spanning);
    assert_eq!(r.spanning_clusters, vec![0]);
    assert!((r.anode_connected_volume_fraction - 1.0).abs() < 1e-12);
    // A broken fibril is no path.
    s.fibrils[0].state = FibrilState::Broken;
    let r = analyze(&s, &params()).expect("analyze");
    assert!(!r.spanning);
    assert_eq!(r.fibril_cluster, vec![NO_CLUSTER]);
}

#[test]
fn face_tolerance_decides_touching() {
    // Fibril ends 0.3 µm from each face: touches with the default 0.5 µm, not with 0.1 µm.
    let s = column([1.3, 8.7], (0.3, 9.7));
    assert!(analyze(&s, &params()).expect("analyze").spanning);
    let tight = ContinuityParams {
        face_tolerance: 0.1 * UM,
        ..params()
    };
    assert!(!analyze(&s, &tight).expect("analyze").spanning);
}

/// Fibril 0 from the bottom to mid height, fibril 1 from mid height to the top, crossing near
/// z = 5 µm but anchored on different particles.
fn crossing_pair(touching: bool) -> Snapshot {
    let mut s = with_anchors(&[
        [6.0 * UM, 10.0 * UM, 1.0 * UM],
        [14.0 * UM, 10.0 * UM, 9.0 * UM],
        [8.0 * UM, 2.0 * UM, 5.0 * UM],
        [8.0 * UM, 18.0 * UM, 5.0 * UM],
    ]);
    fibril_um(&mut s, (1, [6.0, 10.0, 0.0]), (3, [8.0, 3.0, 5.5]), 0);
    fibril_um(&mut s, (2, [14.0, 10.0, 10.0]), (4, [8.0, 17.0, 5.5]), 0);
    if touching {
        s.fibril_contacts.push([0, 1]);
    }
    s
}

#[test]
fn crossing_fibrils_form_one_spanning_cluster() {
    let apart = analyze(&crossing_pair(false), &params()).expect("analyze");
    assert_eq!(apart.n_clusters, 2);
    assert!(!apart.spanning);
    assert_eq!(apart.cluster_touches_anode, vec![true, false]);
    assert_eq!(apart.cluster_touches_cathode, vec![false, true]);
    let joined = analyze(&crossing_pair(true), &params()).expect("analyze");
    assert_eq!(joined.n_clusters, 1);
    assert_eq!(joined.cluster_elements, vec![2]);
    assert!(joined.spanning);
}

#[test]
fn cluster_not_touching_the_anode_is_not_reduced() {
    let s = crossing_pair(false);
    let r = analyze(&s, &params()).expect("analyze");
    // Fibril 1 (top half) touches only the cathode.
    let c1 = r.fibril_cluster[1] as usize;
    assert!(!r.cluster_touches_anode[c1] && r.cluster_touches_cathode[c1]);
    let v0 = s.fibrils[0].volume();
    let v1 = s.fibrils[1].volume();
    let expect = v0 / (v0 + v1);
    assert!((r.anode_connected_volume_fraction - expect).abs() < 1e-12);
    let e = electronic_conductivity(&s, &r, &params(), TOL).expect("electronic");
    assert!(!e.short_circuit);
    assert!((e.reduced_ptfe_fraction - expect).abs() < 1e-12);
}

#[test]
fn ptfe_particles_join_by_overlap_segment_and_source() {
    let mut s = empty();
    // PTFE lumps 0 and 1 overlap; lump 2 is far away; lump 3 is a fibril's source.
    let um = |p: [f64; 3]| p.map(|v| v * UM);
    let lump = |s: &mut Snapshot, p: [f64; 3]| particle(s, um(p), 0.3 * UM, Phase::Ptfe);
    let l0 = lump(&mut s, [3.0, 3.0, 5.0]);
    let l1 = lump(&mut s, [3.5, 3.0, 5.0]);
    let l2 = lump(&mut s, [15.0, 15.0, 5.0]);
    let l3 = lump(&mut s, [15.0, 3.0, 2.0]);
    let na = particle(&mut s, um([3.0, 8.0, 5.0]), 1.0 * UM, Phase::Nps);
    let nb = particle(&mut s, um([3.0, 19.0, 5.0]), 1.0 * UM, Phase::Nps);
    // Fibril 0 runs along y through lump 0's centre line (x = 3 µm) across the periodic boundary
    // (from y = 19 µm to y = 7 µm the short way, via y = 0): it passes lump 0 at y = 3 µm.
    fibril_um(&mut s, (nb, [3.0, 18.0, 5.0]), (na, [3.0, 7.0, 5.0]), l3);
    let r = analyze(&s, &params()).expect("analyze");
    let c = |i: u32| r.ptfe_particle_cluster[i as usize].expect("PTFE particle has a cluster");
    assert_eq!(c(l0), c(l1));
    assert_eq!(c(l0), r.fibril_cluster[0]);
    assert_eq!(c(l3), r.fibril_cluster[0]);
    assert_ne!(c(l2), c(l0));
    assert_eq!(r.n_clusters, 2);
    assert_eq!(r.ptfe_particle_cluster[na as usize], None);
    let total: f64 = r.cluster_volume_m3.iter().sum();
    assert!((total - r.total_ptfe_volume_m3).abs() <= 1e-12 * total);
}

/// Two fibrils, one from each electrode face, ending on NPS particle 1 (R = 1 µm, centre at
/// mid-thickness) at the world points `side_a` and `side_b`, m.
fn two_fibrils_meeting_on_grain_1(side_a: [f64; 3], side_b: [f64; 3]) -> Snapshot {
    let mut s = with_anchors(&[
        [10.0 * UM, 10.0 * UM, 5.0 * UM],
        [10.0 * UM, 10.0 * UM, 1.0 * UM],
        [10.0 * UM, 10.0 * UM, 9.0 * UM],
    ]);
    fibril(&mut s, 2, [10.0 * UM, 10.0 * UM, 0.0], 1, side_a, 0);
    fibril(&mut s, 3, [10.0 * UM, 10.0 * UM, 10.0 * UM], 1, side_b, 0);
    s
}

#[test]
fn fibrils_sharing_an_anchor_site_join() {
    // Both fibrils end on the side of NPS particle 1, 0.1 µm apart (< 2 r_f + 0.1 µm).
    let mut s = two_fibrils_meeting_on_grain_1(
        [11.0 * UM, 10.0 * UM, 5.0 * UM],
        [11.0 * UM, 10.1 * UM, 5.0 * UM],
    );
    let r = analyze(&s, &params()).expect("analyze");
    assert_eq!(r.n_clusters, 1);
    assert!(r.spanning);
    // Far apart on the same particle: no junction.
    s.fibrils[1].b.local = [-UM, 0.0, 0.0];
    let r = analyze(&s, &params()).expect("analyze");
    assert_eq!(r.n_clusters, 2);
    assert!(!r.spanning);
}

#[test]
fn many_strands_wrap_a_grain_and_join_distant_anchors() {
    // Two fibrils end on NPS particle 1 (R = 1 µm) 1.2 µm apart. With a quarter-turn wrap
    // (w = 0.25) single strands (patch ρ = sqrt(4 r_f R w) ≈ 0.22 µm each) do not touch; bundles of
    // 10 strands (ρ ≈ 0.71 µm) do.
    let mut s = two_fibrils_meeting_on_grain_1(
        [11.0 * UM, 10.0 * UM, 5.0 * UM],
        [10.28 * UM, 10.0 * UM, 5.96 * UM],
    );
    let quarter = ContinuityParams {
        wrap_fraction: 0.25,
        ..params()
    };
    let r = analyze(&s, &quarter).expect("analyze");
    assert_eq!(r.n_clusters, 2);
    for f in &mut s.fibrils {
        f.count = 10.0;
    }
    let r = analyze(&s, &quarter).expect("analyze");
    assert_eq!(r.n_clusters, 1);
    assert!(r.spanning);
    // Without wrapping only the bundle radius r_f·√n counts: apart again.
    let bare = ContinuityParams {
        wrap_fraction: 0.0,
        ..params()
    };
    let r = analyze(&s, &bare).expect("analyze");
    assert_eq!(r.n_clusters, 2);
}

/// Simple cubic NPS packing `n`×`n`×`n` of radius 2 µm in a `4n` µm cube, with contacts of radius
/// 0.5 µm and PTFE coverage `theta` (periodic in x and y) and wall contacts on both faces.
fn nps_lattice(n: usize, theta: f64) -> Snapshot {
    let mut s = empty();
    let l = 4.0 * n as f64 * UM;
    (s.sim_box.lx, s.sim_box.ly, s.sim_box.z_top) = (l, l, l);
    let id = |ix: usize, iy: usize, iz: usize| ((iz * n + iy) * n + ix) as u32;
    for iz in 0..n {
        for iy in 0..n {
            for ix in 0..n {
                let c = [ix, iy, iz].map(|k| (4 * k + 2) as f64 * UM);
                particle(&mut s, c, 2.0 * UM, Phase::Nps);
            }
        }
    }
    for iz in 0..n {
        for iy in 0..n {
            for ix in 0..n {
                let con = |j| snap::contact(id(ix, iy, iz), j, 0.5 * UM, theta);
                s.contacts.push(con(id((ix + 1) % n, iy, iz)));
                s.contacts.push(con(id(ix, (iy + 1) % n, iz)));
                if iz + 1 < n {
                    s.contacts.push(con(id(ix, iy, iz + 1)));
                }
                for (layer, wall) in [(0, Wall::Bottom), (n - 1, Wall::Top)] {
                    if iz == layer {
                        s.wall_contacts.push(WallContact {
                            i: id(ix, iy, iz),
                            wall,
                            radius: 0.5 * UM,
                            normal_force: 0.0,
                        });
                    }
                }
            }
        }
    }
    s
}

/// The 5×5×5 lattice in a 20 µm cube with PTFE coverage 0.6 on every contact.
fn nps_cube() -> Snapshot {
    nps_lattice(5, 0.6)
}

#[test]
fn nps_only_electronic_conductivity_equals_the_contact_model() {
    let s = nps_cube();
    let r = analyze(&s, &params()).expect("analyze");
    assert_eq!(r.n_clusters, 0);
    let e = electronic_conductivity(&s, &r, &params(), TOL).expect("electronic");
    assert!(!e.short_circuit);
    // Same contact model as the ionic one with σ = σ_e and no PTFE blocking.
    let mut ionic = s.clone();
    ionic.materials.nps_sigma_ion = s.materials.nps_sigma_e;
    ionic
        .contacts
        .iter_mut()
        .for_each(|c| c.ptfe_coverage = 0.0);
    let reference = ionic_conductivity(&ionic, Direction::Z, TOL).expect("ionic");
    assert!((e.sigma_e_s_m - reference.sigma_s_m).abs() < 1e-9 * reference.sigma_s_m);
    // Of the order of NPS's intrinsic 1e-7 S/m.
    assert!(
        e.sigma_e_s_m > 1e-9 && e.sigma_e_s_m < 1e-7,
        "{}",
        e.sigma_e_s_m
    );
}

#[test]
fn spanning_reduced_fibril_shorts_the_film() {
    let mut s = nps_cube();
    // A fibril through the gap between columns from the bottom to the top face, anchored on the
    // bottom and top corner particles.
    let (a, b) = (0u32, 124u32);
    fibril_um(&mut s, (a, [4.0, 4.0, 0.0]), (b, [4.0, 4.0, 20.0]), a);
    let r = analyze(&s, &params()).expect("analyze");
    assert!(r.spanning);
    let shorted = electronic_conductivity(&s, &r, &params(), TOL).expect("electronic");
    assert!(shorted.short_circuit);
    assert!((shorted.reduced_ptfe_fraction - 1.0).abs() < 1e-12);

    // The same fibril, broken: no reduction path, NPS-limited.
    let mut intact = s.clone();
    intact.fibrils[0].state = FibrilState::Broken;
    let r2 = analyze(&intact, &params()).expect("analyze");
    let plain = electronic_conductivity(&intact, &r2, &params(), TOL).expect("electronic");
    assert!(!plain.short_circuit);
    assert!(
        shorted.sigma_e_s_m > 1e3 * plain.sigma_e_s_m,
        "shorted {} vs plain {}",
        shorted.sigma_e_s_m,
        plain.sigma_e_s_m
    );
    // The carbon wire alone: G = σ_C π r_f² / H per 20 µm × 20 µm, σ = G H / A (within the
    // contact and NPS corrections, which are small).
    let wire =
        s.materials.reduced_ptfe_sigma_e * std::f64::consts::PI * RF * RF / (400.0 * UM * UM);
    assert!(shorted.sigma_e_s_m < 1.01 * wire && shorted.sigma_e_s_m > 0.5 * wire);

    // Half of the fibril: reduced (touches the anode) but no short, only a modest rise.
    let mut half = nps_cube();
    fibril_um(&mut half, (a, [4.0, 4.0, 0.0]), (50, [4.0, 4.0, 10.0]), a);
    let r3 = analyze(&half, &params()).expect("analyze");
    let partial = electronic_conductivity(&half, &r3, &params(), TOL).expect("electronic");
    assert!(!partial.short_circuit);
    assert!(partial.sigma_e_s_m < 1e-2 * shorted.sigma_e_s_m);
    // An extra parallel path never lowers the conductance (Rayleigh monotonicity).
    assert!(partial.sigma_e_s_m >= plain.sigma_e_s_m * (1.0 - 1e-9));
}

#[test]
fn a_spent_lump_links_nothing_and_old_snapshots_read_their_sources() {
    // A fibril from mid-film to the top face, drawn from a lump that was then drawn down to a
    // 1 pm remnant which drifted below the anode face (as spent lumps used to): linked through
    // its source, the fibril reached the anode and shorted the film.
    let mut s = nps_cube();
    let remnant = particle(&mut s, [4.0 * UM, 4.0 * UM, -0.5 * UM], 1e-12, Phase::Ptfe);
    fibril_um(
        &mut s,
        (50, [4.0, 4.0, 10.0]),
        (124, [4.0, 4.0, 20.0]),
        remnant,
    );
    let r = analyze(&s, &params()).expect("analyze");
    assert!(
        electronic_conductivity(&s, &r, &params(), TOL)
            .unwrap()
            .short_circuit
    );
    // Runs leave spent lumps out of their snapshots; the fibril has no source and no short.
    let mut now = s.clone();
    now.fibrils[0].source = None;
    let r = analyze(&now, &params()).expect("analyze");
    assert!(!r.spanning);
    assert!(
        !electronic_conductivity(&now, &r, &params(), TOL)
            .unwrap()
            .short_circuit
    );

    // Version-1 snapshots (every fibril had a source index) still read, as `Some`.
    let dir = std::env::temp_dir().join(format!("dryfilm-snapv1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut v: serde_json::Value = serde_json::to_value(&s).unwrap();
    v["version"] = 1.into();
    let path = dir.join("v1.snap.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let back = Snapshot::load(&path).expect("a version-1 snapshot reads");
    assert_eq!(back.fibrils[0].source, Some(remnant));
    v["version"] = 4.into();
    std::fs::write(&path, v.to_string()).unwrap();
    let e = Snapshot::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("version 4") && e.contains("versions 1 to 3"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn electronic_solve_is_bitwise_identical_on_any_thread_count() {
    let mut s = nps_cube();
    vertical(&mut s, (0, 124), (4.0, 4.0), (0.0, 20.0));
    fibril_um(&mut s, (5, [2.0, 6.0, 0.0]), (50, [4.0, 4.0, 10.0]), 0);
    let r = analyze(&s, &params()).expect("analyze");
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| electronic_conductivity(&s, &r, &params(), 1e-10).expect("electronic"))
    };
    let one = run(1);
    for threads in [2, 4] {
        assert_eq!(
            one.sigma_e_s_m.to_bits(),
            run(threads).sigma_e_s_m.to_bits()
        );
    }
}

#[test]
fn bad_input_is_an_error() {
    let mut s = crossing_pair(true);
    s.fibril_contacts.push([0, 9]);
    assert!(analyze(&s, &params()).is_err());
    let mut s = crossing_pair(true);
    s.fibrils[0].a.particle = 99;
    assert!(analyze(&s, &params()).is_err());
    let bad = ContinuityParams {
        face_tolerance: -1.0,
        ..params()
    };
    assert!(analyze(&crossing_pair(true), &bad).is_err());
    // A result from another snapshot is refused.
    let r = analyze(&crossing_pair(true), &params()).expect("analyze");
    assert!(electronic_conductivity(&nps_cube(), &r, &params(), TOL).is_err());
}

#[test]
fn spanning_probability_from_flags() {
    let flags = [true, true, false, true];
    let (p, lo, hi) = spanning_probability(&flags);
    assert_eq!(p, 0.75);
    assert!(lo < p && p < hi && lo > 0.0 && hi < 1.0);
    let (_, lo_many, hi_many) = spanning_probability(&[flags; 25].concat());
    assert!(hi_many - lo_many < hi - lo, "more runs, narrower interval");
}

/// Size/convergence probe, not a benchmark:
/// `fcount` random fibrils between neighbouring grains of the `n`³ NPS lattice `s` (each reaching
/// 2 µm past its anchor grains' centres, through the thickness) and as many random fibril–fibril
/// contacts, from the generator state `state`.
fn random_fibrils(s: &Snapshot, n: usize, fcount: usize, mut state: u64) -> Snapshot {
    let id = |ix: usize, iy: usize, iz: usize| ((iz * n + iy) * n + ix) as u32;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut snap = s.clone();
    for _ in 0..fcount {
        let (ix, iy, iz) = (next() % n, next() % n, next() % n);
        let jz = (iz + 1 + next() % 2).min(n - 1);
        let (jx, jy) = ((ix + next() % 3) % n, (iy + next() % 3) % n);
        let (a, b) = (id(ix, iy, iz), id(jx, jy, jz));
        let pa = snap.particles.pos[a as usize];
        let pb = snap.particles.pos[b as usize];
        let below = [pa[0], pa[1], pa[2] - 2.0 * UM];
        let above = [pb[0], pb[1], pb[2] + 2.0 * UM];
        fibril(&mut snap, a, below, b, above, a);
    }
    let nf = snap.fibrils.len() as u32;
    for _ in 0..fcount {
        let (f, g) = ((next() as u32) % nf, (next() as u32) % nf);
        if f < g {
            snap.fibril_contacts.push([f, g]);
        }
    }
    snap
}

/// The short flag agrees with the electronic conductivity: on random fibril networks, a film is
/// flagged short exactly when its reduced carbon alone conducts from face to face (σ_e with the
/// NPS made a near-insulator), and then its σ_e is at least that carbon path's.
#[test]
fn the_short_flag_agrees_with_carbon_conduction() {
    let n = 6usize;
    let s = nps_lattice(n, 0.0);
    let (mut shorts, mut opens) = (0, 0);
    for (k, fcount) in [20usize, 40, 60, 80, 100, 140].into_iter().enumerate() {
        for seed in 0..3u64 {
            let snap = random_fibrils(&s, n, fcount, 1000 * k as u64 + seed);
            let r = analyze(&snap, &params()).expect("analyze");
            let e = electronic_conductivity(&snap, &r, &params(), TOL).expect("electronic");
            let mut carbon_only = snap.clone();
            carbon_only.materials.nps_sigma_e = 1e-30;
            let c = electronic_conductivity(&carbon_only, &r, &params(), TOL).expect("carbon");
            let conducts = c.sigma_e_s_m > 1e-20;
            assert_eq!(
                e.short_circuit, conducts,
                "{fcount} fibrils, seed {seed}: short {} but carbon-only σ_e {:e} S/m",
                e.short_circuit, c.sigma_e_s_m
            );
            if e.short_circuit {
                assert!(e.sigma_e_s_m >= c.sigma_e_s_m * (1.0 - 1e-9));
                shorts += 1;
            } else {
                opens += 1;
            }
        }
    }
    assert!(
        shorts > 0 && opens > 0,
        "{shorts} short, {opens} open: the test exercises one side"
    );
}

/// `cargo test -p dryfilm --test integration continuity_ptfe::probe -- --ignored --nocapture`. 20³ NPS cube (4 µm spacing) with 3000 random fibrils between neighbouring
/// particles, random fibril–fibril contacts; prints clusters, spanning, σ_e and iterations.
#[test]
#[ignore]
fn probe_random_fibril_network() {
    let n = 20usize;
    let s = nps_lattice(n, 0.0);
    for fcount in [1000usize, 3000] {
        let snap = random_fibrils(&s, n, fcount, 12345 + fcount as u64);
        let t = std::time::Instant::now();
        let r = analyze(&snap, &params()).expect("analyze");
        let t_a = t.elapsed().as_secs_f64();
        let e = electronic_conductivity(&snap, &r, &params(), 1e-10).expect("electronic");
        println!(
            "{fcount} fibrils: {} clusters, spanning {}, reduced {:.3}, sigma_e {:.3e} S/cm, {} iterations, analyze {:.3} s, total {:.3} s",
            r.n_clusters, r.spanning, r.anode_connected_volume_fraction, e.sigma_e_s_cm, e.iterations, t_a, t.elapsed().as_secs_f64()
        );
    }
}
