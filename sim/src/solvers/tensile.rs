//! Virtual uniaxial tensile test of a film snapshot (quasi-static, no ECS, no re-simulation).
//!
//! # What is simulated
//!
//! The film of a [`Snapshot`] (periodic in x = MD and y = TD, free top and bottom surfaces: the
//! walls are removed) is stretched along [`Axis::X`] or [`Axis::Y`] by affinely scaling the periodic
//! length and every particle coordinate along that axis. After each strain increment the particles
//! are relaxed to mechanical equilibrium, overloaded bonds are broken irreversibly, and the
//! engineering stress is recorded. The other periodic length is held fixed (a constrained-width
//! test; the film may thin freely in z).
//!
//! # Interactions (the snapshot's contacts and fibrils, plus latent contacts)
//!
//! **NPS contacts** (every [`crate::snapshot::Contact`], whatever the phases) are cohesive bonds
//! whose rest vector `b₀` is the pair vector at zero strain: the test starts stress-free in the
//! contacts (residual calendering forces are not carried over). With `d = |b|`, `n = b/d`:
//! - normal force (tension positive) `F_n = k_n (d − d₀)` with the contact normal stiffness
//!   `k_n = 2 E* a` (the Hertz tangent stiffness `dF/dδ` of a contact of radius `a`; Johnson,
//!   *Contact Mechanics*, 1985, §4.2), `1/E* = (1 − ν_i²)/E_i + (1 − ν_j²)/E_j`;
//! - tangential force `F_t = k_t Δ_t`, `Δ_t` the part of `b − b₀` normal to `n`, with
//!   `k_t = κ k_n` (Mindlin: `κ = 2(1 − ν)/(2 − ν)`). Particle rotations are neglected in the test,
//!   so the tangential spring resists relative translation of the two centres;
//! - strength: tension up to the DMT pull-off force `F_c = 2π w R*` (Derjaguin, Muller, Toporov
//!   1975; `w` = work of adhesion, `R* = R_i R_j/(R_i + R_j)`) plus an optional neck term
//!   `σ_neck π a²` for cold-welded calender necks (default 0: the neck strength of NPS is not
//!   measured; it is a calibration knob), plus the **PTFE bridge** `σ_bridge θ π a²`: the PTFE
//!   covering the fraction θ of the contact (`Contact::ptfe_coverage`, the same θ that blocks
//!   ion transfer) is a solid bridge that must be torn at its tensile strength
//!   (`SnapshotMaterials::ptfe_bridge_strength`; binder bridges as in Sangrós Giménez et al.).
//!   Shear strength `F_s = F_c + μ max(−F_n, 0)` (cohesion plus
//!   Coulomb friction). The bond breaks when `(max(F_n,0)/F_c)² + (|F_t|/F_s)² ≥ 1`;
//! - a broken contact only repels (`F_n = k_n min(d − d₀, 0)`, no tangential force).
//!
//! **Fibrils** (intact ones) follow the bond law of [`crate::dem::fibril_law`]; their anchors
//! translate with their particles (body-frame offsets rotated once by the snapshot orientation,
//! then held: rotation neglected, like the contacts). The force acts along the anchor-to-anchor
//! vector and is applied at the particle centres (anchor torques neglected). A fibril breaks or
//! detaches when [`crate::dem::fibril_law::fibril_load`] reports it. With
//! [`TensileParams::relax_fibril_prestress`] (default) a taut fibril starts stress-free at its
//! current length, its volume kept: the prestress calendering leaves relaxes by PTFE creep before
//! a film is tested.
//!
//! **Latent contacts**: pairs not in contact whose surface gap is below
//! [`TensileParams::latent_contact_gap`] × the smaller radius start as broken (repulsive-only)
//! contacts with `d₀ = R_i + R_j` and `k_n = 2 E* (0.1 R*)` × the stiffness scale, so the thinning
//! film cannot pass particles through each other. Other pairs do not interact.
//!
//! # Relaxation
//!
//! FIRE 2.0 (Bitzek et al., PRL 97, 170201, 2006; Guénolé et al., Comput. Mater. Sci. 175, 109584,
//! 2020) with semi-implicit Euler steps and a Jacobi-preconditioned (fictitious) mass
//! `m_i = Σ_bonds k` per particle, in dimensionless time, so that the stiffest contact and the
//! softest fibril relax at comparable rates. Converged when `max_i |F_i| ≤ tol · F_ref` with
//! `F_ref` the smaller of the mean contact strength and the mean fibril yield force, or after
//! [`TensileParams::max_iterations`] (counted in [`TensileResult::unconverged_relaxations`]).
//!
//! # Strain stepping and breakage
//!
//! Steps start at [`TensileParams::strain_step`]. If a trial step overloads a bond by more than
//! [`TensileParams::overshoot_tolerance`], the step is rejected and retried at the strain where the
//! first bond is estimated to reach its strength (linear interpolation of each bond's load ratio
//! between the last accepted and the trial state), down to [`TensileParams::min_strain_step`]. An
//! accepted step then breaks every bond with load ratio ≥ 1, relaxes, and repeats (an avalanche)
//! until no bond is overloaded; the stress before and after the avalanche are both recorded (same
//! strain). Contact failure strains are ~1e-5, fibril drawing strains ~0.1–1: this is what lets one
//! test resolve both.
//!
//! # Stress
//!
//! Virial stress `σ_dd = (1/V) Σ_bonds F_d b_d` (`F` the force on the bond's first particle, `b`
//! the centre-to-centre vector from the first to the second particle, periodic image included:
//! the Love–Weber average over particles and fibrils as bodies in equilibrium, in which a fibril's
//! anchor offsets cancel against the particles' own stress; using the anchor-to-anchor vector would
//! miss the load carried through the particles), `V = l_d(ε) · l_⊥ · H` with `H` the
//! film thickness at zero strain (highest particle top minus lowest particle bottom): with the
//! current stretched length this equals the force per initial cross-section (engineering stress).
//! The stress of the relaxed zero-strain state (prestress of fibrils) is subtracted if
//! [`TensileParams::subtract_residual`] (a free-standing film would have relaxed it).
//!
//! The test stops (`failed = true`) when, after the peak, the stress has stayed below
//! [`TensileParams::stop_fraction`] of the peak over a strain window
//! [`TensileParams::stop_strain_window`] (so that the fibril network can take over from broken
//! contacts), or when no intact bond is left; otherwise at [`TensileParams::max_strain`].
//!
//! Determinism: bond forces are computed per bond, then each particle sums its own bonds in a fixed
//! order; global sums use fixed-size chunks summed in order, so results are bitwise identical on
//! any rayon thread count.

use crate::dem::fibril_law::{
    failure_ratios, fibril_load, FibrilEvent, FibrilLawParams, FibrilLawState,
};
use crate::snapshot::{quat_rotate, FibrilState, Phase, Snapshot};
use rayon::prelude::*;
use std::f64::consts::PI;

/// Direction of the tensile test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Machine direction (x), the calendering direction.
    X,
    /// Transverse direction (y).
    Y,
}

impl Axis {
    fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
        }
    }
}

