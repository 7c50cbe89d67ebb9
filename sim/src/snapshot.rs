//! Versioned, self-contained snapshot of a film microstructure after a stage.
//!
//! A snapshot is what the property solvers, the renderer and offline re-analysis work on: plain
//! arrays and lists, no ECS. It is written as gzipped JSON (`*.snap.json.gz`) with a `format` tag and
//! a `version` number; readers refuse versions they do not know. The file format is documented in
//! `docs/snapshot-format.md`.
//!
//! Geometry conventions: SI units (metres, newtons). The box is periodic in x (machine direction,
//! MD) over `[0, lx)` and in y (transverse direction, TD) over `[0, ly)`; in z (normal direction, ND,
//! through the thickness) it is bounded by the bottom wall at `z_bottom` and the top wall at `z_top`.
//! Positions are wrapped into the periodic box. Pair vectors use the minimum image.

use crate::fileio::FileError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Format tag written into every snapshot file.
pub const SNAPSHOT_FORMAT: &str = "dryfilm-snapshot";
/// Current snapshot format version. Bump when fields change meaning or are removed.
pub const SNAPSHOT_VERSION: u32 = 3;

/// Oldest snapshot format version this build reads. Version 1 differs only in `Fibril::source`,
/// always a particle index there (read as `Some`).
pub const OLDEST_SNAPSHOT_VERSION: u32 = 1;

/// Phase of a discrete particle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Na3PS4 electrolyte grain: ionic conductor, soft elastoplastic solid.
    Nps,
    /// PTFE source particle (agglomerate/lump); shrinks as fibrils are drawn from it.
    Ptfe,
}

/// The simulation box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimBox {
    /// Periodic length along x (MD), m.
    pub lx: f64,
    /// Periodic length along y (TD), m.
    pub ly: f64,
    /// z of the bottom wall, m.
    pub z_bottom: f64,
    /// z of the top wall (or roll), m. After springback this is the free film surface height.
    pub z_top: f64,
}

impl SimBox {
    /// Minimum-image difference `a - b` in the periodic x and y directions, m.
    pub fn delta(&self, a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
        crate::geom::min_image_delta(a, b, self.lx, self.ly)
    }
    /// Box volume between the walls, m³.
    pub fn volume(&self) -> f64 {
        self.lx * self.ly * (self.z_top - self.z_bottom)
    }
}

/// Per-particle arrays (structure of arrays; all of length `n`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParticleArrays {
    /// Centre positions, m (x, y wrapped into the box).
    pub pos: Vec<[f64; 3]>,
    /// Radii, m.
    pub radius: Vec<f64>,
    /// Phase of each particle.
    pub phase: Vec<Phase>,
    /// Orientation quaternions (x, y, z, w), unit; anchors are fixed in this frame.
    pub orientation: Vec<[f64; 4]>,
    /// Translational velocities, m/s.
    pub vel: Vec<[f64; 3]>,
    /// Net contact force on each particle at the snapshot, N (from the last force evaluation).
    pub force: Vec<[f64; 3]>,
    /// Per-particle stress (virial over its contacts and fibrils divided by its volume), Pa;
    /// symmetric tensor stored as xx, yy, zz, xy, xz, yz.
    pub stress: Vec<[f64; 6]>,
}

/// Which wall a wall contact touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wall {
    /// The fixed bottom wall (z = z_bottom); the anode side in the continuity analysis.
    Bottom,
    /// The top wall or roll (z = z_top).
    Top,
}

/// A particle–particle contact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// First particle index.
    pub i: u32,
    /// Second particle index.
    pub j: u32,
    /// Contact radius a, m: elastic plus plastic (flattened neck); the plastic part persists after
    /// unloading as long as the particles touch.
    pub radius: f64,
    /// Normal overlap δ, m (may be ≤ 0 for an adhesive neck still held together).
    pub overlap: f64,
    /// Normal force magnitude, N (positive = compressive).
    pub normal_force: f64,
    /// Fraction θ of the contact area covered by PTFE (0..=1), blocking ion transfer.
    pub ptfe_coverage: f64,
}

