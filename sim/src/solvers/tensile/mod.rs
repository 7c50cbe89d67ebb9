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
//! [`TensileParams::max_iterations`] (counted in [`RelaxationWork::unconverged`]).
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

pub use crate::results::StressStrainCurve;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

mod kernels;
mod model;
mod relax;
mod stepping;

use kernels::*;
use model::*;

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
    /// Force tolerance of the relaxations between the break rounds of an avalanche, relative to
    /// `F_ref` like `force_tolerance`; `None` relaxes them to `force_tolerance`. With a looser
    /// value the avalanche ends with one relaxation at `force_tolerance` (and goes on if that
    /// finds more overloaded bonds). Range [force_tolerance, 0.1]. Default `None`.
    pub avalanche_force_tolerance: Option<f64>,
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
            avalanche_force_tolerance: None,
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
    /// The curve: nominal strain (non-decreasing; a strain appears twice where bonds broke: before
    /// and after the avalanche) and engineering stress of each recorded point; its peak is the
    /// largest recorded stress.
    pub curve: StressStrainCurve,
    /// True if the film failed (stress fell below the stop fraction of the peak, or no bond left)
    /// before the maximum strain.
    pub failed: bool,
    /// Bonds broken during the test.
    pub broken: Breakage,
    /// What the quasi-static relaxations cost.
    pub work: RelaxationWork,
    /// What they had cost when the curve reached its peak, the zero-strain relaxation included
    /// (the rest is the post-peak branch).
    pub work_at_peak: RelaxationWork,
}

/// Bonds broken during a tensile test, counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breakage {
    /// Contacts broken.
    pub contacts: usize,
    /// Fibrils broken in their body.
    pub fibrils: usize,
    /// Fibrils whose anchor detached.
    pub detached: usize,
}

/// The cost of a tensile test's quasi-static relaxations, counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelaxationWork {
    /// FIRE relaxations run.
    pub relaxations: usize,
    /// FIRE iterations over all relaxations.
    pub iterations: usize,
    /// Relaxations that hit the iteration cap before reaching the force tolerance.
    pub unconverged: usize,
    /// Relaxations of a strain step thrown away because a bond overshot its strength by more
    /// than the tolerance (the step was retried smaller).
    pub retries: usize,
    /// Relaxations after bonds broke (the avalanches).
    pub avalanche: usize,
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
    if let Some(t) = p.avalanche_force_tolerance {
        if !ok(t, p.force_tolerance, 0.1) {
            return Err(bad(
                "avalanche_force_tolerance",
                t,
                "[force_tolerance, 0.1]",
            ));
        }
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
