//! `motus eval --report DIR`: the JSON report, a Markdown page for people, and the PNG plots,
//! all from the one JSON object `--json` prints (so the three cannot disagree).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::plot;

fn pct(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{:.1} %", 100.0 * x))
}

fn signed_pct(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{:+.1} pt", 100.0 * x))
}

fn num(v: &Value, digits: usize) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// The Markdown page: headline metrics, latency per stage, per-class table, confusion matrix,
/// skipped videos, the comparison and the detection scores when present.
pub fn markdown(r: &Value) -> String {
    let mut md = String::new();
    for section in [summary, latency, per_class, confusion, detection, comparison, unreadable] {
        section(&mut md, r);
    }
    md
}

/// The header and the accuracy table.
fn summary(md: &mut String, r: &Value) {
    let _ = writeln!(md, "# motus eval: {}\n", r["model"].as_str().unwrap_or("?"));
    let _ = writeln!(
        md,
        "Data `{}`, protocol `{}`, architecture `{}` (card {}), {} workers, tract threads {}, flow {}.\n",
        r["data"].as_str().unwrap_or("?"),
        r["protocol"].as_str().unwrap_or("?"),
        r["arch"].as_str().unwrap_or("?"),
        r["card"].as_str().unwrap_or("?"),
        r["workers"],
        r["threads"],
        r["flow_engine"].as_str().unwrap_or("none"),
    );
    let _ = writeln!(md, "| metric | value |\n|---|---|");
    for (name, key) in [
        ("clip Hit@1", "clip_top1"),
        ("video Hit@1", "video_top1"),
        ("video Hit@5", "video_top5"),
        ("mean class accuracy", "mean_class_acc"),
    ] {
        let _ = writeln!(md, "| {name} | {} |", pct(&r[key]));
    }
    let _ = writeln!(
        md,
        "| videos scored | {} |\n| clips | {} |\n| unreadable videos (skipped) | {} |",
        r["n_videos"], r["n_clips"], r["n_unreadable"]
    );
    let _ = writeln!(md, "| wall time | {} s ({} videos/s) |\n", num(&r["seconds"], 2), num(&r["videos_per_s"], 2));
}

/// Per-stage latency percentiles.
fn latency(md: &mut String, r: &Value) {
    let lat = &r["latency_ms"];
    let _ = writeln!(md, "## Latency per clip (ms, one worker)\n\n| stage | p50 | p95 | mean |\n|---|---|---|---|");
    for stage in ["decode", "preprocess", "flow", "inference", "total"] {
        let s = &lat[stage];
        let _ = writeln!(md, "| {stage} | {} | {} | {} |", num(&s["p50"], 2), num(&s["p95"], 2), num(&s["mean"], 2));
    }
    md.push('\n');
}

/// Recall and precision per class (when there are classes).
fn per_class(md: &mut String, r: &Value) {
    if let Some(rows) = r["per_class"].as_array().filter(|a| !a.is_empty()) {
        let _ = writeln!(md, "## Per class\n\n![per-class recall and precision](per_class.png)\n\n| # | class | videos | recall | precision |\n|---|---|---|---|---|");
        for (i, c) in rows.iter().enumerate() {
            let _ = writeln!(
                md,
                "| {i} | {} | {} | {} | {} |",
                c["name"].as_str().unwrap_or("?"),
                c["support"],
                pct(&c["recall"]),
                pct(&c["precision"])
            );
        }
        md.push('\n');
    }
}

/// The confusion matrix (when there is one).
fn confusion(md: &mut String, r: &Value) {
    if let Some(rows) = r["confusion"].as_array() {
        let _ = writeln!(
            md,
            "## Confusion matrix (rows: true class, columns: predicted)\n\n![confusion matrix](confusion.png)\n"
        );
        let _ = write!(md, "| true \\ predicted |");
        for i in 0..rows.len() {
            let _ = write!(md, " {i} |");
        }
        let _ = write!(md, "\n|---|");
        md.push_str(&"---|".repeat(rows.len()));
        md.push('\n');
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> =
                row.as_array().map(|a| a.iter().map(|v| v.to_string()).collect()).unwrap_or_default();
            let _ = writeln!(md, "| {i} | {} |", cells.join(" | "));
        }
        md.push('\n');
    }
}

