//! `dryfilm check`: validate a scenario file or a sweep file without running it.
//!
//! A scenario: on success prints a short summary (name, product, PTFE loading, fully dense
//! thickness, initial powder height, gap schedule, estimated NPS particle count) and exits 0.
//! A sweep file (recognised by its top-level `base` or `axes` key): the base scenario is read, every
//! axis path and value checked, and the scenario of every expanded point validated; on success it
//! prints the axes and the number of points, seeds and runs. On failure either prints every
//! problem, one line each as `file:line:column: path = value: must be ...`, and exits non-zero.
//! Never writes a file.

use std::path::PathBuf;

use anyhow::Context;
use dryfilm_sim::scenario::{self, Product, ScenarioError};
use dryfilm_sim::sweep::check::{is_sweep_text, Problem};
use dryfilm_sim::sweep::spec::value_text;
use dryfilm_sim::sweep::{SweepError, SweepPlan};

/// Arguments of `dryfilm check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (RON).
    pub file: PathBuf,
    /// Print the summary (or the errors) as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Entry point of `dryfilm check`.
pub fn run(args: Args) -> anyhow::Result<()> {
    // A sweep file is told apart by its keys; unreadable or oversized files fall through to the
    // scenario path, which reports them.
    if read_bounded(&args.file).is_some_and(|t| is_sweep_text(&t)) {
        return check_sweep(&args);
    }
    match scenario::load_file(&args.file) {
        Ok(loaded) => {
            let summary = Summary::new(&args.file.display().to_string(), &loaded);
            report(args.json, &summary, || summary.print())
        }
        Err(e) => {
            if args.json {
                print_json(&ErrorReport::new(&args.file.display().to_string(), &e))?;
            }
            let n = e.field_errors().len();
            if n == 0 {
                return Err(e).context("cannot check the scenario");
            }
            // One line per problem, then a one-line verdict from main.
            eprintln!("{e}");
            let plural = if n == 1 { "" } else { "s" };
            anyhow::bail!(
                "invalid scenario {} ({n} error{plural})",
                args.file.display()
            )
        }
    }
}

/// What `dryfilm check` reports for a valid scenario (lengths in µm).
#[derive(serde::Serialize)]
struct Summary {
    file: String,
    kind: &'static str,
    sha256: String,
    name: String,
    product: &'static str,
    ptfe_wt_pct: f64,
    solid_thickness_um: f64,
    initial_height_um: f64,
    gaps_um: Vec<f64>,
    target_thickness_um: f64,
    estimated_nps_particles: f64,
    notes: Vec<String>,
}

impl Summary {
    fn new(file: &str, loaded: &scenario::Loaded) -> Self {
        let s = &loaded.scenario;
        let film = s.product == Product::Film;
        Self {
            file: file.to_string(),
            kind: "scenario",
            sha256: loaded.hash.clone(),
            name: s.name.clone(),
            product: if film { "Film" } else { "Pellet" },
            ptfe_wt_pct: s.ptfe.wt_pct,
            solid_thickness_um: s.solid_thickness() * 1e6,
            initial_height_um: s.initial_height() * 1e6,
            gaps_um: if film {
                s.calender.gaps.iter().map(|g| g * 1e6).collect()
            } else {
                vec![]
            },
            target_thickness_um: s.calender.target_thickness * 1e6,
            estimated_nps_particles: s.estimated_nps_count().round(),
            notes: s.advisories(),
        }
    }

    fn print(&self) {
        let gaps: Vec<String> = self.gaps_um.iter().map(|g| format!("{g:.1}")).collect();
        println!("ok: {}", self.name);
        println!("  product              {}", self.product);
        println!("  PTFE                 {} wt%", self.ptfe_wt_pct);
        println!(
            "  solid thickness      {:.2} µm (fully dense)",
            self.solid_thickness_um
        );
        println!("  initial height       {:.2} µm", self.initial_height_um);
        if self.product == "Film" {
            println!(
                "  gap schedule         {} µm ({} passes)",
                gaps.join(" → "),
                gaps.len()
            );
            println!("  target thickness     {:.2} µm", self.target_thickness_um);
        }
        println!("  NPS particles (est.) {}", self.estimated_nps_particles);
        println!("  sha256               {}", self.sha256);
        for n in &self.notes {
            println!("note: {n}");
        }
    }
}

