//! `motus run`'s configuration: one TOML file (serde), checked field by field so a typo or a
//! bad value is refused at start-up with the key named, never discovered hours later on the
//! board. Command-line flags override it ([`Overrides`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::alert::Rule;
use motus_core::flow::Backend;
use motus_core::infer::InferRuntime;

/// Why a configuration was refused; each variant names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {err}")]
    Read { path: PathBuf, err: std::io::Error },
    #[error("config {path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("config: {key}: {msg}")]
    Invalid { key: String, msg: String },
    /// A `*_file` key names a file that cannot be read (see [`super::secrets`]).
    #[error("config: {key}: cannot read {path}: {err}")]
    Secret {
        key: String,
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
}

fn invalid(key: impl Into<String>, msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), msg: msg.into() }
}

/// A stream's default I/O timeout ([`SourceConfig::Stream`]).
pub const DEFAULT_IO_TIMEOUT_S: f64 = 10.0;

fn default_io_timeout_s() -> f64 {
    DEFAULT_IO_TIMEOUT_S
}

/// How a file source is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// At the file's frame rate, like a camera.
    #[default]
    Realtime,
    /// As fast as the pipeline takes frames (offline runs, benches).
    Fast,
}

/// Where frames come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceConfig {
    /// The endless synthetic scene (the demo's camera), with ground truth.
    Synthetic {
        #[serde(default = "default_width")]
        width: u32,
        #[serde(default = "default_height")]
        height: u32,
        #[serde(default = "default_fps")]
        fps: f64,
        #[serde(default = "default_seed")]
        seed: u64,
        /// `realtime` (a camera's pace, the default) or `fast` (offline scoring runs).
        #[serde(default)]
        pace: Pace,
        /// Stop after this many frames (offline runs); absent = endless, like a camera.
        #[serde(default)]
        frames: Option<u64>,
    },
    /// A video file or frame folder, in any format `media` reads.
    File {
        path: PathBuf,
        #[serde(default)]
        pace: Pace,
        /// Start again at the end instead of stopping.
        #[serde(default, rename = "loop")]
        looping: bool,
    },
    /// An RTSP/HTTP stream (or anything ffmpeg opens by URL).
    Stream {
        url: String,
        /// Seconds a connection may stay silent before ffmpeg gives up on it and the source
        /// is reopened (a stream that stops sending without closing would otherwise hang the
        /// capture thread).
        #[serde(default = "default_io_timeout_s")]
        io_timeout_s: f64,
    },
    /// A V4L2 camera (`--features v4l`).
    V4l2 {
        #[serde(default = "default_device")]
        device: PathBuf,
        #[serde(default = "default_width")]
        width: u32,
        #[serde(default = "default_height")]
        height: u32,
        #[serde(default = "default_fps")]
        fps: f64,
    },
    /// A camera through nokhwa (`--features nokhwa`).
    Nokhwa {
        #[serde(default)]
        index: u32,
        #[serde(default = "default_width")]
        width: u32,
        #[serde(default = "default_height")]
        height: u32,
        #[serde(default = "default_fps")]
        fps: f64,
    },
}

fn default_width() -> u32 {
    640
}
fn default_height() -> u32 {
    480
}
fn default_fps() -> f64 {
    30.0
}
fn default_seed() -> u64 {
    7
}
fn default_device() -> PathBuf {
    PathBuf::from("/dev/video0")
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig::Synthetic { width: 640, height: 480, fps: 30.0, seed: 7, pace: Pace::Realtime, frames: None }
    }
}

