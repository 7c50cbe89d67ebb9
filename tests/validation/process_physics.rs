//! Property checks of the process stages on the small test film of the process-stage tests
//! (`sim/tests/integration/film_fixture.rs`): more shear strain draws more and longer fibrils,
//! calendering aligns fibrils along MD and a 90° turn between passes lowers that alignment, and the
//! thickness after a pass does not depend on the relaxation time, the tensile test on the
//! process mechanics runs on a copy of the film at the quasi-static rate, and the work-driven
//! fibrillation law draws in proportion to the work at the lumps' contacts, not to rattling.

use std::sync::OnceLock;

use dryfilm_sim::process::{FilmSim, StageSummary};

#[path = "../../sim/tests/integration/film_fixture.rs"]
mod film_fixture;

use film_fixture::{quiet, scenario, scenario_alpha, scenario_relax};

fn fibrillate(strain: f64) -> StageSummary {
    let mut sim = FilmSim::new(&scenario(90.0, strain, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap()
}

/// The fibrillation summaries of the same film sheared to a strain of 0.8 and of 2.5, computed
/// once (on two threads) for the tests that compare them.
fn low_and_high_strain() -> &'static (StageSummary, StageSummary) {
    static RUNS: OnceLock<(StageSummary, StageSummary)> = OnceLock::new();
    RUNS.get_or_init(|| {
        std::thread::scope(|s| {
            let low = s.spawn(|| fibrillate(0.8));
            let high = fibrillate(2.5);
            (low.join().expect("strain 0.8 run"), high)
        })
    })
}

/// `after > before`, reported as `what: before vs after`.
fn assert_grows(what: &str, before: f64, after: f64) {
    assert!(after > before, "{what}: {before} vs {after}");
}

#[test]
fn more_shear_strain_gives_more_fibrils() {
    // Fibrils are counted as strands (real fibrils); model fibrils are bundles of the strands one
    // lump drew between one pair of grains, so their number need not grow.
    let (a, b) = low_and_high_strain();
    assert_grows("strands", a.fibril_strands, b.fibril_strands);
    let fraction = (a.ptfe_fibrillated_fraction, b.ptfe_fibrillated_fraction);
    assert_grows("fibrillated fraction", fraction.0, fraction.1);
    // The law's driver, the lumps' accumulated local shear strain, grows with the imposed strain.
    let local = (
        a.ptfe_local_shear_strain_mean,
        b.ptfe_local_shear_strain_mean,
    );
    assert!(local.0 > 0.0, "local shear strain at 0.8: {}", local.0);
    assert_grows("mean local shear strain", local.0, local.1);
    // Strands drawn again between the same grains join their bundle: fewer entities than strands.
    assert!(b.fibril_strands > b.fibrils_intact as f64);
}

/// Longer shear drawing longer fibrils (the mean bundle length) is what dry-electrode micrographs
/// show; the strain-driven law does not reproduce it once nothing is drawn while a stage settles
/// (decision 0013): on the test film, seeds 1, 2, 3, 5, strain 0.8 vs 2.5, the mean length is
/// 1.396/1.505, 1.488/1.448, 1.390/1.414, 1.490/1.475 µm (paired difference +0.02 ± 0.03 µm).
/// Model bundles join neighbouring grains, so their length is mostly the gaps between grains.
#[test]
#[ignore = "the strain-driven fibrillation law gives no longer fibrils at higher strain (4 seeds: +0.02 ± 0.03 um); the work-driven law of issue 16 is to take it on"]
fn more_shear_strain_gives_longer_fibrils() {
    let (a, b) = low_and_high_strain();
    assert_grows("length", a.fibril_mean_length_um, b.fibril_mean_length_um);
}

/// The thickness after the first pressing pass does not depend on the relaxation time: 400 and
/// 1600 relaxation steps give the same film within 3 % on each of seeds 1–6 (0.2 wt% PTFE), and
/// the released film rests on the bottom wall. Before the fibril forces were conservative and the
/// rolling torque stopped chattering, seeds 2 and 5 swelled by 12–13 % between the two.
#[test]
fn springback_does_not_grow_with_the_relaxation_time() {
    let first_pressing_pass = |seed: u64, relax: u64| {
        let mut s = scenario_relax(90.0, 1.0, false, 0.3, "[40.0, 30.0]", relax, 0.2);
        s.seed = seed;
        let mut sim = FilmSim::new(&s).unwrap();
        sim.mixing(&quiet).unwrap();
        sim.fibrillation(&quiet).unwrap();
        let c = sim.calender(&quiet).unwrap();
        let d = sim.dem();
        let low =
            d.p.pos
                .iter()
                .zip(&d.p.radius)
                .map(|(x, r)| x.z - r)
                .fold(f64::MAX, f64::min);
        assert!(
            low <= d.walls.z_bottom + 1e-12,
            "seed {seed}, relax {relax}: the film floats {} µm above the bottom wall",
            (low - d.walls.z_bottom) * 1e6
        );
        let p = c
            .passes
            .iter()
            .find(|p| p.peak_pressure_mpa > 1.0)
            .cloned()
            .expect("a pass pressed the film");
        (p.pass, p.thickness_um, p.springback_pct)
    };
    for seed in SEEDS {
        let (short, long) = std::thread::scope(|sc| {
            let long = sc.spawn(move || first_pressing_pass(seed, 1600));
            (
                first_pressing_pass(seed, 400),
                long.join().expect("long run"),
            )
        });
        assert_eq!(short.0, long.0, "seed {seed}: {short:?} vs {long:?}");
        assert!(
            (long.1 / short.1 - 1.0).abs() <= 0.03,
            "seed {seed}, pass {}: {:.2} µm (springback {:.1} %) after 400 relaxation steps, {:.2} µm ({:.1} %) after 1600",
            short.0,
            short.1,
            short.2,
            long.1,
            long.2
        );
    }
}

/// A 5 wt% film released after calendering comes to rest (issue "Honest mechanics"): after the
/// last pass's roll leaves it (bottom wall held, relaxation damping on) its springback ends at rest
/// by the stage's criteria (not at the step cap), and 1e4 steps after the release its kinetic
/// energy is below 1e-4 of what it was at the release (read from the springback's trace when the
/// springback ran that long, else by relaxing on); over 1e4 further steps its thickness moves by
/// less than 0.5 % and its kinetic energy stays below that bound (no creep, no energy pumped in).
/// Fails narrowly since the fibril forces are evaluated every step (decision 0016): on `calib_5wt`
/// seed 1 the last springback starts at 2.33e-11 J and reaches rest by the stage criteria after
/// 18 800 steps (2.6e-16 J), but reads 2.46e-15 J at 1e4 steps (9 472-fold); at rest the film still
/// creeps, its fibrils' elastic energy flowing into contact friction (~1.2e-13 J per 5000 steps,
/// `examples/relax_diag`), which holds the kinetic energy at 1e-16–1e-15 J.
#[test]
#[ignore = "fails narrowly: 9472-fold kinetic-energy decay 1e4 steps after the last release of calib_5wt seed 1 (1e4 asked); frictional creep under the fibrils' tension holds a 1e-16..1e-15 J floor (decision 0016)"]
fn a_released_5wt_film_comes_to_rest() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/calib_5wt.ron");
    let s = dryfilm_sim::scenario::load_file(&path)
        .expect("calib_5wt.ron")
        .scenario;
    let mut sim = FilmSim::new(&s).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap();
    let c = sim.calender(&quiet).unwrap();
    let work = c.energy.booked.external_work();
    let last = c.passes.last().expect("a calender pass");
    let k_release = last.released_kinetic_energy;
    let summary = format!(
        "pass {}: springback of {} steps (capped: {}), kinetic energy {k_release:.3e} -> {:.3e} J (every 2000 steps: {})",
        last.pass,
        last.relax_steps_run,
        last.relax_capped,
        last.rest_kinetic_energy,
        last.springback_decay(2000)
    );
    assert!(!last.relax_capped, "{summary}");
    // A zero kinetic tolerance keeps the relaxations below from stopping at rest.
    sim.scenario.numerics.relax_kinetic_tolerance = 0.0;
    let relax = |sim: &mut FilmSim, steps: u64| {
        let r = sim
            .relax_free(steps, work, "relax", &quiet, (0.0, 1.0))
            .unwrap();
        assert_eq!(r.steps, steps);
        sim.dem().kinetic_energy()
    };
    let k1 = if last.relax_steps_run >= 10_000 {
        (last.kinetic_energy_after(10_000)).expect("a rest check at 1e4 steps")
    } else {
        relax(&mut sim, 10_000 - last.relax_steps_run)
    };
    assert!(
        k1 <= 1e-4 * k_release,
        "{summary}: {k1:.3e} J 1e4 steps after the release ({:.0}-fold)",
        k_release / k1
    );
    let h0 = sim.thickness();
    let k2 = relax(&mut sim, 10_000);
    let ufr2 = sim.dem().unbalanced_force_ratio(sim.film_radius_floor());
    let h2 = sim.thickness();
    assert!(
        (h2 / h0 - 1.0).abs() < 0.005,
        "{summary}: thickness {:.3} -> {:.3} µm over 1e4 further steps",
        h0 * 1e6,
        h2 * 1e6
    );
    assert!(
        k2 <= 1e-4 * k_release,
        "{summary}: {k2:.3e} J after 1e4 further steps, unbalanced-force ratio {ufr2:.3e}"
    );
}

