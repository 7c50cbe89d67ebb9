//! Discrete-element core.
//!
//! - [`bond`]: loads of a bond between anchor points on two rigid spheres (forces, moments,
//!   axial dashpot; pure kernel).
//! - [`coverage`]: the PTFE coverage of an NPS contact (pure kernel).
//! - [`contact`]: pure contact kernels (Hertz, Thornton elastoplastic, Mindlin, damping, rolling
//!   resistance, DMT adhesion) with their equations and sources.
//! - [`engine`]: particle arrays, walls, velocity-Verlet pieces, neighbour rebuild, force loop.
//! - [`pairs`]: the Verlet pair list with contact history, stored hot/cold split.
//! - [`relax`]: kinetic energy, unbalanced-force ratio, relaxation damping, drift removal.
//! - [`schedule`]: the bevy_ecs schedule that runs one step in the integrator's slots
//!   ([`schedule::StepSet`]), into which process stages plug their systems.
//! - [`ledger`]: the energy ledger (work of the walls, elastic energy of the contacts,
//!   dissipation by kind).
//! - [`lammps`]: reader for LAMMPS/LIGGGHTS `atom_style sphere` data files (plain or gzipped).
//! - [`bench`]: the DEM anchor benchmark problem.
pub mod bench;
pub mod bond;
pub mod contact;
pub mod coverage;
pub mod engine;
pub mod fibril_law;
pub mod forces;
pub mod lammps;
pub mod ledger;
pub mod neighbours;
pub mod pair_kernel;
pub mod pairs;
pub mod relax;
pub mod schedule;
pub(crate) mod search;
pub mod state;

pub use engine::{Dem, DemError, ParticleState, WallDrive};
