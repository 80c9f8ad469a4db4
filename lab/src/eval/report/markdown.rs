//! The Markdown page of `motus eval --report DIR` (`report.md`).

use std::fmt::Write as _;

use super::{ClipsComparison, Compared, EvalReport, LongComparison};

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:.1} %", 100.0 * x))
}

fn signed_pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:+.1} pt", 100.0 * x))
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

/// The Markdown page: headline metrics, latency per stage, per-class table, confusion matrix,
/// the detection scores and the comparison when present, and the skipped videos.
pub fn markdown(r: &EvalReport) -> String {
    let mut md = String::new();
    for section in [summary, latency, per_class, confusion, detection, comparison, unreadable] {
        section(&mut md, r);
    }
    md
}

/// The header and the accuracy table.
fn summary(md: &mut String, r: &EvalReport) {
    let h = &r.header;
    let _ = writeln!(md, "# motus eval: {}\n", h.model.display());
    let _ = writeln!(
        md,
        "Data `{}`, protocol `{}`, architecture `{}` (card {}), {} workers, tract threads {}, flow {}.\n",
        h.data.display(),
        h.protocol,
        h.arch,
        h.card,
        h.workers,
        h.threads,
        r.flow_engine.as_deref().unwrap_or("none"),
    );
    let _ = writeln!(md, "| metric | value |\n|---|---|");
    for (name, value) in [
        ("clip Hit@1", Some(r.clip_top1)),
        ("video Hit@1", r.video_top1),
        ("video Hit@5", r.video_top5),
        ("mean class accuracy", r.mean_class_acc),
    ] {
        let _ = writeln!(md, "| {name} | {} |", pct(value));
    }
    let _ = writeln!(
        md,
        "| videos scored | {} |\n| clips | {} |\n| unreadable videos (skipped) | {} |",
        r.n_videos, r.n_clips, r.n_unreadable
    );
    let _ = writeln!(md, "| wall time | {} s ({} videos/s) |\n", num(Some(r.seconds), 2), num(Some(r.videos_per_s), 2));
}

/// Per-stage latency percentiles.
fn latency(md: &mut String, r: &EvalReport) {
    let _ = writeln!(md, "## Latency per clip (ms, one worker)\n\n| stage | p50 | p95 | mean |\n|---|---|---|---|");
    for (stage, s) in r.latency_ms.stages() {
        let _ = writeln!(md, "| {stage} | {:.2} | {:.2} | {:.2} |", s.p50, s.p95, s.mean);
    }
    md.push('\n');
}

/// Recall and precision per class (when there are classes).
fn per_class(md: &mut String, r: &EvalReport) {
    if r.per_class.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Per class\n\n![per-class recall and precision](per_class.png)\n\n| # | class | videos | recall | precision |\n|---|---|---|---|---|");
    for (i, c) in r.per_class.iter().enumerate() {
        let _ = writeln!(md, "| {i} | {} | {} | {} | {} |", c.name, c.support, pct(c.recall), pct(c.precision));
    }
    md.push('\n');
}

/// The confusion matrix (when there is one).
fn confusion(md: &mut String, r: &EvalReport) {
    let Some(rows) = &r.confusion else { return };
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
        let cells: Vec<String> = row.iter().map(usize::to_string).collect();
        let _ = writeln!(md, "| {i} | {} |", cells.join(" | "));
    }
    md.push('\n');
}

