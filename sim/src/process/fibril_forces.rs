//! Fibril tensions on the grains: the fibril (bond) law of `dem::fibril_law` applied to every intact
//! bundle in the step's `PreForce` slot, into the engine's external-force array, with multiple time
//! stepping for the soft bundles and node drawing from the source lumps. docs/model.md, "Fibril law".

use super::*;
use crate::dem::bond::{
    bond_loads, damped_tension, dashpot_coefficient, BondEnd, BondGeometry, BondLoads,
};
use crate::dem::engine::Dem;
use crate::dem::fibril_law::{fibril_response, FibrilEvent};
use crate::dem::schedule::DemWorld;
use crate::snapshot::{Anchor, FibrilState};
use bevy_ecs::prelude::*;
use glam::DVec3;
use rayon::iter::{
    IndexedParallelIterator, IntoParallelRefIterator, IntoParallelRefMutIterator, ParallelIterator,
};

/// Fibrils per parallel work item of the fibril force passes.
const FIBRIL_CHUNK: usize = 512;

/// World position of an anchor, m.
pub(crate) fn anchor_pos(d: &Dem, a: &Anchor) -> DVec3 {
    let k = a.particle as usize;
    d.p.pos[k] + d.p.quat[k] * DVec3::from_array(a.local)
}

/// (vector from a to b on the periodic image `shift` (see [`FibrilC::shift`]), unit vector,
/// length m).
pub(crate) fn fibril_vector(
    d: &Dem,
    a: &Anchor,
    b: &Anchor,
    shift: [i32; 2],
) -> (DVec3, DVec3, f64) {
    let (i, j) = (a.particle as usize, b.particle as usize);
    let v = anchor_pos(d, b) - anchor_pos(d, a) + d.image_offset(i, j, shift);
    let l = v.length();
    (v, if l > 0.0 { v / l } else { DVec3::X }, l)
}

/// The image shift (box lengths in x and y) that puts a new fibril from anchor `a` to anchor `b`
/// on their nearest images; the fibril keeps it whatever length it is drawn to.
pub(crate) fn new_fibril_shift(d: &Dem, a: &Anchor, b: &Anchor) -> [i32; 2] {
    let (i, j) = (a.particle as usize, b.particle as usize);
    d.min_image_shift(i, j, anchor_pos(d, b) - anchor_pos(d, a))
}

/// The state of the grain an anchor sits on, as the bond kernel reads it.
fn bond_end(d: &Dem, a: &Anchor) -> BondEnd {
    let k = a.particle as usize;
    BondEnd {
        centre: d.p.pos[k],
        orientation: d.p.quat[k],
        velocity: d.p.vel[k],
        spin: d.p.omega[k],
        local: DVec3::from_array(a.local),
    }
}

/// The bond geometry of fibril bundle `f` now: anchor offsets, chord direction and length, rate of
/// lengthening (on the bundle's own periodic image).
pub(crate) fn fibril_geometry(d: &Dem, f: &FibrilC) -> BondGeometry {
    let (i, j) = (f.a.particle as usize, f.b.particle as usize);
    BondGeometry::new(
        &bond_end(d, &f.a),
        &bond_end(d, &f.b),
        d.image_offset(i, j, f.shift),
    )
}

/// Elastic energy of the intact bundles `fibs` at their present geometry, J: Σ n ½ k (L − L₀)²
/// ([`FibrilLawState::elastic_energy`](crate::dem::fibril_law::FibrilLawState::elastic_energy)),
/// summed in the order given (id order for a query).
pub(crate) fn fibril_energy<'a>(
    d: &Dem,
    fibs: impl Iterator<Item = &'a FibrilC>,
    law: &crate::dem::fibril_law::FibrilLawParams,
) -> f64 {
    fibs.filter(|f| f.state == FibrilState::Intact)
        .map(|f| f.count * f.law.elastic_energy(fibril_geometry(d, f).length, law))
        .sum()
}

/// Largest phase, rad, by which a bundle's held tension may lag its motion: a bundle whose
/// ω·Δt_hold (ω = sqrt(k/m_red), Δt_hold = `fibril_force_interval`·dt) exceeds it is evaluated
/// every step. A force held for Δt_hold acts on average Δt_hold/2 late, i.e. as a negative damping
/// of ratio ω·Δt_hold/4 ≤ 0.025 here, well under the contacts' damping (docs/model.md).
pub const FIBRIL_HOLD_PHASE: f64 = 0.1;

