//! The force loop: every pair in the list evaluated per thread slab in list order and summed per
//! particle, plus the walls. Tasks share the pair arrays through [`crate::par::SharedSlice`].

use super::contact::{ContactDissipation, ContactSpring, PlasticState};
use super::engine::*;
use super::ledger::{credit_share, ParticleLedger};
use super::neighbours::BlockSums;
use super::neighbours::Blocks;
use super::pair_kernel::{wall_contact, PairCtx, ParticleView};
use super::pairs::{PLASTIC, TOUCHING};
use crate::par::SharedSlice;
use glam::DVec3;
use rayon::prelude::*;

/// What every block's force task shares: the pair kernel's context, the pair list and its
/// history (a block writes only the rows of its own particles and reads its foreign pairs from
/// their snapshot), the block map and the walls.
struct ForceTask<'a> {
    ctx: PairCtx<'a>,
    ext: &'a [DVec3],
    ext_t: &'a [DVec3],
    start: &'a [u32],
    end: &'a [u32],
    jv: &'a [u32],
    shift: &'a [[i8; 2]],
    /// Block of each particle and its index within the block.
    of: &'a [u32],
    local: &'a [u32],
    state: SharedSlice<'a, u8>,
    springs: SharedSlice<'a, ContactSpring>,
    plastic: SharedSlice<'a, PlasticState>,
    outs: SharedSlice<'a, PairOutput>,
    walls: WallTask<'a>,
    /// Whether the pair outputs are written this step.
    record: bool,
    /// Whether the contact dissipation and wall work are booked per particle this step.
    track: bool,
    /// The material credited with its contacts' work ([`Dem::work_credit`]; only when `track`).
    credit: Option<u8>,
}

/// The walls as the force tasks see them: per-particle histories and state bits (a block touches
/// only its own particles' entries), material, heights (m), velocities (m/s).
struct WallTask<'a> {
    bottom: SharedSlice<'a, WallHistory>,
    top: SharedSlice<'a, WallHistory>,
    state: SharedSlice<'a, u8>,
    material: u8,
    z_bottom: f64,
    z_top: f64,
    top_active: bool,
    bottom_vel: DVec3,
    top_vel: DVec3,
}

