//! The table of numeric scenario fields: each field's path, valid range (file units), plausible
//! range where it is a material value, factor to SI and meaning. One row per field; the checks in
//! the section modules read their ranges from here, so a range is changed in one place.
//!
//! A `num` row is refused outside its range; a `material` row is refused outside its valid range
//! and, unless `powder.allow_implausible: true`, outside its plausible range.

use super::checker::*;
use super::*;

/// `powder.nps`.
pub(super) mod nps {
    use super::*;
    pub(crate) const D50: Field = Field::num("powder.nps.d50_um", oc(0.1, 100.0, "µm"), UM, "median NPS diameter");
    pub(crate) const GSD: Field = Field::num("powder.nps.gsd", cc(1.0, 4.0, ""), 1.0, "geometric standard deviation of the NPS size distribution; 1 is monodisperse");
    pub(crate) const D_MIN: Field = Field::num("powder.nps.d_min_um", above(0.0, "µm"), UM, "smallest NPS diameter kept");
    pub(crate) const D_MAX: Field = Field::num("powder.nps.d_max_um", above(0.0, "µm"), UM, "largest NPS diameter kept");
    pub(crate) const DENSITY: Field = Field::material("powder.nps.density_kg_m3", above(0.0, "kg/m³"), cc(500.0, 20000.0, "kg/m³"), 1.0, "true density of NPS (2210 kg/m³ for tetragonal Na3PS4)");
    pub(crate) const MODULUS: Field = Field::material("powder.nps.youngs_modulus_gpa", above(0.0, "GPa"), cc(1.0, 200.0, "GPa"), GPA, "Young's modulus of NPS");
    pub(crate) const POISSON: Field = Field::num("powder.nps.poisson", co(0.0, 0.5, ""), 1.0, "Poisson's ratio of NPS");
    pub(crate) const YIELD: Field = Field::material("powder.nps.yield_pressure_mpa", above(0.0, "MPa"), oc(0.0, 5000.0, "MPa"), MPA, "contact yield pressure (hardness) of NPS");
    pub(crate) const RESTITUTION: Field = Field::num("powder.nps.restitution", oc(0.0, 1.0, ""), 1.0, "coefficient of restitution of NPS impacts");
    pub(crate) const FRICTION: Field = Field::num("powder.nps.friction", cc(0.0, 2.0, ""), 1.0, "sliding friction");
    pub(crate) const ROLLING: Field = Field::num("powder.nps.rolling_friction", cc(0.0, 1.0, ""), 1.0, "rolling-resistance coefficient");
    pub(crate) const SURFACE_ENERGY: Field = Field::material("powder.nps.surface_energy_j_m2", at_least(0.0, "J/m²"), cc(0.0, 1.0, "J/m²"), 1.0, "work of adhesion of NPS contacts");
    pub(crate) const SIGMA_ION: Field = Field::material("powder.nps.sigma_ion_bulk_s_cm", above(0.0, "S/cm"), oc(0.0, 1.0, "S/cm"), S_CM, "bulk Na+ conductivity of an NPS grain");
    pub(crate) const SIGMA_E: Field = Field::material("powder.nps.sigma_e_s_cm", above(0.0, "S/cm"), oc(0.0, 1e-3, "S/cm"), S_CM, "electronic conductivity of NPS");
}