/// Phase, rad, by which bundle `f`'s tension held for `hold` (s) lags its motion: ω·hold, with
/// ω = sqrt(k/m_red) for its elastic stiffness k = n E π r² / L₀ (`modulus` E, Pa) between its two
/// grains (reduced scaled mass m_red, kg).
pub(crate) fn hold_phase(d: &Dem, f: &FibrilC, modulus: f64, hold: f64) -> f64 {
    let (a, b) = (f.a.particle as usize, f.b.particle as usize);
    let k = f.count * modulus * f.law.area() / f.law.rest_length.max(1e-12);
    let m_red = d.p.mass[a] * d.p.mass[b] / (d.p.mass[a] + d.p.mass[b]);
    (k / m_red).sqrt() * hold
}

/// Scratch of [`fibril_forces`] kept between steps.
#[derive(Default)]
pub(crate) struct FibrilScratch {
    /// Per evaluated bundle: its geometry (length NaN when not intact).
    geo: Vec<BondGeometry>,
    /// Per evaluated bundle: its loads, tag and energy terms.
    loads: Vec<BundleOut>,
    /// Bundles stiff enough to be evaluated every step, in id order (set at each full evaluation).
    fast: bevy_ecs::entity::index_set::EntityIndexSet,
    /// Per particle, the held sums of the other (slow) bundles' forces (N) and moments (N·m).
    slow: HeldLoads,
}

/// What one evaluation of a bundle gives: its loads on its grains, a tag (0 = apply, 1 = failed
/// in this step, NaN = not intact) and its energy terms for the ledger.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BundleOut {
    /// Loads at the anchors.
    loads: BondLoads,
    /// 0 = apply, 1 = failed in this step, NaN = not intact.
    tag: f64,
    /// Power of the axial dashpot, `(T − T_el) dL/dt` ≥ 0, W.
    dashpot_power: f64,
    /// Elastic energy released by plastic drawing (yield) in this evaluation, J.
    drawing: f64,
    /// Elastic energy lost by breaking or detaching in this evaluation, J.
    breakage: f64,
}

/// Per particle, the held sums of the slow bundles' forces (N) and moments about the centres
/// (N·m).
#[derive(Default)]
struct HeldLoads {
    force: Vec<DVec3>,
    torque: Vec<DVec3>,
}

impl HeldLoads {
    /// Zero sums for `n` particles.
    fn reset(&mut self, n: usize) {
        for v in [&mut self.force, &mut self.torque] {
            v.clear();
            v.resize(n, DVec3::ZERO);
        }
    }

    /// Adds bundle loads `l` on its grains `a` and `b`.
    fn add(&mut self, a: usize, b: usize, l: &BondLoads) {
        self.force[a] += l.force_a;
        self.torque[a] += l.torque_a;
        self.force[b] += l.force_b;
        self.torque[b] += l.torque_b;
    }
}

