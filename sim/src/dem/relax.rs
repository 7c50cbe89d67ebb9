//! Bringing a packing to rest and measuring how close it is: kinetic energy, the unbalanced-force
//! ratio, local and viscous damping (used while a released film relaxes), removal of a released
//! film's rigid-body drift, and setting it down on the bottom wall. docs/model.md, "Relaxation
//! damping" and "Released film: no rigid-body drift".

use super::engine::Dem;
use glam::DVec3;

impl Dem {
    /// Kinetic energy of particle `i` (translational + rotational, `I = 0.4 m r²`), J.
    pub fn particle_kinetic_energy(&self, i: usize) -> f64 {
        let p = &self.p;
        0.5 * p.mass[i] * p.vel[i].length_squared()
            + 0.5 * 0.4 * p.mass[i] * p.radius[i] * p.radius[i] * p.omega[i].length_squared()
    }

    /// Total kinetic energy (translational + rotational), J. Sequential sum.
    pub fn kinetic_energy(&self) -> f64 {
        (0..self.p.len())
            .map(|i| self.particle_kinetic_energy(i))
            .sum()
    }

    /// Applies [`Dem::local_damping`] and [`Dem::viscous_damping`] to the forces and torques of
    /// this step (nothing when both are 0).
    pub fn apply_local_damping(&mut self) {
        let (alpha, c) = (self.local_damping, self.viscous_damping);
        if alpha == 0.0 && c == 0.0 {
            return;
        }
        // The damping force's power −ΔF · v is booked as relaxation damping in the ledger, with
        // the velocity at the end of the step, `v + F Δt / 2m` (`F` the total force after
        // damping): in velocity Verlet a force evaluated at step n+1 does its work over the
        // half-steps on either side of it, `F · v_{n+1} Δt` exactly (docs/model.md, "Energy
        // ledger"). With the half-step velocity alone the booking overstates the dissipation of a
        // film near rest, where the damping force is most of the force.
        let dt = self.dt;
        let damp = |f: &mut DVec3, v: DVec3, inertia: f64| -> f64 {
            let f0 = *f;
            for k in 0..3 {
                if v[k] != 0.0 {
                    f[k] -= alpha * f[k].abs() * v[k].signum();
                }
            }
            *f -= c * inertia * v;
            (f0 - *f).dot(v + *f * (0.5 * dt / inertia))
        };
        let p = &mut self.p;
        let mut power = 0.0;
        for k in 0..p.pos.len() {
            let (m, r) = (p.mass[k], p.radius[k]);
            power += damp(&mut p.force[k], p.vel[k], m);
            power += damp(&mut p.torque[k], p.omega[k], 0.4 * m * r * r);
        }
        self.ledger.relaxation_damping += power * self.dt;
    }

    /// Unbalanced-force ratio, dimensionless: the mean magnitude of the net force on the particles
    /// of radius ≥ `min_radius` (m) over the mean force the touching contacts carry (the
    /// quasi-static criterion of DEM codes, e.g. the "mean unbalanced force ratio" of Itasca PFC);
    /// 0 when nothing touches. A contact's force here is its elastic (repulsive) normal force plus
    /// its tangential force, without the DMT pull: in a free adhesive film the elastic force of a
    /// contact at rest balances its adhesion, so the net contact force is near zero and would make
    /// the ratio meaningless. Uses the last force computation's pair outputs.
    pub fn unbalanced_force_ratio(&self, min_radius: f64) -> f64 {
        let p = &self.p;
        let (mut net, mut n) = (0.0, 0usize);
        for i in (0..p.len()).filter(|&i| p.radius[i] >= min_radius) {
            net += p.force[i].length();
            n += 1;
        }
        let (mut contact, mut m) = (0.0, 0usize);
        for q in self.pairs.iter_touching() {
            let (i, j) = (q.i as usize, q.j as usize);
            let pp = self.params(p.material[i], p.material[j]);
            let adhesion = if self.cohesion {
                let (ri, rj) = (p.radius[i], p.radius[j]);
                super::contact::dmt_adhesion(pp.surface_energy, ri * rj / (ri + rj))
            } else {
                0.0
            };
            let tangential = (q.force.length_squared() - q.normal_force * q.normal_force)
                .max(0.0)
                .sqrt();
            contact += (q.normal_force + adhesion).abs() + tangential;
            m += 1;
        }
        if m == 0 || n == 0 || contact == 0.0 {
            return 0.0;
        }
        (net / n as f64) / (contact / m as f64)
    }

