//! The snapshot of the current state: particles with their contact-virial stresses, NPS contacts
//! with their PTFE coverage, electrode contacts, fibrils and fibril crossings.

use super::*;
use crate::dem::coverage::{contact_coverage, wrapped_fraction};
use crate::dem::Dem;
use crate::scenario::Scenario;
use crate::snapshot::{
    self, Anchor, Contact, Fibril, FibrilState, ParticleArrays, Phase, SimBox, Snapshot,
    SnapshotMaterials, Wall, WallContact,
};
use glam::DVec3;
use std::f64::consts::PI;

impl FilmSim {
    /// Build the snapshot of the current state.
    pub fn snapshot(&mut self, stage: &str) -> Snapshot {
        let mut fibs: Vec<FibrilC> = {
            let mut q = self.world.query::<&FibrilC>();
            q.iter(&self.world).copied().collect()
        };
        fibs.sort_by_key(|f| f.id);
        let s = &self.scenario;
        let d = self.dem();
        let index = film_index(d);
        let sim_box = SimBox {
            lx: d.lx,
            ly: d.ly,
            z_bottom: d.walls.z_bottom,
            z_top: d.walls.z_top,
        };
        let (mut contacts, stress) =
            contacts_and_stress(d, &self.phase, &fibs, s.ptfe.wrap_fraction);
        let mut wall_contacts = electrode_contacts(d, &self.phase, &sim_box);
        // The film's particles in index order (spent lumps left out).
        let members: Vec<usize> = (0..d.p.len()).filter(|&k| index[k].is_some()).collect();
        let particles = ParticleArrays {
            pos: gather(&members, |k| {
                let x = d.p.pos[k];
                [x.x.rem_euclid(d.lx), x.y.rem_euclid(d.ly), x.z]
            }),
            radius: gather(&members, |k| d.p.radius[k]),
            phase: gather(&members, |k| self.phase[k]),
            orientation: gather(&members, |k| {
                let q = d.p.quat[k];
                [q.x, q.y, q.z, q.w]
            }),
            vel: gather(&members, |k| d.p.vel[k].to_array()),
            force: gather(&members, |k| d.p.force[k].to_array()),
            stress: gather(&members, |k| stress[k]),
        };
        // Contacts and electrode contacts join NPS grains, which all stay in the film.
        let film = |k: u32| index[k as usize].expect("an NPS grain is in the film");
        for c in &mut contacts {
            (c.i, c.j) = (film(c.i), film(c.j));
        }
        for w in &mut wall_contacts {
            w.i = film(w.i);
        }
        let fibrils: Vec<Fibril> = fibs
            .iter()
            .map(|f| {
                let (_, _, len) = fibril_vector(d, &f.a, &f.b, f.shift);
                let on_film = |a: Anchor| Anchor {
                    particle: film(a.particle),
                    ..a
                };
                Fibril {
                    a: on_film(f.a),
                    b: on_film(f.b),
                    source: index[f.source as usize],
                    radius: f.law.radius,
                    rest_length: f.law.rest_length,
                    count: f.count,
                    length: len,
                    tension: f.tension,
                    state: f.state,
                    image: Some(snapshot_image(d, f)),
                }
            })
            .collect();
        let fibril_contacts = fibril_crossings(d, &fibs);
        Snapshot {
            format: snapshot::SNAPSHOT_FORMAT.into(),
            version: snapshot::SNAPSHOT_VERSION,
            stage: stage.into(),
            scenario: s.name.clone(),
            seed: s.seed,
            ptfe_wt_pct: self.achieved_wt_pct,
            sim_box,
            materials: snapshot_materials(s),
            particles,
            contacts,
            wall_contacts,
            fibrils,
            fibril_contacts,
        }
    }
}