/// Seeds of the multi-seed property checks: single films scatter too much (over seeds 1–6 the MD
/// alignment gained by calendering ranges from 0.005 to 0.12).
const SEEDS: [u64; 6] = [1, 2, 3, 4, 5, 6];

/// Mean and standard error of `v`.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn calendering_aligns_fibrils_along_md_and_turns_lower_it() {
    // Strong MD elongation (α = 0.8), as when a dough is rolled out mostly lengthwise; per seed
    // the ⟨P2⟩ after fibrillation, after calendering straight, and after calendering with 90° turns
    // between passes (two films at a time).
    let gaps = "[40.0, 32.0, 27.0]";
    let film = |seed: u64, turn: bool| {
        let mut s = scenario_alpha(90.0, 1.5, turn, 0.8, gaps);
        s.seed = seed;
        let mut sim = FilmSim::new(&s).unwrap();
        sim.mixing(&quiet).unwrap();
        let f = sim.fibrillation(&quiet).unwrap();
        let c = sim.calender(&quiet).unwrap();
        (f.fibril_orientation_md, c.fibril_orientation_md)
    };
    let runs: Vec<[(f64, f64); 2]> = SEEDS
        .iter()
        .map(|&seed| {
            std::thread::scope(|sc| {
                let turned = sc.spawn(move || film(seed, true));
                [film(seed, false), turned.join().expect("turned film")]
            })
        })
        .collect();
    let gain: Vec<f64> = runs.iter().map(|[(f, c), _]| c - f).collect();
    let straight: Vec<f64> = runs.iter().map(|[(_, c), _]| *c).collect();
    let turned: Vec<f64> = runs.iter().map(|[_, (_, t)]| *t).collect();
    let (g, g_se) = mean_se(&gain);
    assert!(
        g > 0.05 && g > 2.0 * g_se,
        "⟨P2⟩ gained by calendering: {g:.3} ± {g_se:.3} (per seed {gain:.3?})"
    );
    // The same films turned 90° between passes are less aligned with MD.
    let (c, t) = (mean_se(&straight).0, mean_se(&turned).0);
    assert!(
        t < c,
        "turned ⟨P2⟩ {t:.3} vs straight {c:.3} (per seed {turned:.3?} vs {straight:.3?})"
    );
}

