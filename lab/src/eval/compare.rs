//! Two models side by side on the same videos (float vs INT8, old vs new): how often they
//! agree, and where their accuracy differs.

use serde::Serialize;

use super::metrics::{argmax, Accumulator, MetricsError, Summary};

/// One class's recall and precision under both models (`b − a` differences).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassDiff {
    pub name: String,
    pub support: usize,
    pub recall_a: Option<f64>,
    pub recall_b: Option<f64>,
    pub recall_diff: Option<f64>,
    pub precision_a: Option<f64>,
    pub precision_b: Option<f64>,
    pub precision_diff: Option<f64>,
}

/// The comparison over the videos both models scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub n_videos: usize,
    /// Fraction of videos whose video-level top-1 class is the same under both models.
    pub agreement: f64,
    /// Fraction of clips whose top-1 class is the same.
    pub clip_agreement: f64,
    /// `b − a` of video Hit@1, clip Hit@1, video Hit@5 and mean class accuracy.
    pub video_top1_diff: f64,
    pub clip_top1_diff: f64,
    pub video_top5_diff: f64,
    pub mean_class_acc_diff: f64,
    pub a: Summary,
    pub b: Summary,
    pub per_class: Vec<ClassDiff>,
}

/// One video under two models: its label, model A's clip probabilities, model B's.
pub type VideoPair<'a> = (usize, &'a [Vec<f32>], &'a [Vec<f32>]);

/// Compares two models' clip probabilities on the same videos: `videos` holds, per video,
/// its label and both models' clips (same views, so the same clip count).
pub fn compare(classes: usize, videos: &[VideoPair<'_>], names: &[String]) -> Result<Comparison, MetricsError> {
    let (mut acc_a, mut acc_b) = (Accumulator::new(classes), Accumulator::new(classes));
    let (mut clips, mut clip_same) = (0usize, 0usize);
    for &(label, a, b) in videos {
        acc_a.add_video(label, a.to_vec())?;
        acc_b.add_video(label, b.to_vec())?;
        for (x, y) in a.iter().zip(b) {
            clips += 1;
            clip_same += usize::from(argmax(x) == argmax(y));
        }
    }
    let same = acc_a.video_predictions().iter().zip(acc_b.video_predictions()).filter(|(x, y)| **x == *y).count();
    let (sa, sb) = (acc_a.summary(names), acc_b.summary(names));
    let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
    let per_class = sa
        .per_class
        .iter()
        .zip(&sb.per_class)
        .map(|(x, y)| ClassDiff {
            name: x.name.clone(),
            support: x.support,
            recall_a: x.recall,
            recall_b: y.recall,
            recall_diff: diff(x.recall, y.recall),
            precision_a: x.precision,
            precision_b: y.precision,
            precision_diff: diff(x.precision, y.precision),
        })
        .collect();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Comparison {
        n_videos: videos.len(),
        agreement: ratio(same, videos.len()),
        clip_agreement: ratio(clip_same, clips),
        video_top1_diff: sb.video_top1 - sa.video_top1,
        clip_top1_diff: sb.clip_top1 - sa.clip_top1,
        video_top5_diff: sb.video_top5 - sa.video_top5,
        mean_class_acc_diff: sb.mean_class_acc - sa.mean_class_acc,
        a: sa,
        b: sb,
        per_class,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_comparison() {
        let names: Vec<String> = ["x", "y"].iter().map(|s| s.to_string()).collect();
        // Video 0 (label 0): both right. Video 1 (label 1): a right, b wrong.
        // Video 2 (label 1): both wrong, agreeing; its second clip disagrees.
        let a0 = vec![vec![0.9, 0.1]];
        let a1 = vec![vec![0.2, 0.8]];
        let b1 = vec![vec![0.7, 0.3]];
        let a2 = vec![vec![0.6, 0.4], vec![0.9, 0.1]];
        let b2 = vec![vec![0.6, 0.4], vec![0.4, 0.6]];
        let c = compare(2, &[(0, &a0, &a0), (1, &a1, &b1), (1, &a2, &b2)], &names).unwrap();
        assert_eq!(c.n_videos, 3);
        assert!((c.agreement - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.clip_agreement - 2.0 / 4.0).abs() < 1e-12);
        assert!((c.video_top1_diff + 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.clip_top1_diff, 0.0, "both get 2 of 4 clips right");
        assert_eq!(c.per_class[1].recall_a, Some(0.5));
        assert_eq!(c.per_class[1].recall_b, Some(0.0));
        assert_eq!(c.per_class[1].recall_diff, Some(-0.5));
        assert_eq!(c.per_class[1].precision_b, None, "b predicts nothing as y");
        assert_eq!(c.per_class[1].precision_diff, None);
        assert!(compare(2, &[(0, &a0, &[vec![1.0]])], &names).is_err());
    }
}
