//! `dryfilm merge`.

/// Arguments of `dryfilm merge`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm merge`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm merge` is not available yet")
}