impl SourceConfig {
    /// Parses the `--source` flag: `synthetic[:SEED]`, `rtsp://…`/`http(s)://…`, `/dev/videoN`,
    /// `nokhwa:N`, or a file path.
    pub fn from_flag(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(invalid("--source", "empty"));
        }
        if let Some(rest) = s.strip_prefix("synthetic") {
            let seed = match rest.strip_prefix(':') {
                Some(n) => n.parse().map_err(|_| invalid("--source", format!("seed {n:?} is not a number")))?,
                None if rest.is_empty() => default_seed(),
                None => return Err(invalid("--source", format!("{s:?}: expected synthetic or synthetic:SEED"))),
            };
            return Ok(SourceConfig::Synthetic {
                width: 640,
                height: 480,
                fps: 30.0,
                seed,
                pace: Pace::Realtime,
                frames: None,
            });
        }
        if let Some(n) = s.strip_prefix("nokhwa:") {
            let index = n.parse().map_err(|_| invalid("--source", format!("camera index {n:?} is not a number")))?;
            return Ok(SourceConfig::Nokhwa { index, width: 640, height: 480, fps: 30.0 });
        }
        if ["rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://"]
            .iter()
            .any(|p| s.starts_with(p))
        {
            return Ok(SourceConfig::Stream { url: s.to_string(), io_timeout_s: DEFAULT_IO_TIMEOUT_S });
        }
        if s.starts_with("/dev/video") {
            return Ok(SourceConfig::V4l2 { device: s.into(), width: 640, height: 480, fps: 30.0 });
        }
        Ok(SourceConfig::File { path: s.into(), pace: Pace::Realtime, looping: false })
    }

    /// How the source is named in alert records and logs (a stream's credentials masked).
    pub fn describe(&self) -> String {
        match self {
            SourceConfig::Synthetic { seed, .. } => format!("synthetic:{seed}"),
            SourceConfig::File { path, .. } => path.display().to_string(),
            SourceConfig::Stream { url, .. } => motus_core::redact::url(url).into_owned(),
            SourceConfig::V4l2 { device, .. } => device.display().to_string(),
            SourceConfig::Nokhwa { index, .. } => format!("nokhwa:{index}"),
        }
    }

    /// Whether the source is read as fast as the pipeline takes frames (an offline run, where
    /// every frame counts and none may be skipped), rather than at a camera's pace.
    pub fn is_unpaced(&self) -> bool {
        matches!(self, SourceConfig::File { pace: Pace::Fast, .. } | SourceConfig::Synthetic { pace: Pace::Fast, .. })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let size = |w: u32, h: u32, fps: f64| {
            if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
                return Err(invalid("source.width/height", format!("{w}x{h} must be within 16..8192")));
            }
            if !motus_core::frame::size_is_allowed(w, h) {
                let most = motus_core::frame::MAX_PIXELS;
                return Err(invalid(
                    "source.width/height",
                    format!("{w}x{h} is over the {most} pixels of a frame (8K)"),
                ));
            }
            if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
                return Err(invalid("source.fps", format!("{fps} must be in (0, 1000]")));
            }
            Ok(())
        };
        if let SourceConfig::Synthetic { frames: Some(0), .. } = self {
            return Err(invalid("source.frames", "0: a scene of no frames; leave it out for an endless one"));
        }
        match self {
            SourceConfig::Synthetic { width, height, fps, .. }
            | SourceConfig::V4l2 { width, height, fps, .. }
            | SourceConfig::Nokhwa { width, height, fps, .. } => size(*width, *height, *fps),
            SourceConfig::File { path, .. } if path.as_os_str().is_empty() => Err(invalid("source.path", "empty")),
            SourceConfig::Stream { io_timeout_s, .. }
                if !(io_timeout_s.is_finite() && (0.5..=600.0).contains(io_timeout_s)) =>
            {
                Err(invalid("source.io_timeout_s", format!("{io_timeout_s} must be within 0.5..600 seconds")))
            }
            SourceConfig::Stream { url, .. } if !url.contains("://") => {
                // Not echoed: without a scheme no masking finds a password in it.
                Err(invalid("source.url", "is not a URL: it needs a scheme such as rtsp:// or http://"))
            }
            _ => Ok(()),
        }
    }
}

/// Inference settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The ONNX model; relative paths are taken from the config file's folder. Absent: the
    /// bundled model (see `runtime::model_path`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A TOML card for a model exported without one.
    #[serde(default)]
    pub card: Option<PathBuf>,
    /// `cpu` (tract) or `cuda` (tract-cuda, when built with it).
    #[serde(default)]
    pub runtime: InferRuntime,
    /// Threads for tract's matrix products.
    #[serde(default = "one")]
    pub threads: usize,
    /// Flow backend: `cpu`, `gpu` or `auto`.
    #[serde(default = "default_flow_backend")]
    pub flow_backend: Backend,
    /// Threads for the CPU flow engine.
    #[serde(default = "one")]
    pub flow_threads: usize,
    /// Runs a two-stream model's spatial and temporal towers on two threads at once (the
    /// window then costs the slower tower, not both). Models without two towers run whole.
    #[serde(default = "yes")]
    pub parallel_streams: bool,
    /// The SHA-256 (hex) the model file must have: a model replaced on the board, by mistake
    /// or not, is refused at start instead of run. Absent: any model.
    #[serde(default)]
    pub sha256: Option<String>,
}

fn default_flow_backend() -> Backend {
    Backend::Auto
}
fn one() -> usize {
    1
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            path: None,
            card: None,
            runtime: InferRuntime::Cpu,
            threads: 1,
            flow_backend: default_flow_backend(),
            flow_threads: 1,
            parallel_streams: true,
            sha256: None,
        }
    }
}

/// The sliding window and the frame ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// Frames between two classifications (1 = every frame), counted at the model's rate
    /// (its card's `fps`) when the card has one, whatever the camera's rate.
    #[serde(default = "default_stride")]
    pub stride: usize,
    /// Pooled frame buffers between capture and processing.
    #[serde(default = "default_ring_slots")]
    pub ring_slots: usize,
    /// Queued frames the processor may lag before it skips the oldest.
    #[serde(default = "default_max_lag")]
    pub max_lag: usize,
    /// Where along the camera frame's longer side the model's square crop is taken. A 4:3
    /// camera loses about a sixth of its width on each side to a centred crop: `follow` moves
    /// the crop towards where things move; a scene that always happens at one side of the
    /// view wants `start` or `end`.
    #[serde(default)]
    pub crop: CropMode,
    /// Magnification of the model's view (1 = the card's own resize): frames are resized to
    /// `zoom` times the card's short side before the square crop. People on the live scene
    /// fill less of the frame than in the training clips; a zoom brings them to the size the
    /// model learned, at the cost of field of view (the crop follows the motion).
    #[serde(default = "default_zoom")]
    pub zoom: f32,
}

