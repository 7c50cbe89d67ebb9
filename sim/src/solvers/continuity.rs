//! PTFE continuity (clusters of touching PTFE), reduction at the anode, electronic conductivity
//! and short-circuit detection.
//!
//! Against a Na or Na–Sn anode PTFE is reduced to conducting sp² carbon, and the reduction travels
//! along connected PTFE. [`analyze`] finds the PTFE clusters with a union–find over fibrils and PTFE
//! source particles; a cluster that comes within [`ContinuityParams::face_tolerance`] of the bottom
//! wall (anode) is reduced, and one that also reaches the top face (cathode) spans the film.
//! [`electronic_conductivity`] builds one resistor network of NPS particles (intrinsic electronic
//! conductivity) plus the reduced PTFE (carbon wires and particles) and solves it with
//! [`network::solve`](super::network::solve), the same solver as the ionic model.
//! [`spanning_probability`] turns per-seed spanning flags into a probability with a Wilson interval.
//!
//! Connection rules, the electronic network's resistances and their sources are in
//! `docs/solvers-network.md`.
//!
//! Not in scope: the chemistry of the reduction front (all anode-connected PTFE is taken as fully
//! reduced), NaF formation, and any time dependence.

use super::network::{
    body_resistance, constriction_resistance, solve, spreading_resistance, BodyResistance, Edge,
    NetworkError, ResistorNetwork,
};
use crate::geom::CellGrid;
use crate::numerics::UnionFind;
use crate::snapshot::{FibrilState, Phase, Snapshot, Wall};
use glam::DVec3;
use std::f64::consts::PI;

/// Cluster id given to fibrils that are not part of any cluster (broken or detached fibrils).
pub const NO_CLUSTER: u32 = u32::MAX;

/// Errors of the continuity analysis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContinuityError {
    /// The snapshot is inconsistent (index out of range, non-finite geometry, ...).
    #[error("invalid snapshot for the continuity analysis: {0}")]
    InvalidSnapshot(String),
    /// A parameter is out of range.
    #[error("invalid continuity parameter: {0}")]
    InvalidParams(String),
    /// The continuity result does not belong to this snapshot.
    #[error("continuity result does not match the snapshot: {0}")]
    Mismatch(String),
    /// The electronic network could not be solved.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// Parameters of the continuity analysis.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ContinuityParams {
    /// Distance within which an element counts as touching a face, m: an element touches the anode
    /// if its lowest point (z − radius) is ≤ z_bottom + this, the cathode if its highest point is
    /// ≥ z_top − this. Range [0, 10 µm]. Raising it makes reduction and spanning more likely.
    /// Default 0.5 µm.
    pub face_tolerance: f64,
    /// Extra gap allowed between two fibril anchors on the same NPS particle for the fibrils to
    /// count as touching, m: they join when the anchor distance is ≤ r_f1 + r_f2 + this. Range
    /// [0, 1 µm]. Raising it joins more fibrils. Default 0.1 µm (about one fibril diameter).
    pub anchor_tolerance: f64,
    /// Fraction of the grain's circumference that each strand of a fibril wraps before it leaves
    /// the grain, dimensionless. A bundle of n strands of radius r_f anchored on a grain of
    /// radius R then covers a patch of area n·2r_f·(2πR·w), radius ρ = sqrt(4 n r_f R w); two
    /// anchors on one grain join when their patches overlap, ρ₁ + ρ₂ + `anchor_tolerance` ≥ their
    /// distance. Range [0, 1]; 0 = the bare bundle radius. Default 0.05 (an 18° arc), inside the
    /// range [0, 0.1] that gives a through-film path at 5 wt% and none at 2 wt% on full-thickness
    /// films (docs/validation.md).
    pub wrap_fraction: f64,
}

impl Default for ContinuityParams {
    fn default() -> Self {
        Self {
            face_tolerance: 0.5e-6,
            anchor_tolerance: 0.1e-6,
            wrap_fraction: crate::dem::coverage::DEFAULT_WRAP_FRACTION,
        }
    }
}

