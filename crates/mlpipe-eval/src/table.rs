//! A compact text table of results for the terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Renders one row per candidate and one column per metric (the union of every row's
/// metrics, sorted), values with four decimals, `–` where a candidate lacks a metric. A
/// row whose name is `marked` gets a `*` in front.
///
/// ```
/// use std::collections::BTreeMap;
/// let rows = vec![
///     ("m@1".to_string(), BTreeMap::from([("roc_auc".to_string(), 0.91)])),
///     ("m@2".to_string(), BTreeMap::from([("roc_auc".to_string(), 0.95)])),
/// ];
/// let t = mlpipe_eval::text_table(&rows, Some("m@2"));
/// assert!(t.contains("* m@2"));
/// assert!(t.contains("0.9500"));
/// ```
pub fn text_table(rows: &[(String, BTreeMap<String, f64>)], marked: Option<&str>) -> String {
    let metrics: BTreeSet<&str> = rows
        .iter()
        .flat_map(|(_, m)| m.keys().map(String::as_str))
        .collect();
    let mut header = vec!["candidate".to_string()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, m)| {
            let mark = if Some(name.as_str()) == marked {
                "* "
            } else {
                "  "
            };
            let mut r = vec![format!("{mark}{name}")];
            r.extend(metrics.iter().map(|k| match m.get(*k) {
                Some(v) => format!("{v:.4}"),
                None => "–".to_string(),
            }));
            r
        })
        .collect();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &body {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut head = header.clone();
    head[0] = format!("  {}", head[0]);
    width[0] = width[0].max(head[0].chars().count());
    let mut out = String::new();
    line(&mut out, &head, &width);
    let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
    line(&mut out, &rule, &width);
    for r in &body {
        line(&mut out, r, &width);
    }
    out
}

fn line(out: &mut String, cells: &[String], width: &[usize]) {
    for (i, (c, w)) in cells.iter().zip(width).enumerate() {
        let pad = w.saturating_sub(c.chars().count());
        if i == 0 {
            let _ = write!(out, "{c}{}", " ".repeat(pad));
        } else {
            let _ = write!(out, "  {}{c}", " ".repeat(pad));
        }
    }
    out.push('\n');
}