/// Each DEM particle's index in the snapshot, or `None` for a spent PTFE lump ([`Material::Spent`],
/// `resize_lump`): its PTFE is in its fibrils, it touches nothing and is not part of the film, so
/// nothing downstream (continuity, images, exports) sees it.
fn film_index(d: &Dem) -> Vec<Option<u32>> {
    let mut next = 0u32;
    d.p.material
        .iter()
        .map(|&m| {
            (m != Material::Spent.id()).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// The image shift (box lengths in x and y) of fibril `f` in the snapshot. The snapshot writes
/// positions wrapped into the box (`rem_euclid`), so a particle that drifted out of it since the
/// last neighbour rebuild moves by whole boxes there; the engine's image
/// ([`Dem::image_between`]) is corrected by the boxes each end moved.
fn snapshot_image(d: &Dem, f: &FibrilC) -> [i32; 2] {
    let (i, j) = (f.a.particle as usize, f.b.particle as usize);
    let n = d.image_between(i, j, f.shift);
    let boxes = |k: usize| {
        let x = d.p.pos[k];
        [(x.x / d.lx).floor() as i32, (x.y / d.ly).floor() as i32]
    };
    let (wi, wj) = (boxes(i), boxes(j));
    [n[0] + wj[0] - wi[0], n[1] + wj[1] - wi[1]]
}

/// `value(k)` for each particle index `k` of `members`, in order.
fn gather<T>(members: &[usize], value: impl Fn(usize) -> T) -> Vec<T> {
    members.iter().map(|&k| value(k)).collect()
}

/// The material data a snapshot carries for the solvers, from the scenario (SI units).
fn snapshot_materials(s: &Scenario) -> SnapshotMaterials {
    SnapshotMaterials {
        nps_sigma_ion: s.nps.sigma_ion_bulk,
        nps_sigma_e: s.nps.sigma_e,
        reduced_ptfe_sigma_e: s.ptfe.reduced_sigma_e,
        nps_density: s.nps.density,
        ptfe_density: s.ptfe.density,
        fibril_strength: s.ptfe.fibril_strength,
        fibril_yield: s.ptfe.fibril_yield,
        ptfe_modulus: s.ptfe.youngs_modulus,
        anchor_strength: s.ptfe.anchor_strength,
        ptfe_bridge_strength: s.ptfe.bridge_strength,
        nps_modulus: s.nps.youngs_modulus,
        nps_poisson: s.nps.poisson,
        nps_yield_pressure: s.nps.yield_pressure,
        nps_surface_energy: s.nps.surface_energy,
        nps_friction: s.nps.friction,
    }
}

/// The NPS–NPS contacts with their PTFE coverage (`dem::coverage`: patches wrapped on either
/// grain, fibrils anchored on both, PTFE lumps touching both), and each particle's stress from
/// the contact virial, Pa: σ = (1/V_i) Σ ½ f ⊗ d over its contacts (xx, yy, zz, xy, xz, yz).
fn contacts_and_stress(
    d: &Dem,
    phase: &[Phase],
    fibs: &[FibrilC],
    wrap_fraction: f64,
) -> (Vec<Contact>, Vec<[f64; 6]>) {
    let n = d.p.len();
    // Σ n·r_f of the fibrils across each grain pair, and each grain's wrapped fraction.
    let mut fib_pairs: std::collections::HashMap<(u32, u32), f64> =
        std::collections::HashMap::new();
    let mut wrapped = vec![0.0f64; n];
    for f in fibs.iter().filter(|f| f.state == FibrilState::Intact) {
        let key = (
            f.a.particle.min(f.b.particle),
            f.a.particle.max(f.b.particle),
        );
        *fib_pairs.entry(key).or_insert(0.0) += f.count * f.law.radius;
        for k in [f.a.particle as usize, f.b.particle as usize] {
            wrapped[k] += wrapped_fraction(f.count, f.law.radius, wrap_fraction, d.p.radius[k]);
        }
    }
    let mut lump_touch: Vec<Vec<u32>> = vec![Vec::new(); n];
    for pr in d.pairs.iter_touching() {
        let (i, j) = (pr.i as usize, pr.j as usize);
        if phase[i] == Phase::Ptfe && phase[j] == Phase::Nps {
            lump_touch[j].push(i as u32);
        } else if phase[j] == Phase::Ptfe && phase[i] == Phase::Nps {
            lump_touch[i].push(j as u32);
        }
    }
    let mut stress = vec![[0.0f64; 6]; n];
    let mut contacts = Vec::new();
    for pr in d.pairs.iter() {
        let (i, j) = (pr.i as usize, pr.j as usize);
        if !pr.touching && pr.contact_radius == 0.0 {
            continue;
        }
        let dv =
            d.p.pos[i] - d.p.pos[j] + DVec3::new(pr.sx as f64 * d.lx, pr.sy as f64 * d.ly, 0.0);
        let f = pr.force;
        let t = [
            f.x * dv.x,
            f.y * dv.y,
            f.z * dv.z,
            f.x * dv.y,
            f.x * dv.z,
            f.y * dv.z,
        ];
        for (k, v) in t.iter().enumerate() {
            stress[i][k] += 0.5 * v;
            stress[j][k] += 0.5 * v;
        }
        if phase[i] == Phase::Nps && phase[j] == Phase::Nps && pr.contact_radius > 0.0 {
            let a = pr.contact_radius;
            let across = fib_pairs.get(&(i as u32, j as u32)).copied().unwrap_or(0.0);
            let lumps = lump_touch[i]
                .iter()
                .filter(|l| lump_touch[j].contains(l))
                .map(|&l| d.p.radius[l as usize]);
            let theta = contact_coverage(a, wrapped[i], wrapped[j], across, lumps);
            contacts.push(Contact {
                i: i as u32,
                j: j as u32,
                radius: a,
                overlap: pr.overlap,
                normal_force: pr.normal_force,
                ptfe_coverage: theta,
            });
        }
    }
    for (k, st) in stress.iter_mut().enumerate() {
        let v = 4.0 / 3.0 * PI * d.p.radius[k].powi(3);
        for x in st.iter_mut() {
            *x /= v;
        }
    }
    (contacts, stress)
}

/// Electrode contacts: the measuring electrodes are pressed on both faces of the free-standing
/// film, so every NPS particle whose surface lies within 2% of the thickness of a face touches
/// that electrode, with the contact radius of a sphere flattened by the remaining distance (at
/// least 0.1 r).
fn electrode_contacts(d: &Dem, phase: &[Phase], sim_box: &SimBox) -> Vec<WallContact> {
    let mut wall_contacts = Vec::new();
    let (zb, top) = (sim_box.z_bottom, sim_box.z_top);
    let tol = 0.02 * (top - zb);
    for (wall, face) in [(Wall::Bottom, zb), (Wall::Top, top)] {
        for (k, &ph) in phase.iter().enumerate().take(d.p.len()) {
            if ph != Phase::Nps {
                continue;
            }
            let r = d.p.radius[k];
            let z = d.p.pos[k].z;
            let gap = if wall == Wall::Bottom {
                (z - r) - face
            } else {
                face - (z + r)
            };
            if gap <= tol {
                let a = (r * (tol - gap).max(0.0)).sqrt().clamp(0.1 * r, r);
                let nf = if wall == Wall::Bottom {
                    d.walls.bottom[k].normal_force
                } else {
                    d.walls.top[k].normal_force
                };
                wall_contacts.push(WallContact {
                    i: k as u32,
                    wall,
                    radius: a,
                    normal_force: nf,
                });
            }
        }
    }
    wall_contacts
}