/// One line of a ledger: the stage or pass, its closure error (J), the closure relative to the
/// energy through it, the external work done on it (J) and the energy through it (J).
struct Closure {
    stage: String,
    error: f64,
    relative: f64,
    external: f64,
    flow: f64,
}

impl std::fmt::Debug for Closure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {:.2e} J ({:.4}), work {:.2e} J",
            self.stage, self.error, self.relative, self.external
        )
    }
}

/// The energy ledger of every stage and calender pass of `scenarios/<name>.ron` (seed 1), stages
/// first, then the calender passes.
fn ledger_closures(name: &str) -> (Vec<Closure>, Vec<Closure>) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.ron"));
    let s = dryfilm_sim::scenario::load_file(&path)
        .expect("shipped scenario")
        .scenario;
    let mut sim = FilmSim::new(&s).unwrap();
    let line = |stage: String, e: &dryfilm_sim::process::EnergyReport| Closure {
        stage,
        error: e.closure_error,
        relative: e.closure_relative,
        external: e.booked.external_work(),
        flow: e.flow(),
    };
    let mixing = sim.mixing(&quiet).unwrap();
    let fibrillation = sim.fibrillation(&quiet).unwrap();
    let calender = sim.calender(&quiet).unwrap();
    let stages = [&mixing, &fibrillation, &calender]
        .iter()
        .map(|st| line(st.stage.clone(), &st.energy))
        .collect();
    let passes = calender
        .passes
        .iter()
        .map(|p| line(format!("pass {}", p.pass), &p.energy))
        .collect();
    (stages, passes)
}

