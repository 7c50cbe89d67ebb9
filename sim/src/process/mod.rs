//! Process stages: particle generation, mixing, fibrillation, calendering, pellet pressing.
pub mod coverage;
pub mod film;
pub mod packing;