    /// Remove the film's rigid-body velocity through the thickness: subtract the mass-weighted mean
    /// z velocity (m/s) of the particles of radius ≥ `min_radius` (m) from each of them, as LAMMPS's
    /// `fix momentum` does. Used while a released film relaxes with no top wall: the elastic energy
    /// it gives back pushes it off the bottom wall, and with no gravity (negligible at micron scale)
    /// nothing would stop that drift, which is not springback. Internal motion is untouched;
    /// smaller particles (spent PTFE lumps, which no longer take part in the film) are left out.
    /// Sequential sums (thread-count independent).
    pub fn remove_drift_z(&mut self, min_radius: f64) {
        let p = &mut self.p;
        let (mut m, mut mv) = (0.0f64, 0.0f64);
        for k in 0..p.len() {
            if p.radius[k] >= min_radius {
                m += p.mass[k];
                mv += p.mass[k] * p.vel[k].z;
            }
        }
        if m > 0.0 {
            let vz = mv / m;
            // The kinetic energy removed: ½ M v̄_z².
            self.ledger.relaxation_damping += 0.5 * m * vz * vz;
            for (v, r) in p.vel.iter_mut().zip(&p.radius) {
                if *r >= min_radius {
                    v.z -= vz;
                }
            }
        }
    }

