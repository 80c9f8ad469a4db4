//! The terminal table `motus eval` prints without `--json`.

use std::fmt::Write as _;

use super::{Compared, EvalReport};

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:6.1} %", 100.0 * x))
}

/// The table: headline metrics (detection scores for long videos), latency per stage,
/// per-class rows and the comparison.
pub fn table(r: &EvalReport) -> String {
    let mut t = String::new();
    let h = &r.header;
    let _ = writeln!(
        t,
        "{} on {} ({}, {} videos, {} clips, {} unreadable)",
        h.model.display(),
        h.data.display(),
        h.protocol,
        r.n_videos,
        r.n_clips,
        r.n_unreadable
    );
    headline(&mut t, r);
    let _ = writeln!(t, "  latency per clip (ms)   p50      p95");
    for (stage, s) in r.latency_ms.stages() {
        let _ = writeln!(t, "    {stage:<12} {:>10.2} {:>8.2}", s.p50, s.p95);
    }
    if !r.per_class.is_empty() {
        let _ = writeln!(t, "  {:<16} {:>6} {:>9} {:>10}", "class", "videos", "recall", "precision");
        for c in &r.per_class {
            let _ = writeln!(t, "  {:<16} {:>6} {:>9} {:>10}", c.name, c.support, pct(c.recall), pct(c.precision));
        }
    }
    comparison(&mut t, r);
    t
}

fn headline(t: &mut String, r: &EvalReport) {
    match &r.detection {
        Some(d) => {
            let _ = writeln!(
                t,
                "  detection (tIoU ≥ {:.1})  precision {}  recall {}  ({} of {} actions, {} detections)",
                d.min_iou,
                pct(Some(d.precision)),
                pct(Some(d.recall)),
                d.matched,
                d.ground_truth,
                d.detections
            );
            let _ =
                writeln!(t, "  mean delay              {}", d.mean_delay_s.map_or("–".into(), |s| format!("{s:.2} s")));
            let _ = writeln!(t, "  window Hit@1            {}", pct(Some(r.clip_top1)));
        }
        None => {
            let _ = writeln!(
                t,
                "  clip Hit@1   {}    video Hit@1 {}    video Hit@5 {}    mean class acc {}",
                pct(Some(r.clip_top1)),
                pct(r.video_top1),
                pct(r.video_top5),
                pct(r.mean_class_acc)
            );
        }
    }
}

fn comparison(t: &mut String, r: &EvalReport) {
    match &r.compare {
        Some(Compared::Clips(c)) => {
            let cmp = &c.comparison;
            let _ = writeln!(t, "  compared with {}:", c.model.display());
            let _ = writeln!(
                t,
                "    top-1 agreement {} of videos, {} of clips",
                pct(Some(cmp.agreement)),
                pct(Some(cmp.clip_agreement))
            );
            let _ = writeln!(
                t,
                "    video Hit@1 {:+.1} pt, clip Hit@1 {:+.1} pt",
                100.0 * cmp.video_top1_diff,
                100.0 * cmp.clip_top1_diff
            );
        }
        Some(Compared::Long(c)) => {
            let _ = writeln!(t, "  compared with {}:", c.model.display());
            let _ = writeln!(
                t,
                "    precision {:+.1} pt, recall {:+.1} pt",
                100.0 * c.precision_diff,
                100.0 * c.recall_diff
            );
        }
        None => {}
    }
}
