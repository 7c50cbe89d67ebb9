//! Contact-network (resistor-network) conductivity of a particle packing.
//!
//! Two layers:
//!
//! 1. A general resistor-network solver ([`ResistorNetwork`], [`solve`]): nodes, edges with a
//!    conductance (S), Dirichlet nodes (electrodes at fixed potential, V) and an optional potential
//!    drop across one periodic boundary (for in-plane conductivity). Kirchhoff's current law is
//!    assembled into the reduced graph Laplacian over the free nodes and solved with
//!    Jacobi-preconditioned conjugate gradients to a stated relative residual. Clusters that are not
//!    connected to any electrode (and do not wrap around the periodic boundary when a drop is
//!    applied) are removed first with a union–find, so the system is symmetric positive definite.
//! 2. The ionic contact-network model on a [`Snapshot`] ([`ionic_conductivity`]): nodes are NPS
//!    particles, edges are NPS–NPS contacts with a Holm constriction resistance `1/(2σa')` of the
//!    PTFE-free open radius `a' = a·sqrt(1−θ)` in series with a body resistance of each particle.
//!
//! The model, its equations and sources are written up in `docs/solvers-network.md`.
//!
//! Determinism: assembly runs sequentially in edge order; the conjugate-gradient dot products are
//! summed over fixed-size chunks (`REDUCTION_CHUNK`) whose partial sums are added in chunk order,
//! so results are bitwise identical on any rayon thread count.
//!
//! Not in scope: the voxel (continuum) cross-check (`solvers::voxel`), electronic conduction
//! through reduced PTFE (`solvers::continuity`, which reuses [`solve`]).

use crate::numerics::{pcg, Jacobi, PcgStop, SpdOperator, UnionFind};
use rayon::prelude::*;

mod ionic;
mod kernels;

pub use ionic::*;
pub use kernels::*;

/// Chunk length of the ordered parallel reductions and matrix–vector products. Fixed (not derived
/// from the thread count) so that the summation order, and thus every bit of the result, is the
/// same on any number of threads.
pub(super) const REDUCTION_CHUNK: usize = 2048;

/// Errors of the network solver and of the conductivity models built on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkError {
    /// An edge or Dirichlet condition names a node index ≥ the node count.
    #[error("{what} refers to node {node}, but the network has only {n_nodes} nodes")]
    NodeOutOfRange {
        /// Which item (e.g. `edge 12`).
        what: String,
        /// The offending node index.
        node: u32,
        /// Number of nodes in the network.
        n_nodes: usize,
    },
    /// A conductance is negative, NaN or infinite.
    #[error("edge {edge} has conductance {value} S; it must be finite and ≥ 0")]
    InvalidConductance {
        /// Edge index.
        edge: usize,
        /// The offending value, S.
        value: f64,
    },
    /// A Dirichlet potential or the periodic drop is not finite, or a node is fixed twice.
    #[error("invalid boundary condition: {0}")]
    InvalidBoundary(String),
    /// The relative residual tolerance is not in (0, 1).
    #[error("solver tolerance {0} is invalid; it must be finite and in (0, 1), e.g. 1e-10")]
    InvalidTolerance(f64),
    /// Conjugate gradients did not reach the tolerance.
    #[error(
        "conjugate gradients did not converge: relative residual {residual:e} after {iterations} \
         iterations (tolerance {tol:e}); the network may be extremely ill-conditioned"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Final relative residual ‖b − Ax‖₂/‖b‖₂.
        residual: f64,
        /// Requested tolerance.
        tol: f64,
    },
    /// The snapshot cannot be turned into a network (bad index, non-finite geometry, ...).
    #[error("invalid snapshot for the network model: {0}")]
    InvalidSnapshot(String),
}

/// A resistor between two nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// First node.
    pub a: u32,
    /// Second node.
    pub b: u32,
    /// Conductance, S (≥ 0; zero-conductance edges are ignored).
    pub conductance: f64,
    /// Net number of times the edge crosses the periodic boundary of the driven direction going
    /// from `a` to `b` (+1: `b`'s image attached to `a` lies one period further in +x). The
    /// current from `a` to `b` is `G·(V_a − V_b + crossing·ΔV_period)`; zero when no drop is applied.
    pub crossing: i32,
}

