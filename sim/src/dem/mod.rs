//! Discrete-element core.
