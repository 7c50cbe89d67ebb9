//! The raw mirror of a scenario file: exactly what RON says, in the units the file uses.
//!
//! Parsing refuses unknown fields (`deny_unknown_fields`), so a typo is an error, never a silently
//! ignored parameter. Every field has a default (see [`defaults`](super::defaults)); the values here
//! are not yet checked: [`super::validate`] turns a [`RawScenario`] into a [`super::Scenario`] that
//! cannot hold bad values. Units are in the field names (`_um`, `_gpa`, `_c`, ...); SI inside the
//! validated scenario.

use serde::{Deserialize, Serialize};

/// One whole scenario file: a film-making run (or a pellet reference) from powder to properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawScenario {
    /// Free-text name of the run, used in reports and output names. Default `"unnamed"`.
    pub name: String,
    /// Master seed of the run (dimensionless); every subsystem derives its own RNG stream from it.
    /// Default 1.
    pub seed: u64,
    /// What is made: a calendered film or a cold-pressed pellet. Default `Film`.
    pub product: RawProduct,
    /// The powders: NPS electrolyte and PTFE binder.
    pub powder: RawPowder,
    /// The simulated box (representative volume element).
    pub domain: RawDomain,
    /// Low-shear mixing stage.
    pub mixing: RawMixing,
    /// High-shear fibrillation stage (films only).
    pub fibrillation: RawFibrillation,
    /// Calender passes (films only).
    pub calender: RawCalender,
    /// Uniaxial cold pressing (pellets only).
    pub pellet: RawPellet,
    /// Property solvers run on the final state.
    pub properties: RawProperties,
    /// Numerical settings of the DEM integrator.
    pub numerics: RawNumerics,
    /// Images and exports written by `dryfilm run`.
    pub output: RawOutput,
}

/// Which product the process makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RawProduct {
    /// Mixing, fibrillation and calendering into a free-standing film.
    #[default]
    Film,
    /// NPS cold-pressed uniaxially into a pellet (no PTFE, no fibrillation, no calendering).
    Pellet,
}

/// Which mechanics the virtual tensile test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TensileMechanics {
    /// The reduced bond model on the final snapshot (`solvers::tensile`): contacts as bonds that
    /// break at their pull-off, fibrils relaxed to zero prestress, FIRE relaxation per strain step.
    #[default]
    Reduced,
    /// The process's own DEM on the final state (`process::stages::tensile`): the contact and
    /// fibril laws, rotation and calendered prestress of the process, stretched at the
    /// quasi-static rate.
    Process,
}

/// What drives the fibrillation law (docs/model.md, "Fibrillation law").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FibrillationDriver {
    /// The local shear strain of the NPS grains around each lump: first-order kinetics past the
    /// critical strain at rate `powder.ptfe.fibrillation_rate`.
    #[default]
    Strain,
    /// The work dissipated by Coulomb sliding at each lump's contacts: past the work that
    /// strains the lump to the critical strain, every `powder.ptfe.fibrillation_energy_mj_m3` of
    /// it draws a unit volume of fibrils.
    Work,
}

/// The two powders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPowder {
    /// Na3PS4 electrolyte particles.
    pub nps: RawNps,
    /// PTFE binder.
    pub ptfe: RawPtfe,
    /// Allow material values outside the physically plausible ranges (moduli, densities...).
    /// Default false: implausible values are refused.
    pub allow_implausible: bool,
}