/// PreForce system: fibril tensions (bond law) into the external-force array.
///
/// Multiple time stepping: every `force_interval` steps (and at the first step of a stage or after
/// a turn) all intact bundles are evaluated and sorted into stiff ones, whose held force would lag
/// by more than [`FIBRIL_HOLD_PHASE`], and the rest, whose forces are summed per particle and held
/// until the next full evaluation; in between only the stiff bundles are evaluated. Bundles drawn
/// in between start stress-free and join at the next full evaluation.
///
/// Each evaluation runs four passes over the bundles in id (creation) order: (1) in parallel, each
/// intact fibril's end-to-end vector; (2) in order, node drawing from the fibrils' source lumps
/// (several fibrils share a lump, so the order matters); (3) in parallel, the bond law; (4) in
/// order, the forces added to the particles. Every sum therefore runs in the same order on any
/// thread count.
pub(crate) fn fibril_forces(
    mut dem: ResMut<DemWorld>,
    mut src: ResMut<PtfeSources>,
    mut q: Query<(Entity, &mut FibrilC)>,
    mut scratch: Local<FibrilScratch>,
) {
    let d = &mut dem.0;
    let FibrilScratch {
        geo,
        loads,
        fast,
        slow,
    } = &mut *scratch;
    let full = src.force_refresh || d.step.is_multiple_of(src.force_interval);
    src.force_refresh = false;
    let n = d.p.len();
    if slow.force.len() != n {
        slow.reset(n);
    }
    if full {
        // Fibrils are summed in id (creation) order so the force sums do not depend on storage.
        // They are never despawned and keep their components, so the query already yields them in
        // spawn order; sort only if that ever stops being true.
        let mut fibs: Vec<(Entity, &mut FibrilC)> =
            q.iter_mut().map(|(e, m)| (e, m.into_inner())).collect();
        if !fibs.windows(2).all(|w| w[0].1.id < w[1].1.id) {
            fibs.sort_by_key(|(_, f)| f.id);
        }
        let (ents, mut refs): (Vec<Entity>, Vec<&mut FibrilC>) = fibs.into_iter().unzip();
        let failed = evaluate_fibrils(d, &mut src, &mut refs, geo, loads);
        src.broken_in_stage += failed;
        // Sort into stiff (evaluated every step) and held bundles; sum the held loads.
        let hold = src.force_interval as f64 * d.dt;
        fast.clear();
        slow.reset(n);
        let mut stiff = Vec::new();
        let modulus = src.law.modulus;
        let mut dashpot = 0.0;
        for ((f, o), e) in refs.iter().zip(loads.iter()).zip(ents) {
            if f.state != FibrilState::Intact {
                continue;
            }
            let (a, b) = (f.a.particle as usize, f.b.particle as usize);
            if src.force_interval > 1 && hold_phase(d, f, modulus, hold) > FIBRIL_HOLD_PHASE {
                fast.insert(e);
                stiff.push((a, b, o.loads, o.tag));
                dashpot += o.dashpot_power * d.dt;
            } else if o.tag == 0.0 {
                slow.add(a, b, &o.loads);
                // Held until the next full evaluation.
                dashpot += o.dashpot_power * hold;
            }
        }
        d.ledger.fibril_dashpot += dashpot;
        held_plus_stiff(d, slow, stiff);
    } else {
        let mut refs: Vec<&mut FibrilC> = q
            .iter_many_unique_mut(&*fast)
            // Bundles are never despawned, so every listed entity is found.
            .filter_map(|r| r.ok().map(|(_, m)| m.into_inner()))
            .collect();
        let failed = evaluate_fibrils(d, &mut src, &mut refs, geo, loads);
        src.broken_in_stage += failed;
        d.ledger.fibril_dashpot += loads.iter().map(|o| o.dashpot_power).sum::<f64>() * d.dt;
        let stiff = refs
            .iter()
            .zip(loads.iter())
            .map(|(f, o)| (f.a.particle as usize, f.b.particle as usize, o.loads, o.tag));
        held_plus_stiff(d, slow, stiff);
    }
}

/// Pass (4) of [`fibril_forces`]: the engine's external forces and moments are the held sums
/// `slow` plus, in order, the loads of each stiff bundle (grains a and b, loads, tag 0 = apply).
fn held_plus_stiff(
    d: &mut Dem,
    slow: &HeldLoads,
    stiff: impl IntoIterator<Item = (usize, usize, BondLoads, f64)>,
) {
    let (ext, ext_t) = (&mut d.p.ext.force, &mut d.p.ext.torque);
    ext.copy_from_slice(&slow.force);
    ext_t.copy_from_slice(&slow.torque);
    for (a, b, l, tag) in stiff {
        if tag == 0.0 {
            ext[a] += l.force_a;
            ext_t[a] += l.torque_a;
            ext[b] += l.force_b;
            ext_t[b] += l.torque_b;
        }
    }
}

