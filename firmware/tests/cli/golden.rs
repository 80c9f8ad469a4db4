//! Golden field lists of the `--json` outputs: a report may gain a field only on purpose, and
//! never lose or rename one silently (scripts read them). Each test that runs a `--json`
//! command hands its output to [`assert_fields`], which compares the output's field paths with
//! `golden/<name>.fields`. After an intended change, rewrite them with `MOTUS_BLESS=1`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// Every field path of `v`: `a.b` for nested objects, `a[].b` for objects inside arrays. The
/// paths in `opaque` are listed but not entered: maps keyed by data (class names) and lists
/// whose items exist only when the data says so.
fn paths(v: &Value, prefix: &str, opaque: &[&str], out: &mut BTreeSet<String>) {
    if opaque.contains(&prefix) {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(p.clone());
                paths(child, &p, opaque, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}[]"), opaque, out);
            }
        }
        _ => {}
    }
}

/// Fails when `report`'s field paths differ from `golden/<name>.fields`, naming the fields
/// added and lost.
pub fn assert_fields(name: &str, report: &Value) {
    assert_fields_except(name, report, &[]);
}

/// [`assert_fields`] without entering the `opaque` paths (see [`paths`]).
pub fn assert_fields_except(name: &str, report: &Value, opaque: &[&str]) {
    let mut got = BTreeSet::new();
    paths(report, "", opaque, &mut got);
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cli/golden").join(format!("{name}.fields"));
    if std::env::var_os("MOTUS_BLESS").is_some() {
        let text: String = got.iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(&file, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (write it with MOTUS_BLESS=1)", file.display()));
    let want: BTreeSet<String> = text.lines().map(str::to_string).collect();
    let added: Vec<&String> = got.difference(&want).collect();
    let lost: Vec<&String> = want.difference(&got).collect();
    assert!(
        added.is_empty() && lost.is_empty(),
        "`{name}` --json fields changed: added {added:?}, lost {lost:?} ({}; MOTUS_BLESS=1 rewrites it after an intended change)",
        file.display()
    );
}

#[test]
fn paths_name_nested_objects_and_array_items() {
    let v = serde_json::json!({"a": 1, "b": {"c": [{"d": 2}, {"e": null}]}});
    let mut got = BTreeSet::new();
    paths(&v, "", &[], &mut got);
    let want: BTreeSet<String> = ["a", "b", "b.c", "b.c[].d", "b.c[].e"].iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want);
    let mut got = BTreeSet::new();
    paths(&v, "", &["b.c"], &mut got);
    assert_eq!(got, ["a", "b", "b.c"].iter().map(|s| s.to_string()).collect());
}
