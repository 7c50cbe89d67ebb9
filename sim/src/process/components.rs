//! The process's ECS types: fibril entities ([`FibrilC`]), the active stage (a resource the
//! stage systems' run conditions read), the process error and the progress callback.

use crate::dem::fibril_law::FibrilLawState;
use crate::dem::DemError;
use crate::snapshot::{Anchor, FibrilState};
use bevy_ecs::prelude::*;

/// Errors of the process.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The DEM step failed.
    #[error(transparent)]
    Dem(#[from] DemError),
    /// The initial packing failed.
    #[error(transparent)]
    Packing(#[from] crate::geom::packing::PackingError),
    /// Something about the set-up is impossible.
    #[error("{0}")]
    Setup(String),
}

/// A fibril as an ECS component.
#[derive(Component, Debug, Clone, Copy)]
pub struct FibrilC {
    /// Index in creation order (stable id).
    pub id: u32,
    /// End A.
    pub a: Anchor,
    /// End B.
    pub b: Anchor,
    /// PTFE source particle.
    pub source: u32,
    /// Periodic image of the bundle, box lengths (x, y): the chord runs from anchor A to anchor B
    /// with B's unwrapped position taken `shift` boxes further (the grains' image counters,
    /// `ParticleState::image`, account for their own wraps). Set to the nearest image when the
    /// bundle is drawn and kept, so a bundle longer than half the box stays on its own image.
    pub shift: [i32; 2],
    /// Bond-law state of one strand (rest length m, radius m).
    pub law: FibrilLawState,
    /// Parallel strands in this model fibril (bundle multiplicity, dimensionless ≥ 1): volume and
    /// force are `count` times the single strand's.
    pub count: f64,
    /// Current tension of the whole bundle, N.
    pub tension: f64,
    /// Current length, m.
    pub length: f64,
    /// Intact, broken or detached.
    pub state: FibrilState,
}

/// Which stage is running (a resource; stage systems have run conditions on it).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveStage {
    /// No process stage (plain DEM).
    Idle,
    /// Low-shear mixing.
    Mixing,
    /// A shear stage bringing the packing to its confining pressure before it shears: fibril
    /// forces act, nothing is drawn and no fibrillation strain accrues.
    Settle,
    /// High-shear fibrillation.
    Fibrillation,
    /// Calendering.
    Calender,
    /// Pellet pressing.
    Pellet,
}

/// Progress callback: (stage, done fraction 0..1).
pub type Progress<'a> = &'a (dyn Fn(&str, f64) + Sync);