/// 1.3: on seven live scenes (seeds 7, 4242, 99, 11, 23, 5, 13; 199 actions) the bundled
/// model of the time (two 16..128 towers, trained at 25 fps) with the default rules had
/// precision 0.68 and recall 0.72 at zoom 1.3 against 0.76 and 0.59 unzoomed, and the worst
/// scene (seed 5, small people) went from 1 of 30 actions found to 13 of 30.
fn default_zoom() -> f32 {
    1.3
}

/// `window.crop`: a fixed crop, or one that follows the motion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum CropMode {
    /// Left (top) edge.
    Start,
    /// Centred, as the models were evaluated.
    Center,
    /// Right (bottom) edge.
    End,
    /// Glides towards the frame's motion (`runtime::follow_crop`): the default, since a
    /// camera's view is rarely square and actions happen anywhere in it.
    #[default]
    Follow,
}

impl std::str::FromStr for CropMode {
    type Err = motus_core::names::UnknownName;
    /// The config's names: `start`, `center`, `end`, `follow` (for command-line flags).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "start" => Ok(CropMode::Start),
            "center" => Ok(CropMode::Center),
            "end" => Ok(CropMode::End),
            "follow" => Ok(CropMode::Follow),
            other => Err(motus_core::names::UnknownName::new("crop", other, "start, center, end or follow")),
        }
    }
}

impl CropMode {
    /// The crop position of a fixed mode; `None` for `follow`, whose position changes with
    /// every window.
    pub fn fixed(self) -> Option<motus_core::preprocess::CropPosition> {
        use motus_core::preprocess::CropPosition;
        match self {
            CropMode::Start => Some(CropPosition::Start),
            CropMode::Center => Some(CropPosition::Center),
            CropMode::End => Some(CropPosition::End),
            CropMode::Follow => None,
        }
    }
}

fn default_stride() -> usize {
    4
}
fn default_ring_slots() -> usize {
    8
}
fn default_max_lag() -> usize {
    4
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            stride: default_stride(),
            ring_slots: default_ring_slots(),
            max_lag: default_max_lag(),
            crop: CropMode::Follow,
            zoom: default_zoom(),
        }
    }
}

/// Default alert behaviour for every class without its own rule, plus per-class rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// EMA time constant of score smoothing, seconds (0 = none).
    #[serde(default = "default_tau")]
    pub smoothing_s: f64,
    /// Threshold for classes without a rule; absent = only the listed rules fire.
    #[serde(default)]
    pub default_threshold: Option<f32>,
    #[serde(default)]
    pub default_min_duration_s: f64,
    #[serde(default = "default_cooldown")]
    pub default_cooldown_s: f64,
    /// Classes that never alert by default (the background class).
    #[serde(default = "default_background")]
    pub background: Vec<String>,
    /// Per-class rules (`[[alerts.rules]]`).
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// The smoothing time constant, swept with [`DEFAULT_ALERT_THRESHOLD`].
fn default_tau() -> f64 {
    0.15
}
fn default_cooldown() -> f64 {
    1.0
}
fn default_background() -> Vec<String> {
    crate::alert::BACKGROUND_CLASSES.iter().map(|s| s.to_string()).collect()
}

/// The threshold every class gets when the config has no `[alerts]` section. A two-stream
/// model fuses by averaging its streams' softmax, and the RGB stream cannot tell a motion
/// class from its twin, so a correct, confident motion score is typically 0.3 to 0.6, not
/// near 1. Swept with the smoothing on the bundled model over seven live scenes (seeds 7,
/// 4242, 99, 11, 23, 5, 13; 2,700 frames each, 199 actions; `bench pipeline --frames 2700
/// --trace`, the traces replayed through the rules, the release 0.1 below the threshold) at
/// the default zoom of 1.3: threshold / smoothing 0.375 / 0.15 s gave precision 0.91, recall
/// 0.90 (measured by `bench pipeline`; 0.84 / 0.93 at 0.30 / 0.15 s); replayed, 0.35 / 0.15 s
/// 0.86 / 0.89, 0.40 / 0.15 s 0.93 / 0.87, 0.35 / 0.20 s 0.91 / 0.90. On seven scenes the
/// sweep never saw (seeds 101 to 107, 189 actions) 0.375 / 0.15 s gave 0.92 / 0.83 and 0.30 /
/// 0.15 s 0.82 / 0.84 (both measured): the rule carries over, and recall there is held down by
/// one scene (seed 106, a large actor on stripes). The smoothing stays at 0.15 s because a live
/// run adds the processing time to the stream-clock latency (target: the 833 ms clip + 200 ms).
pub const DEFAULT_ALERT_THRESHOLD: f32 = 0.375;

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            smoothing_s: default_tau(),
            default_threshold: Some(DEFAULT_ALERT_THRESHOLD),
            default_min_duration_s: 0.0,
            default_cooldown_s: default_cooldown(),
            background: default_background(),
            rules: Vec::new(),
        }
    }
}

