//! network solver.