impl ContinuityParams {
    fn validate(&self) -> Result<(), ContinuityError> {
        if !(self.face_tolerance.is_finite() && (0.0..=10e-6).contains(&self.face_tolerance)) {
            return Err(ContinuityError::InvalidParams(format!(
                "face_tolerance = {} m must be in [0, 1e-5] m (default 5e-7)",
                self.face_tolerance
            )));
        }
        if !(self.anchor_tolerance.is_finite() && (0.0..=1e-6).contains(&self.anchor_tolerance)) {
            return Err(ContinuityError::InvalidParams(format!(
                "anchor_tolerance = {} m must be in [0, 1e-6] m (default 1e-7)",
                self.anchor_tolerance
            )));
        }
        if !(self.wrap_fraction.is_finite() && (0.0..=1.0).contains(&self.wrap_fraction)) {
            return Err(ContinuityError::InvalidParams(format!(
                "wrap_fraction = {} must be in [0, 1] (default 0.05)",
                self.wrap_fraction
            )));
        }
        Ok(())
    }
}

/// PTFE clusters of a snapshot.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContinuityResult {
    /// Number of clusters.
    pub n_clusters: usize,
    /// Elements (intact fibrils plus PTFE particles) in each cluster.
    pub cluster_elements: Vec<usize>,
    /// PTFE volume of each cluster, m³.
    pub cluster_volume_m3: Vec<f64>,
    /// Whether each cluster touches the anode (bottom wall) and is therefore reduced.
    pub cluster_touches_anode: Vec<bool>,
    /// Whether each cluster touches the cathode (top face).
    pub cluster_touches_cathode: Vec<bool>,
    /// Cluster id of each fibril ([`NO_CLUSTER`] for broken or detached fibrils).
    pub fibril_cluster: Vec<u32>,
    /// Cluster id of each particle; `None` for NPS particles and PTFE particles of zero radius.
    pub ptfe_particle_cluster: Vec<Option<u32>>,
    /// Whether some cluster touches both faces.
    pub spanning: bool,
    /// Ids of the clusters that touch both faces, ascending.
    pub spanning_clusters: Vec<u32>,
    /// Total PTFE volume (all fibrils, broken ones included, plus PTFE particles), m³.
    pub total_ptfe_volume_m3: f64,
    /// Fraction of the total PTFE volume in anode-connected (reduced) clusters (0 if no PTFE).
    pub anode_connected_volume_fraction: f64,
}

/// Straight-segment geometry of one fibril: end A (world), the minimum-image vector A→B, and radius
/// (of the whole bundle: a bundle of n strands of radius r is a cylinder of radius r·√n, the same
/// PTFE cross-section n π r²).
#[derive(Debug, Clone, Copy)]
struct Segment {
    a: [f64; 3],
    s: [f64; 3],
    r: f64,
}

impl Segment {
    fn length(&self) -> f64 {
        norm(self.s)
    }
    fn z_range(&self) -> (f64, f64) {
        let (z0, z1) = (self.a[2], self.a[2] + self.s[2]);
        (z0.min(z1) - self.r, z0.max(z1) + self.r)
    }
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Distance from point `p` to the segment from `0` to `s` (all relative vectors), m.
fn point_segment_distance(p: [f64; 3], s: [f64; 3]) -> f64 {
    let ss = s[0] * s[0] + s[1] * s[1] + s[2] * s[2];
    let t = if ss > 0.0 {
        ((p[0] * s[0] + p[1] * s[1] + p[2] * s[2]) / ss).clamp(0.0, 1.0)
    } else {
        0.0
    };
    norm([p[0] - t * s[0], p[1] - t * s[1], p[2] - t * s[2]])
}

/// Radius of the circle where two spheres (radii r1, r2, centre distance d < r1 + r2) intersect,
/// m; the smaller radius when one sphere lies inside the other.
pub fn lens_radius(r1: f64, r2: f64, d: f64) -> f64 {
    if d >= r1 + r2 {
        0.0
    } else if d <= (r1 - r2).abs() {
        r1.min(r2)
    } else {
        let x = (d * d + r1 * r1 - r2 * r2) / (2.0 * d);
        (r1 * r1 - x * x).max(0.0).sqrt()
    }
}

/// The PTFE geometry and pairwise connections of a snapshot (shared by [`analyze`] and
/// [`electronic_conductivity`]).
struct PtfeGraph {
    /// Per fibril: `Some(segment)` if intact.
    segments: Vec<Option<Segment>>,
    /// Per particle: whether it is a PTFE particle with radius > 0.
    ptfe: Vec<bool>,
    /// Fibril–fibril contacts between intact fibrils.
    fibril_fibril: Vec<(u32, u32)>,
    /// (fibril, PTFE particle) pairs: source links and segment–sphere contacts, deduplicated.
    fibril_particle: Vec<(u32, u32)>,
    /// (p, q, centre distance) of touching PTFE particles, p < q.
    particle_particle: Vec<(u32, u32, f64)>,
    /// Fibril pairs anchored close together on the same NPS particle.
    anchor_pairs: Vec<(u32, u32)>,
}

/// The PTFE particles on the shared cell grid ([`CellGrid`]), queried by box.
struct ItemGrid<'a> {
    grid: CellGrid,
    items: &'a [u32],
}

