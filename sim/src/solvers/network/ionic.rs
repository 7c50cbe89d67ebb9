//! The ionic contact-network model on a snapshot: NPS grains as nodes, NPS–NPS contacts as
//! constriction and body resistances in series, electrodes on the faces or a periodic drop.

use super::*;
use crate::numerics::UnionFind;
use crate::snapshot::{Phase, Snapshot, Wall};

/// Direction of the applied potential drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    /// Through the thickness (ND), between the bottom wall (0 V) and the top wall (1 V).
    Z,
    /// In plane along the machine direction (MD), unit drop across the periodic length lx.
    X,
    /// In plane along the transverse direction (TD), unit drop across the periodic length ly.
    Y,
}

/// Effective conductivity of a snapshot's contact network.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NetworkConductivity {
    /// Effective conductivity σ_eff, S/m (0 when the network does not percolate).
    pub sigma_s_m: f64,
    /// The same in S/cm (σ_eff/100).
    pub sigma_s_cm: f64,
    /// Total current under the unit potential drop, A (0 when not percolating).
    pub current: f64,
    /// Potential of each particle, V; NaN for non-NPS and floating particles.
    pub potentials: Vec<f64>,
    /// Number of particle nodes (NPS particles) in the network (electrodes not counted).
    pub n_nodes: usize,
    /// Number of edges with non-zero conductance (contacts plus electrode contacts).
    pub n_edges: usize,
    /// Conjugate-gradient iterations.
    pub iterations: usize,
    /// Whether a conducting path connects the two electrodes (Z) or wraps the period (X, Y).
    pub percolates: bool,
}

/// Geometric quantities of the driven direction: (length along the drop, cross-section area), m, m².
pub(super) fn drive_geometry(snap: &Snapshot, dir: Direction) -> Result<(f64, f64), NetworkError> {
    let b = &snap.sim_box;
    let h = b.z_top - b.z_bottom;
    if !(b.lx.is_finite()
        && b.lx > 0.0
        && b.ly.is_finite()
        && b.ly > 0.0
        && h.is_finite()
        && h > 0.0)
    {
        return Err(NetworkError::InvalidSnapshot(format!(
            "box lx={} m, ly={} m, thickness z_top−z_bottom={} m must all be finite and > 0",
            b.lx, b.ly, h
        )));
    }
    Ok(match dir {
        Direction::Z => (h, b.lx * b.ly),
        Direction::X => (b.lx, b.ly * h),
        Direction::Y => (b.ly, b.lx * h),
    })
}

/// Number of periodic crossings from particle `i` to the image of particle `j` nearest to it
/// along the driven in-plane direction (0 for Z).
pub(crate) fn crossing(snap: &Snapshot, dir: Direction, pi: [f64; 3], pj: [f64; 3]) -> i32 {
    let (axis, l) = match dir {
        Direction::Z => return 0,
        Direction::X => (0, snap.sim_box.lx),
        Direction::Y => (1, snap.sim_box.ly),
    };
    let d = snap.sim_box.delta(pj, pi);
    // Image of j nearest to i lies at pi + d; it is (pi + d − pj)/L periods from j's stored copy.
    ((pi[axis] + d[axis] - pj[axis]) / l).round() as i32
}

/// Validate the particle arrays used by the network models.
pub(crate) fn check_particles(snap: &Snapshot) -> Result<(), NetworkError> {
    let p = &snap.particles;
    let n = p.pos.len();
    if p.radius.len() != n || p.phase.len() != n {
        return Err(NetworkError::InvalidSnapshot(format!(
            "particle arrays differ in length: pos {}, radius {}, phase {}",
            n,
            p.radius.len(),
            p.phase.len()
        )));
    }
    for i in 0..n {
        if !(p.radius[i].is_finite() && p.radius[i] >= 0.0)
            || p.pos[i].iter().any(|c| !c.is_finite())
        {
            return Err(NetworkError::InvalidSnapshot(format!(
                "particle {i}: non-finite position or invalid radius {} m",
                p.radius[i]
            )));
        }
    }
    Ok(())
}

/// Contact-network ionic conductivity of a snapshot along `dir` with the default
/// [`BodyResistance::HalfCylinder`] body term.
///
/// See [`ionic_conductivity_with`].
///
/// # Errors
/// As [`ionic_conductivity_with`].
pub fn ionic_conductivity(
    snap: &Snapshot,
    dir: Direction,
    tol: f64,
) -> Result<NetworkConductivity, NetworkError> {
    ionic_conductivity_with(snap, dir, tol, BodyResistance::HalfCylinder)
}