/// `--json` report of an invalid scenario.
#[derive(serde::Serialize)]
struct ErrorReport<'a> {
    file: String,
    /// Set when the file could not be read (no field errors then).
    io_error: Option<String>,
    errors: &'a [scenario::FieldError],
}

impl<'a> ErrorReport<'a> {
    fn new(file: &str, e: &'a ScenarioError) -> Self {
        let io_error = match e {
            ScenarioError::Io { .. } | ScenarioError::TooLarge { .. } => Some(e.to_string()),
            _ => None,
        };
        Self {
            file: file.to_string(),
            io_error,
            errors: e.field_errors(),
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("serialising the check report")?;
    println!("{text}");
    Ok(())
}

/// Prints a summary as JSON (`json`) or as text (`print`).
fn report(json: bool, value: &impl serde::Serialize, print: impl FnOnce()) -> anyhow::Result<()> {
    if json {
        print_json(value)
    } else {
        print();
        Ok(())
    }
}

/// The file's text when it is UTF-8 and at most [`scenario::MAX_FILE_BYTES`] long (reading at
/// most one byte more, so that `/dev/zero` cannot hang it).
fn read_bounded(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(scenario::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > scenario::MAX_FILE_BYTES {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Checks a sweep file: its own fields, its base scenario and every expanded point.
fn check_sweep(args: &Args) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let plan = SweepPlan::load(&args.file).and_then(|plan| plan.check().map(|()| plan));
    match plan {
        Ok(plan) => {
            let summary = SweepSummary::new(&file, &plan);
            report(args.json, &summary, || summary.print())
        }
        Err(SweepError::InvalidSpec { problems, .. }) => {
            if args.json {
                print_json(&SweepErrorReport {
                    file,
                    errors: &problems,
                })?;
            }
            for p in &problems {
                eprintln!("{p}");
            }
            let n = problems.len();
            let plural = if n == 1 { "" } else { "s" };
            anyhow::bail!("invalid sweep {} ({n} error{plural})", args.file.display())
        }
        Err(e) => Err(e).with_context(|| format!("cannot check the sweep {}", args.file.display())),
    }
}

/// What `dryfilm check` reports for a valid sweep file.
#[derive(serde::Serialize)]
struct SweepSummary {
    file: String,
    kind: &'static str,
    name: String,
    base: String,
    axes: Vec<AxisSummary>,
    points: usize,
    seeds: Vec<u64>,
    runs: usize,
    scenarios_sha256: String,
}

/// One axis of a valid sweep: its field path and the values it takes.
#[derive(serde::Serialize)]
struct AxisSummary {
    path: String,
    values: Vec<serde_json::Value>,
}

impl SweepSummary {
    fn new(file: &str, plan: &SweepPlan) -> Self {
        let m = &plan.manifest;
        let axes = m
            .axis_paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let mut values: Vec<serde_json::Value> = Vec::new();
                for p in &m.points {
                    if !values.contains(&p.values[i]) {
                        values.push(p.values[i].clone());
                    }
                }
                AxisSummary {
                    path: path.clone(),
                    values,
                }
            })
            .collect();
        Self {
            file: file.to_string(),
            kind: "sweep",
            name: m.name.clone(),
            base: plan.sources.base_origin.clone(),
            axes,
            points: m.points.len(),
            seeds: m.seeds.clone(),
            runs: plan.run_count(),
            scenarios_sha256: m.scenarios_sha256.clone(),
        }
    }

    fn print(&self) {
        println!("ok: sweep {}", self.name);
        println!("  base                 {}", self.base);
        for a in &self.axes {
            let v: Vec<String> = a.values.iter().map(value_text).collect();
            println!("  axis                 {} = {}", a.path, v.join(", "));
        }
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        println!("  points               {}", self.points);
        println!("  seeds                {}", seeds.join(", "));
        println!("  runs                 {} (every point valid)", self.runs);
    }
}

/// `--json` report of an invalid sweep file.
#[derive(serde::Serialize)]
struct SweepErrorReport<'a> {
    file: String,
    errors: &'a [Problem],
}
