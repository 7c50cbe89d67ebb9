//! The PTFE graph of a snapshot: fibril segments, PTFE particles and every way they touch
//! (fibril–fibril contacts, fibrils through particles, overlapping particles, wrapped patches that
//! share a grain), found on the shared cell grid.

use super::*;
use crate::geom::CellGrid;
use crate::snapshot::{FibrilState, Phase, Snapshot};
use glam::DVec3;

/// Straight-segment geometry of one fibril: end A (world), the minimum-image vector A→B, and radius
/// (of the whole bundle: a bundle of n strands of radius r is a cylinder of radius r·√n, the same
/// PTFE cross-section n π r²).
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) a: [f64; 3],
    pub(super) s: [f64; 3],
    pub(super) r: f64,
}

impl Segment {
    pub(super) fn length(&self) -> f64 {
        norm(self.s)
    }
    pub(super) fn z_range(&self) -> (f64, f64) {
        let (z0, z1) = (self.a[2], self.a[2] + self.s[2]);
        (z0.min(z1) - self.r, z0.max(z1) + self.r)
    }
}

pub(super) fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Distance from point `p` to the segment from `0` to `s` (all relative vectors), m.
pub(super) fn point_segment_distance(p: [f64; 3], s: [f64; 3]) -> f64 {
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
pub(super) struct PtfeGraph {
    /// Per fibril: `Some(segment)` if intact.
    pub(super) segments: Vec<Option<Segment>>,
    /// Per particle: whether it is a PTFE particle with radius > 0.
    pub(super) ptfe: Vec<bool>,
    /// Fibril–fibril contacts between intact fibrils.
    pub(super) fibril_fibril: Vec<(u32, u32)>,
    /// (fibril, PTFE particle) pairs: source links and segment–sphere contacts, deduplicated.
    pub(super) fibril_particle: Vec<(u32, u32)>,
    /// (p, q, centre distance) of touching PTFE particles, p < q.
    pub(super) particle_particle: Vec<(u32, u32, f64)>,
    /// Fibril pairs anchored close together on the same NPS particle.
    pub(super) anchor_pairs: Vec<(u32, u32)>,
}

impl PtfeGraph {
    /// The PTFE graph of `snap`: intact fibril segments, PTFE particles, and the links between
    /// them (fibril crossings, touching PTFE particles, fibrils touching or drawn from PTFE
    /// particles, fibrils anchored close together on one NPS grain).
    pub(super) fn build(
        snap: &Snapshot,
        params: &ContinuityParams,
    ) -> Result<Self, ContinuityError> {
        params.validate()?;
        check_particles(snap)?;
        let p = &snap.particles;
        let n = p.pos.len();
        let ptfe: Vec<bool> = (0..n)
            .map(|i| p.phase[i] == Phase::Ptfe && p.radius[i] > 0.0)
            .collect();
        let segments = fibril_segments(snap)?;
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
        let (particle_particle, fibril_particle) = ptfe_contacts(snap, &ptfe, &segments);
        let anchor_pairs = anchor_pairs(snap, params, &segments);
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

/// Checks the box (finite lx, ly > 0, z_top > z_bottom) and the particle arrays.
fn check_particles(snap: &Snapshot) -> Result<(), ContinuityError> {
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
    Ok(())
}

/// Per fibril, its segment (anchor to anchor on the fibril's periodic image; bundle radius
/// r·√count) if intact.
fn fibril_segments(snap: &Snapshot) -> Result<Vec<Option<Segment>>, ContinuityError> {
    let n = snap.particles.pos.len();
    let mut segments = Vec::with_capacity(snap.fibrils.len());
    for (k, f) in snap.fibrils.iter().enumerate() {
        for part in [f.a.particle, f.b.particle].into_iter().chain(f.source) {
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
            s: snap.fibril_chord(f),
            r: f.radius * f.count.max(1.0).sqrt(),
        }));
    }
    Ok(segments)
}

/// Two touching PTFE particles `(p, q, centre distance m)`, p < q.
type ParticlePair = (u32, u32, f64);

/// Touching PTFE particles `(p, q, centre distance m)`, p < q, and the (fibril, PTFE particle)
/// links: segment–sphere contacts found on a cell grid and each intact fibril's source lump,
/// sorted and deduplicated.
fn ptfe_contacts(
    snap: &Snapshot,
    ptfe: &[bool],
    segments: &[Option<Segment>],
) -> (Vec<ParticlePair>, Vec<(u32, u32)>) {
    let (p, b) = (&snap.particles, &snap.sim_box);
    let items: Vec<u32> = (0..p.pos.len() as u32)
        .filter(|&i| ptfe[i as usize])
        .collect();
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
        if let (Some(_), Some(s)) = (segments[f], fib.source) {
            if ptfe[s as usize] {
                fibril_particle.push((f as u32, s));
            }
        }
    }
    fibril_particle.sort_unstable();
    fibril_particle.dedup();
    (particle_particle, fibril_particle)
}

/// Pairs of intact fibrils anchored close together on one NPS grain: anchor distance within the
/// sum of their footprints (bundle radius, or the wrapped patch of its strands when larger;
/// `ContinuityParams::wrap_fraction`) plus `anchor_tolerance`; sorted and deduplicated.
fn anchor_pairs(
    snap: &Snapshot,
    params: &ContinuityParams,
    segments: &[Option<Segment>],
) -> Vec<(u32, u32)> {
    let p = &snap.particles;
    let mut by_particle: Vec<Vec<(u32, [f64; 3], f64)>> = vec![Vec::new(); p.pos.len()];
    for (f, fib) in snap.fibrils.iter().enumerate() {
        let Some(seg) = segments[f] else { continue };
        for anchor in [fib.a, fib.b] {
            let k = anchor.particle as usize;
            if p.phase[k] == Phase::Nps {
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
    anchor_pairs
}

/// The PTFE particles on the shared cell grid ([`CellGrid`]), queried by box.
pub(super) struct ItemGrid<'a> {
    pub(super) grid: CellGrid,
    pub(super) items: &'a [u32],
}

impl<'a> ItemGrid<'a> {
    /// Bins the particles `items` (ascending indices) of `snap` into cells of edge ≥ `cell` (m),
    /// at most about four cells per item.
    pub(super) fn new(snap: &Snapshot, items: &'a [u32], cell: f64) -> Self {
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
    pub(super) fn query(&self, lo: [f64; 3], hi: [f64; 3], out: &mut Vec<u32>) {
        let (lo, hi) = (DVec3::from_array(lo), DVec3::from_array(hi));
        self.grid.query(lo, hi, out);
        out.iter_mut().for_each(|k| *k = self.items[*k as usize]);
        out.sort_unstable();
        out.dedup();
    }
}

pub(super) fn invalid(msg: String) -> ContinuityError {
    ContinuityError::InvalidSnapshot(msg)
}
