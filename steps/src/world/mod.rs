//! The World of one scenario: a handle on the shared lab, the scenario's unique token (every
//! path it uses carries it, so scenarios run concurrently on one lab), what it set up at the
//! origin (a file, a page, or a control's objects of each kind) and every exchange its clients
//! made. Every helper the steps call on the World is in this folder, one file per kind
//! (client, origin, control objects, proxy log, categoriser, instruments, evidence, hosts);
//! the step modules (`steps/src/*.rs`) hold step functions and the pure
//! predicates they judge with.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use conformance_client::{Exchange, MemoryReport, ProxyEndpoint, RawTunnelExchange};
use conformance_lab::{Lab, NotObservable, Vantage};
use conformance_model::{KindsPoliced, ObjectKind, Property};
use cucumber::World;

use crate::parameters::Resource;

mod categoriser;
mod client;
mod control_objects;
mod evidence;
mod hosts;
mod instruments;
mod origin;
mod proxy_log;

static NEXT_SCENARIO: AtomicU64 = AtomicU64::new(1);

tokio::task_local! {
    /// The lab the scenarios of one run use, scoped to that run's future, so that several
    /// runs (the self-test's policies) can share a process, each with its own lab.
    static CURRENT_RUN: RunContext;
}

/// What every scenario of a run shares: the lab, and the JA4 of the clients' own
/// ClientHello (measured once per run).
#[derive(Clone)]
struct RunContext {
    lab: Arc<Lab>,
    baseline_ja4: Option<String>,
}

/// Runs `scenarios` (the cucumber run) against `lab`: every scenario world created while it
/// is polled uses that lab.
pub async fn with_lab<F: Future>(
    lab: Arc<Lab>,
    baseline_ja4: Option<String>,
    scenarios: F,
) -> F::Output {
    CURRENT_RUN
        .scope(RunContext { lab, baseline_ja4 }, scenarios)
        .await
}

/// Something the scenario made the origin serve.
#[derive(Debug, Clone)]
pub struct Served {
    pub resource: Resource,
    pub host: String,
    /// Path (and query) at the origin; contains the scenario token.
    pub target: String,
    /// Size of a generated file; 0 for pages.
    pub size: u64,
    /// The file's content when the origin's catalog serves it (else derived from the target).
    pub payload: Option<mock_servers::Payload>,
}

/// One object of a control's set: its kind, and where the origin serves it.
#[derive(Debug, Clone)]
pub struct ControlObject {
    pub kind: ObjectKind,
    pub served: Served,
}

#[derive(Debug, World)]
#[world(init = Self::new)]
pub struct ConformanceWorld {
    pub(crate) lab: Arc<Lab>,
    /// How clients reach the proxy under test.
    pub(crate) proxy: ProxyEndpoint,
    /// Unique per scenario run; in every path and in the scenario header.
    pub(crate) token: String,
    pub(crate) served: Option<Served>,
    pub(crate) exchanges: Vec<Exchange>,
    pub(crate) baseline_ja4: Option<String>,
    /// Per-client files of a dynamic-names scenario, and what each client got.
    pub(crate) tailored: Vec<(Served, Option<Exchange>)>,
    /// The update host that redirects requests for the served file to it.
    pub(crate) redirected_from: Option<String>,
    /// A control's objects, one of each kind a policy commonly keys on.
    pub(crate) objects: Vec<ControlObject>,
    /// Which of those objects' kinds the proxy policed, as the last check of them saw it.
    pub(crate) kinds_policed: Option<KindsPoliced>,
    /// Objects the served page links (prefetch scenarios).
    pub(crate) linked: Vec<String>,
    /// The raw exchange of a protocol-detection scenario.
    pub(crate) raw_tunnel: Option<RawTunnelExchange>,
    /// `Last-Modified` of the served file as the last HEAD saw it (BITS sends it back in
    /// `If-Unmodified-Since`).
    pub(crate) last_modified: Option<String>,
    /// Resident memory during the last measured download.
    pub(crate) memory: Option<MemoryReport>,
    /// Checks this mode could not make (external mode), in step order.
    pub(crate) not_observable: Vec<NotObservable>,
    /// The property the last `Then` step judges (`None`: whether the update client got what
    /// it asked for, which the run's evidence then attributes).
    pub(crate) judging: Option<Property>,
    /// How many requests the origin had journaled when the scenario began.
    pub(crate) origin_mark: usize,
    /// Whether a refusal by the proxy proves the host was policed (look-alikes: a host the
    /// policy refuses outright was not let through a bypass either).
    pub(crate) refusal_polices: bool,
}

