//! `dryfilm run`.

/// Arguments of `dryfilm run`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point of `dryfilm run`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`dryfilm run` is not available yet")
}
