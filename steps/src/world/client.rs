//! The World's helpers for the scenario's clients: requests through the proxy (plain, HEAD then
//! ranges, raw tunnels) and the exchanges they left.

use conformance_client::{
    raw_tunnel, requested_ranges, ClientProfile, Credentials as ClientCredentials, Exchange, Fetch,
    MemoryWatch, RawTunnelExchange,
};
use mock_servers::{ByteRange, OriginRequest, Payload, REQUEST_TOKEN_HEADER};

use crate::client::Ask;
use crate::parameters::{Credentials, Resource, Scheme};
use crate::tunnel::non_tls_bytes;
use crate::world::{ConformanceWorld, Served};

/// How far past what it asked for a client reads before it stops.
const READ_MARGIN: u64 = 1 << 20;
/// Bodies up to this size are always read whole (a 200 for a range of a small file is
/// evidence worth having whole; of a multi-GiB file it is not).
const ALWAYS_READ: u64 = 64 << 20;

impl ConformanceWorld {
    /// Sends `ask` for the file or page this scenario serves and keeps the exchange.
    pub(crate) async fn fetch(&mut self, ask: Ask) -> Result<&Exchange, String> {
        let served = self.served()?.clone();
        let exchange = self.fetch_served(&served, ask).await;
        self.exchanges.push(exchange);
        Ok(self.exchanges.last().expect("just pushed"))
    }

    /// Sends `ask` for `served` (one of several files a scenario serves).
    pub(crate) async fn fetch_served(&self, served: &Served, ask: Ask) -> Exchange {
        let payload = (served.resource == Resource::File && ask.method == reqwest::Method::GET)
            .then(|| {
                served
                    .payload
                    .unwrap_or_else(|| Payload::for_target(&served.target, served.size))
            });
        let default_limit = (served.resource == Resource::File).then(|| {
            let asked = match requested_ranges(ask.range.as_deref(), served.size) {
                ranges if ranges.is_empty() => served.size,
                ranges => ranges.iter().map(ByteRange::len).sum(),
            };
            (asked + READ_MARGIN).max((served.size + READ_MARGIN).min(ALWAYS_READ))
        });
        let read_limit = ask.read_limit.or(default_limit);
        Fetch {
            proxy: &self.proxy,
            scenario: &self.token,
            method: ask.method,
            url: format!(
                "{}://{}{}",
                ask.scheme.url_prefix(),
                served.host,
                served.target
            ),
            scheme: ask.scheme,
            credentials: ask.credentials,
            range: ask.range,
            extra_headers: ask.extra_headers,
            payload,
            read_limit,
            body: ask.body,
        }
        .send()
        .await
    }
}