    /// Translate every particle down so that the lowest bottom of the particles of radius
    /// ≥ `min_radius` (m) rests on the bottom wall (a shift of at most the gap under the film, m;
    /// nothing moves if one already touches it). A free film lies on the bottom wall; the shift
    /// changes no relative position. Returns the shift, m.
    pub fn rest_on_bottom(&mut self, min_radius: f64) -> f64 {
        let low = self
            .p
            .pos
            .iter()
            .zip(&self.p.radius)
            .filter(|(_, r)| **r >= min_radius)
            .map(|(x, r)| x.z - r)
            .fold(f64::MAX, f64::min);
        let gap = low - self.walls.z_bottom;
        if gap > 0.0 && gap.is_finite() {
            for x in self.p.pos.iter_mut() {
                x.z -= gap;
            }
            gap
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::bench::anchor_material;
    use crate::dem::contact::PairParams;
    use crate::dem::state::ParticleState;

    /// Drift removal takes out the mass-weighted mean z velocity and nothing else; resting on the
    /// bottom wall shifts the film down by its gap, rigidly, and never lifts a touching film.
    #[test]
    fn drift_removal_and_rest_on_bottom_are_rigid() {
        let mut p = ParticleState::default();
        p.push(DVec3::new(1e-6, 1e-6, 3e-6), 1e-6, 1e-15, 0);
        p.push(DVec3::new(4e-6, 1e-6, 6e-6), 2e-6, 3e-15, 0);
        let mat = anchor_material();
        let table = vec![PairParams::mix(&mat, &mat)];
        let mut d = Dem::new(p, table, 1, 10e-6, 10e-6, 0.0, 20e-6, 0, 1e-9, 0.2e-6);
        d.p.vel[0] = DVec3::new(0.1, 0.2, 1.0);
        d.p.vel[1] = DVec3::new(-0.3, 0.0, 2.0);
        d.remove_drift_z(0.0);
        let pz: f64 = (0..2).map(|k| d.p.mass[k] * d.p.vel[k].z).sum();
        assert!(pz.abs() < 1e-28, "z momentum left: {pz}");
        // Relative z velocity and in-plane velocities unchanged.
        assert!((d.p.vel[1].z - d.p.vel[0].z - 1.0).abs() < 1e-12);
        assert_eq!(d.p.vel[0].x, 0.1);
        assert_eq!(d.p.vel[1].x, -0.3);
        // Lowest bottom at 2 µm (particle 0: 3 − 1): shifted down by 2 µm.
        let shift = d.rest_on_bottom(0.0);
        assert!((shift - 2e-6).abs() < 1e-15, "shift {shift}");
        assert!((d.p.pos[0].z - 1e-6).abs() < 1e-15);
        assert!((d.p.pos[1].z - 4e-6).abs() < 1e-15);
        // Touching (or pressed into) the wall: no shift.
        d.p.pos[0].z = 0.9e-6;
        assert_eq!(d.rest_on_bottom(0.0), 0.0);
        assert_eq!(d.p.pos[0].z, 0.9e-6);
        // Particles under `min_radius` neither set the floor nor lose their z velocity.
        d.p.pos[0].z = -5e-6;
        d.p.vel[0].z = 3.0;
        let v1 = d.p.vel[1].z;
        d.remove_drift_z(1.5e-6);
        assert_eq!(d.p.vel[0].z, 3.0);
        assert_eq!(
            d.p.vel[1].z, 0.0,
            "the one film particle keeps no drift (was {v1})"
        );
        let shift = d.rest_on_bottom(1.5e-6);
        assert!((shift - 2e-6).abs() < 1e-15, "shift {shift}");
    }

    /// Local damping takes `α |F_k|` off each force and torque component against the velocity
    /// component (none where that is zero); viscous damping adds `−c m v` and `−c I ω`; with both
    /// at zero the forces stay as they are, bit for bit.
    #[test]
    fn local_and_viscous_damping_act_against_the_motion() {
        let mut p = ParticleState::default();
        p.push(DVec3::splat(5e-6), 1e-6, 2e-15, 0);
        let mat = anchor_material();
        let table = vec![PairParams::mix(&mat, &mat)];
        let mut d = Dem::new(p, table, 1, 20e-6, 20e-6, 0.0, 20e-6, 0, 1e-9, 0.2e-6);
        let set = |d: &mut Dem| {
            d.p.force[0] = DVec3::new(1e-9, -2e-9, 3e-9);
            d.p.torque[0] = DVec3::new(0.0, 4e-15, -1e-15);
            d.p.vel[0] = DVec3::new(0.5, 0.5, 0.0);
            d.p.omega[0] = DVec3::new(10.0, -20.0, 0.0);
        };
        set(&mut d);
        d.apply_local_damping();
        assert_eq!(d.p.force[0], DVec3::new(1e-9, -2e-9, 3e-9));
        d.local_damping = 0.5;
        d.apply_local_damping();
        assert!((d.p.force[0] - DVec3::new(0.5e-9, -3e-9, 3e-9)).length() < 1e-24);
        assert!((d.p.torque[0] - DVec3::new(0.0, 6e-15, -1e-15)).length() < 1e-30);
        set(&mut d);
        (d.local_damping, d.viscous_damping) = (0.0, 1e3);
        d.apply_local_damping();
        let inertia = 0.4 * 2e-15 * 1e-12;
        let want_f = DVec3::new(1e-9, -2e-9, 3e-9) - 1e3 * 2e-15 * DVec3::new(0.5, 0.5, 0.0);
        let want_t = DVec3::new(0.0, 4e-15, -1e-15) - 1e3 * inertia * DVec3::new(10.0, -20.0, 0.0);
        assert!((d.p.force[0] - want_f).length() < 1e-24);
        assert!((d.p.torque[0] - want_t).length() < 1e-30);
    }
}