/// `powder.ptfe`.
pub(super) mod ptfe {
    use super::*;
    pub(crate) const WT_PCT: Field = Field::num("powder.ptfe.wt_pct", co(0.0, 100.0, "wt%"), 1.0, "PTFE loading as percent of the total solid mass");
    pub(crate) const DENSITY: Field = Field::material("powder.ptfe.density_kg_m3", above(0.0, "kg/m³"), cc(500.0, 20000.0, "kg/m³"), 1.0, "true density of PTFE (about 2200 kg/m³)");
    pub(crate) const FIBRIL_YIELD: Field = Field::material("powder.ptfe.fibril_yield_mpa", above(0.0, "MPa"), oc(0.0, 500.0, "MPa"), MPA, "drawing yield stress of a PTFE fibril");
    pub(crate) const FIBRIL_STRENGTH: Field = Field::material("powder.ptfe.fibril_strength_mpa", above(0.0, "MPa"), oc(0.0, 5000.0, "MPa"), MPA, "breaking true stress of a PTFE fibril");
    pub(crate) const LUMP_DIAMETER: Field = Field::num("powder.ptfe.lump_diameter_um", cc(0.2, 20.0, "µm"), UM, "diameter of a PTFE agglomerate");
    pub(crate) const MODULUS: Field = Field::material("powder.ptfe.youngs_modulus_gpa", above(0.0, "GPa"), cc(0.05, 5.0, "GPa"), GPA, "Young's modulus of bulk PTFE (about 0.5 GPa)");
    pub(crate) const POISSON: Field = Field::num("powder.ptfe.poisson", co(0.0, 0.5, ""), 1.0, "Poisson's ratio of PTFE");
    pub(crate) const FIBRIL_RADIUS: Field = Field::num("powder.ptfe.fibril_radius_nm", cc(5.0, 500.0, "nm"), NM, "radius of a freshly drawn fibril");
    pub(crate) const RATE: Field = Field::num("powder.ptfe.fibrillation_rate", cc(0.0, 1000.0, ""), 1.0, "fraction of a lump's remaining PTFE drawn per unit local shear strain");
    pub(crate) const DRAWING_ENERGY: Field = Field::num("powder.ptfe.fibrillation_energy_mj_m3", cc(0.1, 10000.0, "MJ/m³"), MPA, "contact work per unit PTFE volume drawn into fibrils");
    pub(crate) const PER_BUNDLE: Field = Field::num("powder.ptfe.fibrils_per_bundle", cc(1.0, 10000.0, ""), 1.0, "real fibrils per model fibril (bundle multiplicity)");
    pub(crate) const ANCHOR: Field = Field::material("powder.ptfe.anchor_strength_n_m", above(0.0, "N/m"), oc(0.0, 100.0, "N/m"), 1.0, "anchor detachment force per unit fibril circumference");
    pub(crate) const BRIDGE: Field = Field::num("powder.ptfe.bridge_strength_mpa", cc(0.0, 200.0, "MPa"), MPA, "tensile strength of the PTFE bridging a covered NPS contact");
    pub(crate) const DAMPING: Field = Field::num("powder.ptfe.fibril_damping_ratio", cc(0.0, 1.0, ""), 1.0, "damping ratio of a taut fibril bundle's axial dashpot");
    pub(crate) const WRAP: Field = Field::num("powder.ptfe.wrap_fraction", cc(0.0, 1.0, ""), 1.0, "fraction of a grain's circumference a fibril strand wraps");
    pub(crate) const REDUCED_SIGMA_E: Field = Field::material("powder.ptfe.reduced_sigma_e_s_cm", above(0.0, "S/cm"), oc(0.0, 1e3, "S/cm"), S_CM, "electronic conductivity of PTFE reduced to carbon");
}

/// `domain`.
pub(super) mod domain {
    use super::*;
    pub(crate) const LX: Field = Field::num("domain.lx_um", cc(5.0, 2000.0, "µm"), UM, "box length along MD (x)");
    pub(crate) const LY: Field = Field::num("domain.ly_um", cc(5.0, 2000.0, "µm"), UM, "box length along TD (y)");
    pub(crate) const MASS_LOADING: Field = Field::num("domain.mass_loading_mg_cm2", oc(0.0, 500.0, "mg/cm²"), MG_CM2, "solid mass per film area; sets how much powder the box holds");
    pub(crate) const SOLID_FRACTION: Field = Field::num("domain.initial_solid_fraction", cc(0.05, 0.5, ""), 1.0, "solid fraction of the initial random packing");
}

/// Temperatures: above absolute zero, below PTFE melting.
const TEMPERATURE: Range = oo(-ZERO_C, PTFE_MELT_C, "°C");

/// `mixing`.
pub(super) mod mixing {
    use super::*;
    pub(crate) const SHEAR_RATE: Field = Field::num("mixing.shear_rate_per_s", oc(0.0, 1e6, "1/s"), 1.0, "mixing shear rate");
    pub(crate) const SHEAR_STRAIN: Field = Field::num("mixing.shear_strain", cc(0.0, 100.0, ""), 1.0, "total mixing shear strain");
    pub(crate) const PRESSURE: Field = Field::num("mixing.confining_pressure_kpa", oc(0.0, 1e5, "kPa"), KPA, "confining pressure on the top wall while mixing");
}

/// `fibrillation`.
pub(super) mod fibrillation {
    use super::*;
    pub(crate) const TEMPERATURE: Field = Field::num("fibrillation.temperature_c", super::TEMPERATURE, 1.0, "fibrillation temperature: above absolute zero (−273.15 °C), below PTFE melting (327 °C)");
    pub(crate) const SHEAR_RATE: Field = Field::num("fibrillation.shear_rate_per_s", oc(0.0, 1e6, "1/s"), 1.0, "fibrillation shear rate");
    pub(crate) const SHEAR_STRAIN: Field = Field::num("fibrillation.shear_strain", cc(0.0, 100.0, ""), 1.0, "total fibrillation shear strain");
    pub(crate) const DIRECTION: Field = Field::num("fibrillation.shear_direction_deg", co(0.0, 180.0, "°"), 1.0, "in-plane shear direction from MD");
    pub(crate) const PROCESS_STRAIN: Field = Field::num("fibrillation.process_strain", cc(0.0, 1e5, ""), 1.0, "total shear strain of the real fibrillation process");
    pub(crate) const PRESSURE: Field = Field::num("fibrillation.confining_pressure_kpa", oc(0.0, 1e5, "kPa"), KPA, "confining pressure while fibrillating");
}

