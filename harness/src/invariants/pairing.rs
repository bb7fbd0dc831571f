//! Which origin request answered which client request: by the request token when the proxy
//! forwarded it, else by method, host and request target — what any proxy forwards anyway — so
//! header hardening that strips the harness's instruments leaves the pairing intact.

use conformance_client::Exchange;
use mock_servers::{OriginExchange, REQUEST_TOKEN_HEADER};

use super::{host_of, target_of};

/// A client request of the run, with the scenario that made it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientRequest<'a> {
    pub scenario: &'a str,
    pub exchange: &'a Exchange,
}

impl ClientRequest<'_> {
    pub(crate) fn host(&self) -> String {
        host_of(&self.exchange.url)
    }

    fn target(&self) -> String {
        target_of(&self.exchange.url)
    }
}

/// The result of pairing: (origin index, client index) pairs, and what was left on each side.
#[derive(Debug, Default)]
pub(crate) struct Pairs {
    pub paired: Vec<(usize, usize)>,
    pub origin_alone: Vec<usize>,
    pub client_alone: Vec<usize>,
}

pub(crate) fn pair(clients: &[ClientRequest<'_>], origin: &[&OriginExchange]) -> Pairs {
    let mut used = vec![false; clients.len()];
    let mut pairs = Pairs::default();
    let mut rest = Vec::new();
    for (o, exchange) in origin.iter().enumerate() {
        let token = exchange.request.header(REQUEST_TOKEN_HEADER);
        match token.and_then(|t| clients.iter().position(|c| c.exchange.request_token == t)) {
            Some(c) => {
                used[c] = true;
                pairs.paired.push((o, c));
            }
            None => rest.push(o),
        }
    }
    for o in rest {
        let request = &origin[o].request;
        let host = request.host.trim_end_matches('.').to_ascii_lowercase();
        let host = host.split(':').next().unwrap_or("").to_owned();
        let same_url = |c: usize| {
            !used[c]
                && clients[c]
                    .exchange
                    .method
                    .eq_ignore_ascii_case(&request.method)
                && clients[c].host() == host
                && clients[c].target() == request.target
        };
        // Parallel pieces of one file share a URL: the client that asked for the Range the
        // origin received is the one this request answers, if there is one.
        let range = request.header("range");
        let found = (0..clients.len())
            .find(|&c| same_url(c) && clients[c].exchange.range.as_deref() == range)
            .or_else(|| (0..clients.len()).find(|&c| same_url(c)));
        match found {
            Some(c) => {
                used[c] = true;
                pairs.paired.push((o, c));
            }
            None => pairs.origin_alone.push(o),
        }
    }
    pairs.client_alone = (0..clients.len()).filter(|&c| !used[c]).collect();
    pairs
}
