//! Who this device is to the outside world: a stable id for the MQTT client (and anything
//! else that must tell boards apart), so two devices on one broker never share a client id
//! and knock each other off.

/// This device's id: the first 12 hex digits of the machine id (`/etc/machine-id`, else
/// `/var/lib/dbus/machine-id`), else the host name, else `unknown`. Stable across restarts.
pub fn device_id() -> String {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let machine_id = read("/etc/machine-id").or_else(|| read("/var/lib/dbus/machine-id"));
    id_from(machine_id.as_deref(), read("/proc/sys/kernel/hostname").as_deref())
}

/// The id from a machine id and a host name, either of which may be missing or unusable.
fn id_from(machine_id: Option<&str>, hostname: Option<&str>) -> String {
    if let Some(m) = machine_id.map(str::trim).filter(|m| m.len() >= 12 && m.chars().all(|c| c.is_ascii_hexdigit())) {
        return m[..12].to_ascii_lowercase();
    }
    let host: String = hostname
        .unwrap_or("")
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .take(32)
        .collect();
    if host.trim_matches('-').is_empty() {
        "unknown".into()
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_id_wins_then_the_host_name() {
        assert_eq!(id_from(Some("0123456789ABCDEF0123456789abcdef\n"), Some("board")), "0123456789ab");
        assert_eq!(id_from(Some("not-hex-at-all-not-hex"), Some("Jetson Nano\n")), "jetson-nano");
        assert_eq!(id_from(Some(""), Some("cam_7")), "cam-7");
        assert_eq!(id_from(None, Some("  ")), "unknown");
        assert_eq!(id_from(None, None), "unknown");
    }

    #[test]
    fn this_machine_has_an_id() {
        let id = device_id();
        assert!(!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{id:?}");
        assert_eq!(id, device_id(), "stable");
    }
}