impl<'a> ItemGrid<'a> {
    /// Bins the particles `items` (ascending indices) of `snap` into cells of edge ≥ `cell` (m),
    /// at most about four cells per item.
    fn new(snap: &Snapshot, items: &'a [u32], cell: f64) -> Self {
        let b = &snap.sim_box;
        let pos = |k: usize| DVec3::from_array(snap.particles.pos[items[k] as usize]);
        let zs = items.iter().map(|&i| snap.particles.pos[i as usize][2]);
        let zmin = zs.clone().fold(b.z_bottom, f64::min);
        let zmax = zs.fold(b.z_top, f64::max);
        let max_cells = (4.0 * items.len() as f64).cbrt().ceil() as usize + 2;
        let mut grid = CellGrid::default();
        grid.rebuild(
            items.len(),
            pos,
            (b.lx, b.ly),
            (zmin, zmax),
            cell,
            max_cells,
        );
        Self { grid, items }
    }

    /// The particles (indices, ascending, each once) in the cells overlapping the box `[lo, hi]`
    /// (m, x and y unwrapped).
    fn query(&self, lo: [f64; 3], hi: [f64; 3], out: &mut Vec<u32>) {
        let (lo, hi) = (DVec3::from_array(lo), DVec3::from_array(hi));
        self.grid.query(lo, hi, out);
        out.iter_mut().for_each(|k| *k = self.items[*k as usize]);
        out.sort_unstable();
        out.dedup();
    }
}

fn invalid(msg: String) -> ContinuityError {
    ContinuityError::InvalidSnapshot(msg)
}

