//! The run settings: property solvers, numerics and output.

use super::checker::*;
use super::*;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// `properties`.
pub(super) fn properties(c: &mut Checker<'_>, pr: &RawProperties) -> Properties {
    Properties {
        voxel_size: c.num(
            "properties.voxel_size_um",
            pr.voxel_size_um,
            cc(0.05, 10.0, "µm"),
            UM,
            "voxel size of the voxel solve",
        ),
        tensile: pr.tensile,
        tensile_strain_step: c.num(
            "properties.tensile_strain_step",
            pr.tensile_strain_step,
            oc(0.0, 0.05, ""),
            1.0,
            "tensile strain increment per step",
        ),
        solver_tolerance: c.num(
            "properties.solver_tolerance",
            pr.solver_tolerance,
            cc(1e-14, 1e-3, ""),
            1.0,
            "relative tolerance of the conjugate-gradient solves",
        ),
    }
}

/// `numerics`.
pub(super) fn numerics(c: &mut Checker<'_>, nu: &RawNumerics) -> Numerics {
    c.num(
        "numerics.rayleigh_fraction",
        nu.rayleigh_fraction,
        oc(0.0, 0.5, ""),
        1.0,
        "time step as a fraction of the Rayleigh time",
    );
    c.num(
        "numerics.mass_scaling",
        nu.mass_scaling,
        cc(1.0, 1e12, ""),
        1.0,
        "mass scaling factor",
    );
    c.num(
        "numerics.skin_fraction",
        nu.skin_fraction,
        oc(0.0, 1.0, ""),
        1.0,
        "neighbour-list skin as a fraction of the smallest diameter",
    );
    c.num(
        "numerics.max_inertial_number",
        nu.max_inertial_number,
        oc(0.0, 1.0, ""),
        1.0,
        "largest inertial number accepted as quasi-static",
    );
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
    let px_per_um = c.num(
        "output.px_per_um",
        o.px_per_um,
        cc(0.5, 50.0, "px/µm"),
        1.0,
        "image resolution",
    );
    for (i, &s) in o.slice_fractions.iter().enumerate() {
        c.num(
            &format!("output.slice_fractions[{i}]"),
            s,
            cc(0.0, 1.0, ""),
            1.0,
            "slice position as a fraction of the box",
        );
    }
    Output {
        images: o.images,
        px_per_um,
        slice_fractions: o.slice_fractions.clone(),
        exports: o.exports,
    }
}