/// A particle–wall contact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WallContact {
    /// Particle index.
    pub i: u32,
    /// Which wall.
    pub wall: Wall,
    /// Contact radius, m.
    pub radius: f64,
    /// Normal force, N.
    pub normal_force: f64,
}

/// A fibril end fixed to a particle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// Particle the end is attached to.
    pub particle: u32,
    /// Anchor point in the particle's body frame (relative to its centre, unrotated), m.
    pub local: [f64; 3],
}

/// State of a fibril.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FibrilState {
    /// Carrying load (or slack).
    Intact,
    /// Broken in the fibril body.
    Broken,
    /// One anchor detached from its particle.
    Detached,
}

/// A PTFE fibril: a straight tension-only segment between two anchors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fibril {
    /// End A.
    pub a: Anchor,
    /// End B.
    pub b: Anchor,
    /// PTFE lump (particle index) this fibril was drawn from; `None` once that lump is spent (all
    /// its PTFE drawn into fibrils), when it has left the film and the snapshot.
    pub source: Option<u32>,
    /// Current radius, m (volume is conserved while it draws).
    pub radius: f64,
    /// Rest (stress-free) length, m; grows when the fibril draws plastically.
    pub rest_length: f64,
    /// Parallel strands in this model fibril (bundle multiplicity, dimensionless ≥ 1; 1 when
    /// absent): volume, tension and contact coverage are `count` times one strand's.
    #[serde(default = "one_strand")]
    pub count: f64,
    /// Current end-to-end length, m.
    pub length: f64,
    /// Current tension of the whole bundle, N (≥ 0).
    pub tension: f64,
    /// Intact, broken or detached.
    pub state: FibrilState,
    /// Periodic image of end B relative to end A, box lengths (x, y): the fibril runs from anchor
    /// A to anchor B's position shifted by `image · (lx, ly)`, whatever its length. `None` (in
    /// snapshots before version 3): the minimum image.
    #[serde(default)]
    pub image: Option<[i32; 2]>,
}

impl Fibril {
    /// PTFE volume held by the fibril (all its strands), m³ (n π r² L₀, conserved while drawing).
    pub fn volume(&self) -> f64 {
        self.count * std::f64::consts::PI * self.radius * self.radius * self.rest_length
    }
}

fn one_strand() -> f64 {
    1.0
}

/// Material data the solvers need, SI units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMaterials {
    /// NPS bulk Na+ conductivity, S/m.
    pub nps_sigma_ion: f64,
    /// NPS electronic conductivity, S/m.
    pub nps_sigma_e: f64,
    /// Reduced-PTFE (carbon) electronic conductivity, S/m.
    pub reduced_ptfe_sigma_e: f64,
    /// NPS true density, kg/m³.
    pub nps_density: f64,
    /// PTFE true density, kg/m³.
    pub ptfe_density: f64,
    /// Fibril breaking stress, Pa.
    pub fibril_strength: f64,
    /// Fibril drawing yield stress, Pa.
    pub fibril_yield: f64,
    /// PTFE Young's modulus, Pa.
    pub ptfe_modulus: f64,
    /// Anchor detachment force per unit fibril circumference, N/m.
    pub anchor_strength: f64,
    /// Tensile strength of the PTFE bridging a covered NPS–NPS contact, Pa: the contact holds
    /// `σ_bridge θ π a²` on top of its DMT pull-off (θ its `ptfe_coverage`, a its radius).
    /// Absent in snapshots written before the bridge model: read as 0 (no bridges).
    #[serde(default)]
    pub ptfe_bridge_strength: f64,
    /// NPS Young's modulus, Pa.
    pub nps_modulus: f64,
    /// NPS Poisson ratio.
    pub nps_poisson: f64,
    /// NPS contact yield pressure, Pa.
    pub nps_yield_pressure: f64,
    /// NPS work of adhesion, J/m².
    pub nps_surface_energy: f64,
    /// NPS friction coefficient.
    pub nps_friction: f64,
}

