// HashMap, string formatting, fmt::Write into a String.
use std::collections::HashMap;
use std::fmt::Write;

pub fn word_counts(text: &str) -> Option<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    let mut keys: Vec<&String> = counts.keys().collect();
    keys.sort();
    let mut out = String::new();
    for k in keys {
        write!(out, "{}={};", k, counts[k]).ok()?;
    }
    let summary = format!("{} distinct, {:>5.1}% unique", counts.len(), 100.0 * counts.len() as f64 / text.len().max(1) as f64);
    Some(format!("{out} {summary}"))
}
