//! Running the `dryfilm` command line from tests.

use std::ffi::OsStr;
use std::process::{Command, Output};

/// A `dryfilm` command with `args`, ready for more options (environment, working folder).
pub fn command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(env!("CARGO_BIN_EXE_dryfilm"));
    c.args(args);
    c
}

/// Runs `dryfilm` with `args` and returns what it did.
pub fn dryfilm<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    command(args).output().expect("run dryfilm")
}

/// Runs `dryfilm` with `args`, asserts that it succeeded (showing its stderr otherwise) and
/// returns what it did.
pub fn dryfilm_ok<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let o = dryfilm(&args);
    assert!(
        o.status.success(),
        "dryfilm {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The standard error of a run, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