/// A resistor network with electrodes and an optional periodic potential drop.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResistorNetwork {
    /// Number of nodes; nodes are `0..n_nodes`.
    pub n_nodes: usize,
    /// Resistors.
    pub edges: Vec<Edge>,
    /// Dirichlet (electrode) nodes with their fixed potential, V. Each node at most once.
    pub dirichlet: Vec<(u32, f64)>,
    /// Potential drop per period along the periodic direction, V (0 for none). Unwrapped, the
    /// potential falls by this much each time a path advances one period in the positive direction.
    pub periodic_drop: f64,
}

/// Solution of a [`ResistorNetwork`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSolution {
    /// Node potentials, V; NaN for nodes in floating clusters (removed before the solve). In a
    /// cluster driven only by the periodic drop the potential is fixed up to a constant by setting
    /// its lowest-index node to 0 V.
    pub potentials: Vec<f64>,
    /// Current through each edge from `a` to `b`, A (0 for removed edges).
    pub edge_currents: Vec<f64>,
    /// Net current leaving each Dirichlet node into the network, A, in the order of
    /// [`ResistorNetwork::dirichlet`].
    pub dirichlet_currents: Vec<f64>,
    /// Current across the periodic boundary in the positive direction, `Σ crossing·I`, A.
    pub periodic_current: f64,
    /// Conjugate-gradient iterations.
    pub iterations: usize,
    /// Final relative residual ‖b − Ax‖₂/‖b‖₂ (0 when the right-hand side vanishes).
    pub relative_residual: f64,
    /// Nodes kept in the solve (in a cluster touching an electrode or wrapping the period).
    pub n_active_nodes: usize,
    /// Whether some cluster wraps around the periodic boundary (a closed loop with net crossing
    /// ≠ 0 through edges of non-zero conductance).
    pub wraps: bool,
}

/// Ordered dot product: fixed chunks, chunk partial sums added in order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let partials: Vec<f64> = a
        .par_chunks(REDUCTION_CHUNK)
        .zip(b.par_chunks(REDUCTION_CHUNK))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
        .collect();
    partials.iter().sum()
}

/// Symmetric sparse matrix in compressed-row form (off-diagonals only) plus its diagonal.
struct Laplacian {
    diag: Vec<f64>,
    row_start: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
}

impl Laplacian {
    /// `y = A x`, rows in parallel, each row summed in stored order.
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        y.par_chunks_mut(REDUCTION_CHUNK)
            .enumerate()
            .for_each(|(c, ys)| {
                let base = c * REDUCTION_CHUNK;
                for (k, yi) in ys.iter_mut().enumerate() {
                    let i = base + k;
                    let mut s = self.diag[i] * x[i];
                    for e in self.row_start[i]..self.row_start[i + 1] {
                        s += self.vals[e] * x[self.cols[e] as usize];
                    }
                    *yi = s;
                }
            });
    }
}

impl SpdOperator for Laplacian {
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        Laplacian::apply(self, x, y);
    }
    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        dot(a, b)
    }
}

/// Jacobi-preconditioned conjugate gradients for `A x = b` (A SPD), from `x = 0`, to the relative
/// residual `tol` (the shared [`crate::numerics::pcg`]). Returns the iterations and the final
/// relative residual.
fn pcg_solve(
    a: &Laplacian,
    b: &[f64],
    x: &mut [f64],
    tol: f64,
) -> Result<(usize, f64), NetworkError> {
    x.iter_mut().for_each(|v| *v = 0.0);
    if b.is_empty() || dot(b, b).sqrt() == 0.0 {
        return Ok((0, 0.0));
    }
    let max_iter = 20 * b.len() + 1000;
    let out = pcg(a, &Jacobi::new(&a.diag), b, x, tol, max_iter);
    match out.stop {
        PcgStop::Converged => Ok((out.iterations, out.relative_residual)),
        PcgStop::Breakdown | PcgStop::MaxIterations => Err(NetworkError::NotConverged {
            iterations: out.iterations,
            residual: out.relative_residual,
            tol,
        }),
    }
}