impl ForceTask<'_> {
    /// A foreign pair `f`: evaluated from its history at the start of the step, added to j only.
    fn foreign_pair(
        &self,
        f: usize,
        fr: &[(u32, u32)],
        sn: &[(u8, ContactSpring, PlasticState)],
        fc: &mut [DVec3],
        tc: &mut [DVec3],
        lg: &mut [ParticleLedger],
    ) {
        let (k, i) = (fr[f].0 as usize, fr[f].1 as usize);
        let (st, spring, pls) = sn[f];
        let j = self.jv[k] as usize;
        let p = &self.ctx.p;
        let (d, dist2, apart) = self.ctx.test(p.pos[i], p.radius[i], j, self.shift[k], st);
        if apart {
            return;
        }
        let e = self.ctx.kernel(i, j, d, dist2, st, spring, pls, false);
        let lj = self.local[j] as usize;
        if self.credit.is_some() {
            lg[lj].credited += self.credited(j, i, &e.diss);
        }
        if e.touching {
            fc[lj] -= e.force;
            tc[lj] += e.torque_j;
        }
    }

    /// Particle `own`'s credited share of the sliding work `diss` of its contact with
    /// `other` ([`Dem::credited_work`]), J.
    #[inline(always)]
    fn credited(&self, own: usize, other: usize, diss: &ContactDissipation) -> f64 {
        let m = self.ctx.p.material;
        credit_share(self.credit, m[own], m[other]) * diss.friction
    }

    /// Block `b`'s sums for its particles `mem` before the walls: `ext.force`, then its pairs in
    /// list order: the rows of its particles (history updated in place) with the foreign pairs
    /// `fr` (start-of-step history `sn`) interleaved by first particle.
    fn block_pairs(
        &self,
        b: usize,
        acc: &mut BlockSums,
        mem: &[u32],
        fr: &[(u32, u32)],
        sn: &[(u8, ContactSpring, PlasticState)],
    ) {
        let m = mem.len();
        acc.force.clear();
        acc.force.extend(mem.iter().map(|&q| self.ext[q as usize]));
        acc.torque.clear();
        acc.torque
            .extend(mem.iter().map(|&q| self.ext_t[q as usize]));
        acc.skipped.clear();
        acc.skipped.resize(m, false);
        let track = self.track;
        // Only set while energy is tracked (`Dem::compute_forces`).
        let credit = self.credit.is_some();
        acc.ledger.clear();
        if track {
            acc.ledger.resize(m, Default::default());
        }
        let (ctx, p) = (&self.ctx, &self.ctx.p);
        let (state, springs, plastic, outs) =
            (&self.state, &self.springs, &self.plastic, &self.outs);
        let record = self.record;
        let (start, end, jv, shift, of) = (self.start, self.end, self.jv, self.shift, self.of);
        let (fc, tc, sk, lg) = (
            &mut acc.force,
            &mut acc.torque,
            &mut acc.skipped,
            &mut acc.ledger,
        );
        let mut fi = 0usize;
        for (li, &i) in mem.iter().enumerate() {
            let i = i as usize;
            let (r0, r1) = (start[i] as usize, end[i] as usize);
            // Foreign rows before this one (list order is by first particle).
            while fi < fr.len() && (fr[fi].1 as usize) < i {
                self.foreign_pair(fi, fr, sn, fc, tc, lg);
                fi += 1;
            }
            let (pi, ri) = (p.pos[i], p.radius[i]);
            for k in r0..r1 {
                let j = jv[k] as usize;
                // SAFETY (all accesses to pair k below): k is in the row of i, which only this
                // block sweeps; other blocks use their snapshots.
                let st = unsafe { state.get(k) };
                let (d, dist2, apart) = ctx.test(pi, ri, j, shift[k], st);
                if apart {
                    unsafe { state.set(k, 0) };
                    sk[li] = true;
                    continue;
                }
                let spring = if st & TOUCHING != 0 {
                    unsafe { springs.get(k) }
                } else {
                    ContactSpring::default()
                };
                let pls = if st & PLASTIC != 0 {
                    unsafe { plastic.get(k) }
                } else {
                    PlasticState::default()
                };
                let e = ctx.kernel(i, j, d, dist2, st, spring, pls, record);
                unsafe {
                    state.set(k, e.state);
                    if e.touching {
                        springs.set(k, e.spring);
                    }
                    if e.state & PLASTIC != 0 {
                        plastic.set(k, e.plastic);
                    }
                    if record {
                        outs.set(k, e.out);
                    }
                }
                if track {
                    lg[li].add_contact(&e.diss);
                    if credit {
                        lg[li].credited += self.credited(i, j, &e.diss);
                        if of[j] as usize == b {
                            lg[self.local[j] as usize].credited += self.credited(j, i, &e.diss);
                        }
                    }
                }
                if e.touching {
                    fc[li] += e.force;
                    tc[li] += e.torque_i;
                    if of[j] as usize == b {
                        let lj = self.local[j] as usize;
                        fc[lj] -= e.force;
                        tc[lj] += e.torque_j;
                    }
                } else {
                    sk[li] = true;
                }
            }
        }
        while fi < fr.len() {
            self.foreign_pair(fi, fr, sn, fc, tc, lg);
            fi += 1;
        }
    }

    /// The walls, after all pairs, for the block's particles `mem`.
    fn block_walls(&self, acc: &mut BlockSums, mem: &[u32]) {
        let (ctx, p, w) = (&self.ctx, &self.ctx.p, &self.walls);
        let (fc, tc, sk) = (&mut acc.force, &mut acc.torque, &acc.skipped);
        let lg = &mut acc.ledger;
        let track = self.track;
        for (li, &i) in mem.iter().enumerate() {
            let i = i as usize;
            let mut fs = fc[li];
            if sk[li] {
                // The old gather added +0.0 for every pair that was apart; adding it once here
                // turns a −0.0 sum into +0.0 exactly as that did, which keeps the results
                // bit-identical to it.
                fs += DVec3::ZERO;
            }
            let mut ts = tc[li];
            let pp = ctx.table.get(p.material[i], w.material);
            let r = p.radius[i];
            // SAFETY (wall arrays): particle i belongs to this block only.
            let ws0 = unsafe { w.state.get(i) };
            let mut ws = ws0;
            // One wall: overlap `gap` (m), normal `n` into the box, wall velocity `vw`, its
            // history array and state bit. A clear state bit means a default history, for which
            // the wall law does nothing while apart.
            let mut pl = if track { Some(&mut lg[li]) } else { None };
            let mut wall = |gap: f64,
                            n: DVec3,
                            vw: DVec3,
                            hist: &SharedSlice<WallHistory>,
                            bit: u8,
                            ws: &mut u8,
                            fs: &mut DVec3,
                            ts: &mut DVec3| {
                if gap > 0.0 || gap.is_nan() || *ws & bit != 0 {
                    // SAFETY: particle i belongs to this block only.
                    let mut h = unsafe { hist.get(i) };
                    let ran = wall_contact(
                        pp,
                        gap,
                        r,
                        p.mass[i],
                        n,
                        (p.vel[i], vw),
                        p.omega[i],
                        &mut h,
                        ctx.dt,
                        ctx.cohesion,
                        fs,
                        ts,
                        pl.as_deref_mut(),
                    );
                    unsafe { hist.set(i, h) };
                    if ran {
                        *ws |= bit;
                    } else {
                        *ws &= !bit;
                    }
                }
            };
            let db = w.z_bottom - (p.pos[i].z - r);
            let (vb, wb) = (w.bottom_vel, &w.bottom);
            wall(db, DVec3::Z, vb, wb, WALL_BOTTOM, &mut ws, &mut fs, &mut ts);
            if w.top_active {
                let dtp = p.pos[i].z + r - w.z_top;
                let (vt, wt) = (w.top_vel, &w.top);
                wall(dtp, -DVec3::Z, vt, wt, WALL_TOP, &mut ws, &mut fs, &mut ts);
            } else if ws & WALL_TOP != 0 {
                unsafe { w.top.set(i, WallHistory::default()) };
                ws &= !WALL_TOP;
            }
            if ws != ws0 {
                unsafe { w.state.set(i, ws) };
            }
            fc[li] = fs;
            tc[li] = ts;
        }
    }
}

