//! `motus eval --consistency mirror,reverse`: direction consistency on unlabelled videos
//! ([`motus_lab::eval::consistency`]).

use std::path::{Path, PathBuf};

use anyhow::Context;
use motus_lab::eval::consistency::{parse_transforms, TransformReport};
use motus_lab::eval::{self, RunOptions, Skipped};
use serde::Serialize;

use super::eval::Model;

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct ConsistencyOutput<'a> {
    model: &'a Path,
    data: &'a Path,
    protocol: &'a str,
    videos: usize,
    transforms: Vec<TransformReport>,
    unreadable: Vec<SkippedOut>,
}

#[derive(Debug, Serialize)]
struct SkippedOut {
    path: PathBuf,
    error: String,
}

/// The videos a list names: a clip TSV with a `path` column (`motus bench alerts`'s lists), or
/// one video per line with the path first (MMAction2 lists, plain lists); `#` starts a comment.
/// Paths are relative to the list's folder.
pub fn video_paths(list: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(list).with_context(|| format!("reading {}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new("."));
    let first = text.lines().find(|l| !l.trim().is_empty() && !l.starts_with('#')).unwrap_or("");
    let paths: Vec<PathBuf> = if first.split('\t').any(|c| c.trim() == "path") {
        motus_lab::eval::false_alerts::parse_clip_list(&text, list)?.into_iter().map(|c| c.path).collect()
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().next())
            .map(|p| base.join(p))
            .collect()
    };
    anyhow::ensure!(!paths.is_empty(), "{}: the list names no videos", list.display());
    Ok(paths)
}

/// Runs the check and prints it.
pub fn run(
    model: &Model,
    list: &Path,
    protocol: &str,
    transforms: &str,
    opts: &RunOptions,
    json: bool,
) -> anyhow::Result<()> {
    let transforms = parse_transforms(transforms).map_err(|e| anyhow::anyhow!("--consistency: {e}"))?;
    let sampler = eval::parse_protocol(protocol)?;
    let paths = video_paths(list)?;
    let mut progress = motus_core::progress::Progress::new("consistency");
    let (reports, skipped) =
        eval::evaluate_consistency(&model.path, &model.card, &paths, &sampler, &transforms, opts, &mut |d, t| {
            progress.update(d, t)
        })?;
    let out = ConsistencyOutput {
        model: &model.path,
        data: list,
        protocol,
        videos: paths.len(),
        transforms: reports,
        unreadable: skipped.into_iter().map(|Skipped { path, error, .. }| SkippedOut { path, error }).collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_text(&out);
    }
    Ok(())
}

fn print_text(out: &ConsistencyOutput) {
    for r in &out.transforms {
        let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |a| format!("{:.1}%", a * 100.0));
        println!(
            "{:?}: {} of {} comparable clips get their twin ({}); of the {} whose twin is another class, {} ({}); {} clips",
            r.transform,
            r.agree,
            r.comparable,
            pct(r.agreement),
            r.directional,
            r.directional_agree,
            pct(r.directional_agreement),
            r.clips
        );
        for c in &r.per_clip {
            let verdict = match c.agrees() {
                Some(true) => "ok",
                Some(false) => "DIFFERS",
                None => "not comparable",
            };
            println!(
                "  {:<48} {:<10} -> {:<10} expected {:<10} {verdict}",
                c.path,
                c.top,
                c.transformed,
                c.expected.as_deref().unwrap_or("-")
            );
        }
    }
    for s in &out.unreadable {
        eprintln!("warning: unreadable video {}: {}", s.path.display(), s.error);
    }
}