impl AlertsConfig {
    /// The rule for each label (in label order; `None` = never alerts), checked against the
    /// model's labels.
    pub fn rules_for(&self, labels: &[String]) -> Result<Vec<Option<Rule>>, ConfigError> {
        for r in &self.rules {
            r.validate(labels).map_err(|e| invalid("alerts.rules", e.to_string()))?;
        }
        if !self.background.is_empty() && !self.background.iter().any(|b| labels.contains(b)) {
            log::warn!(
                "config: no alerts.background class ({:?}) is a label of the model: every class may alert",
                self.background
            );
        }
        let mut out = Vec::with_capacity(labels.len());
        for l in labels {
            let rule = match self.rules.iter().find(|r| &r.class == l) {
                Some(r) => Some(r.clone()),
                None if self.background.contains(l) => None,
                None => self.default_threshold.map(|t| Rule {
                    class: l.clone(),
                    threshold: t,
                    release: None,
                    min_duration_s: self.default_min_duration_s,
                    cooldown_s: self.default_cooldown_s,
                    active_hours: None,
                }),
            };
            if let Some(r) = &rule {
                r.validate(labels).map_err(|e| invalid("alerts.default_*", e.to_string()))?;
            }
            out.push(rule);
        }
        Ok(out)
    }
}

/// One alert sink; each gets its own queue in the outbox, named `name` (default: the kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// One JSON line per alert on stdout.
    Stdout {
        #[serde(default)]
        name: Option<String>,
    },
    /// JSON lines appended to a file, rotated by size.
    File {
        #[serde(default)]
        name: Option<String>,
        path: PathBuf,
        #[serde(default = "default_max_bytes")]
        max_bytes: u64,
        #[serde(default = "default_keep")]
        keep: usize,
    },
    /// An HTTP POST of the JSON record.
    Webhook {
        #[serde(default)]
        name: Option<String>,
        url: String,
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
    },
    /// An MQTT publish at QoS 1.
    Mqtt {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "default_mqtt_host")]
        host: String,
        #[serde(default = "default_mqtt_port")]
        port: u16,
        #[serde(default = "default_topic")]
        topic: String,
        #[serde(default = "default_client_id")]
        client_id: String,
    },
}

fn default_max_bytes() -> u64 {
    10 << 20
}
fn default_keep() -> usize {
    5
}
fn default_timeout_ms() -> u64 {
    3000
}
fn default_mqtt_host() -> String {
    "127.0.0.1".into()
}
fn default_mqtt_port() -> u16 {
    1883
}
fn default_topic() -> String {
    "motus/alerts".into()
}
/// `motus` and this device's id ([`super::identity::device_id`]): unique per board, stable
/// across restarts, 17 alphanumerics.
fn default_client_id() -> String {
    format!("motus{}", super::identity::device_id())
}

impl SinkConfig {
    /// The sink's outbox queue name.
    pub fn name(&self) -> String {
        let (name, kind) = match self {
            SinkConfig::Stdout { name } => (name, "stdout"),
            SinkConfig::File { name, .. } => (name, "file"),
            SinkConfig::Webhook { name, .. } => (name, "webhook"),
            SinkConfig::Mqtt { name, .. } => (name, "mqtt"),
        };
        name.clone().unwrap_or_else(|| kind.to_string())
    }

    fn validate(&self, i: usize) -> Result<(), ConfigError> {
        let key = |k: &str| format!("sinks[{i}].{k}");
        match self {
            SinkConfig::File { max_bytes, keep, .. } => {
                if *max_bytes < 1024 {
                    return Err(invalid(key("max_bytes"), format!("{max_bytes} is below 1024")));
                }
                if *keep == 0 {
                    return Err(invalid(key("keep"), "must keep at least 1 file"));
                }
            }
            SinkConfig::Webhook { url, timeout_ms, .. } => {
                if !url.starts_with("http://") {
                    return Err(invalid(
                        key("url"),
                        format!("{:?}: only http:// URLs (this build has no TLS)", motus_core::redact::url(url)),
                    ));
                }
                if *timeout_ms == 0 || *timeout_ms > 600_000 {
                    return Err(invalid(key("timeout_ms"), format!("{timeout_ms} must be in 1..=600000")));
                }
            }
            SinkConfig::Mqtt { host, port, topic, client_id, .. } => {
                if host.is_empty() || *port == 0 {
                    return Err(invalid(key("host/port"), format!("{host}:{port} is not an address")));
                }
                if topic.is_empty() || topic.contains(['+', '#']) {
                    return Err(invalid(
                        key("topic"),
                        format!("{topic:?} must be a non-empty topic without wildcards"),
                    ));
                }
                if client_id.is_empty() {
                    return Err(invalid(key("client_id"), "empty"));
                }
            }
            SinkConfig::Stdout { .. } => {}
        }
        let name = self.name();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid(key("name"), format!("{name:?} must be letters, digits, '-' or '_'")));
        }
        Ok(())
    }
}

