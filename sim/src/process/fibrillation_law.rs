//! The fibrillation law: how sheared PTFE lumps draw fibrils between the NPS grains they touch
//! (critical strain from the temperature, first-order kinetics in the local shear strain past it,
//! bundles of strands anchored on two grains, PTFE volume conserved exactly). The per-source
//! bookkeeping is the [`PtfeSources`] resource; the drawing runs in the step's `EndOfStep` slot
//! during fibrillation. docs/model.md, "Fibrillation law".

use super::*;
use crate::dem::fibril_law::{FibrilLawParams, FibrilLawState};
use crate::dem::schedule::DemWorld;
use crate::snapshot::{Anchor, FibrilState};
use bevy_ecs::prelude::*;
use glam::DVec3;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

/// PTFE source bookkeeping and the fibrillation model's parameters (a resource).
#[derive(Resource, Debug, Clone)]
pub struct PtfeSources {
    /// Accumulated local shear strain of each particle (only PTFE entries are used).
    pub strain: Vec<f64>,
    /// Fibrils drawn so far from each particle.
    pub drawn: Vec<u32>,
    /// Remaining PTFE volume of each source particle, m³.
    pub volume: Vec<f64>,
    /// Critical local shear strain for drawing at the current temperature (∞ below 19 °C).
    pub critical_strain: f64,
    /// What drives the drawing and its parameters.
    pub drive: FibrillationDrive,
    /// Work credited to each source by its contacts during fibrillation (Coulomb sliding,
    /// [`crate::dem::Dem::credited_work`]), J (only PTFE entries are used).
    pub work: Vec<f64>,
    /// Volume of each source before anything was drawn, m³ (0 for NPS grains).
    pub initial_volume: Vec<f64>,
    /// PTFE volume of each source already due to be drawn but not yet spawned as a fibril, m³
    /// (bookkeeping only: the volume stays in the lump until a fibril takes it).
    pub pending: Vec<f64>,
    /// NPS grains each source has touched during fibrillation, oldest first (at most
    /// [`TOUCH_MEMORY`] distinct grains): a lump sheared through the packing smears PTFE onto the
    /// grains it passes, and a fibril is drawn between a grain it touches now and one it touched.
    pub touched: Vec<Vec<u32>>,
    /// The intact fibril (bundle) each source has drawn between a pair of grains, keyed by
    /// (source, lower grain, higher grain): strands drawn again between the same two grains join
    /// it instead of spawning a new entity.
    pub bundles: std::collections::HashMap<(u32, u32, u32), Entity>,
    /// Initial fibril radius, m.
    pub fibril_radius: f64,
    /// Strands per model fibril (bundle multiplicity, dimensionless).
    pub bundle: f64,
    /// Fibril law.
    pub law: FibrilLawParams,
    /// Damping ratio ζ of a taut bundle's axial dashpot (`powder.ptfe.fibril_damping_ratio`),
    /// dimensionless.
    pub damping_ratio: f64,
    /// Seed for the drawing RNG.
    pub seed: u64,
    /// Next fibril id.
    pub next_id: u32,
    /// Fibrils that failed during the current stage/pass.
    pub broken_in_stage: u32,
    /// Steps per strain-sampling window: local strains are measured from neighbour displacements
    /// over this many steps (set by the fibrillation stage to 0.02 of imposed shear strain).
    pub window: u64,
    /// Steps taken in the current window.
    pub window_steps: u64,
    /// Particle positions at the start of the current window, m (empty: start a new window).
    pub window_start: Vec<DVec3>,
    /// Time steps between fibril-force evaluations (`numerics.fibril_force_interval`, ≥ 1): the
    /// tensions in the external-force array are held in between (multiple time stepping).
    pub force_interval: u64,
    /// Radius, m, below which a drawn-down lump is spent and leaves the film
    /// ([`FilmSim::film_radius_floor`]; see [`resize_lump`]).
    pub spent_radius: f64,
    /// Evaluate the fibril forces at the next step whatever the interval (set when a stage starts
    /// and when the film is turned, so that no held force outlives a change of frame).
    pub force_refresh: bool,
}
impl PtfeSources {
    /// Move `vol` (m³) of source `p`'s PTFE into a fibril: the lump and the volume due shrink by
    /// it and one more draw is counted.
    fn take(&mut self, p: usize, vol: f64) {
        self.pending[p] = (self.pending[p] - vol).max(0.0);
        self.volume[p] -= vol;
        self.drawn[p] += 1;
    }
}

