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

use super::network::NetworkError;
use crate::numerics::UnionFind;
use crate::snapshot::Snapshot;
use std::f64::consts::PI;

mod electronic;
mod graph;

pub use electronic::*;
pub use graph::lens_radius;
use graph::*;

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
