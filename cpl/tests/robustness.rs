//! No input makes the crate panic: CPL-shaped noise, truncated policies and stray bytes go
//! through parse, lint, explain and to-squid, and come out as diagnostics.

use cpl::{explain, lint, parse, render_report, to_squid};

const PIECES: &[&str] = &[
    "<Proxy>",
    "<Cache>",
    "<SSL-Intercept>",
    "<Nope>",
    "<",
    ">",
    "[Rule]",
    "[url.domain]",
    "[",
    "]",
    "define",
    "url.domain",
    "condition",
    "end",
    "WU",
    "condition=WU",
    "condition=!WU",
    "url.domain=",
    "(",
    ")",
    ",",
    "||",
    "&&",
    "!",
    "=",
    "\"",
    "'",
    "\"quoted text\"",
    "windowsupdate.com",
    "*.update.microsoft.com",
    "authenticate(no)",
    "authenticate (no)",
    "ssl.forward_proxy(no)",
    "url.host.regex=\"(\"",
    "url.port=1..x",
    "ALLOW",
    "deny",
    "\\",
    ";",
    "; comment \\",
    "\n",
    "\n",
    "\n",
    "\r\n",
    "\t",
    " ",
    "é",
    "\u{7}",
    "group=staff",
    "url=http://a.example:8080/p?x",
    "server.certificate.hostname.substring=\"m\"",
];

/// A small deterministic generator: the same noise every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn exercise(source: &str) {
    match parse(source, "noise.cpl") {
        Ok(policy) => {
            let diagnostics = lint(&policy);
            let _ = render_report(&diagnostics, &policy.source, &policy.file_name);
            for url in ["http://windowsupdate.com/", "https://a.example:8080/p?x"] {
                let _ = explain(&policy, url).map(|e| e.to_string());
            }
            let _ = to_squid(&policy);
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            let _ = render_report(&diagnostics, source, "noise.cpl");
        }
    }
}

#[test]
fn cpl_shaped_noise_never_panics() {
    let mut noise = Noise(166_719);
    for _ in 0..400 {
        let length = noise.next() % 60;
        let source: String = (0..length)
            .map(|_| {
                let piece = PIECES[noise.next() % PIECES.len()];
                if noise.next().is_multiple_of(3) {
                    format!("{piece} ")
                } else {
                    piece.to_owned()
                }
            })
            .collect();
        exercise(&source);
    }
}

#[test]
fn every_prefix_of_a_real_policy_is_handled() {
    let source = include_str!("../../policies/cpl/windows-update-corrected.cpl");
    for (end, _) in source.char_indices() {
        exercise(&source[..end]);
    }
    let published = include_str!("../../policies/cpl/kb166719-as-published.cpl");
    for (end, _) in published.char_indices() {
        exercise(&published[..end]);
    }
}