impl PtfeGraph {
    fn build(snap: &Snapshot, params: &ContinuityParams) -> Result<Self, ContinuityError> {
        params.validate()?;
        let b = &snap.sim_box;
        if !(b.lx.is_finite() && b.lx > 0.0 && b.ly.is_finite() && b.ly > 0.0)
            || !(b.z_top.is_finite() && b.z_bottom.is_finite() && b.z_top > b.z_bottom)
        {
            return Err(invalid(format!(
                "box {b:?} must have finite lx, ly > 0 and z_top > z_bottom"
            )));
        }
        let p = &snap.particles;
        let n = p.pos.len();
        if p.radius.len() != n || p.phase.len() != n || p.orientation.len() != n {
            return Err(invalid(
                "particle arrays (pos, radius, phase, orientation) differ in length".into(),
            ));
        }
        for i in 0..n {
            if !(p.radius[i].is_finite() && p.radius[i] >= 0.0)
                || p.pos[i]
                    .iter()
                    .chain(&p.orientation[i])
                    .any(|c| !c.is_finite())
            {
                return Err(invalid(format!(
                    "particle {i}: non-finite position/orientation or bad radius"
                )));
            }
        }
        let ptfe: Vec<bool> = (0..n)
            .map(|i| p.phase[i] == Phase::Ptfe && p.radius[i] > 0.0)
            .collect();

        // Fibril segments.
        let mut segments = Vec::with_capacity(snap.fibrils.len());
        for (k, f) in snap.fibrils.iter().enumerate() {
            for part in [f.a.particle, f.b.particle, f.source] {
                if part as usize >= n {
                    return Err(invalid(format!(
                        "fibril {k} refers to particle {part} (only {n})"
                    )));
                }
            }
            if !(f.radius.is_finite() && f.radius > 0.0 && f.rest_length.is_finite()) {
                return Err(invalid(format!(
                    "fibril {k}: radius {} m must be finite and > 0",
                    f.radius
                )));
            }
            if f.state != FibrilState::Intact {
                segments.push(None);
                continue;
            }
            let a = snap.anchor_world(&f.a);
            let bw = snap.anchor_world(&f.b);
            if a.iter().chain(&bw).any(|c| !c.is_finite()) {
                return Err(invalid(format!("fibril {k}: non-finite anchor position")));
            }
            segments.push(Some(Segment {
                a,
                s: b.delta(bw, a),
                r: f.radius * f.count.max(1.0).sqrt(),
            }));
        }
        let nf = segments.len();

        let mut fibril_fibril = Vec::new();
        for (k, &[i, j]) in snap.fibril_contacts.iter().enumerate() {
            if i as usize >= nf || j as usize >= nf {
                return Err(invalid(format!(
                    "fibril contact {k} refers to fibril {i} or {j} (only {nf})"
                )));
            }
            if i != j && segments[i as usize].is_some() && segments[j as usize].is_some() {
                fibril_fibril.push((i, j));
            }
        }

        // PTFE particle pairs and fibril–particle contacts via a cell grid.
        let items: Vec<u32> = (0..n as u32).filter(|&i| ptfe[i as usize]).collect();
        let r_max = items
            .iter()
            .map(|&i| p.radius[i as usize])
            .fold(0.0, f64::max);
        let mut particle_particle = Vec::new();
        let mut fibril_particle: Vec<(u32, u32)> = Vec::new();
        if !items.is_empty() {
            let grid = ItemGrid::new(snap, &items, (2.0 * r_max).max(1e-9));
            let mut cand = Vec::new();
            for &i in &items {
                let (pi, ri) = (p.pos[i as usize], p.radius[i as usize]);
                let reach = ri + r_max;
                grid.query(
                    [pi[0] - reach, pi[1] - reach, pi[2] - reach],
                    [pi[0] + reach, pi[1] + reach, pi[2] + reach],
                    &mut cand,
                );
                for &j in cand.iter().filter(|&&j| j > i) {
                    let d = norm(b.delta(p.pos[j as usize], pi));
                    if d < ri + p.radius[j as usize] {
                        particle_particle.push((i, j, d));
                    }
                }
            }
            for (f, seg) in segments.iter().enumerate() {
                let Some(seg) = seg else { continue };
                let reach = seg.r + r_max;
                let e = [
                    seg.a[0] + seg.s[0],
                    seg.a[1] + seg.s[1],
                    seg.a[2] + seg.s[2],
                ];
                let lo = [0, 1, 2].map(|k| seg.a[k].min(e[k]) - reach);
                let hi = [0, 1, 2].map(|k| seg.a[k].max(e[k]) + reach);
                grid.query(lo, hi, &mut cand);
                // Centre of the segment; particles are taken at their image nearest to it.
                let m = [0, 1, 2].map(|k| seg.a[k] + 0.5 * seg.s[k]);
                for &q in &cand {
                    let dq = b.delta(p.pos[q as usize], m);
                    let rel = [0, 1, 2].map(|k| dq[k] + 0.5 * seg.s[k]);
                    if point_segment_distance(rel, seg.s) < seg.r + p.radius[q as usize] {
                        fibril_particle.push((f as u32, q));
                    }
                }
            }
        }
        for (f, fib) in snap.fibrils.iter().enumerate() {
            if segments[f].is_some() && ptfe[fib.source as usize] {
                fibril_particle.push((f as u32, fib.source));
            }
        }
        fibril_particle.sort_unstable();
        fibril_particle.dedup();

        // Anchors close together on the same NPS particle.
        let mut by_particle: Vec<Vec<(u32, [f64; 3], f64)>> = vec![Vec::new(); n];
        for (f, fib) in snap.fibrils.iter().enumerate() {
            let Some(seg) = segments[f] else { continue };
            for anchor in [fib.a, fib.b] {
                let k = anchor.particle as usize;
                if p.phase[k] == Phase::Nps {
                    // Wrapped patch of the bundle's strands on the grain (ContinuityParams::wrap_fraction).
                    let patch = crate::dem::coverage::wrapped_patch_radius(
                        fib.count.max(1.0),
                        fib.radius,
                        params.wrap_fraction,
                        p.radius[k],
                    );
                    by_particle[k].push((f as u32, anchor.local, seg.r.max(patch)));
                }
            }
        }
        let mut anchor_pairs = Vec::new();
        for list in &by_particle {
            for (x, &(f, pa, ra)) in list.iter().enumerate() {
                for &(g, pb, rb) in &list[x + 1..] {
                    let d = norm([pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]]);
                    if f != g && d <= ra + rb + params.anchor_tolerance {
                        anchor_pairs.push((f.min(g), f.max(g)));
                    }
                }
            }
        }
        anchor_pairs.sort_unstable();
        anchor_pairs.dedup();
        Ok(Self {
            segments,
            ptfe,
            fibril_fibril,
            fibril_particle,
            particle_particle,
            anchor_pairs,
        })
    }
}