/// Solve Kirchhoff's current law on a resistor network.
///
/// For every edge e = (a, b) with conductance G and crossing k the current from a to b is
/// `I = G (V_a − V_b + k ΔV_p)` with ΔV_p = [`ResistorNetwork::periodic_drop`]. Current
/// conservation at each free node gives the reduced Laplacian system `L V = s`, where Dirichlet
/// neighbours and the periodic drop move to the right-hand side. Clusters (connected by edges of
/// G > 0) with no Dirichlet node are removed as floating unless they wrap around the periodic
/// boundary while ΔV_p ≠ 0, in which case their lowest-index node is pinned at 0 V (the gauge).
/// The remaining system is SPD and is solved by Jacobi-preconditioned conjugate gradients to the
/// relative residual `tol`.
///
/// # Errors
/// Out-of-range node indices, invalid conductances or boundary values, an invalid `tol`, or
/// non-convergence.
pub fn solve(net: &ResistorNetwork, tol: f64) -> Result<NetworkSolution, NetworkError> {
    if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
        return Err(NetworkError::InvalidTolerance(tol));
    }
    let mut fixed = check_network(net)?;
    let (active, wraps) = active_nodes(net, &mut fixed);
    let (lap, rhs, free_index) = assemble(net, &fixed, &active);
    let mut x = vec![0.0; rhs.len()];
    let (iterations, relative_residual) = pcg_solve(&lap, &rhs, &mut x, tol)?;
    let potentials: Vec<f64> = (0..net.n_nodes)
        .map(|i| {
            if !active[i] {
                f64::NAN
            } else if let Some(v) = fixed[i] {
                v
            } else {
                x[free_index[i] as usize]
            }
        })
        .collect();
    let (edge_currents, dirichlet_currents, periodic_current) = currents(net, &potentials, &active);
    Ok(NetworkSolution {
        potentials,
        edge_currents,
        dirichlet_currents,
        periodic_current,
        iterations,
        relative_residual,
        n_active_nodes: active.iter().filter(|&&a| a).count(),
        wraps,
    })
}

/// Checks the network's nodes, conductances and boundary values; returns the fixed potential of
/// each node, V (`None` for a free node).
fn check_network(net: &ResistorNetwork) -> Result<Vec<Option<f64>>, NetworkError> {
    let n = net.n_nodes;
    if !net.periodic_drop.is_finite() {
        return Err(NetworkError::InvalidBoundary(format!(
            "periodic drop {} V is not finite",
            net.periodic_drop
        )));
    }
    for (i, e) in net.edges.iter().enumerate() {
        for node in [e.a, e.b] {
            if node as usize >= n {
                return Err(NetworkError::NodeOutOfRange {
                    what: format!("edge {i}"),
                    node,
                    n_nodes: n,
                });
            }
        }
        if !(e.conductance.is_finite() && e.conductance >= 0.0) {
            return Err(NetworkError::InvalidConductance {
                edge: i,
                value: e.conductance,
            });
        }
    }
    let mut fixed: Vec<Option<f64>> = vec![None; n];
    for (k, &(node, v)) in net.dirichlet.iter().enumerate() {
        if node as usize >= n {
            return Err(NetworkError::NodeOutOfRange {
                what: format!("Dirichlet condition {k}"),
                node,
                n_nodes: n,
            });
        }
        if !v.is_finite() {
            return Err(NetworkError::InvalidBoundary(format!(
                "node {node} has potential {v} V"
            )));
        }
        if fixed[node as usize].replace(v).is_some() {
            return Err(NetworkError::InvalidBoundary(format!(
                "node {node} is fixed twice"
            )));
        }
    }
    Ok(fixed)
}

/// The nodes that take part in the solve (their cluster holds a Dirichlet node, or wraps the
/// periodic boundary while a drop is applied) and whether any cluster wraps. Pins the gauge: the
/// lowest-index node of each driven wrapping cluster without an electrode is fixed at 0 V.
fn active_nodes(net: &ResistorNetwork, fixed: &mut [Option<f64>]) -> (Vec<bool>, bool) {
    let n = net.n_nodes;
    let driven_periodic = net.periodic_drop != 0.0;
    let mut uf = UnionFind::new(n);
    for e in &net.edges {
        if e.conductance > 0.0 {
            uf.union_shifted(e.a, e.b, i64::from(e.crossing));
        }
    }
    let roots: Vec<u32> = (0..n as u32).map(|i| uf.find(i)).collect();
    let root_wraps: Vec<bool> = (0..n as u32)
        .map(|i| roots[i as usize] == i && uf.wraps(i))
        .collect();
    let mut root_has_dirichlet = vec![false; n];
    for &(node, _) in &net.dirichlet {
        root_has_dirichlet[roots[node as usize] as usize] = true;
    }
    let wraps = root_wraps.iter().any(|&w| w);
    let mut gauge_done = vec![false; n];
    for i in 0..n {
        let r = roots[i] as usize;
        if driven_periodic && root_wraps[r] && !root_has_dirichlet[r] && !gauge_done[r] {
            gauge_done[r] = true;
            fixed[i] = Some(0.0);
        }
    }
    let active = (0..n)
        .map(|i| {
            let r = roots[i] as usize;
            root_has_dirichlet[r] || (driven_periodic && root_wraps[r])
        })
        .collect();
    (active, wraps)
}