/// Where the runtime shows and stores things.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// The durable alert outbox.
    #[serde(default = "default_outbox")]
    pub outbox_dir: PathBuf,
    /// Alerts each sink's queue keeps while its destination is away: the oldest are removed
    /// undelivered beyond this many (its dead letters are bounded the same way).
    #[serde(default = "default_outbox_keep")]
    pub outbox_keep: usize,
    /// Megabytes each sink's queue keeps: the oldest are removed undelivered beyond this.
    #[serde(default = "default_outbox_max_mb")]
    pub outbox_max_mb: u64,
    /// PNG snapshots with the overlay, one per alert; absent = none.
    #[serde(default)]
    pub snapshot_dir: Option<PathBuf>,
    /// Snapshots kept: the oldest are removed beyond this many.
    #[serde(default = "default_snapshot_keep")]
    pub snapshot_keep: usize,
    /// Megabytes of snapshots kept: the oldest are removed beyond this.
    #[serde(default = "default_snapshot_max_mb")]
    pub snapshot_max_mb: u64,
    /// MJPEG preview server address (`127.0.0.1:8090`); absent = off.
    #[serde(default, deserialize_with = "listen_address")]
    pub preview: Option<SocketAddr>,
    /// Prometheus metrics address (`127.0.0.1:9109`); absent = off.
    #[serde(default, deserialize_with = "listen_address")]
    pub metrics: Option<SocketAddr>,
    /// Linux framebuffer device (`/dev/fb0`); absent = off.
    #[serde(default)]
    pub framebuffer: Option<PathBuf>,
    /// A live status line on stderr.
    #[serde(default = "yes")]
    pub status_line: bool,
}

fn default_outbox() -> PathBuf {
    PathBuf::from("motus-outbox")
}
fn default_outbox_keep() -> usize {
    crate::alert::outbox::DEFAULT_QUEUE_KEEP
}
fn default_outbox_max_mb() -> u64 {
    crate::alert::outbox::DEFAULT_QUEUE_MAX_MB
}
fn default_snapshot_keep() -> usize {
    super::display::snapshot::DEFAULT_KEEP
}
fn default_snapshot_max_mb() -> u64 {
    super::display::snapshot::DEFAULT_MAX_MB
}
fn yes() -> bool {
    true
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            outbox_dir: default_outbox(),
            outbox_keep: default_outbox_keep(),
            outbox_max_mb: default_outbox_max_mb(),
            snapshot_dir: None,
            snapshot_keep: default_snapshot_keep(),
            snapshot_max_mb: default_snapshot_max_mb(),
            preview: None,
            metrics: None,
            framebuffer: None,
            status_line: true,
        }
    }
}

/// An optional `ip:port` to listen on, read from the config (`output.preview`,
/// `output.metrics`).
fn listen_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an address like 127.0.0.1:8090")))
}

/// The whole configuration of `motus run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    #[serde(default)]
    pub source: SourceConfig,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub window: WindowConfig,
    #[serde(default)]
    pub alerts: AlertsConfig,
    #[serde(default = "default_sinks")]
    pub sinks: Vec<SinkConfig>,
    #[serde(default)]
    pub output: OutputConfig,
}

fn default_sinks() -> Vec<SinkConfig> {
    vec![SinkConfig::Stdout { name: None }]
}

/// What `motus run` and `motus demo` take from their flags over the config file. With the
/// `cli` feature this struct *is* the flags (`clap::Args`): each field's doc is its --help.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct Overrides {
    /// Frame source: synthetic[:SEED], a file, rtsp://… or http://…, /dev/videoN, nokhwa:N.
    #[cfg_attr(feature = "cli", arg(long))]
    pub source: Option<String>,
    /// The ONNX model (default: the config's, else the bundled model).
    #[cfg_attr(feature = "cli", arg(long))]
    pub model: Option<PathBuf>,
    /// tract threads.
    #[cfg_attr(feature = "cli", arg(long))]
    pub threads: Option<usize>,
    /// Frames between two classifications.
    #[cfg_attr(feature = "cli", arg(long))]
    pub stride: Option<usize>,
    /// Flow backend.
    #[cfg_attr(feature = "cli", arg(long))]
    pub flow_backend: Option<Backend>,
    /// Read a file source as fast as possible instead of at its frame rate.
    #[cfg_attr(feature = "cli", arg(long))]
    pub fast: bool,
    /// Serve the MJPEG preview on this address (e.g. 127.0.0.1:8090).
    #[cfg_attr(feature = "cli", arg(long))]
    pub preview: Option<SocketAddr>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9109).
    #[cfg_attr(feature = "cli", arg(long))]
    pub metrics: Option<SocketAddr>,
    /// Save a PNG snapshot with each alert here.
    #[cfg_attr(feature = "cli", arg(long))]
    pub snapshot_dir: Option<PathBuf>,
    /// The durable alert outbox.
    #[cfg_attr(feature = "cli", arg(long))]
    pub outbox_dir: Option<PathBuf>,
}