/// Event detection on long videos (when evaluated).
fn detection(md: &mut String, r: &EvalReport) {
    let Some(d) = &r.detection else { return };
    let _ = writeln!(md, "## Detection on long videos (temporal IoU ≥ {:.2})\n", d.min_iou);
    let _ = writeln!(md, "| metric | value |\n|---|---|");
    let _ = writeln!(
        md,
        "| ground-truth actions | {} |\n| detections | {} |\n| matched | {} |",
        d.ground_truth, d.detections, d.matched
    );
    let _ = writeln!(md, "| precision | {} |\n| recall | {} |", pct(Some(d.precision)), pct(Some(d.recall)));
    let _ = writeln!(md, "| mean delay | {} frames ({} s) |", num(d.mean_delay_frames, 1), num(d.mean_delay_s, 2));
    let _ = writeln!(md, "| window Hit@1 | {} of {} labelled windows |", pct(Some(d.window_top1)), d.labelled_windows);
    let _ = writeln!(
        md,
        "| windows | span {} frames, stride {}, threshold {:.2}, background {} |\n",
        r.window_span.map_or("–".into(), |s| s.to_string()),
        r.window_stride.map_or("–".into(), |s| s.to_string()),
        d.threshold,
        d.background.as_deref().unwrap_or("none")
    );
}

/// The comparison with a second model (when asked).
fn comparison(md: &mut String, r: &EvalReport) {
    match &r.compare {
        Some(Compared::Clips(c)) => clips_comparison(md, c),
        Some(Compared::Long(c)) => long_comparison(md, r, c),
        None => {}
    }
}

fn clips_comparison(md: &mut String, c: &ClipsComparison) {
    let (a, b, cmp) = (&c.comparison.a, &c.comparison.b, &c.comparison);
    let _ = writeln!(md, "## Compared with {}\n", c.model.display());
    let _ = writeln!(md, "| metric | this model | other | difference |\n|---|---|---|---|");
    for (name, this, other, diff) in [
        ("clip Hit@1", a.clip_top1, b.clip_top1, cmp.clip_top1_diff),
        ("video Hit@1", a.video_top1, b.video_top1, cmp.video_top1_diff),
        ("video Hit@5", a.video_top5, b.video_top5, cmp.video_top5_diff),
        ("mean class accuracy", a.mean_class_acc, b.mean_class_acc, cmp.mean_class_acc_diff),
    ] {
        let _ = writeln!(md, "| {name} | {} | {} | {} |", pct(Some(this)), pct(Some(other)), signed_pct(Some(diff)));
    }
    let _ = writeln!(
        md,
        "\nTop-1 agreement: {} of videos, {} of clips ({} videos both scored).\n",
        pct(Some(cmp.agreement)),
        pct(Some(cmp.clip_agreement)),
        cmp.n_videos
    );
    let _ = writeln!(md, "| class | recall (this / other / diff) | precision (this / other / diff) |\n|---|---|---|");
    for row in &cmp.per_class {
        let _ = writeln!(
            md,
            "| {} | {} / {} / {} | {} / {} / {} |",
            row.name,
            pct(row.recall_a),
            pct(row.recall_b),
            signed_pct(row.recall_diff),
            pct(row.precision_a),
            pct(row.precision_b),
            signed_pct(row.precision_diff)
        );
    }
    md.push('\n');
}

fn long_comparison(md: &mut String, r: &EvalReport, c: &LongComparison) {
    let _ = writeln!(md, "## Compared with {}\n", c.model.display());
    let _ = writeln!(md, "| metric | this model | other | difference |\n|---|---|---|---|");
    let this = r.detection.as_ref();
    for (name, mine, other, diff) in [
        ("precision", this.map(|d| d.precision), c.detection.precision, c.precision_diff),
        ("recall", this.map(|d| d.recall), c.detection.recall, c.recall_diff),
        ("window Hit@1", this.map(|d| d.window_top1), c.detection.window_top1, c.clip_top1_diff),
    ] {
        let _ = writeln!(md, "| {name} | {} | {} | {} |", pct(mine), pct(Some(other)), signed_pct(Some(diff)));
    }
    md.push('\n');
}

/// The videos that could not be read.
fn unreadable(md: &mut String, r: &EvalReport) {
    let _ = writeln!(md, "## Unreadable videos ({}, skipped)\n", r.unreadable.len());
    if r.unreadable.is_empty() {
        md.push_str("None.\n");
    }
    for s in &r.unreadable {
        let _ = writeln!(md, "- `{}` (list line {}): {}", s.path.display(), s.line, s.error);
    }
}
