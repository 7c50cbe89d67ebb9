//! `dryfilm check`.

/// Arguments of `dryfilm check`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm check`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm check` is not available yet")
}
