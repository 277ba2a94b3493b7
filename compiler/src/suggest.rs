//! "Did you mean" suggestions: the closest name in scope by edit distance.

/// The candidate closest to `name`, if it is close enough to be a likely typo:
/// at most a third of the name's length in edits (at least one), case folded.
pub fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let folded = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .filter(|c| *c != name)
        .map(|c| (strsim::levenshtein(&folded, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_a_typo_and_ignores_strangers() {
        let names = ["greet", "report", "goodbye"];
        assert_eq!(closest("gret", names.iter().copied()), Some("greet"));
        assert_eq!(closest("Report", names.iter().copied()), Some("report"));
        assert_eq!(closest("xyz", names.iter().copied()), None);
    }
}