impl RunConfig {
    /// Parses TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        Self::from_toml_at(text, origin, Path::new("."))
    }

    /// [`RunConfig::from_toml`] with secrets' relative `*_file` paths read from `base`.
    fn from_toml_at(text: &str, origin: &str, base: &Path) -> Result<Self, ConfigError> {
        // toml quotes the offending line, which may be a URL with its password.
        let parse_error = |e: toml::de::Error| ConfigError::Parse {
            path: origin.to_string(),
            msg: motus_core::redact::text(&e.to_string()).into_owned(),
        };
        let mut table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        // Parsed from the text when no secret was read in, so errors keep their line and column.
        let cfg: RunConfig = if super::secrets::resolve(&mut table, base)? {
            toml::Value::Table(table).try_into().map_err(parse_error)?
        } else {
            toml::from_str(text).map_err(parse_error)?
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and checks a config file; relative paths inside it are resolved from its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Read { path: path.to_path_buf(), err })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut cfg = Self::from_toml_at(&text, &path.display().to_string(), base)?;
        cfg.resolve_paths(base);
        Ok(cfg)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let SourceConfig::File { path, .. } = &mut self.source {
            fix(path);
        }
        if let Some(p) = &mut self.model.path {
            fix(p);
        }
        if let Some(p) = &mut self.model.card {
            fix(p);
        }
        fix(&mut self.output.outbox_dir);
        if let Some(p) = &mut self.output.snapshot_dir {
            fix(p);
        }
        for s in &mut self.sinks {
            if let SinkConfig::File { path, .. } = s {
                fix(path);
            }
        }
    }

    /// Applies flags, then checks the result again.
    pub fn apply(&mut self, o: &Overrides) -> Result<(), ConfigError> {
        if let Some(s) = &o.source {
            self.source = SourceConfig::from_flag(s)?;
        }
        if o.fast {
            match &mut self.source {
                SourceConfig::File { pace, .. } | SourceConfig::Synthetic { pace, .. } => *pace = Pace::Fast,
                other => log::warn!("--fast applies to file sources only; {} keeps its own pace", other.describe()),
            }
        }
        if let Some(m) = &o.model {
            self.model.path = Some(m.clone());
        }
        if let Some(t) = o.threads {
            self.model.threads = t;
        }
        if let Some(s) = o.stride {
            self.window.stride = s;
        }
        if let Some(b) = o.flow_backend {
            self.model.flow_backend = b;
        }
        if let Some(p) = o.preview {
            self.output.preview = Some(p);
        }
        if let Some(p) = o.metrics {
            self.output.metrics = Some(p);
        }
        if let Some(p) = &o.snapshot_dir {
            self.output.snapshot_dir = Some(p.clone());
        }
        if let Some(p) = &o.outbox_dir {
            self.output.outbox_dir = p.clone();
        }
        self.validate()
    }

    /// Checks every value that can be checked without the model (rules are checked against the
    /// model's labels by [`AlertsConfig::rules_for`]).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.source.validate()?;
        let m = &self.model;
        if !m.runtime.compiled_in() {
            return Err(invalid(
                "model.runtime",
                "\"cuda\": this build has no tract-cuda (build with a cuda-XXXXX feature); use \"cpu\"",
            ));
        }
        if !(1..=64).contains(&m.threads) {
            return Err(invalid("model.threads", format!("{} must be in 1..=64", m.threads)));
        }
        if let Some(pin) = &m.sha256 {
            if pin.len() != 64 || !pin.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid("model.sha256", format!("{pin:?} is not a SHA-256 in hex (64 digits)")));
            }
        }
        if !(1..=64).contains(&m.flow_threads) {
            return Err(invalid("model.flow_threads", format!("{} must be in 1..=64", m.flow_threads)));
        }
        let w = &self.window;
        if !(1..=1000).contains(&w.stride) {
            return Err(invalid("window.stride", format!("{} must be in 1..=1000", w.stride)));
        }
        if !(2..=256).contains(&w.ring_slots) {
            return Err(invalid("window.ring_slots", format!("{} must be in 2..=256", w.ring_slots)));
        }
        let o = &self.output;
        for (key, value) in [
            ("output.snapshot_keep", o.snapshot_keep as u64),
            ("output.snapshot_max_mb", o.snapshot_max_mb),
            ("output.outbox_keep", o.outbox_keep as u64),
            ("output.outbox_max_mb", o.outbox_max_mb),
        ] {
            if !(1..=1_000_000).contains(&value) {
                return Err(invalid(key, format!("{value} must be in 1..=1000000")));
            }
        }
        if !(w.zoom.is_finite() && (1.0..=motus_core::infer::clip::MAX_ZOOM).contains(&w.zoom)) {
            return Err(invalid(
                "window.zoom",
                format!("{} must be in 1..={}", w.zoom, motus_core::infer::clip::MAX_ZOOM),
            ));
        }
        if w.max_lag >= w.ring_slots {
            return Err(invalid(
                "window.max_lag",
                format!("{} must be below ring_slots ({})", w.max_lag, w.ring_slots),
            ));
        }
        let a = &self.alerts;
        if !(a.smoothing_s.is_finite() && (0.0..=60.0).contains(&a.smoothing_s)) {
            return Err(invalid("alerts.smoothing_s", format!("{} must be in 0..=60 seconds", a.smoothing_s)));
        }
        if let Some(t) = a.default_threshold {
            if !(t.is_finite() && t > 0.0 && t <= 1.0) {
                return Err(invalid("alerts.default_threshold", format!("{t} must be in (0, 1]")));
            }
        }
        if !(a.default_min_duration_s.is_finite() && a.default_min_duration_s >= 0.0) {
            return Err(invalid("alerts.default_min_duration_s", format!("{} must be >= 0", a.default_min_duration_s)));
        }
        if !(a.default_cooldown_s.is_finite() && a.default_cooldown_s >= 0.0) {
            return Err(invalid("alerts.default_cooldown_s", format!("{} must be >= 0", a.default_cooldown_s)));
        }
        let mut names = Vec::new();
        for (i, s) in self.sinks.iter().enumerate() {
            s.validate(i)?;
            let n = s.name();
            if names.contains(&n) {
                return Err(invalid(
                    format!("sinks[{i}].name"),
                    format!("{n:?} is used twice; give each sink its own name"),
                ));
            }
            names.push(n);
        }
        for (key, addr) in [("output.preview", self.output.preview), ("output.metrics", self.output.metrics)] {
            if let Some(addr) = addr.filter(|a| !a.ip().is_loopback()) {
                log::warn!("config: {key} = {addr} listens beyond this machine");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_flags_and_the_config_spell_modes_alike() {
        for (name, mode) in [
            ("start", CropMode::Start),
            ("center", CropMode::Center),
            ("end", CropMode::End),
            ("follow", CropMode::Follow),
        ] {
            assert_eq!(name.parse::<CropMode>().unwrap(), mode);
            assert_eq!(serde_json::to_value(mode).unwrap(), name);
        }
        assert!("left".parse::<CropMode>().unwrap_err().to_string().contains("start, center, end or follow"));
    }

    /// The Debian package's /etc/motus/motus.toml parses and validates (`deploy/tests/run.sh`
    /// also runs it through `motus run --check` with the model).
    #[test]
    fn the_packaged_config_is_valid() {
        let cfg = RunConfig::from_toml(include_str!("../../../deploy/debian/motus.toml"), "deploy/debian/motus.toml")
            .unwrap();
        assert!(matches!(cfg.source, SourceConfig::V4l2 { .. }), "{:?}", cfg.source);
        assert_eq!(cfg.model.path.as_deref(), Some(Path::new("/var/lib/motus-deploy/models/model.onnx")));
        assert!(cfg.output.outbox_dir.starts_with("/var/lib/motus"), "the service may write only its state directory");
        for s in &cfg.sinks {
            if let SinkConfig::File { path, .. } = s {
                assert!(path.starts_with("/var/lib/motus/"), "{}", path.display());
            }
        }
    }

    const FULL: &str = r#"
[source]
kind = "file"
path = "clip.y4m"
pace = "fast"
loop = true

[model]
path = "m.onnx"
threads = 2
flow_backend = "cpu"

[window]
stride = 2

[alerts]
smoothing_s = 0.5
default_threshold = 0.6
background = ["idle"]
[[alerts.rules]]
class = "fall_down"
threshold = 0.8
min_duration_s = 0.2

[[sinks]]
kind = "stdout"
[[sinks]]
kind = "mqtt"
port = 1884
[[sinks]]
kind = "webhook"
url = "http://127.0.0.1:9/hook"

[output]
outbox_dir = "ob"
preview = "127.0.0.1:8090"
"#;

    fn err(text: &str) -> String {
        RunConfig::from_toml(text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_full_file_parses_and_paths_resolve_from_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.toml");
        std::fs::write(&p, FULL).unwrap();
        let c = RunConfig::load(&p).unwrap();
        assert_eq!(c.source, SourceConfig::File { path: dir.path().join("clip.y4m"), pace: Pace::Fast, looping: true });
        assert_eq!(c.model.path, Some(dir.path().join("m.onnx")));
        assert_eq!(c.output.outbox_dir, dir.path().join("ob"));
        assert_eq!(c.sinks.len(), 3);
        assert_eq!(c.sinks[1].name(), "mqtt");
        let labels: Vec<String> = ["idle", "wave", "fall_down"].iter().map(|s| s.to_string()).collect();
        let rules = c.alerts.rules_for(&labels).unwrap();
        assert!(rules[0].is_none(), "background never alerts");
        assert_eq!(rules[1].as_ref().unwrap().threshold, 0.6);
        assert_eq!(rules[2].as_ref().unwrap().threshold, 0.8);
    }

    #[test]
    fn empty_config_is_the_synthetic_default() {
        let c = RunConfig::from_toml("", "t").unwrap();
        assert_eq!(c.source, SourceConfig::default());
        assert_eq!(c.sinks, vec![SinkConfig::Stdout { name: None }]);
        assert!(c.output.preview.is_none() && c.output.metrics.is_none());
    }

    #[test]
    fn bad_configs_name_the_key() {
        for (text, needle) in [
            ("[source]\nkind = \"synthetic\"\nwidht = 3\n", "widht"),
            ("[model]\nthread = 2\n", "thread"),
            ("bogus = 1\n", "bogus"),
            ("[source]\nkind = \"camera\"\n", "camera"),
            ("[window]\nstride = 0\n", "window.stride"),
            ("[window]\nmax_lag = 9\nring_slots = 4\n", "window.max_lag"),
            ("[window]\ncrop = \"left\"\n", "left"),
            ("[window]\nzoom = 0.5\n", "window.zoom"),
            ("[window]\nzoom = 9\n", "window.zoom"),
            ("[model]\nsha256 = \"abc\"\n", "model.sha256"),
            ("[model]\nruntime = \"tpu\"\n", "unknown variant `tpu`, expected `cpu` or `cuda`"),
            ("[model]\nflow_backend = \"opencl\"\n", "unknown variant `opencl`"),
            ("[alerts]\ndefault_threshold = 1.5\n", "alerts.default_threshold"),
            ("[alerts]\nsmoothing_s = -1\n", "alerts.smoothing_s"),
            ("[[sinks]]\nkind = \"webhook\"\nurl = \"https://x\"\n", "sinks[0].url"),
            ("[[sinks]]\nkind = \"mqtt\"\ntopic = \"a/#\"\n", "sinks[0].topic"),
            ("[[sinks]]\nkind = \"stdout\"\n[[sinks]]\nkind = \"stdout\"\n", "used twice"),
            ("[[sinks]]\nkind = \"file\"\npath = \"a\"\nkeep = 0\n", "sinks[0].keep"),
            ("[output]\nsnapshot_keep = 0\n", "output.snapshot_keep"),
            ("[output]\noutbox_keep = 0\n", "output.outbox_keep"),
            ("[output]\noutbox_max_mb = 2000000\n", "output.outbox_max_mb"),
            ("[output]\nsnapshot_max_mb = 0\n", "output.snapshot_max_mb"),
            ("[output]\npreview = \"localhost\"\n", "\"localhost\" is not an address like 127.0.0.1:8090"),
            ("[source]\nkind = \"synthetic\"\nfps = 0\n", "source.fps"),
            ("[source]\nkind = \"synthetic\"\nframes = 0\n", "source.frames"),
            ("[source]\nkind = \"synthetic\"\npace = \"slow\"\n", "slow"),
            ("[source]\nkind = \"stream\"\nurl = \"camera1\"\n", "source.url"),
            ("[source\n", "t.toml"),
        ] {
            let e = err(text);
            assert!(e.contains(needle), "{text:?} -> {e}");
        }
        // Without the feature, asking for CUDA is a config error that says how to get it.
        if !cfg!(feature = "cuda") {
            let e = err("[model]\nruntime = \"cuda\"\n");
            assert!(e.contains("tract-cuda") && e.contains("cuda-XXXXX"), "{e}");
        }
        let e = RunConfig::load(Path::new("/nonexistent/run.toml")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/run.toml"), "{e}");
    }

    #[test]
    fn rules_are_checked_against_the_labels() {
        let c = RunConfig::from_toml("[[alerts.rules]]\nclass = \"dance\"\nthreshold = 0.5\n", "t").unwrap();
        let e = c.alerts.rules_for(&["idle".into(), "wave".into()]).unwrap_err().to_string();
        assert!(e.contains("dance") && e.contains("wave"), "{e}");
    }

    #[test]
    fn flags_override_and_are_checked() {
        let mut c = RunConfig::default();
        c.apply(&Overrides { source: Some("rtsp://cam/1".into()), stride: Some(3), ..Default::default() }).unwrap();
        assert_eq!(c.source, SourceConfig::Stream { url: "rtsp://cam/1".into(), io_timeout_s: DEFAULT_IO_TIMEOUT_S });
        assert_eq!(c.window.stride, 3);
        assert_eq!(RunConfig::from_toml("[window]\ncrop = \"end\"\n", "t").unwrap().window.crop, CropMode::End);
        assert_eq!(RunConfig::from_toml("[window]\ncrop = \"follow\"\n", "t").unwrap().window.crop, CropMode::Follow);
        assert!(matches!(SourceConfig::from_flag("/dev/video2").unwrap(), SourceConfig::V4l2 { .. }));
        assert!(matches!(SourceConfig::from_flag("synthetic:9").unwrap(), SourceConfig::Synthetic { seed: 9, .. }));
        assert!(SourceConfig::from_flag("synthetic:x").unwrap_err().to_string().contains("--source"));
        let e = c.apply(&Overrides { stride: Some(0), ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("window.stride"), "{e}");
        let mut c = RunConfig::default();
        c.apply(&Overrides { source: Some("a.mp4".into()), fast: true, ..Default::default() }).unwrap();
        assert_eq!(c.source, SourceConfig::File { path: "a.mp4".into(), pace: Pace::Fast, looping: false });
    }

    #[test]
    fn a_stream_is_described_without_its_credentials() {
        let source = SourceConfig::from_flag("rtsp://admin:hunter2@cam.local:554/live").unwrap();
        assert_eq!(source.describe(), "rtsp://admin:***@cam.local:554/live");
        // The URL itself is kept for opening the stream.
        assert_eq!(
            source,
            SourceConfig::Stream {
                url: "rtsp://admin:hunter2@cam.local:554/live".into(),
                io_timeout_s: DEFAULT_IO_TIMEOUT_S
            }
        );
    }

    #[test]
    fn a_camera_size_over_8k_is_refused() {
        let toml = "[source]\nkind = \"v4l2\"\ndevice = \"/dev/video0\"\nwidth = 8192\nheight = 8192\n";
        let e = RunConfig::from_toml(toml, "x.toml").unwrap_err();
        assert!(e.to_string().contains("8192x8192 is over the 33177600 pixels"), "{e}");
    }

    #[test]
    fn a_config_error_never_shows_a_urls_password() {
        // A syntax error: toml quotes the line.
        let e = RunConfig::from_toml("[source]\nkind = \"stream\"\nurl = \"rtsp://admin:hunter2@cam/live\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2") && e.contains("x.toml"), "{e}");
        // A URL without a scheme is not echoed.
        let e = RunConfig::from_toml("[source]\nkind = \"stream\"\nurl = \"admin:hunter2@cam/live\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2") && e.contains("needs a scheme"), "{e}");
    }
}
