//! Reading annotation text files line by line, the same way for every list format.

use std::path::Path;

use super::DatasetError;

/// The whole file as text, with the error naming the file.
pub(crate) fn read(path: &Path) -> Result<String, DatasetError> {
    std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))
}

/// Non-blank lines with their 1-based line numbers, trimmed (so CRLF files, stray spaces and a
/// UTF-8 byte-order mark from Windows editors read like clean ones).
pub(crate) fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, if i == 0 { l.trim_start_matches('\u{feff}') } else { l }.trim()))
        .filter(|(_, l)| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_blank_lines_and_keeps_numbers() {
        let text = "\u{feff}a 1\r\n\r\n  \r\nb 2\r\n";
        let lines: Vec<_> = content_lines(text).collect();
        assert_eq!(lines, vec![(1, "a 1"), (4, "b 2")]);
    }
}
