//! The proof that `to-squid` never changes meaning silently, judged by Squid itself: generated
//! CPL policies (seeded, `CPL_LAB_SEED` to replay another run, `CPL_LAB_POLICIES` for more) are
//! translated with `cpl::to_squid`, each fragment is put under test in the lab's real Squid,
//! and generated requests — plain GETs and HTTPS through CONNECT, to update hosts, drawn names
//! under the wildcard patterns, look-alikes and control hosts — are sent through it. For every
//! request, what the proxy did (denied, asked for credentials, asked the categoriser, bumped,
//! served a repeat from its cache, sent to ICAP REQMOD and RESPMOD) must be what `explain`
//! says the CPL decides for that URL. A mismatch prints the policy, the URL, explain's trace,
//! the fragment and the evidence.
//!
//! Decisions a rule does not set are compared with the baseline the fragment is written
//! against (authenticate, categorise, cache, adapt, intercept), not CPL's own defaults. A
//! denied request is compared on access only: Squid refuses before it would authenticate.
//! `detect_protocol` and `pipeline` are left to `cpl/tests/squid_equivalence.rs`.

mod generate;

mod observe;

use std::time::Instant;

use conformance_lab::{Lab, LabError, LabOptions, Policy};
use cpl::{explain, lint, to_squid, Decision, Explanation};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use observe::Observed;

const SEED: u64 = 0x5eed_c0de;
const POLICIES: usize = 8;
const CASES_PER_POLICY: usize = 5;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| conformance_model::parse_seed(&v))
        .unwrap_or(default)
}

/// What the CPL decides for one request, as the lab can observe it.
#[derive(Debug)]
struct Expected {
    denied: bool,
    challenged: bool,
    categorized: bool,
    bumped: bool,
    cached: bool,
    reqmod: bool,
    respmod: bool,
}

fn expected(explanation: &Explanation) -> Expected {
    let bypassed = |d: Decision| explanation.is_set(d) && d.is_bypass(explanation.value(d));
    let cache_no = explanation
        .properties
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case("cache") && p.value.eq_ignore_ascii_case("no"));
    Expected {
        denied: explanation.is_set(Decision::Access)
            && !Decision::Access.is_bypass(explanation.value(Decision::Access)),
        challenged: !bypassed(Decision::Authenticate),
        categorized: !bypassed(Decision::Categorize),
        bumped: !bypassed(Decision::SslForwardProxy),
        cached: !bypassed(Decision::BypassCache) && !cache_no,
        reqmod: !bypassed(Decision::RequestIcap),
        respmod: !bypassed(Decision::ResponseIcap),
    }
}

fn differences(expected: &Expected, observed: &Observed) -> Vec<String> {
    let mut differ = Vec::new();
    let mut compare = |what: &str, cpl: bool, squid: Option<bool>| {
        if let Some(squid) = squid.filter(|s| *s != cpl) {
            differ.push(format!("{what}: CPL {cpl}, Squid {squid}"));
        }
    };
    compare("denied", expected.denied, Some(observed.denied));
    if expected.denied || observed.denied {
        return differ;
    }
    compare(
        "asks for credentials",
        expected.challenged,
        Some(observed.challenged),
    );
    compare(
        "categorised",
        expected.categorized,
        Some(observed.categorized),
    );
    compare("bumped", expected.bumped, observed.bumped);
    compare("served from cache", expected.cached, observed.cached);
    compare("ICAP REQMOD", expected.reqmod, observed.reqmod);
    compare("ICAP RESPMOD", expected.respmod, observed.respmod);
    differ
}

/// Host names to request: the policy's own, then names drawn from everything the lab serves.
fn hosts(rng: &mut StdRng, lab: &Lab, named: &[String]) -> Vec<String> {
    let mut served = conformance_model::all_lab_host_names();
    served.extend(lab.hosts().all_names());
    let mut hosts: Vec<String> = named
        .iter()
        .filter(|h| lab.serves(h))
        .take(CASES_PER_POLICY - 2)
        .cloned()
        .collect();
    while hosts.len() < CASES_PER_POLICY {
        hosts.push(served.choose(rng).cloned().expect("the lab serves names"));
    }
    hosts
}

struct Report {
    cases: usize,
    /// How often each decision was seen taken, so a run shows what it exercised.
    seen: std::collections::BTreeMap<&'static str, usize>,
    mismatches: Vec<String>,
}

impl Report {
    fn tally(&mut self, observed: &Observed) {
        for (what, taken) in [
            ("denied", observed.denied),
            ("challenged", observed.challenged),
            ("categorised", observed.categorized),
            ("bumped", observed.bumped == Some(true)),
            ("tunnelled", observed.bumped == Some(false)),
            ("cached", observed.cached == Some(true)),
            ("not cached", observed.cached == Some(false)),
            ("REQMOD", observed.reqmod == Some(true)),
            ("no REQMOD", observed.reqmod == Some(false)),
            ("RESPMOD", observed.respmod == Some(true)),
            ("no RESPMOD", observed.respmod == Some(false)),
        ] {
            if taken {
                *self.seen.entry(what).or_default() += 1;
            }
        }
    }
}

