//! Who this device is to the outside world: a stable id for the MQTT client (and anything
//! else that must tell boards apart), so two devices on one broker never share a client id
//! and knock each other off.
//!
//! The id is derived from the machine id by a keyed hash, as systemd asks of applications
//! (the raw machine id is not sent anywhere), and is 12 lower-case hex digits: with the
//! `motus` prefix a 17-character client id, inside MQTT 3.1.1's guaranteed 23 alphanumerics.

use motus_core::digest::sha256_hex;

/// This device's id: a hash of the machine id (`/etc/machine-id`, else
/// `/var/lib/dbus/machine-id`), else of the host name, else `unknown`. Stable across restarts.
/// Boards cloned from one image with the machine id baked in share it: give each its own
/// machine id (`systemd-machine-id-setup`) or set `client_id` in the config.
pub fn device_id() -> String {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let machine_id = read("/etc/machine-id").or_else(|| read("/var/lib/dbus/machine-id"));
    id_from(machine_id.as_deref(), read("/proc/sys/kernel/hostname").as_deref())
}

/// The id from a machine id and a host name, either of which may be missing or unusable (an
/// `uninitialized` machine id on a first boot is not hex and falls through to the host name).
fn id_from(machine_id: Option<&str>, hostname: Option<&str>) -> String {
    let machine = machine_id.map(str::trim).filter(|m| m.len() >= 16 && m.chars().all(|c| c.is_ascii_hexdigit()));
    let host = hostname.map(str::trim).filter(|h| !h.is_empty());
    match machine.map(|m| ("machine-id", m)).or(host.map(|h| ("hostname", h))) {
        Some((kind, value)) => {
            let mut id = sha256_hex(format!("motus device id:{kind}:{value}").as_bytes());
            id.truncate(12);
            id
        }
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_id_wins_then_the_host_name_and_neither_is_sent_as_is() {
        let m = "0123456789abcdef0123456789abcdef";
        let a = id_from(Some(&format!("{m}\n")), Some("board"));
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{a}");
        assert!(!m.contains(&a), "a hash, not the machine id itself");
        assert_eq!(a, id_from(Some(m), None), "the host name does not matter when the machine id is there");
        assert_ne!(a, id_from(Some("fedcba9876543210fedcba9876543210"), Some("board")));
        let h = id_from(Some("uninitialized"), Some("jetson\n"));
        assert_eq!(h, id_from(None, Some("jetson")));
        assert_ne!(h, id_from(None, Some("jetson-2")));
        assert_eq!(id_from(None, Some("  ")), "unknown");
        assert_eq!(id_from(None, None), "unknown");
    }

    #[test]
    fn this_machine_has_a_stable_id_fit_for_an_mqtt_client_id() {
        let id = device_id();
        let client = format!("motus{id}");
        assert!(client.len() <= 23 && client.chars().all(|c| c.is_ascii_alphanumeric()), "{client:?}");
        assert_eq!(id, device_id(), "stable");
    }
}
