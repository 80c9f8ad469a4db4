//! Secrets kept out of the config file.
//!
//! A camera's or an alert endpoint's URL often carries a password or a token. The config file
//! is readable by the service's group and ends up in backups and bug reports, so each key that
//! may hold a secret can instead name where to read it:
//!
//! - `url_file = "/etc/motus/camera.url"`: the file's content (one trailing line break
//!   dropped); a relative path is read from the config file's folder;
//! - `url_env = "MOTUS_CAMERA_URL"`: an environment variable, as set by the service's
//!   `EnvironmentFile=` (`/etc/motus/motus.env` in the package).
//!
//! [`resolve`] replaces those keys by the value before the config is parsed, so everything
//! after it sees a plain `url`. At most one of `url`, `url_file` and `url_env` may be given.

use super::config::ConfigError;
use std::path::Path;

/// The keys that may name where their secret value is read from.
pub const SECRET_KEYS: [&str; 1] = ["url"];

/// Reads every `KEY_file` and `KEY_env` of the `[source]` table and the `[[sinks]]` tables
/// into `KEY`, reading relative files from `base`. Returns whether any was read.
pub fn resolve(config: &mut toml::Table, base: &Path) -> Result<bool, ConfigError> {
    let mut read = false;
    if let Some(source) = config.get_mut("source").and_then(toml::Value::as_table_mut) {
        read |= resolve_table(source, "source", base)?;
    }
    if let Some(sinks) = config.get_mut("sinks").and_then(toml::Value::as_array_mut) {
        for (i, sink) in sinks.iter_mut().enumerate() {
            if let Some(sink) = sink.as_table_mut() {
                read |= resolve_table(sink, &format!("sinks[{i}]"), base)?;
            }
        }
    }
    Ok(read)
}

fn resolve_table(table: &mut toml::Table, at: &str, base: &Path) -> Result<bool, ConfigError> {
    let mut read = false;
    for key in SECRET_KEYS {
        let (file_key, env_key) = (format!("{key}_file"), format!("{key}_env"));
        let from_file = table.remove(&file_key);
        let from_env = table.remove(&env_key);
        let given =
            usize::from(table.contains_key(key)) + usize::from(from_file.is_some()) + usize::from(from_env.is_some());
        if given > 1 {
            return Err(invalid(format!("{at}.{key}"), format!("give one of {key}, {file_key} and {env_key}")));
        }
        let value = match (from_file, from_env) {
            (Some(file), _) => read_file(&file, &format!("{at}.{file_key}"), base)?,
            (_, Some(var)) => read_env(&var, &format!("{at}.{env_key}"))?,
            _ => continue,
        };
        table.insert(key.to_string(), toml::Value::String(value));
        read = true;
    }
    Ok(read)
}

fn read_file(value: &toml::Value, key: &str, base: &Path) -> Result<String, ConfigError> {
    let path = value.as_str().ok_or_else(|| invalid(key, "must be a path (a string)"))?;
    // An absolute path replaces `base` in the join.
    let path = base.join(path);
    let text = std::fs::read_to_string(&path).map_err(|err| ConfigError::Secret {
        key: key.to_string(),
        path: path.clone(),
        err,
    })?;
    let secret = text.strip_suffix('\n').map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
    if secret.trim().is_empty() {
        return Err(invalid(key, format!("{} is empty", path.display())));
    }
    Ok(secret.to_string())
}

fn read_env(value: &toml::Value, key: &str) -> Result<String, ConfigError> {
    let name = value.as_str().ok_or_else(|| invalid(key, "must be the name of an environment variable"))?;
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        Ok(_) => Err(invalid(key, format!("the environment variable {name} is empty"))),
        Err(_) => Err(invalid(
            key,
            format!("the environment variable {name} is not set (the service reads /etc/motus/motus.env)"),
        )),
    }
}

fn invalid(key: impl Into<String>, msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), msg: msg.into() }
}