/// What drives the drawing of fibrils from a sheared lump (`powder.ptfe.fibrillation_driver`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FibrillationDrive {
    /// First-order kinetics in the local shear strain past the critical strain: the undrawn PTFE
    /// falls as `exp(−κ (γ − ε_c))`; `rate` is κ, dimensionless.
    Strain {
        /// κ: fraction of the remaining lump drawn per unit local shear strain past ε_c.
        rate: f64,
    },
    /// Drawing in proportion to the work dissipated at the lump's contacts past the work that
    /// strains it to the critical strain ([`work_volume_due`]).
    Work {
        /// Drawing energy e_d: contact work per unit volume drawn, J/m³ (1/η).
        drawing_energy: f64,
        /// Flow stress Y of the lump's PTFE, Pa: the threshold work density is `Y ε_c(T)`.
        flow_stress: f64,
        /// Extrapolation of the simulated work to the real process, dimensionless (≥ 1 for a
        /// validated scenario): `fibrillation.process_strain / fibrillation.shear_strain`.
        amplification: f64,
    },
}

/// Volume of fibrils due, m³, when a lump's credited contact work grows from `before` to `after`
/// (J) with threshold `threshold` (J, the work that strains the lump to the critical strain,
/// `Y ε_c(T) V₀`) and drawing energy `drawing_energy` (J/m³):
/// `ΔV = (W_after − max(W_before, W_c))⁺ / e_d`. Linear in the work past the threshold; the
/// caller caps it at what the lump holds.
pub fn work_volume_due(before: f64, after: f64, threshold: f64, drawing_energy: f64) -> f64 {
    (after - before.max(threshold)).max(0.0) / drawing_energy
}

/// Number of distinct NPS grains a PTFE source remembers having touched (the possible far anchors
/// of the fibrils it draws).
pub const TOUCH_MEMORY: usize = 8;

/// Critical local shear strain for PTFE fibrillation at temperature `t_kelvin`.
///
/// Model (from Luo et al., RSC Adv. 2021: chains untwist above a strain of ~0.6, a stable oriented
/// network forms above ~0.9, and the critical strain falls as temperature rises; no fibrillation below
/// the 19 °C triclinic→hexagonal transition): ε_c = ∞ below 19 °C, then falls linearly from 0.9 at
/// 19 °C to 0.4 at 100 °C and stays at 0.4 above.
pub fn critical_fibrillation_strain(t_kelvin: f64) -> f64 {
    let t_c = t_kelvin - 273.15;
    if t_c < 19.0 {
        return f64::INFINITY;
    }
    let s = ((t_c - 19.0) / (100.0 - 19.0)).clamp(0.0, 1.0);
    0.9 - 0.5 * s
}

