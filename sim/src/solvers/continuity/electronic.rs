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
    let nf = g.segments.len();
    let n = g.ptfe.len();
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