/// Na3PS4 powder after ball milling: size distribution and material data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawNps {
    /// Median (D50) diameter of the lognormal number distribution, µm. Range (0.1, 100]. Default 5.
    pub d50_um: f64,
    /// Geometric standard deviation of the lognormal distribution (dimensionless). Range [1, 4].
    /// Default 1.5. 1 means monodisperse.
    pub gsd: f64,
    /// Smallest diameter kept (cut-off), µm. Default 2.
    pub d_min_um: f64,
    /// Largest diameter kept (cut-off), µm. Default 12.
    pub d_max_um: f64,
    /// True density, kg/m³. Default 2210 (Na3PS4, tetragonal, Z = 2).
    pub density_kg_m3: f64,
    /// Young's modulus, GPa. Plausible range [1, 200]. Default 20.
    pub youngs_modulus_gpa: f64,
    /// Poisson's ratio. Range [0, 0.5). Default 0.3.
    pub poisson: f64,
    /// Contact yield pressure (hardness) of the soft sulfide, MPa. Range (0, 5000]. Default 400.
    pub yield_pressure_mpa: f64,
    /// Coefficient of restitution of NPS–NPS impacts. Range (0, 1]. Default 0.5.
    pub restitution: f64,
    /// Coulomb sliding friction coefficient. Range [0, 2]. Default 0.5.
    pub friction: f64,
    /// Rolling-resistance coefficient (dimensionless): the rolling spring holds at most μ_r·R*·F_n. Range [0, 1]. Default 0.05.
    pub rolling_friction: f64,
    /// Work of adhesion (surface energy) for the DMT adhesion law, J/m². Range [0, 1]. Default 0.571 (calibrated, docs/validation.md).
    pub surface_energy_j_m2: f64,
    /// Bulk Na+ conductivity of an NPS grain, S/cm. Range (0, 1]. Default 4.56e-4 (calibrated, docs/validation.md).
    pub sigma_ion_bulk_s_cm: f64,
    /// Intrinsic electronic conductivity of NPS, S/cm. Range (0, 1e-3]. Default 1e-9.
    pub sigma_e_s_cm: f64,
}

/// PTFE binder: loading, lumps and fibril mechanics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPtfe {
    /// PTFE loading, wt% of total solids. Range [0, 100); film scenarios 0–20. Default 1.
    pub wt_pct: f64,
    /// Diameter of a PTFE agglomerate (the simulated source particle), µm. Range [0.2, 20]. Default 2.
    pub lump_diameter_um: f64,
    /// True density, kg/m³. Default 2200.
    pub density_kg_m3: f64,
    /// Young's modulus of bulk PTFE, GPa. Plausible range [0.1, 2]. Default 0.5.
    pub youngs_modulus_gpa: f64,
    /// Poisson's ratio of PTFE. Default 0.46.
    pub poisson: f64,
    /// Fibril radius when first drawn, nm. Range [5, 500]. Default 50.
    pub fibril_radius_nm: f64,
    /// Fibrillation rate κ: fraction of a lump's remaining PTFE drawn into fibrils per unit local
    /// shear strain past the critical strain (first-order kinetics, V = V₀·exp(−κ(γ − ε_c))),
    /// per unit strain. Range [0, 1000]. Default 1.2 (calibrated on the 5 wt% conductivity,
    /// docs/calibration.md).
    pub fibrillation_rate: f64,
    /// What drives fibrillation: `Strain` (the local shear strain, with `fibrillation_rate`) or
    /// `Work` (the work dissipated at the lump's contacts, with `fibrillation_energy_mj_m3`).
    /// Default `Strain`.
    pub fibrillation_driver: FibrillationDriver,
    /// Drawing energy of the work-driven law: the work dissipated at a lump's contacts, past its
    /// threshold, per unit volume of PTFE drawn into fibrils, MJ/m³ (= J/cm³). Used only with
    /// `fibrillation_driver: Work`. Range [0.1, 10000]. Default 50 (uncalibrated; the physically
    /// defensible range is stated in docs/model.md).
    pub fibrillation_energy_mj_m3: f64,
    /// Strands drawn at a time between the same two grains (strands one lump draws between one
    /// pair of grains share one model fibril, whose volume, force and contact coverage scale with
    /// its strand count). Dimensionless, range [1, 10000]. Default 1.
    pub fibrils_per_bundle: f64,
    /// Tensile (drawing) yield stress of a fibril, MPa. Range (0, 500]. Default 110 (calibrated on
    /// the 5 wt% strength).
    pub fibril_yield_mpa: f64,
    /// Breaking true stress of a fibril, MPa. Must exceed the yield stress. Default 180.
    pub fibril_strength_mpa: f64,
    /// Anchor adhesion limit: the force per unit fibril circumference that detaches an anchor, N/m.
    /// Range (0, 100]. Default 4.5 (a 50 nm strand's breaking force per circumference, σ_b r_f / 2).
    pub anchor_strength_n_m: f64,
    /// Tensile strength of the PTFE bridging an NPS–NPS contact, MPa: a contact whose area is
    /// covered by PTFE to a fraction θ holds `σ_bridge θ π a²` on top of its DMT pull-off (the
    /// binder-bridge picture of Sangrós Giménez et al.). Range [0, 200]. Default 14 (the low end
    /// of bulk PTFE's 14–34 MPa: the PTFE of a dry film is never sintered).
    pub bridge_strength_mpa: f64,
    /// Fraction of a grain's circumference each fibril strand wraps before it leaves the grain,
    /// dimensionless. The wrapped patch (2 r_f wide) coats the grain's surface, and with it the
    /// grain's contacts (PTFE coverage θ) and its other anchors (PTFE continuity). Range [0, 1].
    /// Default 0.05 (an 18° arc).
    pub wrap_fraction: f64,
    /// Damping ratio ζ of a taut fibril bundle's axial dashpot, `c = 2 ζ sqrt(k m_red)`
    /// (docs/model.md, "Fibril forces"), dimensionless. Range [0, 1]. Default 0.05 (half of PTFE's
    /// loss tangent, ≈ 0.1 between room temperature and 100 °C).
    pub fibril_damping_ratio: f64,
    /// Electronic conductivity of PTFE reduced to sp2 carbon at the anode, S/cm. Range (0, 1e3].
    /// Default 0.1.
    pub reduced_sigma_e_s_cm: f64,
}