/// The energy ledger closes to 1 % of the energy through each stage of `quick.ron` and of the
/// 5 wt% calibration film, and through each calender pass in which the roll works on the film
/// (docs/model.md, "Energy ledger"). A pass whose roll barely touches the film (under 0.1 % of
/// the calender stage's work) carries only the creep of a film at rest, ~1e-12 J, which the
/// booking of Coulomb sliding (first order in Δt) closes to about 1 % (`quick.ron` pass 1: 1.2 %);
/// there the test
/// asserts that the error is under 1 % of the calender stage's flow, so that it cannot spoil the
/// stage's balance.
#[test]
fn the_energy_ledger_closes_in_every_stage() {
    for name in ["quick", "calib_5wt"] {
        let (stages, passes) = ledger_closures(name);
        eprintln!("{name}: {stages:?} {passes:?}");
        assert_eq!(stages.len(), 3, "{name}: {stages:?}");
        assert!(!passes.is_empty(), "{name}: no calender pass");
        for c in &stages {
            assert!(
                c.relative.is_finite() && c.relative < 0.01,
                "{name} {c:?} of {stages:?}"
            );
        }
        let calender = &stages[2];
        let flow = calender.flow;
        let mut worked = 0;
        for p in &passes {
            if p.external.abs() >= 1e-3 * calender.external.abs() {
                worked += 1;
                assert!(
                    p.relative.is_finite() && p.relative < 0.01,
                    "{name} {p:?} of {passes:?}"
                );
            } else {
                assert!(
                    p.error.abs() < 0.01 * flow,
                    "{name} {p:?}: against the calender's flow {flow:.2e} J"
                );
            }
        }
        assert!(
            worked >= 1,
            "{name}: the roll worked in no pass: {passes:?}"
        );
    }
}

/// The tensile test on the process's mechanics runs on a copy of the film ([`FilmSim::fork`]): the
/// original is left bitwise as it was, a copy stepped like the original stays bitwise equal to
/// it, and the test starts at the film's own in-plane stress and stretches it at most at the
/// inertial-number cap of the process.
#[test]
fn the_process_tensile_test_runs_on_a_copy_at_the_quasi_static_rate() {
    use dryfilm_sim::process::stages::tensile::StretchTest;
    let mut sim = FilmSim::new(&scenario(90.0, 1.0, false)).unwrap();
    sim.mixing(&quiet).unwrap();
    sim.fibrillation(&quiet).unwrap();
    let work = sim.calender(&quiet).unwrap().energy.booked.external_work();
    let before = sim.dem().state_digest();
    let s0 = sim.stress(0);
    let test = StretchTest {
        max_strain: 0.02,
        ..StretchTest::default()
    };
    let mut stretched = sim.fork();
    let out = stretched.tensile_process(&test, &quiet).unwrap();
    assert_eq!(
        sim.dem().state_digest(),
        before,
        "the test moved the original film"
    );
    assert_eq!(out.curve.stress_pa[0].to_bits(), s0.to_bits());
    let cap = sim.scenario.numerics.max_inertial_number;
    assert!(
        out.inertial_number <= cap * (1.0 + 1e-9),
        "{} > {cap}",
        out.inertial_number
    );
    // The strain the curve reports is the stretch the copy's box took, along MD only.
    let box_strain = (stretched.dem().lx / sim.dem().lx).ln();
    let last = *out.curve.strain.last().unwrap();
    assert!(
        (box_strain - last).abs() <= 1e-8 * last,
        "{box_strain} vs {last}"
    );
    assert_eq!(stretched.dem().ly, sim.dem().ly);
    let mut copy = sim.fork();
    for f in [&mut sim, &mut copy] {
        f.relax_free(300, work, "relax", &quiet, (0.0, 1.0))
            .unwrap();
    }
    assert_eq!(sim.dem().state_digest(), copy.dem().state_digest());
}

/// The test film with the work-driven fibrillation law, fibrillated at `temp_c` (°C) to a shear
/// strain of 0.5 (the process's 300 extrapolated from it) with drawing energy `drawing_energy`
/// (J/m³).
fn work_scenario(temp_c: f64, drawing_energy: f64) -> dryfilm_sim::scenario::Scenario {
    let mut s = scenario(temp_c, 0.5, false);
    s.ptfe.fibrillation_driver = dryfilm_sim::scenario::raw::FibrillationDriver::Work;
    s.ptfe.fibrillation_energy = drawing_energy;
    s
}