/// Numerical and model parameters of the tensile test. Material data come from
/// [`Snapshot::materials`]; these are the test's own settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensileParams {
    /// Largest strain increment per step, dimensionless. Range (0, 0.05]. Default 0.002 (the
    /// scenario's `tensile_strain_step`). Smaller steps follow plastic drawing more closely.
    pub strain_step: f64,
    /// Smallest strain increment the adaptive stepping may use, dimensionless. Range
    /// (0, strain_step]. Default 1e-8.
    pub min_strain_step: f64,
    /// Allowed load-ratio overshoot of the first bond to fail in a step (0.02 = a bond may carry up
    /// to 2 % more than its strength before it is broken). Range (0, 1]. Default 0.02. Raising it
    /// takes fewer steps and overestimates the peak by up to this fraction.
    pub overshoot_tolerance: f64,
    /// Largest nominal strain, dimensionless. Range (0, 10]. Default 0.5.
    pub max_strain: f64,
    /// The test ends (failed) when, after the peak, the stress stays below this fraction of the
    /// peak over a strain window of [`TensileParams::stop_strain_window`]. Range (0, 1).
    /// Default 0.2.
    pub stop_fraction: f64,
    /// Strain over which the stress must stay below `stop_fraction` × peak to call the film failed,
    /// dimensionless. Range [0, 10]. Default 0.05. It lets the fibril network take the load over
    /// after the contact network has broken (contacts fail at strains ~1e-5, fibrils need ~1e-2
    /// of extra strain to tighten); 0 stops at the first drop.
    pub stop_strain_window: f64,
    /// Relaxation force tolerance relative to the reference bond force `F_ref`. Range
    /// [1e-12, 0.1]. Default 1e-4.
    pub force_tolerance: f64,
    /// Iteration cap of one FIRE relaxation. Range ≥ 10. Default 20 000.
    pub max_iterations: usize,
    /// Cap on break-and-relax rounds in one avalanche. Range ≥ 1. Default 200.
    pub max_avalanche_rounds: usize,
    /// Factor on the contact stiffnesses `k_n`, `k_t` (the usual DEM reduced-stiffness device).
    /// Range (0, 1]. Default 0.01. Contact strengths are forces and are not scaled, so a smaller
    /// factor raises the contact failure strains (~1e-5 → ~1e-3) and lowers the film's initial
    /// modulus by the same factor, but brings the contact stiffness (~1e3 N/m real) closer to the
    /// fibrils' (~1e-3–1e-1 N/m), which is what limits the relaxation speed: on a 768-particle
    /// lattice film 1 → 0.01 cut the FIRE iterations 8× and changed the peak stress by 2 %.
    /// Use 1 when the film modulus matters (the strength, in kPa, is the calibrated quantity).
    pub contact_stiffness_scale: f64,
    /// Neck tensile strength σ_neck added to the DMT pull-off as `σ_neck π a²`, Pa. Range
    /// [0, 1e9]. Default 0 (uncalibrated).
    pub neck_strength_pa: f64,
    /// Tangential-to-normal contact stiffness ratio κ; `None` = Mindlin `2(1 − ν)/(2 − ν)` from the
    /// NPS Poisson ratio. Range [0, 1]. Default `None`.
    pub tangential_stiffness_ratio: Option<f64>,
    /// Poisson ratio of PTFE for contacts involving a PTFE lump, dimensionless. Range [0, 0.5).
    /// Default 0.46.
    pub ptfe_poisson: f64,
    /// Fibril hardening modulus `H`, Pa; `None` = chosen by
    /// [`FibrilLawParams::from_strengths`] from the fibril yield and breaking stresses.
    pub fibril_hardening_pa: Option<f64>,
    /// As-drawn fibril radius (zero plastic draw strain), m; `None` = the largest intact fibril
    /// radius in the snapshot (radii only shrink by drawing; the snapshot does not store it).
    pub fibril_reference_radius: Option<f64>,
    /// Subtract the stress of the relaxed zero-strain state. Default true.
    pub subtract_residual: bool,
    /// Start the test with every taut fibril stress-free at its current length (volume kept):
    /// the prestress a fibril keeps after calendering relaxes by creep of the PTFE before a film is
    /// tested (PTFE relaxes most of an imposed stress within minutes to hours at room
    /// temperature). Default true.
    pub relax_fibril_prestress: bool,
    /// Pairs not in contact in the snapshot but with a surface gap below this fraction of the
    /// smaller radius become latent contacts: open at the start, repulsive once the spheres touch
    /// (so the thinning film cannot pass particles through each other). Dimensionless, range
    /// [0, 2]; 0 disables them. Default 0.3.
    pub latent_contact_gap: f64,
}

impl Default for TensileParams {
    fn default() -> Self {
        Self {
            strain_step: 0.002,
            min_strain_step: 1e-8,
            overshoot_tolerance: 0.02,
            max_strain: 0.5,
            stop_fraction: 0.2,
            stop_strain_window: 0.05,
            force_tolerance: 1e-4,
            max_iterations: 20_000,
            max_avalanche_rounds: 200,
            contact_stiffness_scale: 0.01,
            neck_strength_pa: 0.0,
            tangential_stiffness_ratio: None,
            ptfe_poisson: 0.46,
            fibril_hardening_pa: None,
            fibril_reference_radius: None,
            subtract_residual: true,
            relax_fibril_prestress: true,
            latent_contact_gap: 0.3,
        }
    }
}

/// Outcome of a virtual tensile test.
#[derive(Debug, Clone, PartialEq)]
pub struct TensileResult {
    /// Direction of the test.
    pub axis: Axis,
    /// Nominal strain of each recorded point, dimensionless (non-decreasing; a strain appears twice
    /// where bonds broke: before and after the avalanche).
    pub strain: Vec<f64>,
    /// Engineering stress of each recorded point, Pa.
    pub stress_pa: Vec<f64>,
    /// Largest recorded stress, Pa.
    pub peak_stress_pa: f64,
    /// Strain at the peak, dimensionless.
    pub strain_at_peak: f64,
    /// True if the film failed (stress fell below the stop fraction of the peak, or no bond left)
    /// before the maximum strain.
    pub failed: bool,
    /// Contacts broken during the test.
    pub broken_contacts: usize,
    /// Fibrils broken in their body during the test.
    pub broken_fibrils: usize,
    /// Fibrils whose anchor detached during the test.
    pub detached_fibrils: usize,
    /// Number of FIRE relaxations run.
    pub relaxations: usize,
    /// Total FIRE iterations.
    pub iterations: usize,
    /// Relaxations that hit the iteration cap before reaching the force tolerance.
    pub unconverged_relaxations: usize,
}

impl TensileResult {
    /// The stress–strain curve as CSV with header `strain,stress_kPa` (one line per point).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("strain,stress_kPa\n");
        for (e, p) in self.strain.iter().zip(&self.stress_pa) {
            s.push_str(&format!("{},{}\n", e, p / 1e3));
        }
        s
    }
}

/// Errors of the tensile test.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensileError {
    /// A [`TensileParams`] field is out of range.
    #[error("tensile parameter `{name}` = {value} is invalid: expected {expected}")]
    InvalidParameter {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// Allowed range.
        expected: &'static str,
    },
    /// The snapshot is inconsistent or has non-physical values.
    #[error("snapshot unusable for the tensile test: {0}")]
    InvalidSnapshot(String),
    /// Nothing holds the film together (no contacts and no intact fibrils).
    #[error("snapshot has no contacts and no intact fibrils: nothing carries load")]
    NoLoadPaths,
    /// A force or position became non-finite.
    #[error("non-finite {what} on particle {particle} at strain {strain}")]
    NonFinite {
        /// Which quantity.
        what: &'static str,
        /// Particle index.
        particle: usize,
        /// Strain at which it happened.
        strain: f64,
    },
}

/// Run a quasi-static virtual uniaxial tensile test of `snap` along `axis` (see module docs).
pub fn tensile_test(
    snap: &Snapshot,
    axis: Axis,
    params: &TensileParams,
) -> Result<TensileResult, TensileError> {
    validate_params(params)?;
    let mut model = Model::build(snap, axis, params)?;
    // Thousands of short parallel relaxation sweeps: keep the other workers awake between them
    // (see `crate::par`).
    crate::par::with_hot_workers(|| model.run())
}