/// A saved microstructure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// [`SNAPSHOT_VERSION`] of the writer.
    pub version: u32,
    /// Stage after which the snapshot was taken (`mixing`, `fibrillation`, `calender_pass_2`, ...).
    pub stage: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario seed.
    pub seed: u64,
    /// PTFE loading achieved, wt%.
    pub ptfe_wt_pct: f64,
    /// Simulation box.
    pub sim_box: SimBox,
    /// Materials.
    pub materials: SnapshotMaterials,
    /// Particles.
    pub particles: ParticleArrays,
    /// Particle–particle contacts (each pair once, i < j).
    pub contacts: Vec<Contact>,
    /// Particle–wall contacts.
    pub wall_contacts: Vec<WallContact>,
    /// Fibrils (all, including broken ones, with their state).
    pub fibrils: Vec<Fibril>,
    /// Fibril–fibril contacts (crossings/entanglements) as pairs of fibril indices, i < j.
    pub fibril_contacts: Vec<[u32; 2]>,
}

/// Errors reading or writing snapshots.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// File-system error.
    #[error(transparent)]
    Io(#[from] FileError),
    /// Not JSON of the right shape.
    #[error("{path}: not a dryfilm snapshot: {message}")]
    Format {
        /// File path.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// Written by a newer or unknown format version.
    #[error(
        "{path}: snapshot version {found} is not supported (this build reads versions 1 to {supported})"
    )]
    Version {
        /// File path.
        path: String,
        /// Version found in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
}

impl Snapshot {
    /// A snapshot of the current format and version with no particles, contacts or fibrils: stage
    /// label, scenario name, master seed, PTFE loading (wt%), the box (m) and the materials (SI).
    pub fn empty(
        stage: &str,
        scenario: &str,
        seed: u64,
        ptfe_wt_pct: f64,
        sim_box: SimBox,
        materials: SnapshotMaterials,
    ) -> Self {
        Snapshot {
            format: SNAPSHOT_FORMAT.into(),
            version: SNAPSHOT_VERSION,
            stage: stage.into(),
            scenario: scenario.into(),
            seed,
            ptfe_wt_pct,
            sim_box,
            materials,
            particles: ParticleArrays::default(),
            contacts: Vec::new(),
            wall_contacts: Vec::new(),
            fibrils: Vec::new(),
            fibril_contacts: Vec::new(),
        }
    }

    /// Adds a particle of `phase` at `pos` (m) with radius `radius` (m), at rest, unrotated,
    /// unloaded and unstressed; returns its index.
    pub fn push_particle(&mut self, pos: [f64; 3], radius: f64, phase: Phase) -> u32 {
        let p = &mut self.particles;
        p.pos.push(pos);
        p.radius.push(radius);
        p.phase.push(phase);
        p.orientation.push([0.0, 0.0, 0.0, 1.0]);
        p.vel.push([0.0; 3]);
        p.force.push([0.0; 3]);
        p.stress.push([0.0; 6]);
        p.pos.len() as u32 - 1
    }

    /// Vector from fibril `f`'s anchor A to its anchor B on the fibril's periodic image
    /// ([`Fibril::image`]; the minimum image when absent), m.
    pub fn fibril_chord(&self, f: &Fibril) -> [f64; 3] {
        let (a, b) = (self.anchor_world(&f.a), self.anchor_world(&f.b));
        let raw = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let bx = &self.sim_box;
        match f.image {
            Some([nx, ny]) => [
                raw[0] + f64::from(nx) * bx.lx,
                raw[1] + f64::from(ny) * bx.ly,
                raw[2],
            ],
            None => bx.delta(b, a),
        }
    }

