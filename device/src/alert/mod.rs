//! Turning per-window class scores into alerts: temporal smoothing and per-class rules with
//! thresholds, minimum duration, hysteresis, cooldown and active hours; the alert record and the
//! durable outbox the sinks deliver from.

pub mod outbox;
pub mod record;
pub mod rules;
pub mod smoothing;

pub use outbox::{Outbox, OutboxError, Pending, QueueCap};
pub use record::AlertRecord;
pub use rules::{ActiveHours, Rule, RuleError, RuleState, Transition};
pub use smoothing::Smoother;

/// Class names that mean "no known action" and never alert unless configured to: `idle`, the
/// synthetic benchmark's background class, and `background`, the usual name of a "none of
/// these" class in models trained elsewhere. Used where a config or a command names no
/// background class of its own.
pub const BACKGROUND_CLASSES: [&str; 2] = ["background", "idle"];
