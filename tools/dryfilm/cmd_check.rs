//! `dryfilm check`: validate a scenario file without running it.
//!
//! On success prints a short summary (name, product, PTFE loading, fully dense thickness, initial
//! powder height, gap schedule, estimated NPS particle count) and exits 0. On failure prints every
//! problem, one line each as `file:line:column: path = value: must be ...`, and exits non-zero.
//! Never writes a file.

use std::path::PathBuf;

use anyhow::Context;
use dryfilm_sim::scenario::{self, Product, ScenarioError};

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
    match scenario::load_file(&args.file) {
        Ok(loaded) => {
            let summary = Summary::new(&args.file.display().to_string(), &loaded);
            if args.json {
                let text = serde_json::to_string_pretty(&summary)
                    .context("serialising the check summary")?;
                println!("{text}");
            } else {
                summary.print();
            }
            Ok(())
        }
        Err(e) => {
            if args.json {
                let report = ErrorReport::new(&args.file.display().to_string(), &e);
                let text = serde_json::to_string_pretty(&report)
                    .context("serialising the error report")?;
                println!("{text}");
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
