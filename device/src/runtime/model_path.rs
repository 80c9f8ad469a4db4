//! Finding the bundled model for `motus demo` and `motus bench pipeline`:
//! `MOTUS_MODEL`, then `models/zoo/…` next to the executable's repository, the package's
//! `PREFIX/share/motus/models/` beside `PREFIX/bin/motus`, then under the current directory.
//! When it is nowhere, the error says where it looked and how to get it.

use std::path::{Path, PathBuf};

/// The bundled model's path inside the repository.
pub const BUNDLED: &str = "models/zoo/motus-synth-twostream.onnx";

/// Where the Debian package puts it, relative to the binary's prefix (`/usr`).
pub const PACKAGED: &str = "share/motus/models/motus-synth-twostream.onnx";

/// Places the bundled model may be, in order.
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("MOTUS_MODEL") {
        out.push(PathBuf::from(p));
        return out;
    }
    if let Ok(exe) = std::env::current_exe() {
        // target/{debug,release}/motus → the repository two levels up; an installed binary
        // may keep the model beside it.
        for up in exe.ancestors().skip(1).take(4) {
            out.push(up.join(BUNDLED));
        }
        if let Some(dir) = exe.parent() {
            out.push(dir.join("motus-synth-twostream.onnx"));
            // The Debian package: PREFIX/bin/motus with the model in PREFIX/share/motus/models/.
            if let Some(prefix) = dir.parent() {
                out.push(prefix.join(PACKAGED));
            }
        }
    }
    out.push(PathBuf::from(BUNDLED));
    out
}

/// The bundled model is in none of the places it is looked for; says where it looked and
/// what to do instead.
#[derive(Debug, thiserror::Error)]
#[error(
    "the bundled model {BUNDLED} was not found (looked in: {}). It is made by the trainer \
     (motus-train) and shipped in models/zoo/; point MOTUS_MODEL at a model file, or pass --model FILE",
    looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
)]
pub struct ModelNotFound {
    /// The candidates, in the order they were tried.
    pub looked: Vec<PathBuf>,
}

/// The first existing candidate, or an error listing them.
pub fn bundled_model() -> Result<PathBuf, ModelNotFound> {
    find(&candidates())
}

fn find(c: &[PathBuf]) -> Result<PathBuf, ModelNotFound> {
    c.iter().find(|p| p.is_file()).cloned().ok_or_else(|| ModelNotFound { looked: c.to_vec() })
}

/// Whether `p` looks like a path given relative to the repository.
pub fn is_bundled(p: &Path) -> bool {
    p.ends_with(BUNDLED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_says_where_it_looked_and_what_to_do() {
        let e = find(&[PathBuf::from("/nope/a.onnx"), PathBuf::from("/nope/b.onnx")]).unwrap_err();
        assert_eq!(e.looked.len(), 2);
        let e = e.to_string();
        assert!(
            e.contains("/nope/a.onnx")
                && e.contains("/nope/b.onnx")
                && e.contains("MOTUS_MODEL")
                && e.contains("--model"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.onnx");
        std::fs::write(&m, b"x").unwrap();
        assert_eq!(find(&[PathBuf::from("/nope"), m.clone()]).unwrap(), m);
        assert!(candidates().iter().any(|p| is_bundled(p) || std::env::var_os("MOTUS_MODEL").is_some()));
    }

    #[test]
    fn the_packaged_place_is_a_candidate() {
        if std::env::var_os("MOTUS_MODEL").is_some() {
            return; // MOTUS_MODEL replaces every other place
        }
        let exe = std::env::current_exe().unwrap();
        let want = exe.parent().unwrap().parent().unwrap().join(PACKAGED);
        assert!(candidates().contains(&want), "{want:?} not in {:?}", candidates());
    }
}