/// The work-driven law: the lumps are credited with the work at their contacts whatever the
/// temperature, draw nothing below the 19 °C transition, and draw less when each unit of volume
/// costs more work; PTFE mass is conserved.
#[test]
fn work_driven_drawing_follows_the_credited_work() {
    let run = |temp_c: f64, drawing_energy: f64| {
        let mut sim = FilmSim::new(&work_scenario(temp_c, drawing_energy)).unwrap();
        sim.mixing(&quiet).unwrap();
        sim.fibrillation(&quiet).unwrap()
    };
    let cold = run(15.0, 10e6);
    assert!(cold.ptfe_contact_work_mj_m3 > 0.0, "{cold:?}");
    assert_eq!(cold.fibrils_intact + cold.fibrils_failed as usize, 0);
    let (easy, hard) = (run(90.0, 40e6), run(90.0, 160e6));
    eprintln!(
        "work-driven law: contact work {:.4} and {:.4} MJ/m3, fibrillated {:.4} and {:.4}",
        easy.ptfe_contact_work_mj_m3,
        hard.ptfe_contact_work_mj_m3,
        easy.ptfe_fibrillated_fraction,
        hard.ptfe_fibrillated_fraction
    );
    assert!(easy.ptfe_fibrillated_fraction > 0.0);
    assert!(
        hard.ptfe_fibrillated_fraction < 0.6 * easy.ptfe_fibrillated_fraction,
        "four times the drawing energy: {} vs {}",
        hard.ptfe_fibrillated_fraction,
        easy.ptfe_fibrillated_fraction
    );
    for s in [&cold, &easy, &hard] {
        assert!(s.ptfe_mass_error < 1e-9, "{}", s.ptfe_mass_error);
    }
}

/// Kinetic energy injected into the mixed film, as much as the shear stage's walls put in, with
/// no imposed shear and as many steps as the shear takes, draws less than 1 % of the fibril volume
/// that the shear stage draws (work-driven law): rattling is not kneading.
#[test]
#[ignore = "fails: the injected energy draws 5.9x what the shear draws (4.30e-16 vs 7.32e-17 m3, drawing energy 40 MJ/m3); an equal share of it lands on each lump, whose sliding it credits (decision 0018)"]
fn injected_kinetic_energy_draws_almost_nothing() {
    use dryfilm_sim::dem::schedule::run_steps;
    use dryfilm_sim::process::{ActiveStage, Material, PtfeSources};
    use rand::{RngExt, SeedableRng};
    let s = work_scenario(90.0, 40e6);
    let mut sheared = FilmSim::new(&s).unwrap();
    sheared.mixing(&quiet).unwrap();
    let mut rattled = sheared.fork();
    let f = sheared.fibrillation(&quiet).unwrap();
    let drawn = |sim: &FilmSim| {
        let src = sim.world.resource::<PtfeSources>();
        src.initial_volume.iter().sum::<f64>() - src.volume.iter().sum::<f64>()
    };
    let by_shear = drawn(&sheared);
    assert!(by_shear > 0.0, "the shear draws nothing: {f:?}");
    // The same film, brought to the same confining pressure for as many steps as the shear stage
    // settled, armed for drawing as the stage arms it, then given random velocities holding the
    // walls' work as kinetic energy.
    let dt = rattled.dem().dt;
    let steps = (s.fibrillation.shear_strain / f.simulated_rate_per_s / dt).ceil() as u64;
    let pressure = s.fibrillation.confining_pressure;
    {
        let h = rattled.thickness();
        let d = rattled.dem_mut();
        d.walls.top_drive = dryfilm_sim::dem::WallDrive::Pressure {
            pressure,
            max_speed: 10.0 * f.simulated_rate_per_s * h,
            shear: glam::DVec3::ZERO,
        };
    }
    *rattled.world.resource_mut::<ActiveStage>() = ActiveStage::Settle;
    run_steps(&mut rattled.world, &mut rattled.schedule, f.steps - steps).unwrap();
    rattled.arm_drawing();
    let input = f.energy.booked.wall_work;
    {
        let d = rattled.dem_mut();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let p = &mut d.p;
        let moving = (0..p.len())
            .filter(|&k| p.material[k] != Material::Spent.id())
            .count() as f64;
        for k in 0..p.len() {
            let dir = glam::DVec3::new(
                rng.random::<f64>() - 0.5,
                rng.random::<f64>() - 0.5,
                rng.random::<f64>() - 0.5,
            )
            .normalize_or_zero();
            // Equal shares of the energy: ½ m v² = input / N.
            p.vel[k] = dir * (2.0 * input / moving / p.mass[k]).sqrt();
        }
    }
    assert!((rattled.dem().kinetic_energy() - input).abs() < 0.05 * input);
    *rattled.world.resource_mut::<ActiveStage>() = ActiveStage::Fibrillation;
    run_steps(&mut rattled.world, &mut rattled.schedule, steps).unwrap();
    let by_rattling = drawn(&rattled);
    eprintln!("drawn by rattling {by_rattling:.3e} m3, by the shear {by_shear:.3e} m3");
    assert!(
        by_rattling < 0.01 * by_shear,
        "rattling drew {by_rattling:.3e} m³, the shear {by_shear:.3e} m³"
    );
}
