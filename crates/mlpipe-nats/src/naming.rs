//! Subject, stream and consumer names derived from topics and groups.

use mlpipe_core::broker::dead_letter_topic;
use mlpipe_core::{Error, Result};

const DEAD_LETTER_SUFFIX: &str = ".dead-letter";

/// The topic whose stream holds `topic`: the topic itself, or for a dead-letter topic the
/// topic it belongs to.
pub(crate) fn family(topic: &str) -> &str {
    let mut t = topic;
    while let Some(rest) = t.strip_suffix(DEAD_LETTER_SUFFIX) {
        t = rest;
    }
    t
}

/// Whether `topic` is a dead-letter topic.
pub(crate) fn is_dead_letter(topic: &str) -> bool {
    topic != family(topic)
}

/// The subjects of the stream of `topic`'s family: the topic, its dead-letter topic, and
/// dead letters of dead letters.
pub(crate) fn stream_subjects(prefix: &str, topic: &str) -> Vec<String> {
    let dead = subject(prefix, &dead_letter_topic(family(topic)));
    vec![subject(prefix, family(topic)), format!("{dead}.>"), dead]
}

/// The NATS subject of `topic`.
pub(crate) fn subject(prefix: &str, topic: &str) -> String {
    format!("{prefix}.{topic}")
}

/// The topic of a NATS subject (the inverse of [`subject`]).
pub(crate) fn topic_of<'a>(prefix: &str, subject: &'a str) -> &'a str {
    subject
        .strip_prefix(prefix)
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(subject)
}

/// Keeps characters stream and consumer names allow; replaces the others with `_`.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a: a short, stable hash that keeps sanitized names distinct.
fn short_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

/// The stream of `topic`'s family.
pub(crate) fn stream_name(prefix: &str, topic: &str) -> String {
    let fam = family(topic);
    format!("{}_{}_{}", sanitize(prefix), sanitize(fam), short_hash(fam))
}

/// The durable consumer of `group` on `topic`.
pub(crate) fn consumer_name(topic: &str, group: &str) -> String {
    let both = format!("{group}\u{1f}{topic}");
    let dl = if is_dead_letter(topic) { "_dl" } else { "" };
    format!("{}{dl}_{}", sanitize(group), short_hash(&both))
}

/// Checks a name can be one token of a subject.
pub(crate) fn check_token(what: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.contains(|c: char| c == '.' || c == '*' || c == '>' || c.is_whitespace()) {
        return Err(Error::invalid(format!(
            "NATS {what} `{s}` must be non-empty without '.', '*', '>' or spaces"
        )));
    }
    Ok(())
}

/// Checks a topic can become a subject.
pub(crate) fn check_topic(topic: &str) -> Result<()> {
    if topic.is_empty()
        || topic.starts_with('.')
        || topic.ends_with('.')
        || topic.contains("..")
        || topic.contains(|c: char| c == '*' || c == '>' || c.is_whitespace())
    {
        return Err(Error::invalid(format!(
            "topic `{topic}` cannot be a NATS subject: use letters, digits, '-', '_' and single '.'"
        )));
    }
    Ok(())
}

/// A header value NATS can carry (no line breaks).
pub(crate) fn header_value(v: &str) -> String {
    v.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_topics_share_the_stream_of_their_topic() {
        assert_eq!(stream_name("p", "a-b"), stream_name("p", "a-b.dead-letter"));
        assert_ne!(stream_name("p", "a-b"), stream_name("p", "a_b"));
        assert!(is_dead_letter("x.dead-letter"));
        assert!(!is_dead_letter("x"));
        assert!(is_dead_letter("x.dead-letter.dead-letter"));
        assert_eq!(
            stream_name("p", "x"),
            stream_name("p", "x.dead-letter.dead-letter")
        );
        assert_eq!(
            stream_subjects("p", "x.dead-letter"),
            vec!["p.x", "p.x.dead-letter.>", "p.x.dead-letter"]
        );
        assert_eq!(
            topic_of("p", &subject("p", "x.dead-letter")),
            "x.dead-letter"
        );
    }

    #[test]
    fn consumers_differ_per_topic_and_group() {
        assert_ne!(consumer_name("t", "g"), consumer_name("t.dead-letter", "g"));
        assert_ne!(consumer_name("t", "g"), consumer_name("t", "h"));
        assert!(!consumer_name("t.x", "g.h").contains('.'));
    }

    #[test]
    fn bad_topics_are_refused() {
        assert!(check_topic("a b").is_err());
        assert!(check_topic("a.*").is_err());
        assert!(check_topic("").is_err());
        assert!(check_topic("raw-data-extracted").is_ok());
        assert!(check_token("prefix", "a.b").is_err());
    }
}
