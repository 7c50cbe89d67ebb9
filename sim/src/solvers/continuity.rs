//! continuity solver.
