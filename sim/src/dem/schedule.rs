//! The bevy_ecs schedule of one DEM step.
//!
//! The step's system sets are named after the integrator's slots and chained in this order:
//! [`StepSet::InitialIntegrate`] → [`StepSet::NeighbourRebuild`] → [`StepSet::PreForce`] →
//! [`StepSet::Force`] → [`StepSet::PostForce`] → [`StepSet::FinalIntegrate`] → [`StepSet::EndOfStep`]
//! → [`StepSet::Control`].
//! The core systems live in `InitialIntegrate`, `NeighbourRebuild`, `Force` and `FinalIntegrate`;
//! process stages add theirs to `PreForce` (e.g. fibril tensions into the external-force array),
//! `PostForce` (wall servo, rolls), `EndOfStep` (breakage, fibril drawing, checks) and `Control`
//! (the stage driver: the running phase's wall actions and end criterion), with run conditions on
//! the active stage and phase. The core step never mentions stages.

use super::engine::{Dem, DemError};
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleLabel, SingleThreadedExecutor};

/// The DEM state as an ECS resource.
#[derive(Resource)]
pub struct DemWorld(pub Dem);

/// The first error raised in the step, if any; the driver stops the run when it is set.
#[derive(Resource, Default)]
pub struct StepError(pub Option<DemError>);

impl StepError {
    /// Runs `slot` unless an earlier slot of this step failed, and keeps its error.
    fn record(&mut self, slot: impl FnOnce() -> Result<(), DemError>) {
        if self.0.is_none() {
            if let Err(e) = slot() {
                self.0 = Some(e);
            }
        }
    }
}

/// Label of the one-step schedule.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct DemStep;

/// The slots of a velocity-Verlet step, in execution order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepSet {
    /// Half-kick and drift of positions and orientations.
    InitialIntegrate,
    /// Verlet-list rebuild when the skin is exceeded.
    NeighbourRebuild,
    /// External forces before contacts (fibril tensions, body forces).
    PreForce,
    /// Contact forces (pairs and walls) and their gather.
    Force,
    /// Wall servos and anything that needs the contact forces.
    PostForce,
    /// Closing half-kick and finiteness check.
    FinalIntegrate,
    /// Breakage, bookkeeping, checks.
    EndOfStep,
    /// Control of the running stage: its phase's actions on the walls and end criterion, after
    /// everything else of the step.
    Control,
}

fn initial_integrate(mut dem: ResMut<DemWorld>, err: Res<StepError>) {
    if err.0.is_none() {
        dem.0.initial_integrate();
    }
}

fn neighbour_rebuild(mut dem: ResMut<DemWorld>, mut err: ResMut<StepError>) {
    err.record(|| dem.0.maybe_rebuild().map(|_| ()));
}

fn force(mut dem: ResMut<DemWorld>, err: Res<StepError>) {
    if err.0.is_none() {
        dem.0.compute_forces();
        dem.0.apply_local_damping();
    }
}

fn final_integrate(mut dem: ResMut<DemWorld>, mut err: ResMut<StepError>) {
    err.record(|| dem.0.final_integrate());
}

/// Build the one-step schedule with the core systems in their slots. Stages add their own systems
/// with `schedule.add_systems(my_system.in_set(StepSet::PreForce).run_if(...))`.
pub fn step_schedule() -> Schedule {
    let mut s = Schedule::new(DemStep);
    s.set_executor(SingleThreadedExecutor::new());
    s.configure_sets(
        (
            StepSet::InitialIntegrate,
            StepSet::NeighbourRebuild,
            StepSet::PreForce,
            StepSet::Force,
            StepSet::PostForce,
            StepSet::FinalIntegrate,
            StepSet::EndOfStep,
            StepSet::Control,
        )
            .chain(),
    );
    s.add_systems((
        initial_integrate.in_set(StepSet::InitialIntegrate),
        neighbour_rebuild.in_set(StepSet::NeighbourRebuild),
        force.in_set(StepSet::Force),
        final_integrate.in_set(StepSet::FinalIntegrate),
    ));
    s
}

/// Run `steps` steps of `schedule` on `world`, stopping at the first error.
pub fn run_steps(world: &mut World, schedule: &mut Schedule, steps: u64) -> Result<(), DemError> {
    // The other workers stay awake between the step's parallel loops (see `crate::par`).
    crate::par::with_hot_workers(|| {
        for _ in 0..steps {
            schedule.run(world);
            if let Some(e) = world.resource_mut::<StepError>().0.take() {
                return Err(e);
            }
        }
        Ok(())
    })
}

/// A world holding `dem` and an empty error slot.
pub fn world_with(dem: Dem) -> World {
    let mut w = World::new();
    w.insert_resource(DemWorld(dem));
    w.insert_resource(StepError::default());
    w
}
