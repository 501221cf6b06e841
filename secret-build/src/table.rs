//! Plain-text tables for the terminal: columns padded to their widest cell (counted in
//! characters), two spaces apart, no trailing spaces.

/// Renders `rows` (the first is the header) as aligned lines, each ending in a newline.
pub(crate) fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| secret_core::text::escape_control(cell).chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| {
                // Cells hold names and scopes from committed files: no control character
                // reaches the terminal.
                let cell = secret_core::text::escape_control(cell);
                format!("{cell:width$}")
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align_on_characters() {
        let rows = vec![
            vec!["Secret".to_owned(), "prod".to_owned(), "note".to_owned()],
            vec!["A".to_owned(), "✓".to_owned(), String::new()],
        ];
        assert_eq!(super::render(&rows), "Secret  prod  note\nA       ✓\n");
    }
}
