//! Failure messages with evidence: expected vs actual, then what every side saw for this
//! scenario — the client's exchanges, the origin's journal (requests and ClientHellos), the
//! ICAP journal, the categorisation lookups and the proxy's access-log lines.

use std::fmt::{Display, Write};

use crate::world::ConformanceWorld;

impl ConformanceWorld {
    /// A failed assertion: expected vs actual, followed by the evidence.
    pub(crate) fn failure(&self, expected: impl Display, actual: impl Display) -> String {
        format!(
            "expected: {expected}\n  actual: {actual}\n{}",
            self.evidence()
        )
    }

    /// Everything the lab observed for this scenario.
    pub(crate) fn evidence(&self) -> String {
        let mut out = format!(
            "evidence for scenario {} (policy {}):\n",
            self.token,
            conformance_lab::display_path(self.lab.policy().path())
        );
        section(
            &mut out,
            "client exchanges",
            self.exchanges
                .iter()
                .map(ToString::to_string)
                .chain(self.raw_tunnel.iter().map(ToString::to_string)),
        );
        // Found as the checks find them: by token, or by the URLs the clients asked for (real
        // URL shapes carry no token), so the evidence never says "nothing" of a request the
        // origin served.
        let requests = self.scenario_origin_requests();
        let journal = self.lab.origin().journal();
        let handshakes: Vec<String> = requests
            .iter()
            .filter_map(|r| journal.handshake(r.connection))
            .map(|h| h.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        section(
            &mut out,
            "origin journal",
            requests.iter().map(ToString::to_string),
        );
        let mut tls = handshakes;
        if let Some(baseline) = &self.baseline_ja4 {
            tls.push(format!(
                "(the client's own JA4, measured directly: {baseline})"
            ));
        }
        section(&mut out, "origin TLS handshakes", tls.into_iter());
        section(
            &mut out,
            "ICAP journal",
            self.lab
                .icap()
                .calls()
                .iter()
                .filter(|call| {
                    call.http_uri.contains(&self.token)
                        || call.http_header(mock_servers::SCENARIO_HEADER)
                            == Some(self.token.as_str())
                        || self.exchanges.iter().any(|e| e.url == call.http_uri)
                })
                .map(ToString::to_string),
        );
        section(
            &mut out,
            "categorisation lookups",
            self.lab
                .categorizer()
                .lookups_in(&self.token)
                .iter()
                .map(ToString::to_string),
        );
        match self.lab.proxy_log() {
            Some(log) => section(
                &mut out,
                &format!("proxy log ({})", self.lab.proxy_name()),
                log.facts_for(&self.token).iter().map(ToString::to_string),
            ),
            None => section(
                &mut out,
                "proxy log",
                std::iter::once(format!(
                    "(not observable: {} at {} is external, its log is its own)",
                    self.lab.proxy_name(),
                    self.lab.proxy_url()
                )),
            ),
        }
        out
    }
}

fn section(out: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let _ = writeln!(out, "  {title}:");
    let mut any = false;
    for line in lines {
        any = true;
        let _ = writeln!(out, "    {line}");
    }
    if !any {
        let _ = writeln!(out, "    (nothing)");
    }
}
