//! `dryfilm bench`.

/// Arguments of `dryfilm bench`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm bench`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm bench` is not available yet")
}