/// Passes (1)–(3) of [`fibril_forces`] on `fibs` (in id order): leaves in `geo[k]` the geometry
/// of bundle k and in `loads[k]` its loads on its two grains with a tag (0 = apply, 1 = failed in
/// this step, NaN = not intact) and its energy terms; books the elastic energy released by node
/// drawing and yield, and lost by failures, in the engine's ledger; returns the number of bundles
/// that failed.
fn evaluate_fibrils(
    d: &mut Dem,
    src: &mut PtfeSources,
    fibs: &mut [&mut FibrilC],
    geo: &mut Vec<BondGeometry>,
    loads: &mut Vec<BundleOut>,
) -> u32 {
    // (1) The geometry of every intact bundle.
    {
        let d: &Dem = d;
        fibs.par_iter()
            .with_min_len(FIBRIL_CHUNK)
            .map(|f| {
                if f.state == FibrilState::Intact {
                    fibril_geometry(d, f)
                } else {
                    BondGeometry {
                        length: f64::NAN,
                        ..Default::default()
                    }
                }
            })
            .collect_into_vec(geo);
    }
    let law = src.law;
    // (2) Node drawing: while its source lump still holds PTFE, a fibril stretched past the drawing
    // stress pulls new material out of the lump at constant radius (the node–fibril structure of
    // drawn PTFE) instead of thinning: its rest length grows to L₀' = L·E/(E + σ_y), the length at
    // which it carries exactly σ_y, and the lump gives up π r² (L₀' − L₀).
    for (f, g) in fibs.iter_mut().zip(geo.iter()) {
        let (s, len) = (f.source as usize, g.length);
        if f.state != FibrilState::Intact || src.volume[s] <= 0.0 || !len.is_finite() {
            continue;
        }
        let area = f.count * f.law.area();
        let l0_node = len * law.modulus / (law.modulus + law.yield_stress);
        if l0_node > f.law.rest_length {
            let take = (area * (l0_node - f.law.rest_length)).min(src.volume[s]);
            let before = f.count * f.law.elastic_energy(len, &law);
            f.law.rest_length += take / area;
            d.ledger.fibril_drawing += before - f.count * f.law.elastic_energy(len, &law);
            src.volume[s] -= take;
            resize_lump(d, src, s);
        }
    }
    // (3) The bond law, its axial dashpot and the loads at the anchors (dem::bond).
    let (mass, zeta) = (&d.p.mass, src.damping_ratio);
    fibs.par_iter_mut()
        .zip(geo.par_iter())
        .map(|(f, g)| {
            if f.state != FibrilState::Intact {
                return BundleOut {
                    tag: f64::NAN,
                    ..Default::default()
                };
            }
            let before = f.count * f.law.elastic_energy(g.length, &law);
            let out = fibril_response(g.length, f.law, &law);
            f.law = out.state;
            f.length = g.length;
            f.tension = f.count * out.tension;
            let kept = f.count * f.law.elastic_energy(g.length, &law);
            let failed = match out.event {
                FibrilEvent::Broke => Some(FibrilState::Broken),
                FibrilEvent::Detached => Some(FibrilState::Detached),
                _ => None,
            };
            match failed {
                Some(state) => {
                    f.state = state;
                    BundleOut {
                        tag: 1.0,
                        drawing: before - kept,
                        breakage: kept,
                        ..Default::default()
                    }
                }
                None => {
                    let (a, b) = (f.a.particle as usize, f.b.particle as usize);
                    let k = f.count * f.law.stiffness(&law);
                    let c = dashpot_coefficient(zeta, k, mass[a], mass[b]);
                    let t = damped_tension(f.tension, c, g.rate);
                    BundleOut {
                        loads: bond_loads(g, t),
                        tag: 0.0,
                        dashpot_power: (t - f.tension) * g.rate,
                        drawing: before - kept,
                        breakage: 0.0,
                    }
                }
            }
        })
        .with_min_len(FIBRIL_CHUNK)
        .collect_into_vec(loads);
    for o in loads.iter() {
        d.ledger.fibril_drawing += o.drawing;
        d.ledger.fibril_breakage += o.breakage;
    }
    loads.iter().filter(|o| o.tag == 1.0).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::contact::PairParams;
    use crate::dem::fibril_law::FibrilLawState;
    use crate::dem::schedule::{run_steps, step_schedule, world_with, StepSet};
    use crate::dem::state::ParticleState;
    use crate::process::sim::ptfe_sources;
    use crate::scenario::{validate, RawScenario};
    use crate::snapshot::Phase;

    /// Grain radius, m, and density, kg/m³, of the two-grain tests.
    const R: f64 = 5e-6;
    const RHO: f64 = 1900.0;

    /// Two 10 µm grains at `centres` with velocities `vel` and spins `spin` in a box `lx` × 200
    /// × 200 µm, joined by one bundle of 100 strands of 50 nm between anchors at body-frame
    /// offsets `locals`, on the raw image (no shift), stretched 5 % elastically; no contacts (inert
    /// pair table), fibril dashpot ratio `zeta`, forces evaluated every step.
    fn pair_world(
        zeta: f64,
        lx: f64,
        centres: [DVec3; 2],
        vel: [DVec3; 2],
        spin: [DVec3; 2],
        locals: [DVec3; 2],
    ) -> (World, Schedule) {
        let mut raw = RawScenario::default();
        raw.powder.ptfe.fibril_damping_ratio = zeta;
        raw.numerics.fibril_force_interval = 1;
        let s = validate(&raw, None, "two grains").expect("valid");
        let mut p = ParticleState::default();
        let m = RHO * 4.0 / 3.0 * std::f64::consts::PI * R.powi(3);
        for c in centres {
            p.push(c, R, m, 0);
        }
        (p.vel, p.omega) = (vel.to_vec(), spin.to_vec());
        let table = vec![PairParams::INERT; 4];
        let mut dem = Dem::new(p, table, 2, lx, 200e-6, 0.0, 200e-6, 1, 1e-9, 1e-6);
        dem.cohesion = false;
        let [la, lb] = locals;
        let a = Anchor {
            particle: 0,
            local: la.to_array(),
        };
        let b = Anchor {
            particle: 1,
            local: lb.to_array(),
        };
        let len = fibril_vector(&dem, &a, &b, [0, 0]).2;
        let mut src = ptfe_sources(&s, &[R, R], &[Phase::Nps, Phase::Nps]);
        src.law.hardening_modulus = 0.0;
        let mut world = world_with(dem);
        world.insert_resource(src);
        world.spawn(FibrilC {
            id: 0,
            a,
            b,
            source: 0,
            shift: [0, 0],
            law: FibrilLawState {
                rest_length: len / 1.05,
                radius: 50e-9,
            },
            count: 100.0,
            tension: 0.0,
            length: len,
            state: FibrilState::Intact,
        });
        let mut schedule = step_schedule();
        schedule.add_systems(fibril_forces.in_set(StepSet::PreForce));
        (world, schedule)
    }

    /// Two grains 30 µm apart in a 200 µm box, moving apart and spinning (see [`pair_world`]).
    fn two_grains(zeta: f64) -> (World, Schedule) {
        let c = DVec3::splat(100e-6);
        pair_world(
            zeta,
            200e-6,
            [
                c - DVec3::new(15e-6, 1e-6, 0.0),
                c + DVec3::new(15e-6, 1e-6, 0.0),
            ],
            [DVec3::new(-0.3, 0.1, 0.2), DVec3::new(0.3, -0.1, -0.2)],
            [DVec3::new(2e4, -5e4, 3e4), DVec3::new(-4e4, 1e4, 6e4)],
            [DVec3::new(4e-6, 2e-6, 0.0), DVec3::new(-3e-6, 0.0, 3.5e-6)],
        )
    }

    /// A bundle longer than half the periodic length keeps its own image while both grains drift
    /// across the periodic sides many times: its chord (19 µm along x at the start, 11 µm the
    /// other way on the minimum image) changes smoothly.
    #[test]
    fn a_bundle_longer_than_half_the_box_keeps_its_image_across_wraps() {
        let (lx, z) = (30e-6, 100e-6);
        let drift = DVec3::new(0.6, 0.2, 0.0);
        let (mut world, mut schedule) = pair_world(
            0.05,
            lx,
            [DVec3::new(4e-6, 100e-6, z), DVec3::new(23e-6, 100e-6, z)],
            [drift, drift],
            [DVec3::ZERO, DVec3::new(0.0, 0.0, 1e4)],
            [DVec3::new(1e-6, 0.0, 0.0), DVec3::new(-1e-6, 0.0, 0.0)],
        );
        let chord = |world: &mut World| {
            let f = *world.query::<&FibrilC>().single(world).expect("one bundle");
            assert_eq!(f.state, FibrilState::Intact);
            let g = fibril_geometry(&world.resource::<DemWorld>().0, &f);
            g.unit * g.length
        };
        let mut last = chord(&mut world);
        assert!(last.x > 0.5 * lx);
        // The anchors move at up to ~6 m/s relative (0.06 µm per 10 steps); a change of image
        // would move the chord by a box length.
        for _ in 0..10_000 {
            run_steps(&mut world, &mut schedule, 10).expect("steps");
            let c = chord(&mut world);
            assert!((c - last).length() < 0.5e-6, "chord jumps {last} -> {c}");
            last = c;
        }
        let d = &world.resource::<DemWorld>().0;
        assert!(d.p.image.iter().all(|i| i[0] >= 2), "wraps {:?}", d.p.image);
    }

    /// Kinetic energy of the grains plus the bundle's elastic energy, J; angular momentum about
    /// the centre of the box, kg·m²/s.
    fn energy_and_momentum(world: &mut World) -> (f64, DVec3) {
        let law = world.resource::<PtfeSources>().law;
        let f = *world.query::<&FibrilC>().single(world).expect("one bundle");
        let d = &world.resource::<DemWorld>().0;
        let f = &f;
        let mut e = f.count * f.law.elastic_energy(fibril_geometry(d, f).length, &law);
        let mut l = DVec3::ZERO;
        for k in 0..2 {
            let (m, r) = (d.p.mass[k], d.p.radius[k]);
            let inertia = 0.4 * m * r * r;
            e += 0.5 * m * d.p.vel[k].length_squared()
                + 0.5 * inertia * d.p.omega[k].length_squared();
            l += (d.p.pos[k] - DVec3::splat(100e-6)).cross(m * d.p.vel[k]) + inertia * d.p.omega[k];
        }
        (e, l)
    }

    /// Without damping the bundle and the two spinning grains keep their total energy (velocity
    /// Verlet, 1e5 steps at ω·dt ≈ 0.006) and their angular momentum (to rounding): the anchor
    /// moments make the fibril forces conservative. The energy is taken after the first step: a
    /// fresh engine's first half-kick has no forces yet (velocity Verlet starts from the previous
    /// step's).
    #[test]
    fn a_bundle_between_spinning_grains_conserves_energy_and_angular_momentum() {
        let (mut world, mut schedule) = two_grains(0.0);
        run_steps(&mut world, &mut schedule, 1).expect("first step");
        let (e0, l0) = energy_and_momentum(&mut world);
        let (mut lo, mut hi) = (e0, e0);
        let mut worst_l: f64 = 0.0;
        for _ in 0..1000 {
            run_steps(&mut world, &mut schedule, 100).expect("steps");
            let (e, l) = energy_and_momentum(&mut world);
            (lo, hi) = (lo.min(e), hi.max(e));

            worst_l = worst_l.max((l - l0).length() / l0.length());
        }
        let f = world
            .query::<&FibrilC>()
            .single(&world)
            .expect("one bundle");
        assert_eq!(f.state, FibrilState::Intact);
        assert!(f.tension > 0.0 || f.length <= f.law.rest_length);
        assert!(
            (hi - lo) / e0 < 1e-4,
            "energy drifts by {:e} of {e0:e} J",
            (hi - lo) / e0
        );
        assert!(worst_l < 1e-10, "angular momentum drifts by {worst_l:e}");
    }

    /// With the dashpot on, the same pair loses energy steadily and keeps its angular momentum.
    #[test]
    fn the_fibril_dashpot_dissipates_and_keeps_angular_momentum() {
        let (mut world, mut schedule) = two_grains(0.2);
        run_steps(&mut world, &mut schedule, 1).expect("first step");
        let (e0, l0) = energy_and_momentum(&mut world);
        run_steps(&mut world, &mut schedule, 20_000).expect("steps");
        let (e, l) = energy_and_momentum(&mut world);
        assert!(e < 0.99 * e0, "energy {e:e} of {e0:e} J");
        assert!((l - l0).length() / l0.length() < 1e-10);
    }
}