/// `calender`.
pub(super) mod calender {
    use super::*;
    pub(crate) const TARGET: Field = Field::num("calender.target_thickness_um", cc(5.0, 5000.0, "µm"), UM, "free-standing film thickness after the last pass");
    pub(crate) const STRAIN_RATE: Field = Field::num("calender.strain_rate_per_s", oc(0.0, 1e6, "1/s"), 1.0, "through-thickness strain rate imposed by the rolls");
    pub(crate) const ROLL_TEMPERATURE: Field = Field::num("calender.roll_temperature_c", super::TEMPERATURE, 1.0, "roll temperature: above absolute zero (−273.15 °C), below PTFE melting (327 °C)");
    pub(crate) const MD_EXPONENT: Field = Field::num("calender.md_elongation_exponent", cc(0.0, 1.0, ""), 1.0, "fraction of each pass's thinning that elongates the film along MD");
    pub(crate) const GAP: Field = Field::num("calender.gaps[i]", above(0.0, "µm"), UM, "roll gap of a calender pass");
    pub(crate) const GAP_START: Field = Field::num("calender.gaps.start_um", above(0.0, "µm"), UM, "first roll gap");
    pub(crate) const GAP_FINAL: Field = Field::num("calender.gaps.final_um", above(0.0, "µm"), UM, "last roll gap");
}

/// `pellet`.
pub(super) mod pellet {
    use super::*;
    pub(crate) const PRESSURE: Field = Field::num("pellet.pressure_mpa", oc(0.0, 2000.0, "MPa"), MPA, "peak pellet pressing pressure");
    pub(crate) const STRAIN_RATE: Field = Field::num("pellet.strain_rate_per_s", oc(0.0, 1e6, "1/s"), 1.0, "compressive strain rate of pellet pressing");
}

/// `properties`.
pub(super) mod properties {
    use super::*;
    pub(crate) const VOXEL: Field = Field::num("properties.voxel_size_um", cc(0.05, 10.0, "µm"), UM, "voxel size of the voxel solve");
    pub(crate) const STRAIN_STEP: Field = Field::num("properties.tensile_strain_step", oc(0.0, 0.05, ""), 1.0, "tensile strain increment per step");
    pub(crate) const TOLERANCE: Field = Field::num("properties.solver_tolerance", cc(1e-14, 1e-3, ""), 1.0, "relative tolerance of the conjugate-gradient solves");
}

/// `numerics`.
pub(super) mod numerics {
    use super::*;
    pub(crate) const RAYLEIGH: Field = Field::num("numerics.rayleigh_fraction", oc(0.0, 0.5, ""), 1.0, "time step as a fraction of the Rayleigh time");
    pub(crate) const MASS_SCALING: Field = Field::num("numerics.mass_scaling", cc(1.0, 1e12, ""), 1.0, "mass scaling factor");
    pub(crate) const SKIN: Field = Field::num("numerics.skin_fraction", oc(0.0, 1.0, ""), 1.0, "neighbour-list skin as a fraction of the smallest diameter");
    pub(crate) const LOCAL_DAMPING: Field = Field::num("numerics.relax_local_damping", co(0.0, 1.0, ""), 1.0, "local damping coefficient while a released film relaxes");
    pub(crate) const DAMPING_STEPS: Field = Field::num("numerics.relax_damping_steps", cc(0.0, 1e9, "steps"), 1.0, "viscous damping time of the relaxation, in time steps (0 = off)");
    pub(crate) const KINETIC_TOL: Field = Field::num("numerics.relax_kinetic_tolerance", oc(0.0, 1.0, ""), 1.0, "kinetic energy of a film at rest, as a fraction of its stage's external work");
    pub(crate) const FORCE_TOL: Field = Field::num("numerics.relax_force_tolerance", oc(0.0, 1.0, ""), 1.0, "unbalanced-force ratio of a film at rest");
    pub(crate) const INERTIAL: Field = Field::num("numerics.max_inertial_number", oc(0.0, 1.0, ""), 1.0, "largest inertial number accepted as quasi-static");
}

/// `output`.
pub(super) mod output {
    use super::*;
    pub(crate) const PX_PER_UM: Field = Field::num("output.px_per_um", cc(0.5, 50.0, "px/µm"), 1.0, "image resolution");
    pub(crate) const SLICE: Field = Field::num("output.slice_fractions[i]", cc(0.0, 1.0, ""), 1.0, "slice position as a fraction of the box");
}
