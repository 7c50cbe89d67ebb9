//! tensile solver.
