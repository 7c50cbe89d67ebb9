//! `dryfilm sweep`.

/// Arguments of `dryfilm sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm sweep`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm sweep` is not available yet")
}