/// The reduced Laplacian over the free active nodes (assembled sequentially in edge order), the
/// right-hand side (fixed neighbours and periodic jumps), A, and each node's free index
/// (`u32::MAX` when fixed or inactive).
fn assemble(
    net: &ResistorNetwork,
    fixed: &[Option<f64>],
    active: &[bool],
) -> (Laplacian, Vec<f64>, Vec<u32>) {
    let n = net.n_nodes;
    let mut free_index = vec![u32::MAX; n];
    let mut n_free = 0usize;
    for i in 0..n {
        if active[i] && fixed[i].is_none() {
            free_index[i] = n_free as u32;
            n_free += 1;
        }
    }
    let mut diag = vec![0.0; n_free];
    let mut rhs = vec![0.0; n_free];
    let mut counts = vec![0usize; n_free + 1];
    for e in &net.edges {
        if e.conductance > 0.0 && e.a != e.b {
            let (fa, fb) = (free_index[e.a as usize], free_index[e.b as usize]);
            if fa != u32::MAX && fb != u32::MAX {
                counts[fa as usize + 1] += 1;
                counts[fb as usize + 1] += 1;
            }
        }
    }
    for i in 0..n_free {
        counts[i + 1] += counts[i];
    }
    let row_start = counts;
    let mut fill = row_start.clone();
    let nnz = row_start[n_free];
    let mut cols = vec![0u32; nnz];
    let mut vals = vec![0.0; nnz];
    for e in &net.edges {
        let g = e.conductance;
        if g.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || e.a == e.b {
            continue;
        }
        let jump = g * f64::from(e.crossing) * net.periodic_drop;
        // Each free end gets the edge's row entries; `x − j` is written `x + (−j)` (the same bits).
        let ends = [
            (free_index[e.a as usize], e.b as usize, -jump),
            (free_index[e.b as usize], e.a as usize, jump),
        ];
        for (me, other, j) in ends {
            if me == u32::MAX {
                continue;
            }
            let m = me as usize;
            diag[m] += g;
            rhs[m] += j;
            match fixed[other] {
                Some(v) => rhs[m] += g * v,
                None if free_index[other] != u32::MAX => {
                    let k = fill[m];
                    cols[k] = free_index[other];
                    vals[k] = -g;
                    fill[m] += 1;
                }
                None => {}
            }
        }
    }
    let lap = Laplacian {
        diag,
        row_start,
        cols,
        vals,
    };
    (lap, rhs, free_index)
}

/// Edge currents (from `a` to `b`, A), the current into each Dirichlet node (A), and the net
/// current across the periodic boundary (A), from the node potentials.
fn currents(
    net: &ResistorNetwork,
    potentials: &[f64],
    active: &[bool],
) -> (Vec<f64>, Vec<f64>, f64) {
    let edge_currents: Vec<f64> = net
        .edges
        .iter()
        .map(|e| {
            let (va, vb) = (potentials[e.a as usize], potentials[e.b as usize]);
            if e.conductance > 0.0 && active[e.a as usize] {
                e.conductance * (va - vb + f64::from(e.crossing) * net.periodic_drop)
            } else {
                0.0
            }
        })
        .collect();
    let mut dirichlet_slot = vec![usize::MAX; net.n_nodes];
    for (k, &(node, _)) in net.dirichlet.iter().enumerate() {
        dirichlet_slot[node as usize] = k;
    }
    let mut dirichlet_currents = vec![0.0; net.dirichlet.len()];
    let mut periodic_current = 0.0;
    for (e, &i) in net.edges.iter().zip(&edge_currents) {
        if dirichlet_slot[e.a as usize] != usize::MAX {
            dirichlet_currents[dirichlet_slot[e.a as usize]] += i;
        }
        if dirichlet_slot[e.b as usize] != usize::MAX {
            dirichlet_currents[dirichlet_slot[e.b as usize]] -= i;
        }
        periodic_current += f64::from(e.crossing) * i;
    }
    (edge_currents, dirichlet_currents, periodic_current)
}

