//! Whether the harness's instrument headers survived the proxy. A proxy that strips
//! `X-Conformance-*` headers (header hardening) blinds the checks built on them: their
//! property is then not observable, never "served from cache" or "another client's download".

use conformance_client::Exchange;
use conformance_lab::{NotObservable, Vantage};
use mock_servers::{OriginRequest, ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER};

use crate::world::ConformanceWorld;

impl ConformanceWorld {
    /// Why this scenario cannot be judged at all, if the proxy stripped an instrument header
    /// from its traffic (checked after a failed step: the failure may be the stripping's).
    pub fn blinded(&self) -> Option<NotObservable> {
        let at_origin = self.origin_requests_of_exchanges();
        stripped_instruments(&self.exchanges, &at_origin).map(|why| NotObservable {
            vantage: Vantage::Client,
            check: "every check of this scenario".to_owned(),
            why,
        })
    }

    /// Whether the proxy stripped an instrument header from this scenario's traffic (a check
    /// that can judge without them then skips only its instrument part).
    pub(crate) fn instrument_headers_stripped(&self) -> bool {
        stripped_instruments(&self.exchanges, &self.origin_requests_of_exchanges()).is_some()
    }
}

impl ConformanceWorld {
    /// The origin's requests of this scenario, found without the instrument headers too: by
    /// the token in their target, or by the exact target of one of the clients' requests
    /// (realistic URLs carry no token, and a proxy may strip the scenario header).
    fn origin_requests_of_exchanges(&self) -> Vec<OriginRequest> {
        let journal = self.lab.origin().journal();
        let mut found = self.scenario_origin_requests();
        for exchange in &self.exchanges {
            let Ok(url) = reqwest::Url::parse(&exchange.url) else {
                continue;
            };
            let target = crate::client::origin_target(&url);
            found.extend(
                journal
                    .requests_containing(&target)
                    .into_iter()
                    .filter(|r| r.target == target),
            );
        }
        found
    }
}

/// What the proxy removed of the instrument headers, if anything: the request token from every
/// request it forwarded (the clients send it on each one), or the origin's echo of a token
/// from a response the origin did answer.
pub(crate) fn stripped_instruments(
    exchanges: &[Exchange],
    at_origin: &[OriginRequest],
) -> Option<String> {
    if !at_origin.is_empty()
        && at_origin
            .iter()
            .all(|r| r.header(REQUEST_TOKEN_HEADER).is_none())
    {
        return Some(format!(
            "the proxy removed the {REQUEST_TOKEN_HEADER} header from every request it forwarded (header hardening), so the origin cannot tell whose request it answers; allow X-Conformance-* headers through to judge this"
        ));
    }
    // The origin's own answer (same status) reached the client without its echo; an answer
    // of the proxy's own (an error page in place of the origin's reply) is no stripping.
    exchanges
        .iter()
        .filter(|e| {
            e.response().is_some_and(|response| {
                response.header(ECHO_TOKEN_HEADER).is_none()
                    && at_origin.iter().any(|r| {
                        r.header(REQUEST_TOKEN_HEADER) == Some(e.request_token.as_str())
                            && r.status == response.status
                    })
            })
        })
        .map(|e| {
            format!(
                "the origin answered request {} with {ECHO_TOKEN_HEADER}, but the proxy removed it from the response (header hardening); allow X-Conformance-* headers through to judge this",
                e.request_token
            )
        })
        .next()
}

#[cfg(test)]
mod tests {
    use mock_servers::{ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER};

    use super::stripped_instruments;
    use crate::fixtures::{exchange, origin_request};

    #[test]
    fn stripped_instrument_headers_are_told_apart_from_a_cache() {
        let answered = [exchange("s1-r1", 200), exchange("s1-r2", 200)];
        let at_origin = [
            origin_request("/s1/kb.cab", "s1-r1"),
            origin_request("/s1/kb.cab", "s1-r2"),
        ];
        assert!(stripped_instruments(&answered, &at_origin).is_none());

        let mut hardened = at_origin.clone();
        for request in &mut hardened {
            request
                .headers
                .retain(|(name, _)| name != REQUEST_TOKEN_HEADER);
        }
        assert!(stripped_instruments(&answered, &hardened).is_some());

        let mut echo_removed = answered.clone();
        if let conformance_client::Outcome::Response(r) = &mut echo_removed[1].outcome {
            r.headers.retain(|(name, _)| name != ECHO_TOKEN_HEADER);
        }
        assert!(stripped_instruments(&echo_removed, &at_origin).is_some());

        // A cache hit: the second request never reached the origin, so its missing echo is the
        // cache's doing, not stripping; one request without a token (a proxy's own) is not
        // stripping either.
        assert!(stripped_instruments(&echo_removed, &at_origin[..1]).is_none());
        // The proxy answered with an error page of its own after the origin began its reply.
        let mut replaced = exchange("s1-r2", 403);
        if let conformance_client::Outcome::Response(r) = &mut replaced.outcome {
            r.headers.clear();
        }
        assert!(stripped_instruments(&[replaced], &at_origin).is_none());
        let mut own = hardened[0].clone();
        own.target = "/s1/prefetched.cab".into();
        assert!(stripped_instruments(&answered, &[at_origin[0].clone(), own]).is_none());
    }
}