fn validate_params(p: &TensileParams) -> Result<(), TensileError> {
    let bad = |name, value: f64, expected| TensileError::InvalidParameter {
        name,
        value,
        expected,
    };
    let ok = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
    if !(ok(p.strain_step, 0.0, 0.05) && p.strain_step > 0.0) {
        return Err(bad("strain_step", p.strain_step, "(0, 0.05]"));
    }
    if !(ok(p.min_strain_step, 0.0, p.strain_step) && p.min_strain_step > 0.0) {
        return Err(bad(
            "min_strain_step",
            p.min_strain_step,
            "(0, strain_step]",
        ));
    }
    if !(ok(p.overshoot_tolerance, 0.0, 1.0) && p.overshoot_tolerance > 0.0) {
        return Err(bad("overshoot_tolerance", p.overshoot_tolerance, "(0, 1]"));
    }
    if !(ok(p.max_strain, 0.0, 10.0) && p.max_strain > 0.0) {
        return Err(bad("max_strain", p.max_strain, "(0, 10]"));
    }
    if !(ok(p.stop_fraction, 0.0, 1.0) && p.stop_fraction > 0.0 && p.stop_fraction < 1.0) {
        return Err(bad("stop_fraction", p.stop_fraction, "(0, 1)"));
    }
    if !ok(p.stop_strain_window, 0.0, 10.0) {
        return Err(bad("stop_strain_window", p.stop_strain_window, "[0, 10]"));
    }
    if !ok(p.force_tolerance, 1e-12, 0.1) {
        return Err(bad("force_tolerance", p.force_tolerance, "[1e-12, 0.1]"));
    }
    if p.max_iterations < 10 {
        return Err(bad("max_iterations", p.max_iterations as f64, ">= 10"));
    }
    if p.max_avalanche_rounds < 1 {
        return Err(bad(
            "max_avalanche_rounds",
            p.max_avalanche_rounds as f64,
            ">= 1",
        ));
    }
    if !(ok(p.contact_stiffness_scale, 0.0, 1.0) && p.contact_stiffness_scale > 0.0) {
        return Err(bad(
            "contact_stiffness_scale",
            p.contact_stiffness_scale,
            "(0, 1]",
        ));
    }
    if !ok(p.neck_strength_pa, 0.0, 1e9) {
        return Err(bad("neck_strength_pa", p.neck_strength_pa, "[0, 1e9] Pa"));
    }
    if let Some(k) = p.tangential_stiffness_ratio {
        if !ok(k, 0.0, 1.0) {
            return Err(bad("tangential_stiffness_ratio", k, "[0, 1]"));
        }
    }
    if !(ok(p.ptfe_poisson, 0.0, 0.5) && p.ptfe_poisson < 0.5) {
        return Err(bad("ptfe_poisson", p.ptfe_poisson, "[0, 0.5)"));
    }
    if let Some(h) = p.fibril_hardening_pa {
        if !ok(h, 0.0, 1e12) {
            return Err(bad("fibril_hardening_pa", h, "[0, 1e12] Pa"));
        }
    }
    if let Some(r) = p.fibril_reference_radius {
        if !(ok(r, 0.0, 1e-3) && r > 0.0) {
            return Err(bad("fibril_reference_radius", r, "(0, 1e-3] m"));
        }
    }
    Ok(())
}

/// Chunk length of the parallel loops and of the deterministic reductions. Arrays no longer than
/// this are processed on the calling thread (rayon's dispatch costs more than the work there).
const CHUNK: usize = 2048;

/// Sum `f(i)` for `i in 0..n` in a fixed order whatever the thread count: fixed chunks summed in
/// index order, then the chunk sums in chunk order.
fn det_sum<F: Fn(usize) -> f64 + Sync>(n: usize, f: F) -> f64 {
    let chunk_sum = |c: usize| {
        let mut s = 0.0;
        for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
            s += f(i);
        }
        s
    };
    let nchunks = n.div_ceil(CHUNK);
    if nchunks <= 1 {
        return 0.0 + chunk_sum(0);
    }
    let partial: Vec<f64> = (0..nchunks).into_par_iter().map(chunk_sum).collect();
    partial.iter().fold(0.0, |acc, x| acc + x)
}

/// Run `f(first_index, chunk)` over fixed chunks of `data`, in parallel when there is more than one.
fn for_chunks<T: Send, F: Fn(usize, &mut [T]) + Sync>(data: &mut [T], f: F) {
    if data.len() <= CHUNK {
        f(0, data);
    } else {
        data.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, s)| f(c * CHUNK, s));
    }
}

/// Like [`for_chunks`] over two equally long arrays chunked together.
fn for_chunks2<A: Send, B: Send, F: Fn(usize, &mut [A], &mut [B]) + Sync>(
    a: &mut [A],
    b: &mut [B],
    f: F,
) {
    debug_assert_eq!(a.len(), b.len());
    if a.len() <= CHUNK {
        f(0, a, b);
    } else {
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, (x, y))| f(c * CHUNK, x, y));
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

/// Per-bond data of the NPS contacts (structure of arrays).
struct Contacts {
    i: Vec<u32>,
    j: Vec<u32>,
    /// Periodic image of j relative to i, in box lengths (x, y).
    img: Vec<[f64; 2]>,
    /// Rest vector at zero strain, m.
    b0: Vec<[f64; 3]>,
    d0: Vec<f64>,
    kn: Vec<f64>,
    kt: Vec<f64>,
    fc: Vec<f64>,
    alive: Vec<bool>,
}

/// Per-fibril data (structure of arrays; intact fibrils only).
struct Fibrils {
    a: Vec<u32>,
    b: Vec<u32>,
    oa: Vec<[f64; 3]>,
    ob: Vec<[f64; 3]>,
    img: Vec<[f64; 2]>,
    state: Vec<FibrilLawState>,
    /// Strands per fibril (bundle multiplicity): force and stiffness are this times one strand's.
    count: Vec<f64>,
    alive: Vec<bool>,
}

/// Bond kinds' contribution computed in a force pass.
#[derive(Clone, Copy, Default)]
struct BondEval {
    /// Force on the first particle, N.
    f: [f64; 3],
    /// Centre-to-centre vector from the first to the second particle (with the periodic image),
    /// m: the branch vector of the virial.
    b: [f64; 3],
    /// Current anchor-to-anchor length of a fibril, m (0 for contacts).
    len: f64,
    /// Active stiffness for the preconditioning mass, N/m (0 for a slack fibril or an open
    /// broken contact).
    stiff: f64,
    /// Load ratio (≥ 1: fails).
    ratio: f64,
}

struct Model {
    axis: usize,
    n: usize,
    pos: Vec<[f64; 3]>,
    lbox: [f64; 2],
    thickness: f64,
    mu: f64,
    law: FibrilLawParams,
    c: Contacts,
    fb: Fibrils,
    /// CSR adjacency: bonds of particle p are `adj[adj_start[p]..adj_start[p+1]]`, as
    /// (global bond index, +1 if p is the bond's first particle else −1).
    adj_start: Vec<usize>,
    adj: Vec<(u32, u32, f64)>,
    /// Cluster (connected component of intact contacts) of each particle.
    cluster: Vec<u32>,
    /// CSR of cluster members: cluster c holds `cl_members[cl_start[c]..cl_start[c+1]]`.
    cl_start: Vec<usize>,
    cl_members: Vec<u32>,
    /// Coarse (cluster-translation) acceleration of each cluster, m (dimensionless time).
    cl_acc: Vec<[f64; 3]>,
    /// Stiffness of each particle's bonds to other clusters, N/m.
    soft: Vec<f64>,
    /// Preconditioned force direction `a = F/m + A_cluster` per particle, m.
    acc: Vec<[f64; 3]>,
    eval: Vec<BondEval>,
    force: Vec<[f64; 3]>,
    mass: Vec<f64>,
    vel: Vec<[f64; 3]>,
    f_ref: f64,
    params: TensileParams,
    strain: f64,
    relaxations: usize,
    iterations: usize,
    unconverged: usize,
}