/// The representative volume element: periodic in x (MD) and y (TD), walls in z.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDomain {
    /// Box length along MD (x) before calendering, µm. Range [5, 2000]. Default 100.
    pub lx_um: f64,
    /// Box length along TD (y), µm. Range [5, 2000]. Default 100.
    pub ly_um: f64,
    /// Mass loading of solids per film area, mg/cm². Sets how much powder the box holds.
    /// Range (0, 500]. Default 22 (a ~125 µm film at ~80% relative density).
    pub mass_loading_mg_cm2: f64,
    /// Solid fraction of the random initial packing (before mixing). Range [0.05, 0.5]. Default 0.3.
    pub initial_solid_fraction: f64,
}

/// Low-shear mixing by simple shear between the z walls (top wall moving along x).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMixing {
    /// Shear rate, 1/s. Range (0, 1e6]. Default 1000.
    pub shear_rate_per_s: f64,
    /// Total shear strain (dimensionless). Range [0, 100]. Default 1.
    pub shear_strain: f64,
    /// Confining pressure on the top wall during mixing, kPa. Range (0, 1e5]. Default 50.
    pub confining_pressure_kpa: f64,
}

/// High-shear fibrillation (kneading) that draws PTFE lumps into fibrils.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFibrillation {
    /// Process temperature, °C. Range (-273.15, 327) (PTFE melts at 327 °C). Default 90.
    pub temperature_c: f64,
    /// Shear rate, 1/s. Range (0, 1e6]. Default 2000.
    pub shear_rate_per_s: f64,
    /// Total shear strain (dimensionless). Range [0, 100]. Default 3.
    pub shear_strain: f64,
    /// Direction of the shear in the film plane, degrees from MD (x). Range [0, 180). Default 0.
    pub shear_direction_deg: f64,
    /// Confining pressure on the top wall, kPa. Range (0, 1e5]. Default 200.
    pub confining_pressure_kpa: f64,
    /// Total shear strain of the real fibrillation process (kneading, mortar grinding), which the
    /// simulated `shear_strain` samples: the work-driven fibrillation law extrapolates the work
    /// at the lumps' contacts from the simulated strain to this one (docs/model.md,
    /// "Fibrillation law"). Dimensionless, at least `shear_strain`. Range [0, 100000]. Default
    /// 300 (a kneader or mortar imposes 10²–10³).
    pub process_strain: f64,
}

/// Calendering: repeated passes through a shrinking roll gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCalender {
    /// Gap schedule: an explicit list of gaps, or a geometric schedule.
    pub gaps: RawGapSchedule,
    /// Target free-standing thickness after the last pass and springback, µm. Range [5, 5000].
    /// Default 125.
    pub target_thickness_um: f64,
    /// Through-thickness compressive strain rate imposed by the rolls, 1/s. Range (0, 1e6]. Default 5000.
    pub strain_rate_per_s: f64,
    /// Roll temperature, °C. Range (-273.15, 327). Default 25.
    pub roll_temperature_c: f64,
    /// Fraction of each pass's thinning that elongates the film along MD (the rest densifies it):
    /// Lx ← Lx·(h_before/h_after)^α. Range [0, 1]. Default 0.3.
    pub md_elongation_exponent: f64,
    /// Fold and turn the film 90° in-plane between passes (fiberization direction). Default false.
    pub turn_90_between_passes: bool,
}

