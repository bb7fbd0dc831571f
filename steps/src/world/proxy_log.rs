//! The World's helpers for the proxy's own log: the scenario's complete log as neutral facts
//! (an incomplete log is a failure of its own), and a refusal that counts as policing.

use std::time::Duration;

use conformance_client::Exchange;
use conformance_lab::{ProxyFact, Vantage};
use tokio::time::Instant;

use crate::proxy::{answered_by_origin, refusal};
use crate::world::ConformanceWorld;

/// How long a check waits for the proxy to log the scenario's requests: only an incomplete log
/// (a request that never reached the proxy) waits this long, so it is generous for a loaded
/// machine.
const PROXY_LOG_GRACE: Duration = Duration::from_secs(8);

impl ConformanceWorld {
    /// The proxy's facts for this scenario; none is a failure, never a vacuous pass. A proxy
    /// logs a tunnel when it closes, just after the client is done, so this polls (bounded)
    /// until there is a fact per client exchange; fewer facts than requests after the grace
    /// period is a failure of its own (a judgement over part of the log proves nothing).
    /// `None` when the harness cannot read the proxy's log (external mode): the caller judges
    /// from its other vantage points only (the ledger counts the part skipped).
    pub(crate) async fn complete_proxy_log(&self) -> Result<Option<Vec<ProxyFact>>, String> {
        let expected = self.requests_sent();
        let Some(facts) = self
            .proxy_log_until(|lines| lines.len() >= expected)
            .await?
        else {
            return Ok(None);
        };
        if facts.len() < expected {
            return Err(self.failure(
                format!("the proxy to log each of the {expected} requests this scenario sent"),
                format!(
                    "{} logged within {PROXY_LOG_GRACE:?}: the log is incomplete, so it cannot be judged",
                    facts.len()
                ),
            ));
        }
        Ok(Some(facts))
    }

    /// Waits until the proxy has logged every request this scenario sent, and fails when it
    /// has not (the requests never reached it, or its log is incomplete): an absence (no ICAP
    /// call, no lookup, no extra request) judged before then proves nothing.
    pub(crate) async fn every_request_reached_the_proxy(&self) -> Result<(), String> {
        self.complete_proxy_log().await.map(drop)
    }

    /// The proxy's facts for this scenario once `complete` holds for them (or the grace
    /// period is over): a proxy logs a bumped request and its CONNECT as each of them ends.
    pub(crate) async fn proxy_log_until(
        &self,
        complete: impl Fn(&[ProxyFact]) -> bool,
    ) -> Result<Option<Vec<ProxyFact>>, String> {
        let Some(log) = self.lab.proxy_log() else {
            self.lab.vantages().unobservable(
                Vantage::ProxyLog,
                "the proxy under test is external: the harness cannot read its log",
            );
            return Ok(None);
        };
        self.lab.vantages().judged(Vantage::ProxyLog);
        let deadline = Instant::now() + PROXY_LOG_GRACE;
        let mut lines = log.facts_for(&self.token);
        while !complete(&lines) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
            lines = log.facts_for(&self.token);
        }
        if lines.is_empty() {
            return Err(self.failure(
                "the proxy's log of this scenario's requests",
                "none: the requests never reached the proxy",
            ));
        }
        Ok(Some(lines))
    }
}

impl ConformanceWorld {
    /// How the proxy refused the scenario's last request, when the scenario counts a refusal
    /// as policing (a look-alike refused outright was not let through the bypass); `None`
    /// when it does not, or when the request was not refused: the check then judges as usual.
    pub(crate) async fn refused_as_policing(&self) -> Result<Option<String>, String> {
        match self.exchanges.last() {
            Some(exchange) => self.refusal_as_policing(exchange, |_| true).await,
            None => Ok(None),
        }
    }

    /// [`Self::refused_as_policing`] for one of the scenario's exchanges, judged by the proxy's
    /// facts that `concern` it.
    pub(crate) async fn refusal_as_policing(
        &self,
        exchange: &Exchange,
        concern: impl Fn(&ProxyFact) -> bool,
    ) -> Result<Option<String>, String> {
        if !self.refusal_polices {
            return Ok(None);
        }
        if let Some(how) = refusal(exchange, None) {
            return Ok(Some(how));
        }
        if answered_by_origin(exchange) {
            return Ok(None);
        }
        let log = self.complete_proxy_log().await?;
        let concerning: Option<Vec<ProxyFact>> =
            log.map(|facts| facts.into_iter().filter(|fact| concern(fact)).collect());
        Ok(refusal(exchange, concerning.as_deref()))
    }
}