impl Model {
    fn build(snap: &Snapshot, axis: Axis, params: &TensileParams) -> Result<Self, TensileError> {
        let inv = |m: String| TensileError::InvalidSnapshot(m);
        let parts = &snap.particles;
        let n = parts.pos.len();
        if n == 0 {
            return Err(inv("no particles".into()));
        }
        if parts.radius.len() != n || parts.phase.len() != n || parts.orientation.len() != n {
            return Err(inv("particle arrays have different lengths".into()));
        }
        let bx = &snap.sim_box;
        if !(bx.lx.is_finite() && bx.lx > 0.0 && bx.ly.is_finite() && bx.ly > 0.0) {
            return Err(inv(format!(
                "box lengths lx = {}, ly = {} must be > 0",
                bx.lx, bx.ly
            )));
        }
        for (k, (p, r)) in parts.pos.iter().zip(&parts.radius).enumerate() {
            if !(p.iter().all(|v| v.is_finite()) && r.is_finite() && *r > 0.0) {
                return Err(inv(format!(
                    "particle {k}: non-finite position or radius <= 0"
                )));
            }
        }
        let top = parts
            .pos
            .iter()
            .zip(&parts.radius)
            .map(|(p, r)| p[2] + r)
            .fold(f64::MIN, f64::max);
        let bottom = parts
            .pos
            .iter()
            .zip(&parts.radius)
            .map(|(p, r)| p[2] - r)
            .fold(f64::MAX, f64::min);
        let thickness = top - bottom;
        let m = &snap.materials;
        let check_mat = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(inv(format!(
                    "materials.{name} = {v} must be finite and > 0"
                )))
            }
        };
        check_mat("nps_modulus", m.nps_modulus)?;
        check_mat("ptfe_modulus", m.ptfe_modulus)?;
        check_mat("nps_surface_energy", m.nps_surface_energy)?;
        if !(m.ptfe_bridge_strength.is_finite() && m.ptfe_bridge_strength >= 0.0) {
            return Err(inv(format!(
                "materials.ptfe_bridge_strength = {} must be finite and >= 0",
                m.ptfe_bridge_strength
            )));
        }
        if !(m.nps_poisson.is_finite() && (0.0..0.5).contains(&m.nps_poisson)) {
            return Err(inv(format!(
                "materials.nps_poisson = {} not in [0, 0.5)",
                m.nps_poisson
            )));
        }
        if !(m.nps_friction.is_finite() && m.nps_friction >= 0.0) {
            return Err(inv(format!(
                "materials.nps_friction = {} must be >= 0",
                m.nps_friction
            )));
        }
        let kappa = params
            .tangential_stiffness_ratio
            .unwrap_or(2.0 * (1.0 - m.nps_poisson) / (2.0 - m.nps_poisson));
        let reduced = |ph: Phase| match ph {
            Phase::Nps => (1.0 - m.nps_poisson * m.nps_poisson) / m.nps_modulus,
            Phase::Ptfe => (1.0 - params.ptfe_poisson * params.ptfe_poisson) / m.ptfe_modulus,
        };
        let lbox = [bx.lx, bx.ly];
        let nc = snap.contacts.len();
        let mut c = Contacts {
            i: Vec::with_capacity(nc),
            j: Vec::with_capacity(nc),
            img: Vec::with_capacity(nc),
            b0: Vec::with_capacity(nc),
            d0: Vec::with_capacity(nc),
            kn: Vec::with_capacity(nc),
            kt: Vec::with_capacity(nc),
            fc: Vec::with_capacity(nc),
            alive: Vec::with_capacity(nc),
        };
        for (k, ct) in snap.contacts.iter().enumerate() {
            let (i, j) = (ct.i as usize, ct.j as usize);
            if i >= n || j >= n || i == j {
                return Err(inv(format!(
                    "contact {k}: particles ({i}, {j}) invalid for n = {n}"
                )));
            }
            if !(ct.radius.is_finite() && ct.radius >= 0.0) {
                return Err(inv(format!(
                    "contact {k}: contact radius {} invalid",
                    ct.radius
                )));
            }
            if !(ct.ptfe_coverage.is_finite() && (0.0..=1.0).contains(&ct.ptfe_coverage)) {
                return Err(inv(format!(
                    "contact {k}: PTFE coverage {} not in [0, 1]",
                    ct.ptfe_coverage
                )));
            }
            let raw = sub(parts.pos[j], parts.pos[i]);
            let b0 = bx.delta(parts.pos[j], parts.pos[i]);
            let img = [
                ((b0[0] - raw[0]) / bx.lx).round(),
                ((b0[1] - raw[1]) / bx.ly).round(),
            ];
            let d0 = norm(b0);
            if d0 <= 0.0 {
                return Err(inv(format!("contact {k}: coincident particle centres")));
            }
            let e_star = 1.0 / (reduced(parts.phase[i]) + reduced(parts.phase[j]));
            let (ri, rj) = (parts.radius[i], parts.radius[j]);
            let r_star = ri * rj / (ri + rj);
            let kn = 2.0 * e_star * ct.radius * params.contact_stiffness_scale;
            let fc = 2.0 * PI * m.nps_surface_energy * r_star
                + params.neck_strength_pa * PI * ct.radius * ct.radius
                + m.ptfe_bridge_strength * ct.ptfe_coverage * PI * ct.radius * ct.radius;
            c.i.push(ct.i);
            c.j.push(ct.j);
            c.img.push(img);
            c.b0.push(b0);
            c.d0.push(d0);
            c.kn.push(kn);
            c.kt.push(kappa * kn);
            c.fc.push(fc);
            c.alive.push(true);
        }

        // Latent contacts: pairs not in contact whose gap is under `latent_contact_gap` × the
        // smaller radius. They start open (broken) and only repel once the spheres touch, so the
        // film cannot thin by letting particles pass through each other while the fibrils pull.
        if params.latent_contact_gap > 0.0 {
            let mut have: std::collections::HashSet<(u32, u32)> =
                c.i.iter()
                    .zip(&c.j)
                    .map(|(&a, &b)| (a.min(b), a.max(b)))
                    .collect();
            for (i, j, b0) in near_pairs(parts, bx, params.latent_contact_gap) {
                if !have.insert((i, j)) {
                    continue;
                }
                let (iu, ju) = (i as usize, j as usize);
                let (ri, rj) = (parts.radius[iu], parts.radius[ju]);
                let raw = sub(parts.pos[ju], parts.pos[iu]);
                let img = [
                    ((b0[0] - raw[0]) / bx.lx).round(),
                    ((b0[1] - raw[1]) / bx.ly).round(),
                ];
                let e_star = 1.0 / (reduced(parts.phase[iu]) + reduced(parts.phase[ju]));
                let r_star = ri * rj / (ri + rj);
                // Penalty stiffness of a fresh contact: the Hertz tangent 2E*a at a = 0.1 R*.
                let kn = 2.0 * e_star * 0.1 * r_star * params.contact_stiffness_scale;
                c.i.push(i);
                c.j.push(j);
                c.img.push(img);
                c.b0.push(b0);
                c.d0.push(ri + rj);
                c.kn.push(kn);
                c.kt.push(0.0);
                c.fc.push(0.0);
                c.alive.push(false);
            }
        }

        // Fibrils: intact ones only.
        let intact: Vec<usize> = snap
            .fibrils
            .iter()
            .enumerate()
            .filter(|(_, f)| f.state == FibrilState::Intact)
            .map(|(k, _)| k)
            .collect();
        let r_ref = match params.fibril_reference_radius {
            Some(r) => r,
            None => intact
                .iter()
                .map(|&k| snap.fibrils[k].radius)
                .fold(0.0, f64::max),
        };
        let mut fb = Fibrils {
            a: Vec::new(),
            b: Vec::new(),
            oa: Vec::new(),
            ob: Vec::new(),
            img: Vec::new(),
            state: Vec::new(),
            count: Vec::new(),
            alive: Vec::new(),
        };
        let offset = |k: usize, p: usize, local: [f64; 3]| -> Result<[f64; 3], TensileError> {
            let q = parts.orientation[p];
            let qn = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
            if !(qn.is_finite() && qn > 0.0 && local.iter().all(|v| v.is_finite())) {
                return Err(inv(format!(
                    "fibril {k}: bad orientation or anchor of particle {p}"
                )));
            }
            Ok(quat_rotate(
                [q[0] / qn, q[1] / qn, q[2] / qn, q[3] / qn],
                local,
            ))
        };
        for &k in &intact {
            let f = &snap.fibrils[k];
            let (pa, pb) = (f.a.particle as usize, f.b.particle as usize);
            if pa >= n || pb >= n {
                return Err(inv(format!(
                    "fibril {k}: anchor particle out of range (n = {n})"
                )));
            }
            if !(f.count.is_finite() && f.count >= 1.0) {
                return Err(inv(format!(
                    "fibril {k}: strand count {} must be ≥ 1",
                    f.count
                )));
            }
            if !(f.radius.is_finite() && f.radius > 0.0 && f.rest_length.is_finite())
                || f.rest_length <= 0.0
            {
                return Err(inv(format!(
                    "fibril {k}: radius {} and rest length {} must be > 0",
                    f.radius, f.rest_length
                )));
            }
            let oa = offset(k, pa, f.a.local)?;
            let ob = offset(k, pb, f.b.local)?;
            let raw = sub(add(parts.pos[pb], ob), add(parts.pos[pa], oa));
            // The image whose length matches the stored one (fibrils may exceed half the box).
            let target = if f.length.is_finite() && f.length > 0.0 {
                f.length
            } else {
                0.0
            };
            let mut best = ([0.0, 0.0], f64::INFINITY);
            for ix in -2..=2 {
                for iy in -2..=2 {
                    let im = [ix as f64, iy as f64];
                    let v = [raw[0] + im[0] * bx.lx, raw[1] + im[1] * bx.ly, raw[2]];
                    let err = (norm(v) - target).abs();
                    if err < best.1 {
                        best = (im, err);
                    }
                }
            }
            fb.a.push(f.a.particle);
            fb.b.push(f.b.particle);
            fb.oa.push(oa);
            fb.ob.push(ob);
            fb.img.push(best.0);
            // Prestress relaxation: a taut fibril is taken stress-free at its current length, its
            // volume kept (π r² L₀ constant).
            let len_now = norm([
                raw[0] + best.0[0] * bx.lx,
                raw[1] + best.0[1] * bx.ly,
                raw[2],
            ]);
            let (rest_length, radius) = if params.relax_fibril_prestress && len_now > f.rest_length
            {
                (len_now, f.radius * (f.rest_length / len_now).sqrt())
            } else {
                (f.rest_length, f.radius)
            };
            fb.state.push(FibrilLawState {
                rest_length,
                radius,
            });
            fb.count.push(f.count);
            fb.alive.push(true);
        }
        // Latent contacts only repel: they are no load path.
        if !c.alive.iter().any(|&a| a) && fb.a.is_empty() {
            return Err(TensileError::NoLoadPaths);
        }
        let mut law = FibrilLawParams::from_strengths(
            m.ptfe_modulus,
            m.fibril_yield,
            m.fibril_strength,
            m.anchor_strength,
            if r_ref > 0.0 { r_ref } else { 1.0 },
        );
        if let Some(h) = params.fibril_hardening_pa {
            law.hardening_modulus = h;
        }
        if !fb.a.is_empty() {
            law.validate().map_err(|e| inv(e.to_string()))?;
        }

        // Adjacency (CSR), bonds in global order: contacts, then fibrils.
        let nc = c.i.len();
        let nb = nc + fb.a.len();
        let mut count = vec![0usize; n + 1];
        let ends = |g: usize| -> (usize, usize) {
            if g < nc {
                (c.i[g] as usize, c.j[g] as usize)
            } else {
                (fb.a[g - nc] as usize, fb.b[g - nc] as usize)
            }
        };
        for g in 0..nb {
            let (p, q) = ends(g);
            count[p + 1] += 1;
            if q != p {
                count[q + 1] += 1;
            }
        }
        for p in 0..n {
            count[p + 1] += count[p];
        }
        let adj_start = count.clone();
        let mut fill = count;
        let mut adj = vec![(0u32, 0u32, 0.0f64); adj_start[n]];
        for g in 0..nb {
            let (p, q) = ends(g);
            if q != p {
                adj[fill[p]] = (g as u32, q as u32, 1.0);
                fill[p] += 1;
                adj[fill[q]] = (g as u32, p as u32, -1.0);
                fill[q] += 1;
            }
            // A fibril with both ends on one particle exerts no net force: no entry.
        }

        // Reference force: the smaller of the mean contact strength and the mean fibril yield force.
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let fc_mean = mean(&c.fc);
        let fy: Vec<f64> = fb
            .state
            .iter()
            .map(|s| law.yield_stress * s.area())
            .collect();
        let fy_mean = mean(&fy);
        let f_ref = match (c.fc.is_empty(), fy.is_empty()) {
            (false, false) => fc_mean.min(fy_mean),
            (false, true) => fc_mean,
            _ => fy_mean,
        };
        Ok(Self {
            axis: axis.index(),
            n,
            pos: parts.pos.clone(),
            lbox,
            thickness,
            mu: m.nps_friction,
            law,
            c,
            fb,
            adj_start,
            adj,
            eval: vec![BondEval::default(); nb],
            force: vec![[0.0; 3]; n],
            mass: vec![0.0; n],
            cluster: vec![0; n],
            cl_start: Vec::new(),
            cl_members: Vec::new(),
            cl_acc: Vec::new(),
            soft: vec![0.0; n],
            acc: vec![[0.0; 3]; n],
            vel: vec![[0.0; 3]; n],
            f_ref,
            params: *params,
            strain: 0.0,
            relaxations: 0,
            iterations: 0,
            unconverged: 0,
        })
    }

    /// Evaluate every bond (in parallel over fixed chunks of bonds), then gather each particle's
    /// force and preconditioning mass from its own bond list in a fixed order.
    fn compute_forces(&mut self) {
        let nc = self.c.i.len();
        let (c, fb, pos, lbox, law, mu) =
            (&self.c, &self.fb, &self.pos, self.lbox, &self.law, self.mu);
        let (ec, ef) = self.eval.split_at_mut(nc);
        for_chunks(ec, |off, chunk| {
            for (q, e) in chunk.iter_mut().enumerate() {
                let k = off + q;
                let (i, j) = (c.i[k] as usize, c.j[k] as usize);
                let im = c.img[k];
                let b = [
                    pos[j][0] - pos[i][0] + im[0] * lbox[0],
                    pos[j][1] - pos[i][1] + im[1] * lbox[1],
                    pos[j][2] - pos[i][2],
                ];
                *e = contact_bond(
                    b, c.b0[k], c.d0[k], c.kn[k], c.kt[k], c.fc[k], mu, c.alive[k],
                );
            }
        });
        for_chunks(ef, |off, chunk| {
            for (q, e) in chunk.iter_mut().enumerate() {
                let k = off + q;
                if !fb.alive[k] {
                    *e = BondEval::default();
                    continue;
                }
                let (a, b) = (fb.a[k] as usize, fb.b[k] as usize);
                let (oa, ob, im) = (fb.oa[k], fb.ob[k], fb.img[k]);
                let v = [
                    pos[b][0] + ob[0] - pos[a][0] - oa[0] + im[0] * lbox[0],
                    pos[b][1] + ob[1] - pos[a][1] - oa[1] + im[1] * lbox[1],
                    pos[b][2] + ob[2] - pos[a][2] - oa[2],
                ];
                let len = norm(v);
                let out = fibril_load(len, fb.state[k], law);
                let (f, ratio, stiff) = if out.tension > 0.0 && len > 0.0 {
                    // All strands of a bundle carry the same load and fail together.
                    let nb = fb.count[k];
                    let t = nb * out.tension / len;
                    let (rb, rd) = failure_ratios(out.tension, out.state.radius, law);
                    (
                        [t * v[0], t * v[1], t * v[2]],
                        rb.max(rd),
                        nb * out.state.stiffness(law),
                    )
                } else if out.tension.is_nan() {
                    ([f64::NAN; 3], f64::NAN, 0.0)
                } else {
                    ([0.0; 3], 0.0, 0.0)
                };
                let b = [
                    v[0] - ob[0] + oa[0],
                    v[1] - ob[1] + oa[1],
                    v[2] - ob[2] + oa[2],
                ];
                *e = BondEval {
                    f,
                    b,
                    ratio,
                    len,
                    stiff,
                };
            }
        });
        let (eval, adj, start, cl) = (&self.eval, &self.adj, &self.adj_start, &self.cluster);
        for_chunks2(&mut self.force, &mut self.mass, |off, fs, ms| {
            for (q, (f, m)) in fs.iter_mut().zip(ms.iter_mut()).enumerate() {
                let p = off + q;
                let mut s = [0.0; 3];
                let mut k = 0.0;
                for &(g, _, sign) in &adj[start[p]..start[p + 1]] {
                    let e = &eval[g as usize];
                    s[0] += sign * e.f[0];
                    s[1] += sign * e.f[1];
                    s[2] += sign * e.f[2];
                    k += e.stiff;
                }
                *f = s;
                *m = k;
            }
        });
        for_chunks(&mut self.soft, |off, ks| {
            for (q, k) in ks.iter_mut().enumerate() {
                let p = off + q;
                let mut s = 0.0;
                for &(g, other, _) in &adj[start[p]..start[p + 1]] {
                    if cl[other as usize] != cl[p] {
                        s += eval[g as usize].stiff;
                    }
                }
                *k = s;
            }
        });
        self.compute_acc();
    }

    /// Group particles into clusters joined by intact contacts (union–find; labels in order of
    /// the lowest particle index, so independent of threads).
    fn build_clusters(&mut self) {
        let n = self.n;
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                let up = parent[parent[x as usize] as usize];
                parent[x as usize] = up;
                x = up;
            }
            x
        }
        for k in 0..self.c.i.len() {
            if self.c.alive[k] {
                let (a, b) = (
                    find(&mut parent, self.c.i[k]),
                    find(&mut parent, self.c.j[k]),
                );
                if a != b {
                    let (lo, hi) = (a.min(b), a.max(b));
                    parent[hi as usize] = lo;
                }
            }
        }
        let mut label = vec![u32::MAX; n];
        let mut ncl = 0u32;
        for p in 0..n {
            let r = find(&mut parent, p as u32) as usize;
            if label[r] == u32::MAX {
                label[r] = ncl;
                ncl += 1;
            }
            self.cluster[p] = label[r];
        }
        let mut start = vec![0usize; ncl as usize + 1];
        for &c in &self.cluster {
            start[c as usize + 1] += 1;
        }
        for c in 0..ncl as usize {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut members = vec![0u32; n];
        for p in 0..n {
            let c = self.cluster[p] as usize;
            members[fill[c]] = p as u32;
            fill[c] += 1;
        }
        self.cl_start = start;
        self.cl_members = members;
        self.cl_acc = vec![[0.0; 3]; ncl as usize];
    }

    /// Two-level preconditioned direction: Jacobi `F_i/m_i` plus, for clusters of two or more
    /// particles, the cluster translation `A_C = Σ_{i∈C} F_i / Σ_{i∈C} k_soft,i` that the soft
    /// (fibril and open-contact) bonds to other clusters resist. Stiff contact clusters pulled by
    /// soft fibrils otherwise relax at the rate sqrt(k_fibril / (N k_contact)).
    fn compute_acc(&mut self) {
        let (force, soft, start, members) =
            (&self.force, &self.soft, &self.cl_start, &self.cl_members);
        for_chunks(&mut self.cl_acc, |off, accs| {
            for (q, a) in accs.iter_mut().enumerate() {
                let c = off + q;
                let mem = &members[start[c]..start[c + 1]];
                *a = [0.0; 3];
                if mem.len() < 2 {
                    continue;
                }
                let (mut f, mut k) = ([0.0; 3], 0.0);
                for &p in mem {
                    let p = p as usize;
                    f[0] += force[p][0];
                    f[1] += force[p][1];
                    f[2] += force[p][2];
                    k += soft[p];
                }
                if k > 0.0 {
                    *a = [f[0] / k, f[1] / k, f[2] / k];
                }
            }
        });
        let (mass, cl, cl_acc) = (&self.mass, &self.cluster, &self.cl_acc);
        for_chunks(&mut self.acc, |off, accs| {
            for (q, a) in accs.iter_mut().enumerate() {
                let p = off + q;
                if mass[p] > 0.0 {
                    let ca = cl_acc[cl[p] as usize];
                    for d in 0..3 {
                        a[d] = force[p][d] / mass[p] + ca[d];
                    }
                } else {
                    *a = [0.0; 3];
                }
            }
        });
    }

    fn check_finite(&self) -> Result<(), TensileError> {
        for (p, (x, f)) in self.pos.iter().zip(&self.force).enumerate() {
            if !x.iter().all(|v| v.is_finite()) {
                return Err(TensileError::NonFinite {
                    what: "position",
                    particle: p,
                    strain: self.strain,
                });
            }
            if !f.iter().all(|v| v.is_finite()) {
                return Err(TensileError::NonFinite {
                    what: "force",
                    particle: p,
                    strain: self.strain,
                });
            }
        }
        Ok(())
    }

    fn max_force(&self) -> f64 {
        if self.n <= CHUNK {
            self.force.iter().fold(0.0, |m, f| m.max(norm(*f)))
        } else {
            self.force
                .par_iter()
                .map(|f| norm(*f))
                .reduce(|| 0.0, f64::max)
        }
    }

    /// FIRE 2.0 relaxation of the current configuration; leaves forces and bond evaluations
    /// up to date. Returns the iterations used.
    fn relax(&mut self) -> Result<usize, TensileError> {
        const DT_START: f64 = 0.1;
        const DT_MAX: f64 = 0.7;
        const DT_MIN: f64 = 1e-3;
        const N_DELAY: usize = 5;
        const F_INC: f64 = 1.1;
        const F_DEC: f64 = 0.5;
        const ALPHA0: f64 = 0.25;
        const F_ALPHA: f64 = 0.99;
        self.relaxations += 1;
        self.build_clusters();
        self.vel.iter_mut().for_each(|v| *v = [0.0; 3]);
        self.compute_forces();
        self.check_finite()?;
        let tol = self.params.force_tolerance * self.f_ref;
        let (mut dt, mut alpha, mut n_pos) = (DT_START, ALPHA0, 0usize);
        for it in 0..self.params.max_iterations {
            if self.max_force() <= tol {
                self.iterations += it;
                return Ok(it);
            }
            let (force, vel, mass) = (&self.force, &self.vel, &self.mass);
            let power = det_sum(self.n, |p| {
                if mass[p] > 0.0 {
                    dot(force[p], vel[p])
                } else {
                    0.0
                }
            });
            if power > 0.0 {
                n_pos += 1;
                if n_pos > N_DELAY {
                    dt = (dt * F_INC).min(DT_MAX);
                    alpha *= F_ALPHA;
                }
            } else {
                n_pos = 0;
                dt = (dt * F_DEC).max(DT_MIN);
                alpha = ALPHA0;
                let half = 0.5 * dt;
                for_chunks2(&mut self.pos, &mut self.vel, |_, xs, vs| {
                    for (x, v) in xs.iter_mut().zip(vs.iter_mut()) {
                        for d in 0..3 {
                            x[d] -= half * v[d];
                            v[d] = 0.0;
                        }
                    }
                });
            }
            // Semi-implicit Euler with FIRE velocity mixing (preconditioned direction a = F/m).
            let (acc, mass) = (&self.acc, &self.mass);
            for_chunks(&mut self.vel, |off, vs| {
                for (q, v) in vs.iter_mut().enumerate() {
                    let p = off + q;
                    if mass[p] > 0.0 {
                        for d in 0..3 {
                            v[d] += dt * acc[p][d];
                        }
                    }
                }
            });
            let vel = &self.vel;
            let v_norm = det_sum(self.n, |p| dot(vel[p], vel[p])).sqrt();
            let a_norm = det_sum(self.n, |p| dot(acc[p], acc[p])).sqrt();
            let mix = if a_norm > 0.0 {
                alpha * v_norm / a_norm
            } else {
                0.0
            };
            for_chunks2(&mut self.pos, &mut self.vel, |off, xs, vs| {
                for (q, (x, v)) in xs.iter_mut().zip(vs.iter_mut()).enumerate() {
                    let p = off + q;
                    if mass[p] > 0.0 {
                        for d in 0..3 {
                            v[d] = (1.0 - alpha) * v[d] + mix * acc[p][d];
                            x[d] += dt * v[d];
                        }
                    } else {
                        *v = [0.0; 3];
                    }
                }
            });
            self.compute_forces();
            self.check_finite()?;
        }
        self.iterations += self.params.max_iterations;
        self.unconverged += 1;
        Ok(self.params.max_iterations)
    }

    /// Virial stress along the test axis, Pa (engineering: current length × initial section).
    fn stress(&self) -> f64 {
        let d = self.axis;
        let eval = &self.eval;
        let w = det_sum(eval.len(), |g| eval[g].f[d] * eval[g].b[d]);
        w / (self.lbox[0] * self.lbox[1] * self.thickness)
    }

    /// Load ratios of every bond (0 for dead bonds).
    fn ratios(&self) -> Vec<f64> {
        self.eval.iter().map(|e| e.ratio).collect()
    }

    /// Break every bond with ratio ≥ 1; returns (contacts, fibrils broken, fibrils detached).
    fn break_overloaded(&mut self) -> (usize, usize, usize) {
        let nc = self.c.i.len();
        let (mut bc, mut bf, mut df) = (0, 0, 0);
        for g in 0..self.eval.len() {
            if self.eval[g].ratio < 1.0 {
                continue;
            }
            if g < nc {
                if self.c.alive[g] {
                    self.c.alive[g] = false;
                    bc += 1;
                }
            } else {
                let k = g - nc;
                if self.fb.alive[k] {
                    let len = self.eval[g].len;
                    let out = fibril_load(len, self.fb.state[k], &self.law);
                    self.fb.alive[k] = false;
                    if out.event == FibrilEvent::Detached {
                        df += 1;
                    } else {
                        bf += 1;
                    }
                }
            }
        }
        (bc, bf, df)
    }

    /// Commit the plastic state of the fibrils at the current (relaxed) configuration.
    fn commit_fibrils(&mut self) {
        let nc = self.c.i.len();
        for k in 0..self.fb.a.len() {
            if self.fb.alive[k] {
                let len = self.eval[nc + k].len;
                self.fb.state[k] = fibril_load(len, self.fb.state[k], &self.law).state;
            }
        }
    }

    fn any_alive(&self) -> bool {
        self.c.alive.iter().any(|&a| a) || self.fb.alive.iter().any(|&a| a)
    }

    /// Scale positions and the periodic length along the axis by `lambda`.
    fn scale(&mut self, lambda: f64) {
        let d = self.axis;
        self.lbox[d] *= lambda;
        for_chunks(&mut self.pos, |_, xs| {
            xs.iter_mut().for_each(|x| x[d] *= lambda)
        });
    }

    fn run(&mut self) -> Result<TensileResult, TensileError> {
        let mut res = TensileResult {
            axis: if self.axis == 0 { Axis::X } else { Axis::Y },
            strain: Vec::new(),
            stress_pa: Vec::new(),
            peak_stress_pa: 0.0,
            strain_at_peak: 0.0,
            failed: false,
            broken_contacts: 0,
            broken_fibrils: 0,
            detached_fibrils: 0,
            relaxations: 0,
            iterations: 0,
            unconverged_relaxations: 0,
        };
        let l_ref = self.lbox[self.axis];
        // Zero strain: relax (fibril prestress against contacts) and break what is overloaded.
        self.relax()?;
        self.avalanche(&mut res)?;
        self.commit_fibrils();
        let residual = if self.params.subtract_residual {
            self.stress()
        } else {
            0.0
        };
        res.strain.push(0.0);
        res.stress_pa.push(self.stress() - residual);
        let p = self.params;
        let mut step = p.strain_step;
        let mut ratios_acc = self.ratios();
        let mut failed = !self.any_alive();
        // Strain at which the stress last fell below the stop fraction of the peak.
        let mut low_since: Option<f64> = None;
        // Non-affine displacement per unit strain of the last step without breakage: the
        // predictor that starts each relaxation (smooth drawing repeats step after step).
        let mut predictor: Option<Vec<[f64; 3]>> = None;
        while !failed && self.strain < p.max_strain * (1.0 - 1e-12) {
            let pos_acc = self.pos.clone();
            let l_acc = self.lbox[self.axis];
            let mut trial;
            let mut retries = 0;
            loop {
                trial = (self.strain + step).min(p.max_strain);
                self.pos.clone_from(&pos_acc);
                self.lbox[self.axis] = l_acc;
                self.scale(l_ref * (1.0 + trial) / l_acc);
                if let Some(pred) = &predictor {
                    let de = trial - self.strain;
                    for_chunks(&mut self.pos, |off, xs| {
                        for (q, x) in xs.iter_mut().enumerate() {
                            for d in 0..3 {
                                x[d] += de * pred[off + q][d];
                            }
                        }
                    });
                }
                let saved = self.strain;
                self.strain = trial;
                self.relax()?;
                self.strain = saved;
                let ratios = self.ratios();
                let max_r = ratios.iter().fold(0.0f64, |a, &b| a.max(b));
                if max_r <= 1.0 + p.overshoot_tolerance
                    || step <= p.min_strain_step
                    || retries >= 12
                {
                    break;
                }
                // Strain fraction at which the first bond reaches 1 + tol/2 (linear estimate).
                let target = 1.0 + 0.5 * p.overshoot_tolerance;
                let mut s_min: f64 = 1.0;
                for (r0, r1) in ratios_acc.iter().zip(&ratios) {
                    if *r1 > target && r1 > r0 {
                        s_min = s_min.min(((target - r0) / (r1 - r0)).max(0.0));
                    }
                }
                let new_step =
                    (step * s_min).clamp(p.min_strain_step, (0.5 * step).max(p.min_strain_step));
                step = new_step;
                retries += 1;
            }
            // Predictor for the next step (from this step's non-affine motion), unless bonds broke.
            let de = trial - self.strain;
            let broke_now = self.eval.iter().any(|e| e.ratio >= 1.0);
            predictor = if broke_now || de <= 0.0 {
                None
            } else {
                let (d, lam) = (self.axis, l_ref * (1.0 + trial) / l_acc);
                Some(
                    self.pos
                        .iter()
                        .zip(&pos_acc)
                        .map(|(x, x0)| {
                            let mut aff = *x0;
                            aff[d] *= lam;
                            [
                                (x[0] - aff[0]) / de,
                                (x[1] - aff[1]) / de,
                                (x[2] - aff[2]) / de,
                            ]
                        })
                        .collect(),
                )
            };
            self.strain = trial;
            // Stress before breaking (the peak of a brittle step), then the avalanche.
            let before = self.stress() - residual;
            let broke = self.eval.iter().any(|e| e.ratio >= 1.0);
            if broke {
                res.strain.push(trial);
                res.stress_pa.push(before);
                if before > res.peak_stress_pa {
                    res.peak_stress_pa = before;
                    res.strain_at_peak = trial;
                }
                self.avalanche(&mut res)?;
            }
            self.commit_fibrils();
            ratios_acc = self.ratios();
            let after = self.stress() - residual;
            res.strain.push(trial);
            res.stress_pa.push(after);
            if after > res.peak_stress_pa {
                res.peak_stress_pa = after;
                res.strain_at_peak = trial;
            }
            if res.peak_stress_pa > 0.0 && after < p.stop_fraction * res.peak_stress_pa {
                let since = *low_since.get_or_insert(trial);
                if trial - since >= p.stop_strain_window {
                    failed = true;
                }
            } else {
                low_since = None;
            }
            if !self.any_alive() {
                failed = true;
            }
            step = (step * 2.0).min(p.strain_step);
        }
        res.failed = failed;
        res.relaxations = self.relaxations;
        res.iterations = self.iterations;
        res.unconverged_relaxations = self.unconverged;
        Ok(res)
    }

    /// Break overloaded bonds and re-relax until none is overloaded (or the round cap).
    fn avalanche(&mut self, res: &mut TensileResult) -> Result<(), TensileError> {
        for _ in 0..self.params.max_avalanche_rounds {
            let (bc, bf, df) = self.break_overloaded();
            if bc + bf + df == 0 {
                return Ok(());
            }
            res.broken_contacts += bc;
            res.broken_fibrils += bf;
            res.detached_fibrils += df;
            self.relax()?;
        }
        Ok(())
    }
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// Pairs (i < j, sorted) whose surface gap (minimum image in x, y) is below `gap` × the smaller
/// radius, with their minimum-image vector from i to j, m. Cell list over the periodic box.
fn near_pairs(
    parts: &crate::snapshot::ParticleArrays,
    bx: &crate::snapshot::SimBox,
    gap: f64,
) -> Vec<(u32, u32, [f64; 3])> {
    let n = parts.pos.len();
    if n < 2 {
        return Vec::new();
    }
    let rmax = parts.radius.iter().cloned().fold(0.0, f64::max);
    let cut = 2.0 * rmax * (1.0 + gap);
    let zmin = parts.pos.iter().map(|p| p[2]).fold(f64::INFINITY, f64::min);
    let zmax = parts
        .pos
        .iter()
        .map(|p| p[2])
        .fold(f64::NEG_INFINITY, f64::max);
    let ncell = |l: f64| ((l / cut).floor() as usize).clamp(1, 1024);
    let (nx, ny) = (ncell(bx.lx), ncell(bx.ly));
    let nz = ncell(zmax - zmin + 1e-12);
    let cell_of = |p: [f64; 3]| -> (usize, usize, usize) {
        let fx = (p[0] / bx.lx).rem_euclid(1.0);
        let fy = (p[1] / bx.ly).rem_euclid(1.0);
        let fz = ((p[2] - zmin) / (zmax - zmin + 1e-12)).clamp(0.0, 1.0);
        (
            ((fx * nx as f64) as usize).min(nx - 1),
            ((fy * ny as f64) as usize).min(ny - 1),
            ((fz * nz as f64) as usize).min(nz - 1),
        )
    };
    let mut cells: Vec<Vec<u32>> = vec![Vec::new(); nx * ny * nz];
    for (k, p) in parts.pos.iter().enumerate() {
        let (cx, cy, cz) = cell_of(*p);
        cells[(cz * ny + cy) * nx + cx].push(k as u32);
    }
    let wrap = |c: isize, m: usize| c.rem_euclid(m as isize) as usize;
    let mut out = Vec::new();
    for (i, p) in parts.pos.iter().enumerate() {
        let (cx, cy, cz) = cell_of(*p);
        let mut seen: Vec<usize> = Vec::with_capacity(27);
        for dz in -1isize..=1 {
            let z = cz as isize + dz;
            if z < 0 || z >= nz as isize {
                continue;
            }
            for dy in -1isize..=1 {
                for dx in -1isize..=1 {
                    let cell = (z as usize * ny + wrap(cy as isize + dy, ny)) * nx
                        + wrap(cx as isize + dx, nx);
                    if seen.contains(&cell) {
                        continue;
                    }
                    seen.push(cell);
                    for &j in &cells[cell] {
                        let j = j as usize;
                        if j <= i {
                            continue;
                        }
                        let b = bx.delta(parts.pos[j], *p);
                        let (ri, rj) = (parts.radius[i], parts.radius[j]);
                        if norm(b) < ri + rj + gap * ri.min(rj) {
                            out.push((i as u32, j as u32, b));
                        }
                    }
                }
            }
        }
    }
    out.sort_by_key(|&(i, j, _)| (i, j));
    out
}