    /// Rotate a body-frame vector by particle `i`'s orientation, m.
    pub fn anchor_world(&self, anchor: &Anchor) -> [f64; 3] {
        let p = self.particles.pos[anchor.particle as usize];
        let q = self.particles.orientation[anchor.particle as usize];
        let r = quat_rotate(q, anchor.local);
        [p[0] + r[0], p[1] + r[1], p[2] + r[2]]
    }

    /// Film thickness, m: the free-standing thickness the process measured (99th percentile of the
    /// film particles' tops, docs/model.md), kept as the top wall's height above the bottom wall.
    pub fn thickness(&self) -> f64 {
        self.sim_box.z_top - self.sim_box.z_bottom
    }

    /// Total solid volume of particles plus fibrils, m³.
    pub fn solid_volume(&self) -> f64 {
        let vp: f64 = self
            .particles
            .radius
            .iter()
            .map(|r| 4.0 / 3.0 * std::f64::consts::PI * r * r * r)
            .sum();
        let vf: f64 = self.fibrils.iter().map(|f| f.volume()).sum();
        vp + vf
    }

    /// Lower-case hex SHA-256 of the snapshot's JSON (the text that [`Snapshot::save`]
    /// compresses): two snapshots have the same digest exactly when every stored value is bitwise
    /// equal. The golden fingerprints of the test suite pin runs with it (docs/testing.md).
    pub fn content_sha256(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        serde_json::to_writer(HashWriter(&mut h), self).expect("a snapshot serializes to JSON");
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Write as gzipped JSON, atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let io = crate::fileio::at::<SnapshotError>(path);
        let tmp = path.with_extension("tmp");
        {
            let f = std::fs::File::create(&tmp).map_err(io)?;
            let mut gz = flate2::write::GzEncoder::new(
                std::io::BufWriter::new(f),
                flate2::Compression::fast(),
            );
            serde_json::to_writer(&mut gz, self).map_err(|e| SnapshotError::Format {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            gz.finish().map_err(io)?.flush().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Read a snapshot (gzipped or plain JSON), checking format tag and version.
    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let p = path.display().to_string();
        let text = crate::fileio::read_maybe_gzip(path)
            .map_err(crate::fileio::at::<SnapshotError>(path))?;
        let v: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| SnapshotError::Format {
                path: p.clone(),
                message: e.to_string(),
            })?;
        if v.get("format").and_then(|f| f.as_str()) != Some(SNAPSHOT_FORMAT) {
            return Err(SnapshotError::Format {
                path: p,
                message: format!("missing format tag \"{SNAPSHOT_FORMAT}\""),
            });
        }
        let found = v.get("version").and_then(|x| x.as_u64()).unwrap_or(0) as u32;
        if !(OLDEST_SNAPSHOT_VERSION..=SNAPSHOT_VERSION).contains(&found) {
            return Err(SnapshotError::Version {
                path: p,
                found,
                supported: SNAPSHOT_VERSION,
            });
        }
        serde_json::from_value(v).map_err(|e| SnapshotError::Format {
            path: p,
            message: e.to_string(),
        })
    }
}

/// Feeds written bytes into a SHA-256 state (hashing JSON without holding it in memory).
struct HashWriter<'a>(&'a mut sha2::Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rotate vector `v` by unit quaternion `q = (x, y, z, w)`.
pub fn quat_rotate(q: [f64; 4], v: [f64; 3]) -> [f64; 3] {
    let (qx, qy, qz, qw) = (q[0], q[1], q[2], q[3]);
    // t = 2 q_vec × v ; v' = v + w t + q_vec × t
    let tx = 2.0 * (qy * v[2] - qz * v[1]);
    let ty = 2.0 * (qz * v[0] - qx * v[2]);
    let tz = 2.0 * (qx * v[1] - qy * v[0]);
    [
        v[0] + qw * tx + (qy * tz - qz * ty),
        v[1] + qw * ty + (qz * tx - qx * tz),
        v[2] + qw * tz + (qx * ty - qy * tx),
    ]
}