/// Find the PTFE clusters of a snapshot and which of them touch the anode and cathode.
///
/// Elements are intact fibrils and PTFE source particles of radius > 0. Two elements belong to
/// the same cluster (union–find) when:
/// 1. they are a fibril–fibril contact listed in `snap.fibril_contacts`;
/// 2. one is a fibril and the other its own source particle;
/// 3. they are PTFE particles whose centre distance (minimum image) is < r₁ + r₂;
/// 4. they are a fibril and a PTFE particle whose centre lies closer than r_f + r to the fibril's
///    straight segment;
/// 5. they are fibrils anchored on the same NPS particle with anchor points (body frame) no
///    further apart than ρ₁ + ρ₂ + [`ContinuityParams::anchor_tolerance`], ρ the radius of the
///    patch the bundle's strands wrap on the grain ([`ContinuityParams::wrap_fraction`]).
///
/// Broken and detached fibrils join no cluster ([`NO_CLUSTER`]). Cluster ids are numbered in the
/// order of first appearance (fibrils by index, then particles by index), so they are
/// deterministic.
///
/// # Errors
/// [`ContinuityError::InvalidSnapshot`] for inconsistent snapshots, [`ContinuityError::InvalidParams`].
pub fn analyze(
    snap: &Snapshot,
    params: &ContinuityParams,
) -> Result<ContinuityResult, ContinuityError> {
    let g = PtfeGraph::build(snap, params)?;
    let nf = g.segments.len();
    let n = g.ptfe.len();
    let mut uf = UnionFind::new(nf + n);
    let pnode = |i: u32| nf as u32 + i;
    for &(i, j) in &g.fibril_fibril {
        uf.union(i, j);
    }
    for &(f, q) in &g.fibril_particle {
        uf.union(f, pnode(q));
    }
    for &(i, j, _) in &g.particle_particle {
        uf.union(pnode(i), pnode(j));
    }
    for &(f, h) in &g.anchor_pairs {
        uf.union(f, h);
    }

    let mut root_id = vec![NO_CLUSTER; nf + n];
    let mut cluster_elements = Vec::new();
    let mut cluster_volume_m3 = Vec::new();
    let mut anode = Vec::new();
    let mut cathode = Vec::new();
    let (zb, zt, tol) = (
        snap.sim_box.z_bottom,
        snap.sim_box.z_top,
        params.face_tolerance,
    );
    let mut assign = |uf: &mut UnionFind, node: u32, vol: f64, zlo: f64, zhi: f64| -> u32 {
        let r = uf.find(node) as usize;
        if root_id[r] == NO_CLUSTER {
            root_id[r] = cluster_elements.len() as u32;
            cluster_elements.push(0);
            cluster_volume_m3.push(0.0);
            anode.push(false);
            cathode.push(false);
        }
        let id = root_id[r] as usize;
        cluster_elements[id] += 1;
        cluster_volume_m3[id] += vol;
        anode[id] |= zlo <= zb + tol;
        cathode[id] |= zhi >= zt - tol;
        id as u32
    };
    let mut total = 0.0;
    let mut fibril_cluster = vec![NO_CLUSTER; nf];
    for (f, seg) in g.segments.iter().enumerate() {
        let vol = snap.fibrils[f].volume();
        total += vol;
        if let Some(seg) = seg {
            let (zlo, zhi) = seg.z_range();
            fibril_cluster[f] = assign(&mut uf, f as u32, vol, zlo, zhi);
        }
    }
    let mut ptfe_particle_cluster = vec![None; n];
    for (i, slot) in ptfe_particle_cluster.iter_mut().enumerate() {
        if g.ptfe[i] {
            let r = snap.particles.radius[i];
            let z = snap.particles.pos[i][2];
            let vol = 4.0 / 3.0 * PI * r * r * r;
            total += vol;
            *slot = Some(assign(&mut uf, pnode(i as u32), vol, z - r, z + r));
        }
    }
    let spanning_clusters: Vec<u32> = (0..anode.len())
        .filter(|&c| anode[c] && cathode[c])
        .map(|c| c as u32)
        .collect();
    let reduced: f64 = (0..anode.len())
        .filter(|&c| anode[c])
        .map(|c| cluster_volume_m3[c])
        .sum();
    Ok(ContinuityResult {
        n_clusters: cluster_elements.len(),
        cluster_elements,
        cluster_volume_m3,
        cluster_touches_anode: anode,
        cluster_touches_cathode: cathode,
        fibril_cluster,
        ptfe_particle_cluster,
        spanning: !spanning_clusters.is_empty(),
        spanning_clusters,
        total_ptfe_volume_m3: total,
        anode_connected_volume_fraction: if total > 0.0 { reduced / total } else { 0.0 },
    })
}