/// EndOfStep system (fibrillation only). The volume each lump is due to draw grows with its local
/// shear strain ([`FibrillationDrive::Strain`], below) or with the work credited to it by its
/// contacts ([`FibrillationDrive::Work`], [`work_volume_due`]); both are accumulated whatever the
/// law and the temperature, and nothing is drawn below the 19 °C transition (ε_c = ∞).
///
/// Every `window` steps (0.02 of imposed shear strain), each
/// PTFE particle P's local shear strain grows by the mean over its touching NPS grains k of
/// |Δu_t,k| / (r_P + r_k), with Δu_t,k the part of k's displacement relative to P over the window
/// that is tangential to the P–k line. Measuring displacements over a window rather than
/// instantaneous velocities keeps contact rattling (which depends on the time step) out of the strain.
/// Past ε_c(T) the lump's undrawn PTFE falls as exp(−κ (γ_P − ε_c)) (first-order kinetics, κ =
/// `powder.ptfe.fibrillation_rate`); whenever the volume due covers one more fibril (bundle), it is
/// drawn between two NPS neighbours of P (chosen by a per-particle RNG stream), anchored on their
/// surfaces facing P, stress-free at creation, its volume n π r_f² L taken from P (P shrinks so
/// PTFE volume is conserved exactly).
pub(crate) fn draw_fibrils(
    mut commands: Commands,
    mut dem: ResMut<DemWorld>,
    mut src: ResMut<PtfeSources>,
    mut fibrils: Query<&mut FibrilC>,
) {
    let d = &mut dem.0;
    let n = d.p.len();
    if src.window_start.len() != n {
        src.window_start = d.p.pos.clone();
        src.window_steps = 0;
        // Work credited before the drawing starts (the stage's settling) does not count.
        d.credited_work.iter_mut().for_each(|w| *w = 0.0);
        return;
    }
    src.window_steps += 1;
    if src.window_steps < src.window {
        return;
    }
    src.window_steps = 0;
    // Displacement of every particle over the window (minimum image: a window moves particles far
    // less than half the box).
    let disp: Vec<DVec3> = (0..n)
        .map(|k| d.wrap(d.p.pos[k] - src.window_start[k]))
        .collect();
    // Neighbour NPS lists of PTFE particles (touching), in pair order, and the local shear strain
    // of the window: the tangential part of each neighbour's displacement relative to P.
    let mut incr = vec![0.0f64; n];
    let mut cnt = vec![0u32; n];
    let mut neigh: Vec<Vec<u32>> = vec![Vec::new(); n];
    for pr in d.pairs.iter_touching() {
        let (i, j) = (pr.i as usize, pr.j as usize);
        let (pi, pj) = (d.p.material[i], d.p.material[j]);
        for (p, k) in [(i, j), (j, i)] {
            let (mp, mk) = if p == i { (pi, pj) } else { (pj, pi) };
            if mp == Material::Ptfe.id() && mk == Material::Nps.id() {
                let nrm = d.min_image(k, p).normalize_or_zero();
                let du = disp[k] - disp[p];
                let ut = du - nrm * du.dot(nrm);
                incr[p] += ut.length() / (d.p.radius[p] + d.p.radius[k]);
                cnt[p] += 1;
                neigh[p].push(k as u32);
            }
        }
    }
    src.window_start.copy_from_slice(&d.p.pos);
    for (p, nb) in neigh.iter().enumerate() {
        for &k in nb {
            let t = &mut src.touched[p];
            if let Some(at) = t.iter().position(|&x| x == k) {
                t.remove(at);
            } else if t.len() == TOUCH_MEMORY {
                t.remove(0);
            }
            t.push(k);
        }
    }
    let fr = src.fibril_radius;
    // Bundles created in this window with their keys (spawned at the end, in creation order).
    let mut fresh: Vec<((u32, u32, u32), FibrilC)> = Vec::new();
    let mut fresh_of: std::collections::HashMap<(u32, u32, u32), usize> =
        std::collections::HashMap::new();
    // The window's credited contact work of every lump (reset for the next window).
    let mut window_work = std::mem::take(&mut d.credited_work);
    for p in 0..n {
        let w = window_work.get(p).copied().unwrap_or(0.0);
        if w != 0.0 && src.volume[p] > 0.0 {
            let before = src.work[p];
            src.work[p] += w;
            match src.drive {
                FibrillationDrive::Work {
                    drawing_energy,
                    flow_stress,
                    amplification: a,
                } if src.critical_strain.is_finite() => {
                    // Drawing in proportion to the process's work past the threshold Y ε_c V₀.
                    let threshold = flow_stress * src.critical_strain * src.initial_volume[p];
                    let due =
                        work_volume_due(a * before, a * src.work[p], threshold, drawing_energy);
                    src.pending[p] = (src.pending[p] + due).min(src.volume[p]);
                }
                _ => {}
            }
        }
        if cnt[p] == 0 || src.volume[p] <= 0.0 {
            continue;
        }
        let before = src.strain[p].max(src.critical_strain);
        src.strain[p] += incr[p] / cnt[p] as f64;
        if let FibrillationDrive::Strain { rate } = src.drive {
            // First-order fibrillation kinetics on the local strain past ε_c: the lump's undrawn
            // PTFE V_u = V − pending falls by the factor exp(−κ Δγ_eff) over the window.
            let d_eff = (src.strain[p] - before).max(0.0);
            if d_eff > 0.0 {
                let undrawn = (src.volume[p] - src.pending[p]).max(0.0);
                src.pending[p] += undrawn * -(-rate * d_eff).exp_m1();
            }
        }
        // Spawn fibrils (bundles) while the volume due covers the next one (at most 64 per window;
        // the rest waits for the next window).
        for _ in 0..64 {
            if src.touched[p].len() < 2 || src.volume[p] <= 0.0 || src.pending[p] <= 0.0 {
                break;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(
                src.seed,
                ((p as u64) << 20) ^ src.drawn[p] as u64,
            ));
            // One end on a grain P touches now, the other on a grain it has touched (now or
            // before): the PTFE smeared on the earlier grain is drawn out to the present one.
            let nb = &neigh[p];
            let a = nb[rng.random_range(0..nb.len())];
            let t = &src.touched[p];
            let mut b = t[rng.random_range(0..t.len())];
            if a == b {
                b = t[(t.iter().position(|&x| x == a).unwrap_or(0) + 1) % t.len()];
            }
            let anchor_on = |k: u32| -> Anchor {
                let k = k as usize;
                let world = d.min_image(p, k).normalize_or_zero() * d.p.radius[k];
                Anchor {
                    particle: k as u32,
                    local: (d.p.quat[k].inverse() * world).to_array(),
                }
            };
            // Strands drawn again between the same two grains join that pair's intact bundle
            // (same anchors; they take the bundle's rest length and radius, so the volume
            // n π r² L₀ added is exact).
            let key = (p as u32, a.min(b), a.max(b));
            let mut existing = fresh_of.get(&key).map(|&i| &mut fresh[i].1);
            let mut stored;
            if existing.is_none() {
                stored = src.bundles.get(&key).and_then(|&e| fibrils.get_mut(e).ok());
                existing = stored.as_deref_mut();
            }
            if let Some(f) = existing.filter(|f| f.state == FibrilState::Intact) {
                let nb = src.bundle;
                let vol = nb * f.law.area() * f.law.rest_length;
                // Wait until the volume due covers a strand; a spent lump gives no more.
                if vol > src.volume[p] || (vol > src.pending[p] && src.pending[p] < src.volume[p]) {
                    break;
                }
                // The new strands take the bundle's rest length at its present stretch.
                d.ledger.events += nb * f.law.elastic_energy(f.length, &src.law);
                f.count += nb;
                src.take(p, vol);
                resize_lump(d, &src, p);
                continue;
            }
            let (aa, ab) = (anchor_on(a), anchor_on(b));
            let shift = new_fibril_shift(d, &aa, &ab);
            let (_, _, len) = fibril_vector(d, &aa, &ab, shift);
            if len <= 0.0 {
                break;
            }
            let nb = src.bundle;
            let vol = nb * PI * fr * fr * len;
            if vol > src.pending[p] && src.pending[p] < src.volume[p] {
                break;
            }
            let (vol, radius) = if vol <= src.volume[p] {
                (vol, fr)
            } else {
                // The last bundle takes whatever is left; its strands' radius follows from n π r² L = V.
                (src.volume[p], (src.volume[p] / (nb * PI * len)).sqrt())
            };
            src.take(p, vol);
            resize_lump(d, &src, p);
            let id = src.next_id;
            src.next_id += 1;
            fresh_of.insert(key, fresh.len());
            fresh.push((
                key,
                FibrilC {
                    id,
                    a: aa,
                    b: ab,
                    source: p as u32,
                    shift,
                    law: FibrilLawState {
                        rest_length: len,
                        radius,
                    },
                    count: nb,
                    tension: 0.0,
                    length: len,
                    state: FibrilState::Intact,
                },
            ));
        }
    }
    window_work.iter_mut().for_each(|w| *w = 0.0);
    d.credited_work = window_work;
    for (key, f) in fresh {
        let e = commands.spawn(f).id();
        src.bundles.insert(key, e);
    }
}