impl Dem {
    /// Compute all contact forces (pairs and walls), then sum them per particle in a fixed order.
    /// Also updates the top-wall velocity when it is pressure-driven.
    ///
    /// Each particle sums `ext.force` (`ext.torque`), then its pair forces in list order (ascending `(i, j)`),
    /// then the walls, whatever the thread count. The particles are split into one block per
    /// thread: slabs across the longer periodic axis holding about equal work. A block sweeps, in
    /// list order, the rows of its particles and the *foreign* pairs whose `j` it holds (about 5 %
    /// of the pairs with two slabs): each pair is evaluated and added to whichever of its particles
    /// the block holds, so every particle sees its pairs in order. A pair across two blocks is
    /// evaluated by both with identical inputs: the block of `i` owns it and updates its history
    /// in place, the other evaluates it from a snapshot taken at the start of the step. On one
    /// thread there is one block and no foreign pair.
    pub fn compute_forces(&mut self) {
        let n = self.p.len();
        let nb = rayon::current_num_threads().clamp(1, n.max(1));
        self.update_blocks(nb);
        let pl = &mut self.pairs;
        let Blocks {
            of,
            local,
            members,
            foreign,
            snap,
            acc,
            ..
        } = &mut self.blocks;
        // The history of the pairs a block evaluates without owning them, before any changes.
        snap.resize_with(foreign.len(), Vec::new);
        snap.par_iter_mut()
            .zip(foreign.par_iter())
            .for_each(|(sn, fr)| {
                sn.clear();
                sn.extend(fr.iter().map(|&(k, _)| {
                    let k = k as usize;
                    (pl.state[k], pl.spring[k], pl.plastic[k])
                }));
            });
        let task = ForceTask {
            ctx: PairCtx {
                p: ParticleView {
                    pos: &self.p.pos,
                    vel: &self.p.vel,
                    omega: &self.p.omega,
                    radius: &self.p.radius,
                    mass: &self.p.mass,
                    material: &self.p.material,
                },
                table: &self.table,
                lx: self.lx,
                ly: self.ly,
                dt: self.dt,
                cohesion: self.cohesion,
            },
            ext: &self.p.ext.force,
            ext_t: &self.p.ext.torque,
            start: &pl.start,
            end: &pl.end,
            jv: &pl.j,
            shift: &pl.shift,
            of,
            local,
            state: SharedSlice::new(&mut pl.state),
            springs: SharedSlice::new(&mut pl.spring),
            plastic: SharedSlice::new(&mut pl.plastic),
            outs: SharedSlice::new(&mut pl.out),
            walls: WallTask {
                bottom: SharedSlice::new(&mut self.walls.bottom),
                top: SharedSlice::new(&mut self.walls.top),
                state: SharedSlice::new(&mut self.walls.state),
                material: self.walls.material,
                z_bottom: self.walls.z_bottom,
                z_top: self.walls.z_top,
                top_active: self.walls.top_active,
                bottom_vel: self.walls.bottom_vel,
                top_vel: self.walls.top_vel,
            },
            record: self.record_pair_outputs,
            track: self.track_energy,
            credit: self.work_credit.filter(|_| self.track_energy),
        };
        acc.par_iter_mut()
            .zip(members.par_iter())
            .zip(foreign.par_iter())
            .zip(snap.par_iter())
            .enumerate()
            .for_each(|(b, (((acc, mem), fr), sn))| {
                task.block_pairs(b, acc, mem, fr, sn);
                task.block_walls(acc, mem);
            });
        self.gather_sums();
        if self.track_energy {
            self.book_step();
        }
        self.wall_reactions();
    }