impl ConformanceWorld {
    fn new() -> anyhow::Result<Self> {
        let RunContext { lab, baseline_ja4 } = CURRENT_RUN
            .try_with(Clone::clone)
            .map_err(|_| anyhow::anyhow!("no lab is running: start scenarios through run_suite"))?;
        let number = NEXT_SCENARIO.fetch_add(1, Ordering::Relaxed);
        let token = format!("s{number}-{:08x}", rand::random::<u32>());
        let origin_mark = lab.origin().journal().request_count();
        Ok(Self {
            proxy: lab.proxy_endpoint(),
            lab,
            token,
            served: None,
            exchanges: Vec::new(),
            baseline_ja4,
            tailored: Vec::new(),
            memory: None,
            last_modified: None,
            raw_tunnel: None,
            linked: Vec::new(),
            objects: Vec::new(),
            kinds_policed: None,
            redirected_from: None,
            not_observable: Vec::new(),
            judging: None,
            origin_mark,
            refusal_polices: false,
        })
    }

    /// Declares which property the `Then` step now judging speaks for: a failure counts for
    /// it by type, never by the words of the step. `None` for checks of delivery itself (the
    /// status, the bytes), whose cause the run's evidence names.
    pub(crate) fn checks(&mut self, property: Option<Property>) {
        self.judging = property;
    }

    /// The property the last `Then` step judged, if it declared one.
    pub fn judging(&self) -> Option<Property> {
        self.judging
    }

    /// Which kinds of its control objects the proxy policed, when a check of them judged it:
    /// the note the property's verdict quotes.
    pub fn kinds_policed(&self) -> Option<&KindsPoliced> {
        self.kinds_policed.as_ref()
    }

    /// The scenario's unique token (in its requests' scenario header, and in its URLs where
    /// the real client's URL has room for it).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Every exchange the scenario's clients made, in order.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// The raw CONNECT exchange of a protocol-detection scenario, if it made one.
    pub fn raw_tunnel(&self) -> Option<&RawTunnelExchange> {
        self.raw_tunnel.as_ref()
    }

    /// Records that `check` cannot be judged here: `vantage`, all it needs, cannot be seen.
    /// The scenario goes on, so its other steps are still judged.
    pub(crate) fn not_observable(&mut self, vantage: Vantage, check: &str, why: String) {
        self.lab.vantages().unobservable(vantage, &why);
        self.not_observable.push(NotObservable {
            vantage,
            check: check.to_owned(),
            why,
        });
    }

    /// The first check of this scenario that left its property unjudged (a vantage point
    /// other than the proxy's log, which only corroborates): the scenario is then *not
    /// observable*, never passed.
    pub fn unjudged(&self) -> Option<&NotObservable> {
        self.not_observable
            .iter()
            .find(|n| !n.vantage.only_corroborates())
    }

    pub(crate) fn served(&self) -> Result<&Served, String> {
        self.served.as_ref().ok_or_else(|| {
            "no file or page was set up: add a Given step that serves one".to_owned()
        })
    }

    /// The host the scenario's client talked to.
    pub(crate) fn host(&self) -> Result<String, String> {
        match (&self.served, &self.raw_tunnel) {
            (Some(served), _) => Ok(served.host.clone()),
            (None, Some(raw)) => Ok(raw.host.clone()),
            (None, None) => Err("no host was set up or contacted: add a Given step".to_owned()),
        }
    }

    /// How many requests this scenario's clients sent to the proxy.
    pub(crate) fn requests_sent(&self) -> usize {
        self.exchanges.len() + usize::from(self.raw_tunnel.is_some())
    }

    pub(crate) fn last_exchange(&self) -> Result<&Exchange, String> {
        self.exchanges
            .last()
            .ok_or_else(|| "no client made a request yet: add a When step".to_owned())
    }
}