/// Contact bond kernel: force on the first particle (N), bond vector and load ratio.
///
/// `b` current pair vector (m), `b0` rest vector (m), `d0 = |b0|`, `kn`, `kt` stiffnesses (N/m),
/// `fc` tensile strength (N), `mu` friction coefficient, `alive` false for a broken contact (then
/// repulsion only). See the module docs for the law.
#[allow(clippy::too_many_arguments)]
fn contact_bond(
    b: [f64; 3],
    b0: [f64; 3],
    d0: f64,
    kn: f64,
    kt: f64,
    fc: f64,
    mu: f64,
    alive: bool,
) -> BondEval {
    let d = norm(b);
    if d <= 0.0 {
        return BondEval {
            f: [0.0; 3],
            b,
            ratio: 0.0,
            len: 0.0,
            stiff: 0.0,
        };
    }
    let n = [b[0] / d, b[1] / d, b[2] / d];
    let fn_t = kn * (d - d0);
    if !alive {
        let f = fn_t.min(0.0);
        return BondEval {
            f: [f * n[0], f * n[1], f * n[2]],
            b,
            ratio: 0.0,
            len: 0.0,
            // Counted while the gap is under 2 % of d₀, so that a contact chattering around
            // closure does not switch the preconditioning mass on and off.
            stiff: if d < 1.02 * d0 { kn } else { 0.0 },
        };
    }
    let db = sub(b, b0);
    let dn = dot(db, n);
    let ft = [
        kt * (db[0] - dn * n[0]),
        kt * (db[1] - dn * n[1]),
        kt * (db[2] - dn * n[2]),
    ];
    let f = [
        fn_t * n[0] + ft[0],
        fn_t * n[1] + ft[1],
        fn_t * n[2] + ft[2],
    ];
    let fs = fc + mu * (-fn_t).max(0.0);
    let rn = fn_t.max(0.0) / fc;
    let rt = norm(ft) / fs;
    BondEval {
        f,
        b,
        ratio: (rn * rn + rt * rt).sqrt(),
        len: 0.0,
        stiff: kn + kt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_bond_tension_and_repulsion() {
        let b0 = [2e-6, 0.0, 0.0];
        let e = contact_bond(
            [2.001e-6, 0.0, 0.0],
            b0,
            2e-6,
            1000.0,
            800.0,
            1e-6,
            0.3,
            true,
        );
        // Stretched by 1 nm: 1e-6 N of tension pulling the first particle towards +x.
        assert!((e.f[0] - 1e-6).abs() < 1e-15);
        assert!((e.ratio - 1.0).abs() < 1e-9);
        let e = contact_bond(
            [2.001e-6, 0.0, 0.0],
            b0,
            2e-6,
            1000.0,
            800.0,
            1e-6,
            0.3,
            false,
        );
        assert_eq!(e.f, [0.0; 3]);
        let e = contact_bond(
            [1.999e-6, 0.0, 0.0],
            b0,
            2e-6,
            1000.0,
            800.0,
            1e-6,
            0.3,
            false,
        );
        assert!(e.f[0] < 0.0);
    }

    #[test]
    fn contact_bond_shear_uses_tangential_stiffness() {
        let b0 = [2e-6, 0.0, 0.0];
        let e = contact_bond([2e-6, 1e-10, 0.0], b0, 2e-6, 1000.0, 800.0, 1.0, 0.3, true);
        assert!((e.f[1] - 800.0 * 1e-10).abs() < 1e-15, "{:?}", e.f);
    }

    #[test]
    fn near_pairs_finds_close_pairs_across_the_periodic_boundary() {
        use crate::snapshot::{ParticleArrays, Phase, SimBox};
        let r = 1e-6;
        // 0–1: gap 0.2 r (found); 1–2: gap 0.5 r (not found at 0.3); 3–0 across x = 0 (gap 0.1 r).
        let pos = vec![
            [1.5e-6, 5e-6, 2e-6],
            [3.7e-6, 5e-6, 2e-6],
            [6.2e-6, 5e-6, 2e-6],
            [19.4e-6, 5e-6, 2e-6],
        ];
        let n = pos.len();
        let parts = ParticleArrays {
            pos,
            radius: vec![r; n],
            phase: vec![Phase::Nps; n],
            orientation: vec![[0.0, 0.0, 0.0, 1.0]; n],
            vel: vec![[0.0; 3]; n],
            force: vec![[0.0; 3]; n],
            stress: vec![[0.0; 6]; n],
        };
        let bx = SimBox {
            lx: 20e-6,
            ly: 10e-6,
            z_bottom: 0.0,
            z_top: 4e-6,
        };
        let pairs: Vec<(u32, u32)> = near_pairs(&parts, &bx, 0.3)
            .iter()
            .map(|&(i, j, _)| (i, j))
            .collect();
        assert_eq!(pairs, vec![(0, 1), (0, 3)]);
        let wide: Vec<(u32, u32)> = near_pairs(&parts, &bx, 0.6)
            .iter()
            .map(|&(i, j, _)| (i, j))
            .collect();
        assert_eq!(wide, vec![(0, 1), (0, 3), (1, 2)]);
    }

    #[test]
    fn det_sum_is_order_fixed() {
        let v: Vec<f64> = (0..10_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let a = det_sum(v.len(), |i| v[i]);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        let b = pool.install(|| det_sum(v.len(), |i| v[i]));
        assert_eq!(a.to_bits(), b.to_bits());
    }
}
