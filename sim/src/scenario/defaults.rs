//! The one place where scenario defaults live. `docs/scenario-reference.md` is checked against these
//! values by a test, so change both together.

use super::raw::*;

/// Default fraction of a grain's circumference a fibril strand wraps before it leaves the grain,
/// dimensionless (an 18° arc; `powder.ptfe.wrap_fraction`, docs/model.md "PTFE at contacts").
pub const DEFAULT_WRAP_FRACTION: f64 = 0.05;

impl Default for RawScenario {
    fn default() -> Self {
        Self {
            name: "unnamed".into(),
            seed: 1,
            product: RawProduct::Film,
            powder: RawPowder::default(),
            domain: RawDomain::default(),
            mixing: RawMixing::default(),
            fibrillation: RawFibrillation::default(),
            calender: RawCalender::default(),
            pellet: RawPellet::default(),
            properties: RawProperties::default(),
            numerics: RawNumerics::default(),
            output: RawOutput::default(),
        }
    }
}

// Written out although derivable: every default lives visibly in this one file.
#[allow(clippy::derivable_impls)]
impl Default for RawPowder {
    fn default() -> Self {
        Self {
            nps: RawNps::default(),
            ptfe: RawPtfe::default(),
            allow_implausible: false,
        }
    }
}

impl Default for RawNps {
    fn default() -> Self {
        Self {
            d50_um: 5.0,
            gsd: 1.5,
            d_min_um: 2.0,
            d_max_um: 12.0,
            density_kg_m3: 2210.0,
            youngs_modulus_gpa: 20.0,
            poisson: 0.3,
            yield_pressure_mpa: 400.0,
            restitution: 0.5,
            friction: 0.5,
            rolling_friction: 0.05,
            surface_energy_j_m2: 0.571,
            sigma_ion_bulk_s_cm: 4.56e-4,
            sigma_e_s_cm: 1.0e-9,
        }
    }
}

impl Default for RawPtfe {
    fn default() -> Self {
        Self {
            wt_pct: 1.0,
            lump_diameter_um: 2.0,
            density_kg_m3: 2200.0,
            youngs_modulus_gpa: 0.5,
            poisson: 0.46,
            fibril_radius_nm: 50.0,
            fibrillation_rate: 1.2,
            fibrillation_driver: FibrillationDriver::Strain,
            fibrillation_energy_mj_m3: 50.0,
            fibrils_per_bundle: 1.0,
            fibril_yield_mpa: 110.0,
            fibril_strength_mpa: 180.0,
            anchor_strength_n_m: 4.5,
            bridge_strength_mpa: 14.0,
            wrap_fraction: DEFAULT_WRAP_FRACTION,
            fibril_damping_ratio: 0.05,
            reduced_sigma_e_s_cm: 0.1,
        }
    }
}

impl Default for RawDomain {
    fn default() -> Self {
        Self {
            lx_um: 100.0,
            ly_um: 100.0,
            mass_loading_mg_cm2: 22.0,
            initial_solid_fraction: 0.3,
        }
    }
}

impl Default for RawMixing {
    fn default() -> Self {
        Self {
            shear_rate_per_s: 1000.0,
            shear_strain: 1.0,
            confining_pressure_kpa: 50.0,
        }
    }
}

impl Default for RawFibrillation {
    fn default() -> Self {
        Self {
            temperature_c: 90.0,
            shear_rate_per_s: 2000.0,
            shear_strain: 3.0,
            shear_direction_deg: 0.0,
            confining_pressure_kpa: 200.0,
            process_strain: 300.0,
        }
    }
}

impl Default for RawGapSchedule {
    fn default() -> Self {
        RawGapSchedule::Geometric {
            start_um: 250.0,
            final_um: 110.0,
            passes: 4,
        }
    }
}

impl Default for RawCalender {
    fn default() -> Self {
        Self {
            gaps: RawGapSchedule::default(),
            target_thickness_um: 125.0,
            strain_rate_per_s: 5000.0,
            roll_temperature_c: 25.0,
            md_elongation_exponent: 0.3,
            turn_90_between_passes: false,
        }
    }
}

impl Default for RawPellet {
    fn default() -> Self {
        Self {
            pressure_mpa: 370.0,
            strain_rate_per_s: 5000.0,
        }
    }
}

impl Default for RawProperties {
    fn default() -> Self {
        Self {
            voxel_size_um: 0.5,
            tensile: true,
            tensile_strain_step: 0.002,
            tensile_mechanics: TensileMechanics::Reduced,
            solver_tolerance: 1e-10,
        }
    }
}

impl Default for RawNumerics {
    fn default() -> Self {
        Self {
            rayleigh_fraction: 0.2,
            mass_scaling: 1.0e4,
            skin_fraction: 0.2,
            max_inertial_number: 2.0e-2,
            relax_steps: 100_000,
            fibril_force_interval: 1,
            relax_local_damping: 0.7,
            relax_damping_steps: 1000.0,
            relax_kinetic_tolerance: 1e-6,
            relax_force_tolerance: 1e-3,
        }
    }
}

impl Default for RawOutput {
    fn default() -> Self {
        Self {
            images: true,
            px_per_um: 4.0,
            slice_fractions: vec![0.5],
            exports: true,
        }
    }
}