// ---------------------------------------------------------------------------------------------
// Contact kernels (pure functions).
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// A network of `n_nodes` without Dirichlet nodes under the periodic potential drop `drop` (V).
    fn periodic(n_nodes: usize, edges: Vec<Edge>, drop: f64) -> ResistorNetwork {
        ResistorNetwork {
            n_nodes,
            edges,
            dirichlet: vec![],
            periodic_drop: drop,
        }
    }

    fn edge(a: u32, b: u32, conductance: f64, crossing: i32) -> Edge {
        Edge {
            a,
            b,
            conductance,
            crossing,
        }
    }

    fn chain(n: usize, g: f64) -> ResistorNetwork {
        let edges = (0..n - 1)
            .map(|i| edge(i as u32, i as u32 + 1, g, 0))
            .collect();
        ResistorNetwork {
            n_nodes: n,
            edges,
            dirichlet: vec![(0, 0.0), (n as u32 - 1, 1.0)],
            periodic_drop: 0.0,
        }
    }

    #[test]
    fn series_chain_is_linear() {
        let sol = solve(&chain(6, 2.0), 1e-12).expect("solve");
        for (i, v) in sol.potentials.iter().enumerate() {
            assert!((v - i as f64 / 5.0).abs() < 1e-10, "node {i}: {v}");
        }
        // Five resistors of 0.5 Ω in series: I = 1 V / 2.5 Ω.
        assert!((sol.dirichlet_currents[1] - 0.4).abs() < 1e-10);
        assert!((sol.dirichlet_currents[0] + 0.4).abs() < 1e-10);
    }

    #[test]
    fn floating_cluster_is_removed() {
        let mut net = chain(4, 1.0);
        net.n_nodes = 6;
        net.edges.push(edge(4, 5, 1.0, 0));
        let sol = solve(&net, 1e-12).expect("solve");
        assert!(sol.potentials[4].is_nan() && sol.potentials[5].is_nan());
        assert_eq!(sol.n_active_nodes, 4);
    }

    #[test]
    fn periodic_ring_carries_drop() {
        // A ring of 4 unit resistors wrapping once: I = ΔV / 4 Ω.
        let mut edges: Vec<Edge> = (0..3).map(|i| edge(i, i + 1, 1.0, 0)).collect();
        edges.push(edge(3, 0, 1.0, 1));
        let net = periodic(4, edges, 2.0);
        let sol = solve(&net, 1e-12).expect("solve");
        assert!(sol.wraps);
        assert!(
            (sol.periodic_current - 0.5).abs() < 1e-10,
            "{}",
            sol.periodic_current
        );
        for i in &sol.edge_currents {
            assert!((i - 0.5).abs() < 1e-10);
        }
    }

    #[test]
    fn non_wrapping_cluster_floats_under_periodic_drop() {
        let edges = vec![edge(0, 1, 1.0, 1), edge(1, 2, 1.0, -1)];
        let net = periodic(3, edges, 1.0);
        let sol = solve(&net, 1e-12).expect("solve");
        assert!(!sol.wraps);
        assert_eq!(sol.periodic_current, 0.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut net = chain(3, 1.0);
        net.edges[0].conductance = f64::NAN;
        assert!(matches!(
            solve(&net, 1e-10),
            Err(NetworkError::InvalidConductance { .. })
        ));
        let mut net = chain(3, 1.0);
        net.edges[1].b = 7;
        assert!(matches!(
            solve(&net, 1e-10),
            Err(NetworkError::NodeOutOfRange { .. })
        ));
        assert!(matches!(
            solve(&chain(3, 1.0), 0.0),
            Err(NetworkError::InvalidTolerance(_))
        ));
    }

    #[test]
    fn holm_kernels() {
        assert!((constriction_resistance(2.0, 0.5, 0.5) - 0.5).abs() < 1e-15);
        assert!((spreading_resistance(2.0, 0.5) - 0.25).abs() < 1e-15);
        assert!((open_radius(1.0, 0.75) - 0.5).abs() < 1e-15);
        assert!(constriction_resistance(0.0, 1.0, 1.0).is_infinite());
    }
}