/// A calender gap schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RawGapSchedule {
    /// Explicit list of gaps, µm, one per pass; must not open.
    List(Vec<f64>),
    /// `passes` gaps from `start_um` shrinking by the factor `reduction` each pass down to `final_um`.
    Geometric {
        /// First gap, µm.
        start_um: f64,
        /// Last gap, µm.
        final_um: f64,
        /// Number of passes (≥ 1).
        passes: u32,
    },
}

/// Uniaxial cold pressing of NPS into a pellet (the reference for measured powder conductivity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPellet {
    /// Peak pressing pressure, MPa. Range (0, 2000]. Default 370.
    pub pressure_mpa: f64,
    /// Compressive strain rate during pressing, 1/s. Range (0, 1e6]. Default 5000.
    pub strain_rate_per_s: f64,
}

/// Which property solvers run and with what settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawProperties {
    /// Voxel size of the voxel conductivity cross-check, µm. Range [0.05, 10]. Default 0.5.
    pub voxel_size_um: f64,
    /// Run the virtual tensile test. Default true.
    pub tensile: bool,
    /// Tensile strain increment per step (dimensionless). Range (0, 0.05]. Default 0.002.
    pub tensile_strain_step: f64,
    /// Mechanics of the tensile test: `Reduced` (default) or `Process`.
    pub tensile_mechanics: TensileMechanics,
    /// Relative tolerance of the conjugate-gradient solves. Range [1e-14, 1e-3]. Default 1e-10.
    pub solver_tolerance: f64,
}

/// Numerical settings of the DEM core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawNumerics {
    /// Time step as a fraction of the Rayleigh time of the smallest particle. Range (0, 0.5]. Default 0.2.
    pub rayleigh_fraction: f64,
    /// Mass (density) scaling factor for quasi-static runs (dimensionless). Range [1, 1e12]. Default 1e4.
    pub mass_scaling: f64,
    /// Neighbour-list skin as a fraction of the smallest particle diameter. Range (0, 1]. Default 0.2.
    pub skin_fraction: f64,
    /// Largest inertial number any stage drives the packing at (the simulated rate is the lower of
    /// the scenario rate and the rate at this number), dimensionless. Range (0, 1]. Default 0.02.
    pub max_inertial_number: f64,
    /// Step cap of a free relaxation (a released film's or pellet's springback), which otherwise
    /// ends when the film is at rest (`relax_kinetic_tolerance`, `relax_force_tolerance`); a
    /// relaxation that reaches the cap adds a warning. Default 100000.
    pub relax_steps: u64,
    /// Steps between fibril-force evaluations, an option (multiple time stepping: the soft bundles'
    /// tensions are held for this many steps; docs/model.md, "Fibril forces: every step"). Integer
    /// in [1, 64]; 1 evaluates every bundle every step. Default 1.
    pub fibril_force_interval: u32,
    /// Local (non-viscous) damping coefficient α applied while a released film or pellet relaxes
    /// (`Dem::local_damping`; Cundall 1987, the "local damping" of Itasca PFC): it removes
    /// kinetic energy without moving a static equilibrium. Range [0, 1). Default 0.7.
    pub relax_local_damping: f64,
    /// Viscous damping time of the same relaxation, time steps: every particle feels `−m v / τ` and
    /// `−I ω / τ` with `τ` this many steps (stops motion that carries no net force, which local
    /// damping cannot). 0 = off. Range [0, 1e9]. Default 1000.
    pub relax_damping_steps: f64,
    /// A released film (or pellet) is at rest when its kinetic energy is at most this fraction of
    /// its energy scale (the largest of the external work of its stage, the external work done on
    /// the film since set-up, and its stored elastic energy, J) and its unbalanced-force
    /// ratio at most `relax_force_tolerance`; `relax_steps` is then only a cap, and a relaxation
    /// that reaches it is reported as a warning. Range (0, 1]. Default 1e-6.
    pub relax_kinetic_tolerance: f64,
    /// Largest unbalanced-force ratio (mean net force on the film's particles over the mean
    /// contact force) of a film at rest. Range (0, 1]. Default 1e-3.
    pub relax_force_tolerance: f64,
}

/// What `dryfilm run` writes besides the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOutput {
    /// Render cross-section images. Default true.
    pub images: bool,
    /// Image resolution, px/µm. Range [0.5, 50]. Default 4.
    pub px_per_um: f64,
    /// Positions of slices as fractions of the box: xz slices at these y, yz at these x, xy at these z.
    pub slice_fractions: Vec<f64>,
    /// Write VTK/TIFF/NPY 3D exports. Default true.
    pub exports: bool,
}