impl ConformanceWorld {
    /// HEAD for the size and validator, as BITS does before its first range.
    pub(crate) async fn learn_size_and_etag(
        &mut self,
        scheme: Scheme,
    ) -> Result<(u64, String), String> {
        let head = self.fetch(Ask::bits(scheme).head()).await?.clone();
        let response = head
            .response()
            .filter(|r| r.status == 200)
            .ok_or_else(|| self.failure("HEAD answered 200", head.to_string()))?;
        let size = response
            .header("content-length")
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| self.failure("a Content-Length on HEAD", head.to_string()))?;
        let etag = response
            .header("etag")
            .map(str::to_owned)
            .ok_or_else(|| self.failure("an ETag on HEAD", head.to_string()))?;
        self.last_modified = response.header("last-modified").map(str::to_owned);
        Ok((size, etag))
    }

    /// HEAD, then consecutive ranges of `chunk` bytes from `start` to the end (the last one
    /// short), each verified as it streams in; no copy of the file is kept.
    pub(crate) async fn download_in_ranges(
        &mut self,
        scheme: Scheme,
        start: u64,
        chunk: u64,
    ) -> Result<(), String> {
        if chunk == 0 {
            return Err("a range size of 0 bytes".to_owned());
        }
        let watch = MemoryWatch::start();
        let (size, _) = self.learn_size_and_etag(scheme).await?;
        let mut first = start;
        while first < size {
            let last = (first + chunk).min(size) - 1;
            // BITS asks for each range only if the file is the one HEAD described.
            let mut ask = Ask::bits(scheme).with_range(format!("bytes={first}-{last}"));
            if let Some(last_modified) = self.last_modified.clone() {
                ask = ask.with_header("if-unmodified-since", last_modified);
            }
            let exchange = self.fetch(ask).await?;
            // BITS gives up on anything but a 206; so does this client. It also stops once
            // the origin saw another Range than the one asked: every further range of a huge
            // file would cost a whole-object fetch, and the first one is evidence enough.
            if exchange.response().is_none_or(|r| r.status != 206) {
                break;
            }
            let exchange = exchange.clone();
            let widened = self
                .origin_requests_for(&exchange)
                .iter()
                .any(|r| r.header("range") != exchange.range.as_deref());
            if widened {
                break;
            }
            first = last + 1;
        }
        self.memory = Some(watch.stop());
        Ok(())
    }

    /// The origin's requests for one client exchange (matched by its request token).
    pub(crate) fn origin_requests_for(&self, exchange: &Exchange) -> Vec<OriginRequest> {
        let by_token: Vec<OriginRequest> = self
            .scenario_origin_requests()
            .into_iter()
            .filter(|r| r.header(REQUEST_TOKEN_HEADER) == Some(exchange.request_token.as_str()))
            .collect();
        if !by_token.is_empty() {
            return by_token;
        }
        // Header hardening took the request token away: the request is the one for the same
        // URL, method and Range since the scenario began (what every proxy forwards; the
        // scenario's URLs are its own, or it runs alone).
        let Ok(url) = reqwest::Url::parse(&exchange.url) else {
            return Vec::new();
        };
        let target = crate::client::origin_target(&url);
        let alike = |e: &Exchange| {
            e.url == exchange.url && e.method == exchange.method && e.range == exchange.range
        };
        // The n-th of the client's alike requests is the n-th alike request at the origin.
        let rank = self
            .exchanges
            .iter()
            .filter(|e| alike(e))
            .position(|e| e.request_token == exchange.request_token)
            .unwrap_or(0);
        self.lab
            .origin()
            .journal()
            .requests_since(self.origin_mark, &target)
            .into_iter()
            .filter(|r| {
                r.target == target
                    && r.header(REQUEST_TOKEN_HEADER).is_none()
                    && r.method.eq_ignore_ascii_case(&exchange.method)
                    && r.header("range") == exchange.range.as_deref()
            })
            .skip(rank)
            .take(1)
            .collect()
    }

    /// The ranged GETs the client made; none is a failure, never a vacuous pass.
    pub(crate) fn ranged_exchanges(&self) -> Result<Vec<&Exchange>, String> {
        let ranged: Vec<&Exchange> = self
            .exchanges
            .iter()
            .filter(|e| e.method == "GET" && e.range.is_some())
            .collect();
        if ranged.is_empty() {
            return Err(self.failure("ranged requests", "the client asked for no range"));
        }
        Ok(ranged)
    }
}

impl ConformanceWorld {
    /// Sends the scenario's non-TLS bytes through a CONNECT tunnel to `host`, first waiting up
    /// to `greeting` for the server to speak when given, and keeps the exchange.
    pub(crate) async fn open_raw_tunnel(
        &mut self,
        credentials: Credentials,
        host: &str,
        greeting: Option<std::time::Duration>,
    ) -> Result<(), String> {
        let host = self.resolve_host(host)?;
        let sent = non_tls_bytes(&self.token);
        let credentials = credentials.into();
        // Without credentials the tunnel is Delivery Optimization's, the update component that
        // speaks more than TLS on port 443; with them, the user's (a browser).
        let agent = match credentials {
            ClientCredentials::Without => ClientProfile::DeliveryOptimization,
            ClientCredentials::Presented => ClientProfile::standing_for(credentials),
        };
        let exchange = raw_tunnel(
            &self.proxy,
            &self.token,
            credentials,
            Some(agent.user_agent()),
            &host,
            sent,
            greeting,
        )
        .await;
        self.raw_tunnel = Some(exchange);
        Ok(())
    }
}

impl ConformanceWorld {
    pub(crate) fn raw_exchange(&self) -> Result<&RawTunnelExchange, String> {
        self.raw_tunnel
            .as_ref()
            .ok_or_else(|| "no raw tunnel was opened: add the When step first".to_owned())
    }

    pub(crate) fn origin_received_raw(&self) -> Vec<u8> {
        self.lab
            .origin()
            .journal()
            .raw_tunnels_containing(self.token.as_bytes())
            .into_iter()
            .flat_map(|t| t.received)
            .collect()
    }
}