#[cfg(test)]
mod tests {
    use crate::runtime::config::{ConfigError, RunConfig, SinkConfig, SourceConfig, DEFAULT_IO_TIMEOUT_S};

    const CAMERA: &str = "rtsp://admin:hunter2@cam.local/live";

    fn load(dir: &std::path::Path, toml: &str) -> Result<RunConfig, ConfigError> {
        let path = dir.join("motus.toml");
        std::fs::write(&path, toml).unwrap();
        RunConfig::load(&path)
    }

    #[test]
    fn a_url_is_read_from_a_file_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("camera.url"), format!("{CAMERA}\n")).unwrap();
        std::fs::write(dir.path().join("hook.url"), "http://h.example/x?token=t\r\n").unwrap();
        let cfg = load(
            dir.path(),
            "[source]\nkind = \"stream\"\nurl_file = \"camera.url\"\n\n\
             [[sinks]]\nkind = \"webhook\"\nurl_file = \"hook.url\"\n",
        )
        .unwrap();
        assert_eq!(cfg.source, SourceConfig::Stream { url: CAMERA.into(), io_timeout_s: DEFAULT_IO_TIMEOUT_S });
        assert!(matches!(&cfg.sinks[0], SinkConfig::Webhook { url, .. } if url == "http://h.example/x?token=t"));
    }

    #[test]
    fn a_url_is_read_from_the_environment() {
        // A name no other test uses: tests share the process environment.
        std::env::set_var("MOTUS_TEST_SECRETS_CAMERA_URL", CAMERA);
        let dir = tempfile::tempdir().unwrap();
        let cfg =
            load(dir.path(), "[source]\nkind = \"stream\"\nurl_env = \"MOTUS_TEST_SECRETS_CAMERA_URL\"\n").unwrap();
        assert_eq!(cfg.source, SourceConfig::Stream { url: CAMERA.into(), io_timeout_s: DEFAULT_IO_TIMEOUT_S });
        let e = load(dir.path(), "[source]\nkind = \"stream\"\nurl_env = \"MOTUS_TEST_SECRETS_UNSET\"\n").unwrap_err();
        assert!(
            e.to_string().contains("source.url_env: the environment variable MOTUS_TEST_SECRETS_UNSET is not set"),
            "{e}"
        );
    }

    #[test]
    fn bad_secret_keys_are_refused_with_the_key_named_and_no_secret_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty.url"), "\n").unwrap();
        let cases = [
            ("url = \"rtsp://a/b\"\nurl_file = \"x\"", "source.url: give one of url, url_file and url_env"),
            ("url_file = \"missing.url\"", "source.url_file: cannot read"),
            ("url_file = \"empty.url\"", "source.url_file:"),
            ("url_file = 3", "source.url_file: must be a path"),
            ("url_env = 3", "source.url_env: must be the name"),
        ];
        for (keys, want) in cases {
            let e = load(dir.path(), &format!("[source]\nkind = \"stream\"\n{keys}\n")).unwrap_err();
            assert!(e.to_string().contains(want), "{keys}: {e}");
        }
        // A value read from a file is checked like any other, and shown without its secret.
        std::fs::write(dir.path().join("tls.url"), "https://h.example/x?token=t0ken").unwrap();
        let e = load(dir.path(), "[[sinks]]\nkind = \"webhook\"\nurl_file = \"tls.url\"\n").unwrap_err();
        assert!(e.to_string().contains("only http://") && !e.to_string().contains("t0ken"), "{e}");
        // A missing file's error keeps its cause.
        let e = load(dir.path(), "[source]\nkind = \"stream\"\nurl_file = \"missing.url\"\n").unwrap_err();
        assert!(matches!(&e, ConfigError::Secret { err, .. } if err.kind() == std::io::ErrorKind::NotFound), "{e:?}");
    }

    #[test]
    fn a_config_without_secret_keys_keeps_its_parse_errors_line() {
        let e = RunConfig::from_toml("[window]\nstride = \"two\"\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
