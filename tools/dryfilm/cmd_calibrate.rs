//! `dryfilm calibrate`.

/// Arguments of `dryfilm calibrate`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm calibrate`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm calibrate` is not available yet")
}
