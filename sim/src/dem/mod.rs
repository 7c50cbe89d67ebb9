//! Discrete-element core.
pub mod fibril_law;
