//! The film (and pellet) process on the DEM core: particle generation, mixing, fibrillation,
//! calendering, pellet pressing, and the snapshot of the result. The model is documented in
//! `docs/model.md`; the equations are repeated next to the code that uses them.
//!
//! - [`sim`]: the process simulation [`FilmSim`] (set-up, the step runner, quasi-static rates).
//! - [`stages`]: mixing, fibrillation, calendering and pellet pressing, each a sequence of phases.
//! - [`control`]: the stage driver's system: the running phase, its wall actions and end criterion.
//! - [`fibrillation_law`]: how sheared PTFE lumps draw fibrils ([`PtfeSources`]).
//! - [`fibril_forces`]: fibril tensions on the grains (the bond law of `dem::fibril_law`).
//! - [`crossings`]: fibril–fibril contacts.
//! - [`energy`]: the energy ledger of a stage or pass (marks, report, closure error).
//! - [`measure`]: thickness, density, fibril statistics, stage and pass reports.
//! - [`extract`]: the [`Snapshot`](crate::snapshot::Snapshot) of the current state.
//! - [`materials`]: the material table; [`components`]: the ECS types.
//!
//! Fibrils are ECS entities ([`FibrilC`]) anchored to particles; their tensions are computed in the
//! step's `PreForce` slot (into the engine's external-force array, summed in entity order), and
//! fibril drawing from PTFE sources runs in `EndOfStep`, both with run conditions on the active stage.

pub mod components;
pub mod control;
pub mod crossings;
pub mod energy;
pub mod extract;
pub mod fibril_forces;
pub mod fibrillation_law;
pub mod materials;
pub mod measure;
pub mod sim;
pub mod stages;

pub use components::{ActiveStage, FibrilC, ProcessError, Progress};
pub use control::{PhaseControl, PhaseRecord, QuasiStatic, Rest, RollClose, StagePhase};
pub use crossings::{fibril_crossings, segment_distance};
pub use energy::{EnergyMark, EnergyReport};
pub use fibril_forces::FIBRIL_HOLD_PHASE;
pub use fibrillation_law::{
    critical_fibrillation_strain, work_volume_due, FibrillationDrive, PtfeSources, TOUCH_MEMORY,
};
pub use materials::Material;
pub use measure::{PassReport, StageSummary};
pub use sim::{draw_nps_diameters, stream_seed, FilmSim};

pub(crate) use control::{phase_control, phase_running};
pub(crate) use fibril_forces::{
    anchor_pos, fibril_forces, fibril_vector, hold_phase, new_fibril_shift,
};
pub(crate) use fibrillation_law::{draw_fibrils, resize_lump};
pub(crate) use materials::pair_table;
