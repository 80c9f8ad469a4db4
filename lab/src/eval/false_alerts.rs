//! False alerts on real footage: `motus bench alerts`'s clip list and its tally.
//!
//! Real footage has no frame-level labels here; what a person can say of a clip is which
//! alerts would be *fair* on it (`allowed`). Every alert of another class is a false alert.
//! The list is a TSV with a header naming at least `path` and `allowed` (`-` for none; classes
//! separated by commas); other columns (frames, fps, scene…) are carried along for people.
//! The figure that matters is false alerts per minute of footage: what a user would be
//! woken by.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Why a clip list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClipListError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the header must name the columns `path` and `allowed` (tab-separated), got {header:?}")]
    Header { path: PathBuf, header: String },
    #[error("{path}:{line}: {msg}")]
    Line { path: PathBuf, line: usize, msg: String },
    #[error("{path}: the list names no clips")]
    Empty { path: PathBuf },
}

/// One clip of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct RealClip {
    /// As written in the list (relative to the list's folder, or absolute).
    pub name: String,
    /// Where the video is.
    pub path: PathBuf,
    /// Classes that may fairly fire on it (empty: none).
    pub allowed: Vec<String>,
    /// What happens in it, when the list says (`scene` column).
    pub scene: Option<String>,
}

/// Reads a clip list; paths are resolved against the list's folder.
pub fn read_clip_list(list: &Path) -> Result<Vec<RealClip>, ClipListError> {
    let text = std::fs::read_to_string(list).map_err(|source| ClipListError::Io { path: list.into(), source })?;
    parse_clip_list(&text, list)
}

/// Parses a clip list's text (see the module docs); `list` names it in errors and gives the
/// folder relative paths start from.
pub fn parse_clip_list(text: &str, list: &Path) -> Result<Vec<RealClip>, ClipListError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().ok_or_else(|| ClipListError::Empty { path: list.into() })?;
    let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(path_col), Some(allowed_col)) = (find("path"), find("allowed")) else {
        return Err(ClipListError::Header { path: list.into(), header: header.to_string() });
    };
    let scene_col = find("scene");
    let base = list.parent().unwrap_or(Path::new("."));
    let mut clips = Vec::new();
    for (i, line) in lines {
        let bad = |msg: String| ClipListError::Line { path: list.into(), line: i + 1, msg };
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(bad(format!("{} columns, the header has {}", cells.len(), columns.len())));
        }
        let name = cells[path_col];
        if name.is_empty() {
            return Err(bad("empty path".into()));
        }
        let allowed = match cells[allowed_col] {
            "-" | "" => Vec::new(),
            list => list.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
        };
        clips.push(RealClip {
            name: name.to_string(),
            path: base.join(name),
            allowed,
            scene: scene_col.map(|c| cells[c].to_string()),
        });
    }
    if clips.is_empty() {
        return Err(ClipListError::Empty { path: list.into() });
    }
    Ok(clips)
}

/// One alert a clip raised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipAlert {
    pub class: String,
    /// Stream time the alert started, seconds.
    pub at_s: f64,
    /// Whether the list allows this class on this clip.
    pub allowed: bool,
}

/// One clip's run: how long it is and what it raised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipRun {
    pub path: String,
    /// Footage length, seconds (frames read at the source's own rate).
    pub seconds: f64,
    /// The source's frame rate.
    pub fps: f64,
    pub frames: u64,
    pub alerts: Vec<ClipAlert>,
    pub false_alerts: usize,
}

impl ClipRun {
    /// A clip's run from the classes (and start times) of the alerts it raised.
    pub fn new(clip: &RealClip, fps: f64, frames: u64, raised: &[(String, f64)]) -> ClipRun {
        let alerts: Vec<ClipAlert> = raised
            .iter()
            .map(|(class, at_s)| ClipAlert { class: class.clone(), at_s: *at_s, allowed: clip.allowed.contains(class) })
            .collect();
        let seconds = if fps > 0.0 { frames as f64 / fps } else { 0.0 };
        ClipRun {
            path: clip.name.clone(),
            seconds,
            fps,
            frames,
            false_alerts: alerts.iter().filter(|a| !a.allowed).count(),
            alerts,
        }
    }
}

/// Alerts of one class over the whole list.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassTally {
    pub alerts: usize,
    pub false_alerts: usize,
}

/// The whole list: `motus bench alerts --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertsReport {
    pub clips: usize,
    pub minutes: f64,
    pub alerts: usize,
    pub false_alerts: usize,
    pub false_alerts_per_minute: f64,
    /// Per class that fired (allowed or not).
    pub by_class: BTreeMap<String, ClassTally>,
    /// Allowed classes that fired, with how often.
    pub allowed_fired: BTreeMap<String, usize>,
    pub per_clip: Vec<ClipRun>,
}

