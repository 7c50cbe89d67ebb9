//! Electronic conductivity of a film after the anode-connected PTFE is reduced to carbon, and the
//! short-circuit flag.

use super::*;
use crate::numerics::UnionFind;
use crate::snapshot::{Phase, Snapshot, Wall};
use crate::solvers::network::{
    body_resistance, constriction_resistance, solve, spreading_resistance, BodyResistance, Edge,
    ResistorNetwork,
};
use std::f64::consts::PI;

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
    let (fib_red, part_red) = reduced_elements(&g, result)?;
    let (n, nf) = (g.ptfe.len(), g.segments.len());
    let bottom = (n + nf) as u32;
    let mut b = Builder {
        snap,
        g: &g,
        s_n,
        s_c,
        fib_red,
        part_red,
        electrodes: [bottom, bottom + 1],
        net: ResistorNetwork {
            n_nodes: n + nf + 2,
            dirichlet: vec![(bottom, 0.0), (bottom + 1, 1.0)],
            ..Default::default()
        },
    };
    b.contacts()?;
    b.fibrils();
    b.faces(params.face_tolerance);
    let net = b.net;
    let sol = solve(&net, tol)?;
    let mut uf = UnionFind::new(net.n_nodes);
    for e in net.edges.iter().filter(|e| e.conductance > 0.0) {
        uf.union(e.a, e.b);
    }
    let connected = uf.find(bottom) == uf.find(bottom + 1);
    let current = if connected {
        sol.dirichlet_currents[1]
    } else {
        0.0
    };
    let bx = &snap.sim_box;
    let sigma = current * (bx.z_top - bx.z_bottom) / (bx.lx * bx.ly);
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

/// Which fibrils and which PTFE particles are reduced (in a cluster that touches the anode),
/// checked against the graph of the snapshot `result` came from.
fn reduced_elements(
    g: &PtfeGraph,
    result: &ContinuityResult,
) -> Result<(Vec<bool>, Vec<bool>), ContinuityError> {
    let (nf, n) = (g.segments.len(), g.ptfe.len());
    let (got_f, got_p) = (
        result.fibril_cluster.len(),
        result.ptfe_particle_cluster.len(),
    );
    if got_f != nf || got_p != n {
        let msg = format!("result has {got_f} fibrils / {got_p} particles, snapshot {nf} / {n}");
        return Err(ContinuityError::Mismatch(msg));
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
    Ok((fib_red, part_red))
}

/// The electronic network under construction: particles are nodes `0..n`, reduced fibrils nodes
/// `n + f` (at their midpoints), then the two electrodes.
struct Builder<'a> {
    snap: &'a Snapshot,
    g: &'a PtfeGraph,
    /// σ of NPS and of reduced PTFE (carbon), S/m.
    s_n: f64,
    s_c: f64,
    fib_red: Vec<bool>,
    part_red: Vec<bool>,
    /// Bottom (0 V) and top (1 V) electrode nodes.
    electrodes: [u32; 2],
    net: ResistorNetwork,
}