    /// Adds the step's per-particle contact dissipation and wall work to the ledger, in particle
    /// order (thread-count independent).
    fn book_step(&mut self) {
        let Blocks { of, local, acc, .. } = &self.blocks;
        let book = &mut self.ledger;
        for i in 0..of.len() {
            book.add_particle(&acc[of[i] as usize].ledger[local[i] as usize]);
        }
        if self.work_credit.is_some() {
            self.credited_work.resize(of.len(), 0.0);
            for (i, w) in self.credited_work.iter_mut().enumerate() {
                *w += acc[of[i] as usize].ledger[local[i] as usize].credited;
            }
        }
    }

    /// The blocks' sums into the particle arrays (one block holds them in particle order
    /// already).
    fn gather_sums(&mut self) {
        let Blocks { of, local, acc, .. } = &mut self.blocks;
        if acc.len() == 1 {
            std::mem::swap(&mut self.p.force, &mut acc[0].force);
            std::mem::swap(&mut self.p.torque, &mut acc[0].torque);
        } else {
            let (of, local, acc) = (&*of, &*local, &*acc);
            let c = CHUNK_PARTICLES;
            self.p
                .force
                .par_chunks_mut(c)
                .zip(self.p.torque.par_chunks_mut(c))
                .enumerate()
                .for_each(|(ci, (fc, tc))| {
                    for l in 0..fc.len() {
                        let i = ci * c + l;
                        let (b, li) = (of[i] as usize, local[i] as usize);
                        fc[l] = acc[b].force[li];
                        tc[l] = acc[b].torque[li];
                    }
                });
        }
    }

    /// The wall reactions (summed sequentially, for determinism; particles with a clear state bit
    /// have a default history, normal force +0, which would add nothing), their moving average,
    /// and the top wall's velocity from its drive.
    fn wall_reactions(&mut self) {
        let mut ft = 0.0;
        let mut fb = 0.0;
        for (k, &st) in self.walls.state.iter().enumerate() {
            if st & WALL_TOP != 0 {
                ft += self.walls.top[k].normal_force;
            }
            if st & WALL_BOTTOM != 0 {
                fb += self.walls.bottom[k].normal_force;
            }
        }
        self.walls.top_force = ft;
        self.walls.bottom_force = fb;
        // Exponential moving average over ~100 steps (what the servo controls and the calender reads).
        self.walls.top_force_avg += 0.01 * (ft - self.walls.top_force_avg);
        if let WallDrive::Pressure {
            pressure,
            max_speed,
            shear,
        } = self.walls.top_drive
        {
            // Proportional servo on the time-averaged wall force (the instantaneous force of a stiff
            // packing rings; averaging over ~100 steps keeps the wall from chattering): speed ∝
            // pressure error, capped (LIGGGHTS-style servo wall).
            let area = self.lx * self.ly;
            let err = (pressure * area - self.walls.top_force_avg) / (pressure * area).max(1e-30);
            let vz = (-err * max_speed).clamp(-max_speed, max_speed);
            self.walls.top_vel = DVec3::new(shear.x, shear.y, vz);
        } else if let WallDrive::Velocity(v) = self.walls.top_drive {
            self.walls.top_vel = v;
        }
    }
}
