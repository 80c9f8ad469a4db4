//! Credentials out of everything motus shows: logs, alert records, errors, `--check`.
//!
//! Cameras and alert endpoints are usually reached with the secret in the URL
//! (`rtsp://admin:pass@10.0.0.5/stream`, `https://hooks.example/x?token=…`). motus keeps the
//! URL as given for the one place that needs it (opening the connection) and shows it only
//! through [`url`] (a URL) or [`text`] (free text that may quote one, such as ffmpeg's
//! stderr): the password of the user-info part and the values of query parameters whose
//! names mean a secret become `***`. User names, hosts, paths and ports stay, so a log still
//! says which camera failed.

use std::borrow::Cow;

/// What a hidden secret is replaced with.
pub const MASK: &str = "***";

/// Query parameter names (compared without case) whose values are secrets.
const SECRET_PARAMS: [&str; 20] = [
    "password",
    "passwd",
    "pwd",
    "pass",
    "token",
    "access_token",
    "auth_token",
    "private_token",
    "key",
    "apikey",
    "api_key",
    "access_key",
    "secret",
    "client_secret",
    "auth",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// `s` with the secrets of a URL masked; anything that is not a `scheme://` URL is returned
/// as it is.
pub fn url(s: &str) -> Cow<'_, str> {
    match s.find("://") {
        Some(at) if is_scheme(&s[..at]) => {
            let masked = mask_url(s, at);
            if masked == s {
                Cow::Borrowed(s)
            } else {
                Cow::Owned(masked)
            }
        }
        _ => Cow::Borrowed(s),
    }
}

/// `s` with every URL in it masked as [`url`] does. A URL runs from its scheme to the next
/// whitespace, quote or angle bracket.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.contains("://") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("://") {
        let start =
            rest[..at].char_indices().rev().find(|(_, c)| !is_scheme_char(*c)).map_or(0, |(i, c)| i + c.len_utf8());
        let len = rest[at..].find(|c: char| c.is_whitespace() || "\"'<>`".contains(c)).map_or(rest.len() - at, |n| n);
        let end = at + len;
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    if out == s {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(out)
    }
}

/// The displayed form of a path that may be a URL (a stream source given as a path).
pub fn path(p: &std::path::Path) -> std::path::PathBuf {
    match p.to_str() {
        Some(s) => std::path::PathBuf::from(url(s).into_owned()),
        None => p.to_path_buf(),
    }
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+-.".contains(c)
}

fn is_scheme(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && s.chars().all(is_scheme_char)
}

/// Masks the user-info password and the secret query values of the URL `s` whose `://` is
/// at byte `at`.
fn mask_url(s: &str, at: usize) -> String {
    let after = at + 3;
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..after]);
    // User info holds a ':' before an '@'. It runs to the last '@' before the path, so a
    // password may hold unescaped '@', '/', '?' or '#' (users type them; masking too much
    // beats leaking).
    let rest = &s[after..];
    let userinfo = rest.find('@').filter(|&at| rest[..at].contains(':')).map(|first| {
        let path = rest[first..].find(['/', '?', '#']).map_or(rest.len(), |n| first + n);
        rest[..path].rfind('@').unwrap_or(first)
    });
    let host_start = match userinfo {
        Some(atsign) => {
            let colon = rest[..atsign].find(':').unwrap_or(atsign);
            out.push_str(&rest[..colon + 1]);
            out.push_str(MASK);
            after + atsign
        }
        None => after,
    };
    let authority_end = s[host_start..].find(['/', '?', '#']).map_or(s.len(), |n| host_start + n);
    out.push_str(&s[host_start..authority_end]);
    let tail = &s[authority_end..];
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..q + 1]);
            let query_end = tail[q + 1..].find('#').map_or(tail.len(), |n| q + 1 + n);
            out.push_str(&mask_query(&tail[q + 1..query_end]));
            out.push_str(&tail[query_end..]);
        }
        None => out.push_str(tail),
    }
    out
}

fn mask_query(query: &str) -> String {
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_param(name) => format!("{name}={MASK}"),
            _ => pair.to_string(),
        })
        .collect();
    pairs.join("&")
}

fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_user_info_are_masked_and_the_rest_kept() {
        assert_eq!(url("rtsp://admin:hunter2@10.0.0.5:554/live/ch0"), "rtsp://admin:***@10.0.0.5:554/live/ch0");
        assert_eq!(url("https://u:p@host"), "https://u:***@host");
        // A password holding '@' or ':' (the last '@' ends the user info).
        assert_eq!(url("rtsp://cam:p@ss:w@rd@cam.local/s"), "rtsp://cam:***@cam.local/s");
        // A user without a password, and no user at all, are left alone.
        assert_eq!(url("rtsp://viewer@cam/s"), "rtsp://viewer@cam/s");
        assert!(matches!(url("rtsp://cam.local:554/s"), Cow::Borrowed(_)));
        // An '@' in the path is not user info.
        assert_eq!(url("http://host/a@b:c"), "http://host/a@b:c");
        // Unescaped '/', '?' or '#' in a password.
        for pw in ["pa/ss", "pa?ss", "pa#ss", "p@ss"] {
            assert_eq!(url(&format!("rtsp://admin:{pw}@cam/s")), "rtsp://admin:***@cam/s", "{pw}");
        }
    }

    #[test]
    fn secret_query_values_are_masked() {
        assert_eq!(
            url("https://hooks.example/x?channel=ops&token=abc123&Password=x#frag"),
            "https://hooks.example/x?channel=ops&token=***&Password=***#frag"
        );
        assert_eq!(url("http://h/p?key=&keyframe=1"), "http://h/p?key=&keyframe=1");
        assert_eq!(url("http://a:b@h?api_key=z"), "http://a:***@h?api_key=***");
    }

    #[test]
    fn plain_paths_and_devices_are_not_urls() {
        for s in ["/dev/video0", "clips/a.mp4", "synthetic:7", "C:/x?token=1", "", "://x:y@z"] {
            assert_eq!(url(s), s);
        }
    }

    #[test]
    fn every_url_in_free_text_is_masked() {
        let stderr = "[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized\n\
                      rtsp://admin:hunter2@10.0.0.5/live: Server returned 401 (\"rtsp://u:pw@other/x\")";
        let shown = text(stderr);
        assert!(!shown.contains("hunter2") && !shown.contains("pw@"), "{shown}");
        assert!(shown.contains("rtsp://admin:***@10.0.0.5/live: Server") && shown.contains("\"rtsp://u:***@other/x\""));
        assert!(matches!(text("no url here"), Cow::Borrowed(_)));
        assert_eq!(text("see http://a:b@c and ftp://d:e@f."), "see http://a:***@c and ftp://d:***@f.");
        // Quotes of any width around a URL (a byte index inside a character would panic).
        assert_eq!(text("«rtsp://a:b@h» ‘http://x:y@z’"), "«rtsp://a:***@h» ‘http://x:***@z’");
        assert_eq!(text("é://x"), "é://x");
    }
}
