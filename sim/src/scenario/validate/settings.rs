//! The run settings: property solvers, numerics and output.

use super::checker::*;
use super::fields::*;
use super::*;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// `properties`.
pub(super) fn properties(c: &mut Checker<'_>, pr: &RawProperties) -> Properties {
    Properties {
        voxel_size: c.check(&properties::VOXEL, pr.voxel_size_um),
        tensile: pr.tensile,
        tensile_strain_step: c.check(&properties::STRAIN_STEP, pr.tensile_strain_step),
        tensile_mechanics: pr.tensile_mechanics,
        solver_tolerance: c.check(&properties::TOLERANCE, pr.solver_tolerance),
    }
}

/// `numerics`.
pub(super) fn numerics(c: &mut Checker<'_>, nu: &RawNumerics) -> Numerics {
    c.check(&numerics::RAYLEIGH, nu.rayleigh_fraction);
    c.check(&numerics::MASS_SCALING, nu.mass_scaling);
    c.check(&numerics::SKIN, nu.skin_fraction);
    c.check(&numerics::INERTIAL, nu.max_inertial_number);
    c.check(&numerics::LOCAL_DAMPING, nu.relax_local_damping);
    c.check(&numerics::DAMPING_STEPS, nu.relax_damping_steps);
    c.check(&numerics::KINETIC_TOL, nu.relax_kinetic_tolerance);
    c.check(&numerics::FORCE_TOL, nu.relax_force_tolerance);
    if !(1..=MAX_FIBRIL_FORCE_INTERVAL).contains(&nu.fibril_force_interval) {
        c.push(
            ErrorKind::OutOfRange,
            "numerics.fibril_force_interval",
            nu.fibril_force_interval.to_string(),
            format!("an integer in [1, {MAX_FIBRIL_FORCE_INTERVAL}]"),
            "time steps between fibril-force evaluations",
        );
    }
    nu.clone()
}

/// `output`.
pub(super) fn output(c: &mut Checker<'_>, o: &RawOutput) -> Output {
    let px_per_um = c.check(&output::PX_PER_UM, o.px_per_um);
    for (i, &s) in o.slice_fractions.iter().enumerate() {
        c.check_at(&output::SLICE, &format!("output.slice_fractions[{i}]"), s);
    }
    Output {
        images: o.images,
        px_per_um,
        slice_fractions: o.slice_fractions.clone(),
        exports: o.exports,
    }
}