/// Event detection on long videos (when evaluated).
fn detection(md: &mut String, r: &Value) {
    let d = &r["detection"];
    if d.is_object() {
        let _ = writeln!(md, "## Detection on long videos (temporal IoU ≥ {})\n", num(&d["min_iou"], 2));
        let _ = writeln!(md, "| metric | value |\n|---|---|");
        let _ = writeln!(
            md,
            "| ground-truth actions | {} |\n| detections | {} |\n| matched | {} |",
            d["ground_truth"], d["detections"], d["matched"]
        );
        let _ = writeln!(md, "| precision | {} |\n| recall | {} |", pct(&d["precision"]), pct(&d["recall"]));
        let _ = writeln!(
            md,
            "| mean delay | {} frames ({} s) |",
            num(&d["mean_delay_frames"], 1),
            num(&d["mean_delay_s"], 2)
        );
        let _ =
            writeln!(md, "| window Hit@1 | {} of {} labelled windows |", pct(&d["window_top1"]), d["labelled_windows"]);
        let _ = writeln!(
            md,
            "| windows | span {} frames, stride {}, threshold {}, background {} |\n",
            r["window_span"],
            r["window_stride"],
            num(&d["threshold"], 2),
            d["background"].as_str().unwrap_or("none")
        );
    }
}

/// The comparison with a second model (when asked).
fn comparison(md: &mut String, r: &Value) {
    let c = &r["compare"];
    if c.is_object() {
        let _ = writeln!(md, "## Compared with {}\n", c["model"].as_str().unwrap_or("?"));
        let _ = writeln!(md, "| metric | this model | other | difference |\n|---|---|---|---|");
        for (name, key) in [
            ("clip Hit@1", "clip_top1"),
            ("video Hit@1", "video_top1"),
            ("video Hit@5", "video_top5"),
            ("mean class accuracy", "mean_class_acc"),
        ] {
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {} |",
                pct(&c["a"][key]),
                pct(&c["b"][key]),
                signed_pct(&c[format!("{key}_diff")])
            );
        }
        let _ = writeln!(
            md,
            "\nTop-1 agreement: {} of videos, {} of clips ({} videos both scored).\n",
            pct(&c["agreement"]),
            pct(&c["clip_agreement"]),
            c["n_videos"]
        );
        if let Some(rows) = c["per_class"].as_array() {
            let _ = writeln!(
                md,
                "| class | recall (this / other / diff) | precision (this / other / diff) |\n|---|---|---|"
            );
            for row in rows {
                let _ = writeln!(
                    md,
                    "| {} | {} / {} / {} | {} / {} / {} |",
                    row["name"].as_str().unwrap_or("?"),
                    pct(&row["recall_a"]),
                    pct(&row["recall_b"]),
                    signed_pct(&row["recall_diff"]),
                    pct(&row["precision_a"]),
                    pct(&row["precision_b"]),
                    signed_pct(&row["precision_diff"])
                );
            }
            md.push('\n');
        }
    }
}

/// The videos that could not be read.
fn unreadable(md: &mut String, r: &Value) {
    let skipped = r["unreadable"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(md, "## Unreadable videos ({}, skipped)\n", skipped.len());
    if skipped.is_empty() {
        md.push_str("None.\n");
    }
    for s in skipped {
        let _ = writeln!(
            md,
            "- `{}` (list line {}): {}",
            s["path"].as_str().unwrap_or("?"),
            s["line"],
            s["error"].as_str().unwrap_or("?")
        );
    }
}

/// Writes `report.json`, `report.md` and, for trimmed videos, `confusion.png` and
/// `per_class.png` into `dir` (created if needed); returns the paths written.
pub fn write_report(dir: &Path, r: &Value) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let json = dir.join("report.json");
    std::fs::write(&json, serde_json::to_string_pretty(r).expect("JSON values serialise"))?;
    written.push(json);
    let md = dir.join("report.md");
    std::fs::write(&md, markdown(r))?;
    written.push(md);
    let image_err = |e: image::ImageError| std::io::Error::other(e.to_string());
    if let Some(rows) = r["confusion"].as_array() {
        let confusion: Vec<Vec<usize>> = rows
            .iter()
            .map(|row| {
                row.as_array().map(|a| a.iter().map(|v| v.as_u64().unwrap_or(0) as usize).collect()).unwrap_or_default()
            })
            .collect();
        let path = dir.join("confusion.png");
        plot::confusion_png(&confusion).save(&path).map_err(image_err)?;
        written.push(path);
    }
    if let Some(rows) = r["per_class"].as_array().filter(|a| !a.is_empty()) {
        let recall: Vec<Option<f64>> = rows.iter().map(|c| c["recall"].as_f64()).collect();
        let precision: Vec<Option<f64>> = rows.iter().map(|c| c["precision"].as_f64()).collect();
        let path = dir.join("per_class.png");
        plot::per_class_png(&recall, &precision).save(&path).map_err(image_err)?;
        written.push(path);
    }
    Ok(written)
}