/// Contact-network ionic conductivity of a snapshot along `dir`, S/m.
///
/// Nodes are NPS particles. An NPS–NPS contact of radius a and PTFE coverage θ is a resistor
/// `R = R_b(r_i) + 1/(2σ a') + R_b(r_j)` with `a' = a sqrt(1−θ)` ([`open_radius`],
/// [`constriction_resistance`], [`body_resistance`]); σ = `materials.nps_sigma_ion`. Contacts
/// involving PTFE particles carry no ions.
///
/// - [`Direction::Z`]: NPS particles in wall contact with the bottom wall connect to an electrode
///   at 0 V, with the top wall to one at 1 V, each through `1/(4σa) + R_b(r)`. With
///   H = z_top − z_bottom and A = lx·ly: σ_eff = I·H/(A·ΔV).
/// - [`Direction::X`] / [`Direction::Y`]: a unit potential drop across the periodic length L
///   (contacts crossing the periodic boundary carry the jump); σ_eff = I·L/(A_cross·ΔV) with
///   A_cross = ly·H (X) or lx·H (Y). Walls are not used.
///
/// If no path connects the electrodes (or wraps the period), `percolates = false` and σ = 0.
///
/// # Errors
/// [`NetworkError::InvalidSnapshot`] for bad indices, geometry or material values;
/// solver errors from [`solve`].
pub fn ionic_conductivity_with(
    snap: &Snapshot,
    dir: Direction,
    tol: f64,
    body: BodyResistance,
) -> Result<NetworkConductivity, NetworkError> {
    let sigma = snap.materials.nps_sigma_ion;
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(NetworkError::InvalidSnapshot(format!(
            "nps_sigma_ion = {sigma} S/m must be finite and > 0"
        )));
    }
    let (length, area) = drive_geometry(snap, dir)?;
    check_particles(snap)?;
    let p = &snap.particles;
    let n = p.pos.len();
    let is_nps = |i: u32| p.phase.get(i as usize) == Some(&Phase::Nps);
    let bottom = n as u32;
    let top = n as u32 + 1;
    let mut net = ResistorNetwork {
        n_nodes: n + 2,
        ..Default::default()
    };
    let rb = |i: usize| body_resistance(body, p.radius[i], sigma);

    for (k, c) in snap.contacts.iter().enumerate() {
        if c.i as usize >= n || c.j as usize >= n {
            return Err(NetworkError::InvalidSnapshot(format!(
                "contact {k} refers to particle {} or {} (only {n} particles)",
                c.i, c.j
            )));
        }
        if !(c.radius.is_finite() && c.ptfe_coverage.is_finite()) {
            return Err(NetworkError::InvalidSnapshot(format!(
                "contact {k}: non-finite radius {} m or coverage {}",
                c.radius, c.ptfe_coverage
            )));
        }
        if !(is_nps(c.i) && is_nps(c.j)) || c.i == c.j {
            continue;
        }
        let r = rb(c.i as usize)
            + constriction_resistance(open_radius(c.radius, c.ptfe_coverage), sigma, sigma)
            + rb(c.j as usize);
        let g = if r.is_finite() && r > 0.0 {
            1.0 / r
        } else {
            0.0
        };
        let k_cross = crossing(snap, dir, p.pos[c.i as usize], p.pos[c.j as usize]);
        net.edges.push(Edge {
            a: c.i,
            b: c.j,
            conductance: g,
            crossing: k_cross,
        });
    }
    if dir == Direction::Z {
        for (k, w) in snap.wall_contacts.iter().enumerate() {
            if w.i as usize >= n || !w.radius.is_finite() {
                return Err(NetworkError::InvalidSnapshot(format!(
                    "wall contact {k}: particle {} (of {n}) or radius {} m invalid",
                    w.i, w.radius
                )));
            }
            if !is_nps(w.i) {
                continue;
            }
            let r = spreading_resistance(w.radius, sigma) + rb(w.i as usize);
            let g = if r.is_finite() && r > 0.0 {
                1.0 / r
            } else {
                0.0
            };
            let electrode = match w.wall {
                Wall::Bottom => bottom,
                Wall::Top => top,
            };
            net.edges.push(Edge {
                a: w.i,
                b: electrode,
                conductance: g,
                crossing: 0,
            });
        }
        net.dirichlet = vec![(bottom, 0.0), (top, 1.0)];
    } else {
        net.periodic_drop = 1.0;
    }
    let sol = solve(&net, tol)?;
    let percolates = match dir {
        Direction::Z => {
            let mut uf = UnionFind::new(n + 2);
            for e in net.edges.iter().filter(|e| e.conductance > 0.0) {
                uf.union(e.a, e.b);
            }
            uf.find(bottom) == uf.find(top)
        }
        _ => sol.wraps,
    };
    let current = if !percolates {
        0.0
    } else if dir == Direction::Z {
        sol.dirichlet_currents[1]
    } else {
        sol.periodic_current
    };
    let sigma_eff = current * length / area; // ΔV = 1 V
    let potentials = (0..n)
        .map(|i| {
            if is_nps(i as u32) {
                sol.potentials[i]
            } else {
                f64::NAN
            }
        })
        .collect();
    Ok(NetworkConductivity {
        sigma_s_m: sigma_eff,
        sigma_s_cm: sigma_eff / 100.0,
        current,
        potentials,
        n_nodes: (0..n as u32).filter(|&i| is_nps(i)).count(),
        n_edges: net.edges.iter().filter(|e| e.conductance > 0.0).count(),
        iterations: sol.iterations,
        percolates,
    })
}
