//! `dryfilm conductivity`.

/// Arguments of `dryfilm conductivity`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm conductivity`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm conductivity` is not available yet")
}