/// Gives PTFE lump `p` the radius of the volume it still holds. A lump drawn down below
/// `src.spent_radius` is spent: its PTFE is in its fibrils (a sliver may still feed their node
/// drawing), it has no contacts left and is no longer part of the film. It stops (zero velocity
/// and spin, no force this step) and takes the inert material [`Material::Spent`], so that it neither drifts through the
/// walls nor touches a grain again; snapshots leave it out. docs/model.md, "PTFE lumps".
///
/// The change of the lump's contact energy and the kinetic energy of a lump that stops are booked
/// as model events in the energy ledger.
pub(crate) fn resize_lump(d: &mut crate::dem::Dem, src: &PtfeSources, p: usize) {
    let r = lump_radius(src.volume[p]);
    let spent = r < src.spent_radius && d.p.material[p] != Material::Spent.id();
    let material = if spent {
        Material::Spent.id()
    } else {
        d.p.material[p]
    };
    d.set_radius_booked(p, r, material);
    if spent {
        d.stop_booked(p);
        // The forces of this step were computed while it still touched grains.
        for v in [&mut d.p.force, &mut d.p.torque] {
            v[p] = DVec3::ZERO;
        }
        d.p.ext.force[p] = DVec3::ZERO;
        d.p.ext.torque[p] = DVec3::ZERO;
    }
}

pub(crate) fn lump_radius(volume: f64) -> f64 {
    (volume.max(0.0) * 3.0 / (4.0 * PI)).cbrt().max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The work-driven law draws nothing below its threshold and, past it, a volume proportional
    /// to the work: twice the work, twice the volume, whatever steps the work arrives in.
    #[test]
    fn drawn_volume_is_linear_in_the_work_past_the_threshold() {
        let (wc, ed) = (4.6e-12, 20e6);
        assert_eq!(work_volume_due(0.0, 0.9 * wc, wc, ed), 0.0);
        let one = work_volume_due(0.0, wc + 1e-12, wc, ed);
        let two = work_volume_due(0.0, wc + 2e-12, wc, ed);
        assert!((one - 1e-12 / ed).abs() < 1e-12 * one);
        assert!((two - 2.0 * one).abs() < 1e-12 * two);
        // The same work in many windows, crossing the threshold in one of them.
        let mut w = 0.0;
        let mut sum = 0.0;
        for _ in 0..137 {
            let next = w + (wc + 2e-12) / 137.0;
            sum += work_volume_due(w, next, wc, ed);
            w = next;
        }
        assert!((sum - two).abs() < 1e-9 * two, "{sum:e} vs {two:e}");
    }
}
