//! The data of the host indexes a parsed policy carries (built and queried by `index`), kept
//! apart so the syntax tree can hold it without depending on how it is built.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    /// `d:domain` (the domain and its subdomains) or `e:host` (that host only) → positions.
    pub(crate) keys: HashMap<String, Vec<usize>>,
    /// Positions that need no particular host.
    pub(crate) unkeyed: Vec<usize>,
}

impl KeyIndex {
    pub(crate) fn candidates(&self, host: &str) -> Vec<usize> {
        let mut found = self.unkeyed.clone();
        let mut key = String::with_capacity(host.len() + 2);
        key.push_str("e:");
        key.push_str(host);
        if let Some(list) = self.keys.get(&key) {
            found.extend(list);
        }
        let mut suffix = host;
        loop {
            key.clear();
            key.push_str("d:");
            key.push_str(suffix);
            if let Some(list) = self.keys.get(&key) {
                found.extend(list);
            }
            match suffix.find('.') {
                Some(dot) => suffix = &suffix[dot + 1..],
                None => break,
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Built by the parser (`index` builds it); see the `index` module documentation.
#[derive(Debug, Clone, Default)]
pub struct PolicyIndex {
    pub(crate) sections: HashMap<(usize, usize), KeyIndex>,
    pub(crate) conditions: HashMap<usize, KeyIndex>,
}
