//! The DEM state other than the engine: particle arrays (structure of arrays), walls and their
//! drives, and the engine's errors.

use super::contact::{ContactSpring, PlasticState};
use glam::{DQuat, DVec3};

/// Wall state bit: the bottom-wall history of the particle may be non-default.
pub(crate) const WALL_BOTTOM: u8 = 1;
/// Wall state bit: the top-wall history of the particle may be non-default.
pub(crate) const WALL_TOP: u8 = 2;

/// Per-particle state, structure of arrays (all vectors have the same length).
#[derive(Debug, Clone, Default)]
pub struct ParticleState {
    /// Positions, m.
    pub pos: Vec<DVec3>,
    /// Velocities, m/s.
    pub vel: Vec<DVec3>,
    /// Angular velocities, rad/s.
    pub omega: Vec<DVec3>,
    /// Orientations (body → world).
    pub quat: Vec<DQuat>,
    /// Forces of the current step, N.
    pub force: Vec<DVec3>,
    /// Torques of the current step, N·m.
    pub torque: Vec<DVec3>,
    /// Radii, m.
    pub radius: Vec<f64>,
    /// Masses (after mass scaling), kg.
    pub mass: Vec<f64>,
    /// Material index into the pair table.
    pub material: Vec<u8>,
    /// Positions at the last neighbour rebuild, m.
    pub pos_at_build: Vec<DVec3>,
    /// Periodic image counters (x, y): how many box lengths each particle has been wrapped back by,
    /// so that `pos + image · (lx, ly)` is its unwrapped position, m (LAMMPS's image flags).
    /// Bonds (fibrils) use them to stay on one periodic image whatever their length.
    pub image: Vec<[i32; 2]>,
    /// Loads added every step on top of the contacts (fibril tensions gathered by a stage).
    pub ext: ExternalLoads,
}

/// Per-particle loads added to the contact forces every step, structure of arrays.
#[derive(Debug, Clone, Default)]
pub struct ExternalLoads {
    /// Forces, N.
    pub force: Vec<DVec3>,
    /// Moments about the particles' centres (fibril tensions acting at their anchors), N·m.
    pub torque: Vec<DVec3>,
}
impl ParticleState {
    /// Number of particles.
    pub fn len(&self) -> usize {
        self.pos.len()
    }
    /// True when there are no particles.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }
    /// Add a particle at rest; returns its index.
    pub fn push(&mut self, pos: DVec3, radius: f64, mass: f64, material: u8) -> usize {
        self.pos.push(pos);
        self.vel.push(DVec3::ZERO);
        self.omega.push(DVec3::ZERO);
        self.quat.push(DQuat::IDENTITY);
        self.force.push(DVec3::ZERO);
        self.torque.push(DVec3::ZERO);
        self.radius.push(radius);
        self.mass.push(mass);
        self.material.push(material);
        self.pos_at_build.push(pos);
        self.ext.force.push(DVec3::ZERO);
        self.ext.torque.push(DVec3::ZERO);
        self.image.push([0, 0]);
        self.pos.len() - 1
    }
}
/// How a wall moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WallDrive {
    /// Prescribed velocity, m/s (z component moves the wall; x, y components shear).
    Velocity(DVec3),
    /// Servo on the total normal force: the wall moves to hold `pressure` (Pa) on the box area,
    /// at most `max_speed` (m/s); `shear` is its in-plane velocity, m/s.
    Pressure {
        /// Target pressure, Pa.
        pressure: f64,
        /// Speed limit, m/s.
        max_speed: f64,
        /// In-plane velocity, m/s.
        shear: DVec3,
    },
}
/// Per-particle wall contact history.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallHistory {
    /// Tangential and rolling springs.
    pub spring: ContactSpring,
    /// Plastic history.
    pub plastic: PlasticState,
    /// Contact radius, m (0 when not touching).
    pub contact_radius: f64,
    /// Normal force on the particle, N (positive pushes it away from the wall).
    pub normal_force: f64,
}
/// The two z walls.
#[derive(Debug, Clone)]
pub struct Walls {
    /// Bottom wall height, m.
    pub z_bottom: f64,
    /// Top wall height, m.
    pub z_top: f64,
    /// Bottom wall velocity (in-plane only; the bottom wall never moves in z), m/s.
    pub bottom_vel: DVec3,
    /// Top wall drive.
    pub top_drive: WallDrive,
    /// Current top-wall velocity, m/s.
    pub top_vel: DVec3,
    /// Whether the top wall exists (false: free surface).
    pub top_active: bool,
    /// Material index of the walls in the pair table.
    pub material: u8,
    /// Per-particle bottom-wall history.
    pub bottom: Vec<WallHistory>,
    /// Per-particle top-wall history.
    pub top: Vec<WallHistory>,
    /// Total z force exerted by particles on the top wall (positive pushes it up), N.
    pub top_force: f64,
    /// Total z force exerted by particles on the bottom wall (positive pushes it down), N.
    pub bottom_force: f64,
    /// Exponential moving average of `top_force` over ~100 steps, N (what the servo controls).
    pub top_force_avg: f64,
    /// Per particle: [`WALL_BOTTOM`] / [`WALL_TOP`] set where that wall history may differ from
    /// the default (the contact kernel ran at the last evaluation). A clear bit guarantees a default
    /// history, so particles away from the walls are skipped without reading their history.
    pub(crate) state: Vec<u8>,
}
impl Walls {
    /// Rotate every wall contact spring by `q` (used when the whole packing is turned).
    pub fn rotate_history(&mut self, q: DQuat) {
        for (k, st) in self.state.iter().enumerate() {
            if st & WALL_BOTTOM != 0 {
                self.bottom[k].spring = self.bottom[k].spring.rotated(q);
            }
            if st & WALL_TOP != 0 {
                self.top[k].spring = self.top[k].spring.rotated(q);
            }
        }
    }
}
/// Errors of the DEM step.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DemError {
    /// A non-finite position or velocity appeared.
    #[error("non-finite state of particle {particle} at step {step} (stage {stage}): position {pos:?}, velocity {vel:?}; the time step is probably too large for the contact stiffness")]
    NonFinite {
        /// Particle index.
        particle: usize,
        /// Step number.
        step: u64,
        /// Stage name.
        stage: String,
        /// Position, m.
        pos: [f64; 3],
        /// Velocity, m/s.
        vel: [f64; 3],
    },
    /// The box is too small for the neighbour cells.
    #[error("box {lx:.3e} × {ly:.3e} m is smaller than two interaction ranges ({range:.3e} m): enlarge the domain")]
    BoxTooSmall {
        /// lx, m.
        lx: f64,
        /// ly, m.
        ly: f64,
        /// Interaction range, m.
        range: f64,
    },
}