/// Electronic conductivity of the film after the anode-connected PTFE is reduced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ElectronicResult {
    /// Through-thickness electronic conductivity, S/m (0 if nothing connects the faces).
    pub sigma_e_s_m: f64,
    /// The same in S/cm.
    pub sigma_e_s_cm: f64,
    /// Whether a reduced (anode-connected) PTFE cluster reaches the cathode face: an internal
    /// short. σ_e is then set by carbon (10⁻²–1 S/cm), many orders above NPS's ~10⁻⁹ S/cm.
    pub short_circuit: bool,
    /// Fraction of the PTFE volume that is reduced.
    pub reduced_ptfe_fraction: f64,
    /// Conjugate-gradient iterations of the solve.
    pub iterations: usize,
}

/// Through-thickness electronic conductivity with all anode-connected PTFE reduced to carbon.
///
/// One network, solved with [`network::solve`](super::network::solve): nodes are all particles
/// (NPS with σ_NPS = `materials.nps_sigma_e`; reduced PTFE particles with σ_C =
/// `materials.reduced_ptfe_sigma_e`; unreduced PTFE floats), one node per reduced fibril at its
/// midpoint, and two electrodes (bottom wall 0 V, top wall 1 V). Resistances (Holm constrictions
/// `(1/σ₁+1/σ₂)/(4a)`, half-cylinder body terms `1/(σπr)`, wire terms `ℓ/(σ_C π r_f²)`):
/// - NPS–NPS contact: `1/(σπr_i) + 1/(2σ a) + 1/(σπr_j)` (PTFE coverage does not block electrons
///   in this model: unreduced PTFE at a contact is thin and the NPS term dominates anyway);
/// - NPS–reduced-PTFE-particle contact: body terms plus `(1/σ_NPS + 1/σ_C)/(4a)`;
/// - touching reduced PTFE particles: body terms plus `1/(2σ_C a_lens)`;
/// - reduced fibril to an anchor particle: `(L/2)/(σ_C π r_f²)` plus the constriction of radius
///   r_f into that particle and its body term;
/// - reduced fibril–fibril contact, fibril–PTFE particle contact (junction at an unknown point:
///   mean wire length L/4 from the midpoint), and fibrils sharing an anchor site (wire L/2 each):
///   wire terms plus `1/(2σ_C min(r))`;
/// - electrodes: NPS wall contacts `1/(4σ_NPS a) + 1/(σ_NPS π r)`; reduced elements within the
///   face tolerance: wire (L/2) or body term plus `1/(4σ_C r)`.
///
/// σ_e = I·H/(A·ΔV) with H = z_top − z_bottom, A = lx·ly, ΔV = 1 V.
///
/// # Errors
/// Invalid snapshot or parameters, a `result` from another snapshot, or a solver error.
pub fn electronic_conductivity(
    snap: &Snapshot,
    result: &ContinuityResult,
    params: &ContinuityParams,
    tol: f64,
) -> Result<ElectronicResult, ContinuityError> {
    let m = &snap.materials;
    let (s_n, s_c) = (m.nps_sigma_e, m.reduced_ptfe_sigma_e);
    if !(s_n.is_finite() && s_n > 0.0 && s_c.is_finite() && s_c > 0.0) {
        return Err(invalid(format!(
            "nps_sigma_e = {s_n} S/m and reduced_ptfe_sigma_e = {s_c} S/m must be finite and > 0"
        )));
    }
    let g = PtfeGraph::build(snap, params)?;
    let nf = g.segments.len();
    let n = g.ptfe.len();
    if result.fibril_cluster.len() != nf || result.ptfe_particle_cluster.len() != n {
        return Err(ContinuityError::Mismatch(format!(
            "result has {} fibrils / {} particles, snapshot {nf} / {n}",
            result.fibril_cluster.len(),
            result.ptfe_particle_cluster.len()
        )));
    }
    let reduced_cluster = |c: u32| -> Result<bool, ContinuityError> {
        if c == NO_CLUSTER {
            return Ok(false);
        }
        result
            .cluster_touches_anode
            .get(c as usize)
            .copied()
            .ok_or_else(|| ContinuityError::Mismatch(format!("cluster id {c} out of range")))
    };
    let mut fib_red = vec![false; nf];
    for (f, red) in fib_red.iter_mut().enumerate() {
        *red = g.segments[f].is_some() && reduced_cluster(result.fibril_cluster[f])?;
    }
    let mut part_red = vec![false; n];
    for (i, red) in part_red.iter_mut().enumerate() {
        if let Some(c) = result.ptfe_particle_cluster[i] {
            *red = g.ptfe[i] && reduced_cluster(c)?;
        }
    }
    let p = &snap.particles;
    let is_nps = |i: u32| p.phase[i as usize] == Phase::Nps;
    let hc = BodyResistance::HalfCylinder;
    let body_nps = |i: u32| body_resistance(hc, p.radius[i as usize], s_n);
    let body_c = |i: u32| body_resistance(hc, p.radius[i as usize], s_c);
    let wire = |f: usize, frac: f64| -> f64 {
        let seg = g.segments[f]
            .as_ref()
            .map_or((0.0, 1.0), |s| (s.length(), s.r));
        frac * seg.0.max(seg.1) / (s_c * PI * seg.1 * seg.1)
    };
    let rf = |f: usize| g.segments[f].as_ref().map_or(0.0, |s| s.r);
    let fnode = |f: usize| (n + f) as u32;
    let bottom = (n + nf) as u32;
    let top = bottom + 1;
    let mut net = ResistorNetwork {
        n_nodes: n + nf + 2,
        dirichlet: vec![(bottom, 0.0), (top, 1.0)],
        ..Default::default()
    };
    let mut push = |a: u32, b: u32, r: f64| {
        let g = if r.is_finite() && r > 0.0 {
            1.0 / r
        } else {
            0.0
        };
        net.edges.push(Edge {
            a,
            b,
            conductance: g,
            crossing: 0,
        });
    };

    for (k, c) in snap.contacts.iter().enumerate() {
        if c.i as usize >= n || c.j as usize >= n || !c.radius.is_finite() {
            return Err(invalid(format!(
                "contact {k}: bad particle index or radius"
            )));
        }
        let (i, j) = (c.i, c.j);
        if i == j {
            continue;
        }
        if is_nps(i) && is_nps(j) {
            push(
                i,
                j,
                body_nps(i) + constriction_resistance(c.radius, s_n, s_n) + body_nps(j),
            );
        } else if is_nps(i) && part_red[j as usize] || is_nps(j) && part_red[i as usize] {
            let (nps, c_p) = if is_nps(i) { (i, j) } else { (j, i) };
            push(
                nps,
                c_p,
                body_nps(nps) + constriction_resistance(c.radius, s_n, s_c) + body_c(c_p),
            );
        }
    }
    for (k, w) in snap.wall_contacts.iter().enumerate() {
        if w.i as usize >= n || !w.radius.is_finite() {
            return Err(invalid(format!(
                "wall contact {k}: bad particle index or radius"
            )));
        }
        if is_nps(w.i) {
            let e = if w.wall == Wall::Bottom { bottom } else { top };
            push(w.i, e, spreading_resistance(w.radius, s_n) + body_nps(w.i));
        }
    }
    for &(i, j, d) in &g.particle_particle {
        if part_red[i as usize] && part_red[j as usize] {
            let a = lens_radius(p.radius[i as usize], p.radius[j as usize], d);
            push(
                i,
                j,
                body_c(i) + constriction_resistance(a, s_c, s_c) + body_c(j),
            );
        }
    }
    for (f, fib) in snap.fibrils.iter().enumerate() {
        if !fib_red[f] {
            continue;
        }
        for anchor in [fib.a, fib.b] {
            let q = anchor.particle;
            if is_nps(q) {
                push(
                    fnode(f),
                    q,
                    wire(f, 0.5) + constriction_resistance(rf(f), s_c, s_n) + body_nps(q),
                );
            } else if part_red[q as usize] {
                push(
                    fnode(f),
                    q,
                    wire(f, 0.5) + constriction_resistance(rf(f), s_c, s_c) + body_c(q),
                );
            }
        }
    }
    for &(f, h) in &g.fibril_fibril {
        let (f, h) = (f as usize, h as usize);
        if fib_red[f] && fib_red[h] {
            let junction = constriction_resistance(rf(f).min(rf(h)), s_c, s_c);
            push(fnode(f), fnode(h), wire(f, 0.25) + junction + wire(h, 0.25));
        }
    }
    for &(f, h) in &g.anchor_pairs {
        let (f, h) = (f as usize, h as usize);
        if fib_red[f] && fib_red[h] {
            let junction = constriction_resistance(rf(f).min(rf(h)), s_c, s_c);
            push(fnode(f), fnode(h), wire(f, 0.5) + junction + wire(h, 0.5));
        }
    }
    for &(f, q) in &g.fibril_particle {
        if fib_red[f as usize] && part_red[q as usize] {
            let junction =
                constriction_resistance(rf(f as usize).min(p.radius[q as usize]), s_c, s_c);
            push(
                fnode(f as usize),
                q,
                wire(f as usize, 0.25) + junction + body_c(q),
            );
        }
    }
    // Reduced elements touching the faces connect to the electrodes.
    let (zb, zt, tol_f) = (
        snap.sim_box.z_bottom,
        snap.sim_box.z_top,
        params.face_tolerance,
    );
    for (f, seg) in g.segments.iter().enumerate() {
        if let (true, Some(seg)) = (fib_red[f], seg.as_ref()) {
            let (zlo, zhi) = seg.z_range();
            let r = wire(f, 0.5) + spreading_resistance(seg.r, s_c);
            if zlo <= zb + tol_f {
                push(fnode(f), bottom, r);
            }
            if zhi >= zt - tol_f {
                push(fnode(f), top, r);
            }
        }
    }
    for (i, _) in part_red.iter().enumerate().filter(|(_, &red)| red) {
        let (z, r) = (p.pos[i][2], p.radius[i]);
        let res = body_c(i as u32) + spreading_resistance(r, s_c);
        if z - r <= zb + tol_f {
            push(i as u32, bottom, res);
        }
        if z + r >= zt - tol_f {
            push(i as u32, top, res);
        }
    }
    let sol = solve(&net, tol)?;
    let mut uf = UnionFind::new(net.n_nodes);
    for e in net.edges.iter().filter(|e| e.conductance > 0.0) {
        uf.union(e.a, e.b);
    }
    let connected = uf.find(bottom) == uf.find(top);
    let current = if connected {
        sol.dirichlet_currents[1]
    } else {
        0.0
    };
    let b = &snap.sim_box;
    let sigma = current * (b.z_top - b.z_bottom) / (b.lx * b.ly);
    let short_circuit = (0..result.cluster_touches_anode.len()).any(|c| {
        result.cluster_touches_anode[c] && result.cluster_touches_cathode.get(c) == Some(&true)
    });
    Ok(ElectronicResult {
        sigma_e_s_m: sigma,
        sigma_e_s_cm: sigma / 100.0,
        short_circuit,
        reduced_ptfe_fraction: result.anode_connected_volume_fraction,
        iterations: sol.iterations,
    })
}

