//! `dryfilm render`.

/// Arguments of `dryfilm render`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm render`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm render` is not available yet")
}