/// Policies this check once found translated wrongly, run before the generated ones with
/// requests to the hosts concerned.
const REGRESSIONS: &[(&str, &str, &[&str])] = &[
    (
        "categorised-after-allow.cpl",
        "define url.domain condition WU_Hosts\n    microsoft.com\nend\n\n\
         <Proxy>\n    condition=WU_Hosts authenticate(no) webpulse.categorize.mode(none)\n\n\
         <Proxy>\n    url.host=7.tlu.dl.delivery.mp.microsoft.com authenticate(corp_realm)\n",
        &[
            "7.tlu.dl.delivery.mp.microsoft.com",
            "download.microsoft.com",
        ],
    ),
    (
        "cache-no.cpl",
        "define url.domain condition WU_Hosts\n    windowsupdate.com\nend\n\n\
         <Proxy>\n    condition=WU_Hosts authenticate(no)\n\n\
         <Cache>\n    condition=WU_Hosts cache(no)\n",
        &["download.windowsupdate.com", "www.example.com"],
    ),
];

/// Corpus policies (`cpl/tests/corpus/`) run in the lab too, with requests to these hosts.
const CORPUS: &[(&str, &[&str])] = &[
    (
        "vpm-windows-update-bypass.cpl",
        &[
            "7.tlu.dl.delivery.mp.microsoft.com",
            "downloads.example.net",
            "www.example.com",
        ],
    ),
    (
        "kb166719-corrected.cpl",
        &["fe2.update.microsoft.com", "www.example.com"],
    ),
];

async fn check_policy(
    rng: &mut StdRng,
    file: String,
    generated: generate::Generated,
    report: &mut Report,
) {
    let policy = cpl::parse(&generated.source, &file)
        .unwrap_or_else(|e| panic!("{file} does not parse: {e:?}\n{}", generated.source));
    let errors: Vec<String> = lint(&policy)
        .iter()
        .filter(|d| {
            d.is_error() && !["windows-update-coverage", "over-broad-bypass"].contains(&d.code)
        })
        .map(|d| d.message.clone())
        .collect();
    // A generated bypass may miss update patterns or match look-alikes (that is what lint is
    // for); any other error is a generator bug.
    assert!(
        errors.is_empty(),
        "{file} is not valid CPL: {errors:?}\n{}",
        generated.source
    );
    let translation = to_squid(&policy);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join(format!("{file}.conf"));
    std::fs::write(&path, &translation.fragment).expect("the fragment is written");
    let lab_policy = Policy::load(&path).unwrap_or_else(|e| {
        panic!(
            "{file}: the fragment breaks the lab contract: {e:#}\n{}",
            translation.fragment
        )
    });
    let lab = match Lab::start(LabOptions::new(lab_policy)).await {
        Ok(lab) => lab,
        Err(LabError::PolicyRejected(message)) => {
            report.mismatches.push(format!(
                "{file}: Squid rejects the fragment: {message}\n--- CPL\n{}--- fragment\n{}",
                generated.source, translation.fragment
            ));
            return;
        }
        Err(error) => panic!("the lab did not start: {error}"),
    };
    for host in hosts(rng, &lab, &generated.named_hosts) {
        let tls = rng.random_bool(0.5);
        let case = format!("c{}x{:04x}", report.cases, rng.random::<u16>());
        let url = format!(
            "{}://{host}{}",
            if tls { "https" } else { "http" },
            observe::target(&case)
        );
        let explanation = explain(&policy, &url).expect("a generated URL is valid");
        let expected = expected(&explanation);
        let observed = observe::observe(&lab, &case, &url, tls).await;
        report.cases += 1;
        report.tally(&observed);
        let differ = differences(&expected, &observed);
        if !differ.is_empty() {
            report.mismatches.push(format!(
                "{file}: {url}: {differ:?}\n--- CPL\n{}--- explain\n{explanation}\n--- fragment\n{}--- what the proxy did\n{observed}",
                generated.source, translation.fragment
            ));
        }
    }
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squid_running_the_translation_decides_like_explain_for_generated_requests() {
    let started = Instant::now();
    let seed = setting("CPL_LAB_SEED", SEED);
    // The lab's drawn host names follow the same seed, so a run can be replayed.
    std::env::set_var(conformance_model::HOST_SEED_ENV, seed.to_string());
    let policies = setting("CPL_LAB_POLICIES", POLICIES as u64) as usize;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut report = Report {
        cases: 0,
        seen: Default::default(),
        mismatches: Vec::new(),
    };
    for (file, source, hosts) in REGRESSIONS {
        let generated = generate::Generated {
            source: (*source).to_owned(),
            named_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        };
        check_policy(&mut rng, (*file).to_owned(), generated, &mut report).await;
    }
    for (file, hosts) in CORPUS {
        let path = format!("{}/cpl/tests/corpus/{file}", env!("CARGO_MANIFEST_DIR"));
        let generated = generate::Generated {
            source: std::fs::read_to_string(&path).expect("the corpus policy"),
            named_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        };
        check_policy(&mut rng, (*file).to_owned(), generated, &mut report).await;
    }
    for number in 0..policies {
        let generated = generate::policy(&mut rng, number);
        check_policy(
            &mut rng,
            format!("generated-{number}.cpl"),
            generated,
            &mut report,
        )
        .await;
    }
    eprintln!(
        "cpl_in_squid: seed {seed:#x}: {} policies, {} requests compared in {:.1?}; seen: {:?}",
        REGRESSIONS.len() + CORPUS.len() + policies,
        report.cases,
        started.elapsed(),
        report.seen
    );
    assert!(
        report.mismatches.is_empty(),
        "{} of {} requests: Squid running the translation does not decide as explain says (CPL_LAB_SEED={seed:#x} replays):\n\n{}",
        report.mismatches.len(),
        report.cases,
        report.mismatches.join("\n\n")
    );
}