/// Spanning probability over independent runs with its 95% Wilson score interval.
///
/// For k spanning runs out of n: p̂ = k/n and the interval
/// `(p̂ + z²/2n ± z sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)` with z = 1.959964 (Wilson 1927, JASA
/// 22, 209). Returns `(p̂, lo, hi)`; for no runs `(NaN, 0, 1)`.
pub fn spanning_probability(flags: &[bool]) -> (f64, f64, f64) {
    const Z: f64 = 1.959_963_984_540_054;
    let n = flags.len() as f64;
    if flags.is_empty() {
        return (f64::NAN, 0.0, 1.0);
    }
    let p = flags.iter().filter(|&&f| f).count() as f64 / n;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval() {
        let (p, lo, hi) = spanning_probability(&[
            true, false, true, true, false, false, false, false, false, false,
        ]);
        assert!((p - 0.3).abs() < 1e-15);
        // Wilson interval for 3/10: [0.1078, 0.6032].
        assert!(
            (lo - 0.1078).abs() < 1e-3 && (hi - 0.6032).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (p, lo, hi) = spanning_probability(&[false; 20]);
        assert_eq!(p, 0.0);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.1 && hi < 0.2);
        assert!(spanning_probability(&[]).0.is_nan());
    }

    #[test]
    fn lens_and_segment_geometry() {
        assert!((lens_radius(1.0, 1.0, 1.0) - (0.75f64).sqrt()).abs() < 1e-15);
        assert_eq!(lens_radius(1.0, 1.0, 2.5), 0.0);
        assert_eq!(lens_radius(2.0, 0.5, 0.1), 0.5);
        assert!((point_segment_distance([1.0, 1.0, 0.0], [2.0, 0.0, 0.0]) - 1.0).abs() < 1e-15);
        assert!((point_segment_distance([3.0, 0.0, 0.0], [2.0, 0.0, 0.0]) - 1.0).abs() < 1e-15);
    }
}
