//! Slurm job arrays: an `sbatch` script with one array task per run of the plan.
//!
//! Task `i` runs `dryfilm sweep SPEC --out DIR --task i`, which writes the single run folder
//! `DIR/points/<name of run i>` (atomically, see [`engine`](super::engine)); its log goes to
//! `DIR/logs/task_<i>.out`. Resubmitting the same script redoes only the runs without a result
//! (a task whose run is complete exits at once). `dryfilm merge DIR` then writes the summaries.

use std::path::Path;

/// Options of the generated script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlurmOptions {
    /// `--partition` (none: the cluster's default).
    pub partition: Option<String>,
    /// `--time` limit per task, e.g. `"02:00:00"` (none: the partition's default).
    pub time: Option<String>,
    /// `--cpus-per-task` (also the thread budget of each task). Default 1 when 0.
    pub cpus_per_task: u32,
    /// `--mem`, e.g. `"4G"` (none: the partition's default).
    pub mem: Option<String>,
    /// Largest number of array tasks running at once (`%N` suffix), none: no limit.
    pub max_parallel: Option<u32>,
}

/// Quotes a string for a POSIX shell (single quotes, `'` as `'\''`).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Whether a value is safe on an `#SBATCH` line (no spaces, quotes or line breaks).
fn sbatch_safe(s: &str) -> Result<&str, String> {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || "'\"`$\\;#".contains(c))
    {
        Err(format!("{s:?} is not a valid sbatch option value"))
    } else {
        Ok(s)
    }
}

/// The sbatch script text. `exe`, `spec` and `out_dir` should be absolute paths (the tasks run
/// elsewhere); `runs` is the array size (≥ 1). The log folder `out_dir/logs` must exist before
/// submission (Slurm does not create it).
pub fn sbatch_script(
    job_name: &str,
    runs: usize,
    exe: &Path,
    spec: &Path,
    out_dir: &Path,
    opts: &SlurmOptions,
) -> Result<String, String> {
    if runs == 0 {
        return Err("the sweep has no runs".into());
    }
    let cpus = opts.cpus_per_task.max(1);
    let name: String = job_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let logs = out_dir.join("logs");
    let logs = logs
        .to_str()
        .ok_or("the output folder is not valid UTF-8")?;
    if logs.contains(char::is_whitespace) {
        return Err(format!("#SBATCH --output cannot hold whitespace: {logs:?}"));
    }
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name=dryfilm-{name}\n"));
    let limit = opts
        .max_parallel
        .map(|m| format!("%{m}"))
        .unwrap_or_default();
    s.push_str(&format!("#SBATCH --array=0-{}{limit}\n", runs - 1));
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str(&format!("#SBATCH --cpus-per-task={cpus}\n"));
    if let Some(p) = &opts.partition {
        s.push_str(&format!("#SBATCH --partition={}\n", sbatch_safe(p)?));
    }
    if let Some(t) = &opts.time {
        s.push_str(&format!("#SBATCH --time={}\n", sbatch_safe(t)?));
    }
    if let Some(m) = &opts.mem {
        s.push_str(&format!("#SBATCH --mem={}\n", sbatch_safe(m)?));
    }
    s.push_str(&format!("#SBATCH --output={logs}/task_%a.out\n"));
    s.push_str(&format!(
        "# {runs} runs; task i runs run i of the sweep. After the array: dryfilm merge {}\n",
        shell_quote(&out_dir.display().to_string())
    ));
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "exec {} sweep {} --out {} --task \"$SLURM_ARRAY_TASK_ID\" \
         --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --quiet\n",
        shell_quote(&exe.display().to_string()),
        shell_quote(&spec.display().to_string()),
        shell_quote(&out_dir.display().to_string()),
    ));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_has_array_size_and_options() {
        let opts = SlurmOptions {
            partition: Some("short".into()),
            time: Some("01:00:00".into()),
            cpus_per_task: 4,
            mem: Some("8G".into()),
            max_parallel: Some(10),
        };
        let s = sbatch_script(
            "ptfe sweep",
            18,
            Path::new("/opt/dryfilm"),
            Path::new("/x/it's.ron"),
            Path::new("/scratch/out"),
            &opts,
        )
        .unwrap();
        assert!(s.contains("#SBATCH --array=0-17%10\n"), "{s}");
        assert!(s.contains("#SBATCH --partition=short\n"));
        assert!(s.contains("#SBATCH --cpus-per-task=4\n"));
        assert!(s.contains("#SBATCH --job-name=dryfilm-ptfe_sweep\n"));
        assert!(s.contains("'/x/it'\\''s.ron'"));
        assert!(s.contains("#SBATCH --output=/scratch/out/logs/task_%a.out"));
        let bad = SlurmOptions {
            time: Some("1 h".into()),
            ..SlurmOptions::default()
        };
        assert!(
            sbatch_script("a", 1, Path::new("e"), Path::new("s"), Path::new("o"), &bad).is_err()
        );
        assert!(sbatch_script(
            "a",
            0,
            Path::new("e"),
            Path::new("s"),
            Path::new("o"),
            &opts
        )
        .is_err());
    }
}