impl Builder<'_> {
    /// Adds a resistor of `r` Ω between nodes `a` and `b` (conductance 0 if `r` is not finite
    /// and positive).
    fn push(&mut self, a: u32, b: u32, r: f64) {
        let g = if r.is_finite() && r > 0.0 {
            1.0 / r
        } else {
            0.0
        };
        self.net.edges.push(Edge {
            a,
            b,
            conductance: g,
            crossing: 0,
        });
    }

    fn is_nps(&self, i: u32) -> bool {
        self.snap.particles.phase[i as usize] == Phase::Nps
    }

    /// Body term of particle `i` with conductivity `sigma`, Ω.
    fn body(&self, i: u32, sigma: f64) -> f64 {
        body_resistance(
            BodyResistance::HalfCylinder,
            self.snap.particles.radius[i as usize],
            sigma,
        )
    }

    /// Wire resistance of a fraction `frac` of fibril `f`'s length, Ω.
    fn wire(&self, f: usize, frac: f64) -> f64 {
        let seg = self.g.segments[f]
            .as_ref()
            .map_or((0.0, 1.0), |s| (s.length(), s.r));
        frac * seg.0.max(seg.1) / (self.s_c * PI * seg.1 * seg.1)
    }

    /// Radius of fibril `f`'s bundle, m.
    fn rf(&self, f: usize) -> f64 {
        self.g.segments[f].as_ref().map_or(0.0, |s| s.r)
    }

    fn fnode(&self, f: usize) -> u32 {
        (self.g.ptfe.len() + f) as u32
    }

    /// Particle contacts (NPS–NPS, NPS–reduced PTFE), wall contacts of NPS particles, and
    /// touching reduced PTFE particles.
    fn contacts(&mut self) -> Result<(), ContinuityError> {
        let (snap, s_n, s_c) = (self.snap, self.s_n, self.s_c);
        let n = self.g.ptfe.len();
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
            let (ni, nj) = (self.is_nps(i), self.is_nps(j));
            if ni && nj {
                let r = self.body(i, s_n) + constriction_resistance(c.radius, s_n, s_n);
                self.push(i, j, r + self.body(j, s_n));
            } else if ni && self.part_red[j as usize] || nj && self.part_red[i as usize] {
                let (nps, c_p) = if ni { (i, j) } else { (j, i) };
                let r = self.body(nps, s_n) + constriction_resistance(c.radius, s_n, s_c);
                self.push(nps, c_p, r + self.body(c_p, s_c));
            }
        }
        for (k, w) in snap.wall_contacts.iter().enumerate() {
            if w.i as usize >= n || !w.radius.is_finite() {
                return Err(invalid(format!(
                    "wall contact {k}: bad particle index or radius"
                )));
            }
            if self.is_nps(w.i) {
                let [bottom, top] = self.electrodes;
                let e = if w.wall == Wall::Bottom { bottom } else { top };
                let r = spreading_resistance(w.radius, s_n) + self.body(w.i, s_n);
                self.push(w.i, e, r);
            }
        }
        let p = &snap.particles;
        for &(i, j, d) in &self.g.particle_particle {
            if self.part_red[i as usize] && self.part_red[j as usize] {
                let a = lens_radius(p.radius[i as usize], p.radius[j as usize], d);
                let r = self.body(i, s_c) + constriction_resistance(a, s_c, s_c);
                self.push(i, j, r + self.body(j, s_c));
            }
        }
        Ok(())
    }

    /// Reduced fibrils: to their anchor particles, to each other (crossings, shared anchor
    /// sites) and to reduced PTFE particles they touch.
    fn fibrils(&mut self) {
        let (g, s_n, s_c) = (self.g, self.s_n, self.s_c);
        for (f, fib) in self.snap.fibrils.iter().enumerate() {
            if !self.fib_red[f] {
                continue;
            }
            for anchor in [fib.a, fib.b] {
                let q = anchor.particle;
                let sigma_q = if self.is_nps(q) {
                    s_n
                } else if self.part_red[q as usize] {
                    s_c
                } else {
                    continue;
                };
                let r = self.wire(f, 0.5) + constriction_resistance(self.rf(f), s_c, sigma_q);
                self.push(self.fnode(f), q, r + self.body(q, sigma_q));
            }
        }
        for (pairs, frac) in [(&g.fibril_fibril, 0.25), (&g.anchor_pairs, 0.5)] {
            for &(f, h) in pairs {
                let (f, h) = (f as usize, h as usize);
                if self.fib_red[f] && self.fib_red[h] {
                    let junction = constriction_resistance(self.rf(f).min(self.rf(h)), s_c, s_c);
                    let r = self.wire(f, frac) + junction + self.wire(h, frac);
                    self.push(self.fnode(f), self.fnode(h), r);
                }
            }
        }
        let radius = &self.snap.particles.radius;
        for &(f, q) in &g.fibril_particle {
            let fu = f as usize;
            if self.fib_red[fu] && self.part_red[q as usize] {
                let junction =
                    constriction_resistance(self.rf(fu).min(radius[q as usize]), s_c, s_c);
                let r = self.wire(fu, 0.25) + junction + self.body(q, s_c);
                self.push(self.fnode(fu), q, r);
            }
        }
    }

    /// Reduced fibrils and particles within `tol_f` (m) of a face connect to its electrode.
    fn faces(&mut self, tol_f: f64) {
        let (zb, zt) = (self.snap.sim_box.z_bottom, self.snap.sim_box.z_top);
        let [bottom, top] = self.electrodes;
        let s_c = self.s_c;
        for (f, seg) in self.g.segments.iter().enumerate() {
            if let (true, Some(seg)) = (self.fib_red[f], seg.as_ref()) {
                let (zlo, zhi) = seg.z_range();
                let r = self.wire(f, 0.5) + spreading_resistance(seg.r, s_c);
                if zlo <= zb + tol_f {
                    self.push(self.fnode(f), bottom, r);
                }
                if zhi >= zt - tol_f {
                    self.push(self.fnode(f), top, r);
                }
            }
        }
        let p = &self.snap.particles;
        for i in 0..self.part_red.len() {
            if !self.part_red[i] {
                continue;
            }
            let (z, r) = (p.pos[i][2], p.radius[i]);
            let res = self.body(i as u32, s_c) + spreading_resistance(r, s_c);
            if z - r <= zb + tol_f {
                self.push(i as u32, bottom, res);
            }
            if z + r >= zt - tol_f {
                self.push(i as u32, top, res);
            }
        }
    }
}