impl AlertsReport {
    /// Sums the clips' runs.
    pub fn tally(per_clip: Vec<ClipRun>) -> AlertsReport {
        let minutes = per_clip.iter().map(|c| c.seconds).sum::<f64>() / 60.0;
        let mut by_class: BTreeMap<String, ClassTally> = BTreeMap::new();
        let mut allowed_fired = BTreeMap::new();
        for a in per_clip.iter().flat_map(|c| &c.alerts) {
            let t = by_class.entry(a.class.clone()).or_default();
            t.alerts += 1;
            if a.allowed {
                *allowed_fired.entry(a.class.clone()).or_insert(0) += 1;
            } else {
                t.false_alerts += 1;
            }
        }
        let alerts = per_clip.iter().map(|c| c.alerts.len()).sum();
        let false_alerts = per_clip.iter().map(|c| c.false_alerts).sum();
        let false_alerts_per_minute = if minutes > 0.0 { false_alerts as f64 / minutes } else { 0.0 };
        AlertsReport {
            clips: per_clip.len(),
            minutes,
            alerts,
            false_alerts,
            false_alerts_per_minute,
            by_class,
            allowed_fired,
            per_clip,
        }
    }

    /// The report as a table for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for c in &self.per_clip {
            let named: Vec<String> = c
                .alerts
                .iter()
                .map(|a| format!("{}{} @{:.1}s", a.class, if a.allowed { "" } else { " (false)" }, a.at_s))
                .collect();
            s.push_str(&format!(
                "{:<44} {:>6.1} s  {:>5.2} fps  {} alert(s), {} false  {}\n",
                c.path,
                c.seconds,
                c.fps,
                c.alerts.len(),
                c.false_alerts,
                named.join(", ")
            ));
        }
        s.push_str(&format!(
            "{} clips, {:.2} min of footage: {} alerts, {} false = {:.2} false alerts a minute\n",
            self.clips, self.minutes, self.alerts, self.false_alerts, self.false_alerts_per_minute
        ));
        for (class, t) in &self.by_class {
            s.push_str(&format!("  {class:<12} {} alerts, {} false\n", t.alerts, t.false_alerts));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "path\tframes\tfps\tscene\tallowed\n\
        a.mp4\t10\t10\tsomeone signing\t-\n\
        \n\
        sub/b.gif\t20\t12\ta walk\twalk_left, recede\n";

    #[test]
    fn a_list_reads_its_paths_and_allowed_classes() {
        let clips = parse_clip_list(LIST, Path::new("/data/real/clips.tsv")).unwrap();
        assert_eq!(clips.len(), 2);
        assert_eq!(clips[0].path, PathBuf::from("/data/real/a.mp4"));
        assert!(clips[0].allowed.is_empty());
        assert_eq!(clips[1].allowed, vec!["walk_left", "recede"]);
        assert_eq!(clips[1].scene.as_deref(), Some("a walk"));
    }

    #[test]
    fn a_bad_list_is_named_with_its_line() {
        let p = Path::new("l.tsv");
        let e = parse_clip_list("file\tok\n", p).unwrap_err();
        assert!(matches!(e, ClipListError::Header { .. }), "{e}");
        let e = parse_clip_list("path\tallowed\na.mp4\n", p).unwrap_err();
        assert!(e.to_string().contains("l.tsv:2: 1 columns, the header has 2"), "{e}");
        let e = parse_clip_list("path\tallowed\n\t-\n", p).unwrap_err();
        assert!(e.to_string().contains("empty path"), "{e}");
        assert!(matches!(parse_clip_list("path\tallowed\n", p), Err(ClipListError::Empty { .. })));
        assert!(matches!(parse_clip_list("", p), Err(ClipListError::Empty { .. })));
        assert!(matches!(read_clip_list(Path::new("/no/such/list.tsv")), Err(ClipListError::Io { .. })));
    }

    #[test]
    fn the_tally_counts_false_alerts_per_minute_and_by_class() {
        let clips = parse_clip_list(LIST, Path::new("clips.tsv")).unwrap();
        let runs = vec![
            ClipRun::new(&clips[0], 10.0, 300, &[("fall_down".into(), 3.0), ("wave".into(), 9.5)]),
            ClipRun::new(&clips[1], 12.0, 360, &[("walk_left".into(), 1.0), ("fall_down".into(), 20.0)]),
        ];
        let r = AlertsReport::tally(runs);
        assert_eq!((r.clips, r.alerts, r.false_alerts), (2, 4, 3));
        assert!((r.minutes - 1.0).abs() < 1e-9, "30 s + 30 s");
        assert!((r.false_alerts_per_minute - 3.0).abs() < 1e-9);
        assert_eq!(r.by_class["fall_down"], ClassTally { alerts: 2, false_alerts: 2 });
        assert_eq!(r.allowed_fired, BTreeMap::from([("walk_left".to_string(), 1)]));
        assert_eq!(r.per_clip[1].false_alerts, 1);
        let text = r.to_text();
        assert!(text.contains("3 false = 3.00 false alerts a minute"), "{text}");
        // No footage at all is zero a minute, not NaN.
        assert_eq!(AlertsReport::tally(Vec::new()).false_alerts_per_minute, 0.0);
    }
}
